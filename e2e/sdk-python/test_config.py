"""Project configuration through the SDK's models: exact round trips and import warnings."""

from __future__ import annotations

import copy
import json

import ory_client

from sdk_helpers import set_body_from

# A subtree Tessera does not interpret: it must come back exactly as sent. Keys are deliberately
# not in alphabetical order, and the values cover every JSON type, including ints that look like
# floats, floats that look like ints, integers beyond 2^53, unicode and escapes.
ROUNDTRIP_SUBTREE = {
    "zeta": "last letter first",
    "alpha": {
        "nested": {"deeper": {"deepest": [1, [2, [3, [4]]], {"k": "v"}]}},
        "empty_object": {},
        "empty_array": [],
    },
    "numbers": {
        "int": 1,
        "float_one": 1.0,
        "zero": 0,
        "float_zero": 0.0,
        "negative_zero": -0.0,
        "negative": -42,
        "fraction": 0.1,
        "negative_fraction": -2.5,
        "pi": 3.141592653589793,
        "beyond_2_53": 9007199254740993,
        "negative_beyond_2_53": -9007199254740993,
        "u64_max": 18446744073709551615,
        "mixed": [1, 1.0, 1.5, -1, 100000, 123456.789],
    },
    "booleans": {"yes": True, "no": False, "list": [True, False, True]},
    "nulls": {"value": None, "in_list": [None, 1, None]},
    "unicode": {
        "latin": "Tëssera Ünïcödé",
        "cjk": "日本語のテキスト",
        "emoji": "🚀✨🔐",
        "rtl": "مرحبا",
        "escapes": "quote \" backslash \\ slash / tab \t newline \n",
        "line_separator": "a\u2028b",
        "ключ": "значение",
    },
    "strings_that_look_like_other_things": ["1", "1.0", "true", "null", "", " "],
}


def _config_with_roundtrip_subtree(project: ory_client.Project) -> dict:
    """The project's identity config, with known settings changed and the rich subtree added."""
    config = copy.deepcopy(project.services.identity.config)
    config["selfservice"]["methods"]["password"]["config"]["min_password_length"] = 12
    config["selfservice"]["methods"]["password"]["config"]["haveibeenpwned_enabled"] = False
    config["selfservice"]["methods"]["webauthn"]["config"]["rp"] = {
        "display_name": "Tëssera ✓ 日本語 🚀",
        "id": "example.com",
        "origins": ["https://example.com", "https://login.example.com"],
    }
    config["session"]["lifespan"] = "36h"
    config["x_sdk_roundtrip"] = ROUNDTRIP_SUBTREE
    return config


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True)


