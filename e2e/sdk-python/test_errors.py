"""Every error the SDK can meet, asserted on the ApiException (and subclass) the SDK raises."""

from __future__ import annotations

import copy
import json
import secrets
import uuid

import ory_client
import pytest

from sdk_helpers import (
    assert_error_envelope,
    expect_api_error,
    list_workspace_projects_page,
    make_clients,
    set_body_from,
    unique,
)

IDENTITY = "/services/identity/config"


# --------------------------------------------------------------------------- 401


def _calls_needing_a_key(dev):
    """(label, fn(clients)) pairs covering the read and write operations of both APIs."""
    pid, wid = dev["project"]["id"], dev["workspace_id"]
    return [
        ("list_projects", lambda c: c.project.list_projects()),
        ("get_project", lambda c: c.project.get_project(pid)),
        ("create_project", lambda c: c.project.create_project(ory_client.CreateProjectBody(name="x", environment="dev"))),
        ("patch_project", lambda c: c.project.patch_project(pid, [ory_client.JsonPatch(op="replace", path="/name", value="x")])),
        ("purge_project", lambda c: c.project.purge_project(pid)),
        ("list_project_api_keys", lambda c: c.project.list_project_api_keys(pid)),
        ("get_project_members", lambda c: c.project.get_project_members(pid)),
        ("list_workspaces", lambda c: c.workspace.list_workspaces()),
        ("get_workspace", lambda c: c.workspace.get_workspace(wid)),
        ("list_workspace_projects", lambda c: c.workspace.list_workspace_projects(wid)),
        ("list_workspace_api_keys", lambda c: c.workspace.list_workspace_api_keys(wid)),
        ("create_workspace", lambda c: c.workspace.create_workspace(ory_client.CreateWorkspaceBody(name="x"))),
    ]


def test_no_key_is_401(dev, clients_for):
    """Without an Authorization header every operation answers 401 (UnauthorizedException)."""
    clients = clients_for(None)
    for label, call in _calls_needing_a_key(dev):
        error = expect_api_error(401, call, clients)
        assert error.status == 401, label


@pytest.mark.parametrize(
    "bad_key",
    [
        "ory_wak_" + secrets.token_urlsafe(30),
        "ory_pat_" + secrets.token_urlsafe(30),
        "tessera_op_" + secrets.token_urlsafe(30),
        "not-a-key-at-all",
    ],
    ids=["workspace-prefix", "project-prefix", "operator-prefix", "garbage"],
)
def test_bad_key_is_401(dev, clients_for, bad_key):
    """A key that does not exist answers 401 on reads and writes of both APIs."""
    clients = clients_for(bad_key)
    wanted = {"get_project", "patch_project", "list_workspaces", "list_workspace_api_keys"}
    for label, call in _calls_needing_a_key(dev):
        if label in wanted:
            error = expect_api_error(401, call, clients)
            assert error.status == 401, label
    # The seeded project is untouched.
    assert clients_for(dev["workspace_api_key"]).project.get_project(dev["project"]["id"]).state == "running"


def test_truncated_real_key_is_401(dev, clients_for):
    """A real key with its last character changed does not authenticate."""
    key = dev["workspace_api_key"]
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    expect_api_error(401, clients_for(tampered).workspace.get_workspace, dev["workspace_id"])


# --------------------------------------------------------------------------- another workspace: 404