def _ordered(value) -> str:
    """Order-sensitive serialization: equal only when keys are in the same order too."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_config_roundtrips_exactly_through_the_sdk_models(tenant, project):
    """A config with nested objects, arrays, unicode, ints vs floats and booleans comes back unchanged."""
    pid = str(project.id)
    identity_config = _config_with_roundtrip_subtree(project)
    permission_config = copy.deepcopy(project.services.permission.config)
    permission_config["namespaces"] = [{"id": 0, "name": "Dökument"}, {"id": 7, "name": "Folder"}]
    oauth2_config = copy.deepcopy(project.services.oauth2.config)
    oauth2_config["ttl"]["access_token"] = "45m"

    services = ory_client.ProjectServices(
        identity=ory_client.ProjectServiceIdentity(config=identity_config),
        permission=ory_client.ProjectServicePermission(config=permission_config),
        oauth2=ory_client.ProjectServiceOAuth2(config=oauth2_config),
    )
    sent_services = copy.deepcopy(services.to_dict())
    update = tenant.project.set_project(pid, set_body_from(project, services=services))
    assert isinstance(update, ory_client.SuccessfulProjectUpdate)

    fetched = tenant.project.get_project(pid)
    assert isinstance(fetched, ory_client.Project)
    for model in (update.project, fetched):
        got = model.services.to_dict()
        assert _canonical(got) == _canonical(sent_services)
        # Same key order as sent, too.
        for service in ("identity", "permission", "oauth2"):
            assert _ordered(got[service]["config"]) == _ordered(sent_services[service]["config"]), service

    # Types survive: an int stays an int, a float stays a float.
    numbers = fetched.services.identity.config["x_sdk_roundtrip"]["numbers"]
    assert type(numbers["int"]) is int and type(numbers["float_one"]) is float
    assert type(numbers["zero"]) is int and type(numbers["float_zero"]) is float
    assert numbers["beyond_2_53"] == 9007199254740993
    assert numbers["u64_max"] == 18446744073709551615
    assert [type(x) for x in numbers["mixed"]] == [int, float, float, int, int, float]


def test_config_roundtrips_byte_for_byte_in_the_raw_body(tenant, project):
    """The raw GET and PUT bodies carry the config exactly as sent, in the same key order."""
    pid = str(project.id)
    identity_config = _config_with_roundtrip_subtree(project)
    services = ory_client.ProjectServices(
        identity=ory_client.ProjectServiceIdentity(config=identity_config),
        permission=project.services.permission,
        oauth2=project.services.oauth2,
    )
    exact = _ordered(identity_config).encode("utf-8")
    subtree = _ordered(ROUNDTRIP_SUBTREE).encode("utf-8")

    put = tenant.project.set_project_with_http_info(pid, set_body_from(project, services=services))
    assert put.status_code == 200
    assert isinstance(put.data, ory_client.SuccessfulProjectUpdate)
    assert subtree in put.raw_data
    assert exact in put.raw_data

    got = tenant.project.get_project_with_http_info(pid)
    assert got.status_code == 200
    assert isinstance(got.data, ory_client.Project)
    assert subtree in got.raw_data
    assert exact in got.raw_data

    unparsed = tenant.project.get_project_without_preload_content(pid)
    assert unparsed.status == 200
    body = unparsed.data
    assert exact in body
    document = json.loads(body)
    assert _ordered(document["services"]["identity"]["config"]) == _ordered(identity_config)


def test_config_change_makes_a_new_revision_with_the_same_config(tenant, project, raw):
    """The revision stored for a PUT holds the config exactly as the SDK sent it."""
    pid = str(project.id)
    identity_config = _config_with_roundtrip_subtree(project)
    services = ory_client.ProjectServices(
        identity=ory_client.ProjectServiceIdentity(config=identity_config),
        permission=project.services.permission,
        oauth2=project.services.oauth2,
    )
    update = tenant.project.set_project(pid, set_body_from(project, services=services))
    assert update.project.revision_id != project.revision_id

    response = raw("GET", f"/projects/{pid}/revisions", tenant.key)
    assert response.status == 200, response.body
    revision = next(r for r in response.json() if r["id"] == str(update.project.revision_id))
    assert _canonical(revision["settings"]["services"]["identity"]["config"]) == _canonical(identity_config)


def test_unknown_keys_are_kept_and_reported_as_warnings(tenant, project):
    """set_project with services.identity.config.serve.public.port parses as SuccessfulProjectUpdate with warnings."""
    pid = str(project.id)
    config = copy.deepcopy(project.services.identity.config)
    config["serve"] = {"public": {"port": 4433}}
    services = ory_client.ProjectServices(
        identity=ory_client.ProjectServiceIdentity(config=config),
        permission=project.services.permission,
        oauth2=project.services.oauth2,
    )
    result = tenant.project.set_project(pid, set_body_from(project, services=services))
    assert isinstance(result, ory_client.SuccessfulProjectUpdate)
    assert result.warnings, "an unknown key must produce a warning"
    for warning in result.warnings:
        assert isinstance(warning, ory_client.Warning)
        assert isinstance(warning.code, int)
        assert isinstance(warning.message, str) and warning.message
    assert any("services.identity.config.serve" in w.message for w in result.warnings), result.warnings
    assert result.project.services.identity.config["serve"] == {"public": {"port": 4433}}
    assert tenant.project.get_project(pid).services.identity.config["serve"] == {"public": {"port": 4433}}


def test_patch_with_unknown_key_warns(tenant, project):
    """patch_project adding an unknown key answers with a warning naming it."""
    result = tenant.project.patch_project(
        str(project.id),
        [ory_client.JsonPatch(op="add", path="/services/identity/config/serve", value={"admin": {"port": 4434}})],
    )
    assert isinstance(result, ory_client.SuccessfulProjectUpdate)
    assert any("services.identity.config.serve" in (w.message or "") for w in result.warnings), result.warnings


def test_known_keys_produce_no_warnings_and_warnings_is_always_present(tenant, project):
    """An update with only known keys has warnings == [], and the raw body still carries the key."""
    response = tenant.project.patch_project_with_http_info(
        str(project.id), [ory_client.JsonPatch(op="replace", path="/services/identity/config/session/lifespan", value="2h")]
    )
    assert isinstance(response.data, ory_client.SuccessfulProjectUpdate)
    assert response.data.warnings == []
    assert json.loads(response.raw_data)["warnings"] == []