def test_another_workspaces_project_is_404(tenant, new_tenant, project, raw):
    """A workspace key gets 404 for get/set/patch/purge/tokens/members of another workspace's project."""
    pid = str(project.id)
    key = tenant.project.create_project_api_key(pid, ory_client.CreateProjectApiKeyBody(name="victim"))
    member = raw("POST", f"/projects/{pid}/members", tenant.key, {"email": f"{unique('m')}@example.com", "name": "M", "role": "owner"})
    assert member.status == 201, member.body
    member_id = member.json()["id"]

    other = new_tenant()
    api = other.project
    patch = [ory_client.JsonPatch(op="replace", path="/name", value="hijacked")]
    expect_api_error(404, api.get_project, pid)
    expect_api_error(404, api.set_project, pid, set_body_from(project, name="hijacked"))
    expect_api_error(404, api.patch_project, pid, patch)
    expect_api_error(404, api.patch_project_with_revision, pid, str(project.revision_id), patch)
    expect_api_error(404, api.purge_project, pid)
    expect_api_error(404, api.list_project_api_keys, pid)
    expect_api_error(404, api.create_project_api_key, pid, ory_client.CreateProjectApiKeyBody(name="intruder"))
    expect_api_error(404, api.delete_project_api_key, pid, str(key.id))
    expect_api_error(404, api.get_project_members, pid)
    expect_api_error(404, api.remove_project_member, pid, member_id)
    assert raw("GET", f"/projects/{pid}/revisions", other.key).status == 404
    assert raw("POST", f"/projects/{pid}/members", other.key, {"email": "x@example.com", "name": "X", "role": "owner"}).status == 404
    assert pid not in {str(p.id) for p in api.list_projects()}

    # Nothing changed for the owner.
    unchanged = tenant.project.get_project(pid)
    assert unchanged.name == project.name and unchanged.revision_id == project.revision_id
    assert key.id in {k.id for k in tenant.project.list_project_api_keys(pid)}
    assert member_id in {str(m.id) for m in tenant.project.get_project_members(pid)}


def test_another_workspace_is_404(tenant, new_tenant):
    """A workspace key gets 404 for another workspace and everything under it."""
    other = new_tenant()
    victim = tenant.workspace_id
    victim_key = tenant.workspace.list_workspace_api_keys(victim)[0]
    api = other.workspace
    expect_api_error(404, api.get_workspace, victim)
    expect_api_error(404, api.update_workspace, victim, ory_client.UpdateWorkspaceBody(name="hijacked"))
    expect_api_error(404, api.list_workspace_projects, victim)
    expect_api_error(404, api.list_workspace_api_keys, victim)
    expect_api_error(404, api.create_workspace_api_key, victim, ory_client.CreateWorkspaceApiKeyBody(name="intruder"))
    expect_api_error(404, api.delete_workspace_api_key, victim, str(victim_key.id))
    expect_api_error(
        404,
        other.project.create_project,
        ory_client.CreateProjectBody(name="intruder", environment="dev", workspace_id=victim),
    )
    assert tenant.workspace.get_workspace(victim).name != "hijacked"
    assert tenant.workspace.list_workspace_projects(victim).projects == []


def test_missing_project_is_404(tenant):
    """A project id that does not exist answers 404 for get, patch and purge."""
    missing = str(uuid.uuid4())
    expect_api_error(404, tenant.project.get_project, missing)
    expect_api_error(404, tenant.project.patch_project, missing, [ory_client.JsonPatch(op="replace", path="/name", value="x")])
    expect_api_error(404, tenant.project.purge_project, missing)


# --------------------------------------------------------------------------- project keys: 403 / 404


def test_project_key_limits(tenant, new_tenant, project, clients_for):
    """A project key cannot purge (403), cannot touch its workspace (403) nor another workspace (404)."""
    pid = str(project.id)
    key = tenant.project.create_project_api_key(pid, ory_client.CreateProjectApiKeyBody(name="limited"))
    with_key = clients_for(key.value)

    expect_api_error(403, with_key.project.purge_project, pid)
    expect_api_error(403, with_key.workspace.get_workspace, tenant.workspace_id)
    expect_api_error(403, with_key.workspace.update_workspace, tenant.workspace_id, ory_client.UpdateWorkspaceBody(name="x"))
    expect_api_error(403, with_key.workspace.list_workspace_projects, tenant.workspace_id)
    expect_api_error(403, with_key.workspace.list_workspace_api_keys, tenant.workspace_id)
    expect_api_error(
        403, with_key.workspace.create_workspace_api_key, tenant.workspace_id, ory_client.CreateWorkspaceApiKeyBody(name="x")
    )

    other = new_tenant()
    other_project = other.project.create_project(ory_client.CreateProjectBody(name="other", environment="dev"))
    expect_api_error(404, with_key.workspace.get_workspace, other.workspace_id)
    expect_api_error(404, with_key.project.get_project, str(other_project.id))
    expect_api_error(404, with_key.project.purge_project, str(other_project.id))
    expect_api_error(404, with_key.project.list_project_api_keys, str(other_project.id))

    assert tenant.project.get_project(pid).state == "running"


def test_workspace_key_cannot_create_workspaces(tenant):
    """Only the operator creates workspaces: a workspace key gets 403."""
    expect_api_error(403, tenant.workspace.create_workspace, ory_client.CreateWorkspaceBody(name=unique("nope")))


# --------------------------------------------------------------------------- 400: bodies


def test_bad_bodies_are_400(tenant, project, operator):
    """Missing or invalid request bodies answer 400 (BadRequestException)."""
    pid = str(project.id)
    expect_api_error(400, tenant.project.create_project, None)
    expect_api_error(400, tenant.project.create_project, ory_client.CreateProjectBody(name="", environment="dev"))
    expect_api_error(400, tenant.project.create_project, ory_client.CreateProjectBody(name="   ", environment="prod"))
    expect_api_error(400, tenant.project.set_project, pid, None)
    expect_api_error(400, tenant.project.patch_project, pid, None)
    expect_api_error(400, tenant.project.create_project_api_key, pid, None)
    expect_api_error(400, tenant.workspace.update_workspace, tenant.workspace_id, ory_client.UpdateWorkspaceBody(name=""))
    expect_api_error(400, tenant.workspace.create_workspace_api_key, tenant.workspace_id, None)
    expect_api_error(400, operator.workspace.create_workspace, None)
    expect_api_error(400, operator.workspace.create_workspace, ory_client.CreateWorkspaceBody(name=""))
    assert tenant.project.get_project(pid).revision_id == project.revision_id


def test_bad_page_token_is_400(tenant, operator):
    """A page_token the server never issued answers 400 on both paged lists."""
    expect_api_error(400, operator.workspace.list_workspaces, page_size=1, page_token="not-a-token")
    expect_api_error(400, list_workspace_projects_page, tenant.clients, tenant.workspace_id, 1, "not-a-token")


def test_bad_environment_is_400(tenant):
    """An environment outside prod/stage/dev (sent by bypassing the SDK's enum check) answers 400."""
    body = ory_client.CreateProjectBody.model_construct(name=unique("bad-env"), environment="qa")
    expect_api_error(400, tenant.project.create_project, body)


@pytest.mark.parametrize("region", ["us-west", "asia-northeast", "global"])
def test_unknown_region_is_400(tenant, region):
    """A valid Ory region that this installation does not run answers 400 and names the region."""
    error = expect_api_error(
        400,
        tenant.project.create_project,
        ory_client.CreateProjectBody(name=unique("bad-region"), environment="prod", home_region=region),
    )
    assert region in error.body
    assert tenant.project.list_projects() == []


def test_nonempty_organizations_is_400(tenant, project):
    """set_project with a non-empty organizations list answers 400."""
    organization = ory_client.BasicOrganization(id=uuid.uuid4(), label="Acme", domains=["acme.example"])
    expect_api_error(400, tenant.project.set_project, str(project.id), set_body_from(project, organizations=[organization]))
    assert tenant.project.get_project(str(project.id)).organizations == []


# --------------------------------------------------------------------------- 400: JSON patch


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "remove", "path": f"{IDENTITY}/does/not/exist"}],
        [{"op": "replace", "path": f"{IDENTITY}/no_such_key", "value": 1}],
        [{"op": "add", "path": f"{IDENTITY}/missing_parent/child", "value": 1}],
        [{"op": "replace", "path": "/slug", "value": "stolen-slug"}],
        [{"op": "replace", "path": "/id", "value": "00000000-0000-4000-8000-000000000000"}],
        [{"op": "replace", "path": "/workspace_id", "value": "00000000-0000-4000-8000-000000000000"}],
        [{"op": "test", "path": f"{IDENTITY}/session/lifespan", "value": "not what it is"}],
        [{"op": "replace", "path": "no-leading-slash", "value": 1}],
        [{"op": "remove", "path": f"{IDENTITY}/selfservice/allowed_return_urls/99"}],
    ],
    ids=[
        "remove-missing",
        "replace-missing",
        "add-missing-parent",
        "replace-slug",
        "replace-id",
        "replace-workspace-id",
        "failed-test-op",
        "bad-pointer",
        "remove-index-out-of-range",
    ],
)
def test_bad_json_patch_is_400(tenant, project, operations):
    """A JSON patch that cannot apply, or touches read-only fields, answers 400 and changes nothing."""
    pid = str(project.id)
    patch = [ory_client.JsonPatch.from_dict(op) for op in operations]
    expect_api_error(400, tenant.project.patch_project, pid, patch)
    expect_api_error(400, tenant.project.patch_project_with_revision, pid, str(project.revision_id), patch)
    after = tenant.project.get_project(pid)
    assert after.revision_id == project.revision_id
    assert after.slug == project.slug


def test_failed_patch_applies_no_operation(tenant, project):
    """When the second operation fails, the first is not applied either."""
    pid = str(project.id)
    patch = [
        ory_client.JsonPatch(op="replace", path="/name", value="half-applied"),
        ory_client.JsonPatch(op="remove", path=f"{IDENTITY}/does/not/exist"),
    ]
    expect_api_error(400, tenant.project.patch_project, pid, patch)
    assert tenant.project.get_project(pid).name == project.name


# --------------------------------------------------------------------------- 400: invalid config


def test_invalid_session_lifespan_is_400_naming_the_key(tenant, project):
    """set_project with session.lifespan "forever" answers 400 and names the key."""
    config = copy.deepcopy(project.services.identity.config)
    config["session"]["lifespan"] = "forever"
    services = ory_client.ProjectServices(
        identity=ory_client.ProjectServiceIdentity(config=config),
        permission=project.services.permission,
        oauth2=project.services.oauth2,
    )
    error = expect_api_error(400, tenant.project.set_project, str(project.id), set_body_from(project, services=services))
    assert "session.lifespan" in json.dumps(json.loads(error.body)), error.body
    assert tenant.project.get_project(str(project.id)).revision_id == project.revision_id


def test_invalid_min_password_length_is_400_naming_the_key(tenant, project):
    """patch_project setting min_password_length to 3 answers 400 and names the key."""
    error = expect_api_error(
        400,
        tenant.project.patch_project,
        str(project.id),
        [ory_client.JsonPatch(op="replace", path=f"{IDENTITY}/selfservice/methods/password/config/min_password_length", value=3)],
    )
    assert "min_password_length" in error.body, error.body


def test_wrong_type_in_config_is_400(tenant, project):
    """A known key with the wrong JSON type (a string for a boolean) answers 400 naming it."""
    error = expect_api_error(
        400,
        tenant.project.patch_project,
        str(project.id),
        [ory_client.JsonPatch(op="replace", path=f"{IDENTITY}/selfservice/methods/password/enabled", value="yes")],
    )
    assert "password" in error.body, error.body


# --------------------------------------------------------------------------- 409


def test_patch_with_unknown_revision_is_409(tenant, project):
    """patch_project_with_revision with a revision id that never existed answers 409."""
    expect_api_error(
        409,
        tenant.project.patch_project_with_revision,
        str(project.id),
        str(uuid.uuid4()),
        [ory_client.JsonPatch(op="replace", path="/name", value="x")],
    )


# --------------------------------------------------------------------------- 429


def test_guessing_keys_is_rate_limited(url, dev):
    """Many requests with bad keys end in 429 with Retry-After, in the error shape the SDK parses."""
    guesser = make_clients(url, "ory_wak_" + secrets.token_urlsafe(30), wait_out_rate_limits=False)
    statuses = []
    last_error = None
    for _ in range(300):
        try:
            guesser.workspace.get_workspace(dev["workspace_id"])
        except ory_client.ApiException as error:
            statuses.append(error.status)
            last_error = error
            if error.status == 429:
                break
        else:
            pytest.fail("a bad key was accepted")
    assert statuses[-1] == 429, f"no 429 after {len(statuses)} failed attempts"
    assert set(statuses) <= {401, 429}
    assert_error_envelope(last_error.body, 429)
    assert int(last_error.headers.get("retry-after")) >= 1
