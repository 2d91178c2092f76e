"""The identity engine's admin API (Kratos's `/admin/*` on a project's URL) through the SDK's IdentityApi, with the
project API key: identities (create, get, list and page, replace, JSON-patch, delete, by external id, batch
import), imported password hashes that then sign in, schemas, sessions, and isolation between projects.

Each test makes its own project in the workspace `tessera dev` seeded. Every answer must parse into the SDK's
models with no key the SDK does not know.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

import ory_client
import pytest
from ory_client.exceptions import ConflictException, NotFoundException

from identity_helpers import (
    INVALID_CREDENTIALS,
    STRONG,
    IdentityProject,
    assert_no_unknown_keys,
    create_identity_project,
    expect_error,
    expect_flow_error,
    fresh_uuid,
    header,
    login_body,
    messages,
    new_email,
)

SCHEMA_ID = "preset://email"
SCHEMA_URL_ID = "cHJlc2V0Oi8vZW1haWw"  # base64url(preset://email), as schema_url carries it

# Hashes of `hunter2` in formats Kratos imports (cheap parameters, so the tests stay fast).
HUNTER2 = {
    "bcrypt": "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm",
    "argon2id": "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q",
    "pbkdf2": "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHRzYWx0c2FsdA$RilxBxnvGa3JIyaXwlUUKmvuPzxjHerJeqIuhiIvKNU",
    "scrypt": "$scrypt$ln=1024,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$v/uBvjpkrv4+RPlRbT7o/v0/ucpdIQIN3+rMqzxpxj4=",
}


@pytest.fixture()
def idp(dev, seeded) -> IdentityProject:
    """A fresh project with the default identity configuration (email + password schema)."""
    return create_identity_project(dev, seeded)


def create_body(
    email: Optional[str] = None,
    password: Optional[str] = None,
    hashed_password: Optional[str] = None,
    **fields,
) -> ory_client.CreateIdentityBody:
    credentials = None
    if password is not None or hashed_password is not None:
        credentials = ory_client.IdentityWithCredentials(
            password=ory_client.IdentityWithCredentialsPassword(
                config=ory_client.IdentityWithCredentialsPasswordConfig(
                    password=password, hashed_password=hashed_password
                )
            )
        )
    return ory_client.CreateIdentityBody(
        schema_id=SCHEMA_ID, traits={"email": email or new_email()}, credentials=credentials, **fields
    )


def create(idp: IdentityProject, **kwargs) -> ory_client.Identity:
    identity = idp.identity.create_identity(create_body(**kwargs))
    assert isinstance(identity, ory_client.Identity)
    assert_no_unknown_keys(identity)
    return identity


def links(response: ory_client.ApiResponse) -> Dict[str, str]:
    """The Link header's URLs by rel."""
    value = header(response.headers, "link") or ""
    found = {}
    for part in value.split(","):
        match = re.fullmatch(r'\s*<([^>]*)>;\s*rel="([^"]+)"\s*', part)
        assert match, f"malformed Link header: {value!r}"
        found[match.group(2)] = match.group(1)
    return found


def page_token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["page_token"][0]


def password_hash(idp: IdentityProject, identity_id) -> str:
    identity = idp.identity.get_identity(str(identity_id), include_credential=["password"])
    return identity.credentials["password"].config["hashed_password"]


# =============================================================================================
# identities


def test_create_get_and_delete_identity(idp):
    """create_identity answers 201 with Location and the identity (traits, metadata, state, external id,
    imported address status, credentials without config); get_identity and get_identity_by_external_id return
    it; include_credential=password shows the hash; delete_identity makes it 404."""
    email = new_email()
    external_id = "crm-" + fresh_uuid()
    body = create_body(
        email=email,
        password=STRONG,
        state="active",
        external_id=external_id,
        metadata_public={"plan": "pro", "seats": 3},
        metadata_admin={"note": "vip", "tags": ["a", "b"]},
        verifiable_addresses=[
            ory_client.VerifiableIdentityAddress(value=email, via="email", verified=True, status="completed")
        ],
    )
    response = idp.identity.create_identity_with_http_info(body)
    assert response.status_code == 201
    created = response.data
    assert isinstance(created, ory_client.Identity)
    assert_no_unknown_keys(created)
    assert header(response.headers, "location") == f"{idp.url}/admin/identities/{created.id}"
    assert created.schema_id == SCHEMA_ID
    assert created.schema_url == f"{idp.url}/schemas/{SCHEMA_URL_ID}"
    assert created.state == "active" and created.state_changed_at is not None
    assert created.traits == {"email": email}
    assert created.external_id == external_id
    assert created.metadata_public == {"plan": "pro", "seats": 3}
    assert created.metadata_admin == {"note": "vip", "tags": ["a", "b"]}
    assert created.organization_id is None
    assert [(a.value, a.via, a.verified, a.status) for a in created.verifiable_addresses] == [
        (email, "email", True, "completed")
    ]
    assert [(a.value, a.via) for a in created.recovery_addresses] == [(email, "email")]
    password = created.credentials["password"]
    assert password.type == "password" and password.identifiers == [email]
    assert password.config is None, "credential configs are only shown when asked for"

    fetched = idp.identity.get_identity(str(created.id))
    assert_no_unknown_keys(fetched)
    assert fetched.to_dict() == created.to_dict()

    with_hash = idp.identity.get_identity(str(created.id), include_credential=["password"])
    hashed = with_hash.credentials["password"].config["hashed_password"]
    assert hashed.startswith("$argon2id$"), hashed
    assert STRONG not in json.dumps(with_hash.credentials["password"].config)
    expect_error(400, idp.identity.get_identity, str(created.id), include_credential=["nonsense"])

    by_external = idp.identity.get_identity_by_external_id(external_id)
    assert by_external.id == created.id and by_external.traits == {"email": email}
    expect_error(404, idp.identity.get_identity_by_external_id, "no-such-" + external_id)

    # The created password signs in.
    assert idp.login(email, STRONG).session.identity.id == created.id

    response = idp.identity.delete_identity_with_http_info(str(created.id))
    assert response.status_code == 204
    expect_error(404, idp.identity.get_identity, str(created.id))
    expect_error(404, idp.identity.delete_identity, str(created.id))
    with pytest.raises(NotFoundException):
        idp.identity.get_identity_by_external_id(external_id)
    login = idp.frontend.create_native_login_flow()
    failed = expect_flow_error(ory_client.LoginFlow, idp.frontend.update_login_flow, str(login.id), login_body(email, STRONG))
    assert messages(failed) == [(INVALID_CREDENTIALS, "")]


def test_create_identity_errors(idp):
    """Unknown schema and invalid traits → 400; a taken email or external id → 409."""
    expect_error(
        400,
        idp.identity.create_identity,
        ory_client.CreateIdentityBody(schema_id="no-such-schema", traits={"email": new_email()}),
    )
    expect_error(400, idp.identity.create_identity, ory_client.CreateIdentityBody(schema_id=SCHEMA_ID, traits={}))
    expect_error(
        400, idp.identity.create_identity, ory_client.CreateIdentityBody(schema_id=SCHEMA_ID, traits={"email": "nope"})
    )

    email = new_email()
    first = create(idp, email=email, external_id="ext-1")
    with pytest.raises(ConflictException):
        idp.identity.create_identity(create_body(email=email.upper()))
    expect_error(409, idp.identity.create_identity, create_body(email=email))
    expect_error(409, idp.identity.create_identity, create_body(external_id="ext-1"))
    assert [i.id for i in idp.identity.list_identities()] == [first.id], "nothing else was created"


def test_inactive_identity_cannot_sign_in(idp):
    """An identity created inactive is refused at login with 4010011 after its password was proven."""
    email = new_email()
    created = create(idp, email=email, password=STRONG, state="inactive")
    assert created.state == "inactive"
    flow = idp.frontend.create_native_login_flow()
    failed = expect_flow_error(ory_client.LoginFlow, idp.frontend.update_login_flow, str(flow.id), login_body(email, STRONG))
    assert messages(failed) == [(4010011, "")], messages(failed)


def test_list_identities_pages_with_page_size_and_link_header(idp):
    """list_identities pages by page_size and the page_token of the Link header's next link, in id order, until
    no next link; credentials_identifier finds one identity (with its credentials), case-insensitively."""
    emails = [new_email() for _ in range(5)]
    created = [create(idp, email=email, password=STRONG) for email in emails]

    seen: List[ory_client.Identity] = []
    token: Optional[str] = None
    pages = 0
    while True:
        response = idp.identity.list_identities_with_http_info(page_size=2, page_token=token)
        assert all(isinstance(i, ory_client.Identity) for i in response.data)
        assert_no_unknown_keys(response.data)
        pages += 1
        seen.extend(response.data)
        found = links(response)
        first = urlsplit(found["first"])
        assert first.path == urlsplit(idp.url).path + "/admin/identities", found
        assert parse_qs(first.query)["page_size"] == ["2"]
        if "next" not in found:
            assert len(response.data) <= 2
            break
        assert len(response.data) == 2
        token = page_token(found["next"])
        assert pages < 10, "the pages never end"
    assert pages == 3
    assert [i.id for i in seen] == sorted(i.id for i in created), "every identity once, in id order"
    assert all(i.credentials is None for i in seen), "an unfiltered list does not load credentials"
    assert all(i.metadata_admin is None for i in seen)

    everything = idp.identity.list_identities()
    assert sorted(i.id for i in everything) == sorted(i.id for i in created)

    target = created[3]
    for identifier in (emails[3], emails[3].upper()):
        found = idp.identity.list_identities(credentials_identifier=identifier)
        assert [i.id for i in found] == [target.id], identifier
        assert found[0].credentials["password"].identifiers == [emails[3]]
        assert found[0].credentials["password"].config is None
    assert idp.identity.list_identities(credentials_identifier=new_email()) == []
    assert [i.id for i in idp.identity.list_identities(ids=[str(created[0].id), str(created[2].id)])] == sorted(
        [created[0].id, created[2].id]
    )
    expect_error(400, idp.identity.list_identities, page_token="not-a-token")
    expect_error(
        400, idp.identity.list_identities, ids=[str(created[0].id)], credentials_identifier=emails[0]
    )


def test_update_identity_replaces_it(idp):
    """update_identity (PUT) replaces traits, state and metadata; what it omits is cleared; the password
    identifier follows the new email; credentials are kept."""
    email = new_email()
    created = create(idp, email=email, password=STRONG, external_id="ext-" + fresh_uuid(), metadata_admin={"a": 1})
    new = new_email()
    updated = idp.identity.update_identity(
        str(created.id),
        ory_client.UpdateIdentityBody(
            schema_id=SCHEMA_ID, state="active", traits={"email": new}, metadata_public={"tier": 2}
        ),
    )
    assert isinstance(updated, ory_client.Identity)
    assert_no_unknown_keys(updated)
    assert updated.id == created.id
    assert updated.traits == {"email": new}
    assert updated.metadata_public == {"tier": 2}
    assert updated.metadata_admin is None and updated.external_id is None, "omitted fields are cleared"
    assert updated.credentials["password"].identifiers == [new]
    assert [a.value for a in updated.verifiable_addresses] == [new]
    assert updated.updated_at > created.updated_at
    assert idp.identity.get_identity(str(created.id)).to_dict() == updated.to_dict()

    assert idp.login(new, STRONG).session.identity.id == created.id
    flow = idp.frontend.create_native_login_flow()
    failed = expect_flow_error(ory_client.LoginFlow, idp.frontend.update_login_flow, str(flow.id), login_body(email, STRONG))
    assert messages(failed) == [(INVALID_CREDENTIALS, "")]

    deactivated = idp.identity.update_identity(
        str(created.id), ory_client.UpdateIdentityBody(schema_id=SCHEMA_ID, state="inactive", traits={"email": new})
    )
    assert deactivated.state == "inactive" and deactivated.state_changed_at > created.state_changed_at

    expect_error(
        404,
        idp.identity.update_identity,
        fresh_uuid(),
        ory_client.UpdateIdentityBody(schema_id=SCHEMA_ID, state="active", traits={"email": new_email()}),
    )
    expect_error(
        400,
        idp.identity.update_identity,
        str(created.id),
        ory_client.UpdateIdentityBody(schema_id=SCHEMA_ID, state="active", traits={"email": "nope"}),
    )


def test_patch_identity_with_json_patch(idp):
    """patch_identity applies an RFC 6902 list to the identity; forbidden paths, a failing test op and a bad
    state are 400; an unknown identity is 404."""
    created = create(idp, password=STRONG, metadata_public={"tier": 1})
    new = new_email()
    patched = idp.identity.patch_identity(
        str(created.id),
        [
            ory_client.JsonPatch(op="replace", path="/traits/email", value=new),
            ory_client.JsonPatch(op="add", path="/metadata_admin", value={"reviewed": True}),
            ory_client.JsonPatch(op="replace", path="/metadata_public/tier", value=2),
            ory_client.JsonPatch(op="replace", path="/state", value="inactive"),
        ],
    )
    assert isinstance(patched, ory_client.Identity)
    assert_no_unknown_keys(patched)
    assert patched.traits == {"email": new}
    assert patched.metadata_admin == {"reviewed": True}
    assert patched.metadata_public == {"tier": 2}
    assert patched.state == "inactive" and patched.state_changed_at > created.state_changed_at
    assert patched.credentials["password"].identifiers == [new]
    assert idp.identity.get_identity(str(created.id)).to_dict() == patched.to_dict()

    for bad in (
        [ory_client.JsonPatch(op="replace", path="/id", value=fresh_uuid())],
        [ory_client.JsonPatch(op="remove", path="/credentials/password")],
        [ory_client.JsonPatch(op="test", path="/traits/email", value="someone-else@example.com")],
        [ory_client.JsonPatch(op="replace", path="/state", value="sleeping")],
        [ory_client.JsonPatch(op="remove", path="/traits/email")],
    ):
        expect_error(400, idp.identity.patch_identity, str(created.id), bad)
    assert idp.identity.get_identity(str(created.id)).to_dict() == patched.to_dict(), "failed patches change nothing"
    expect_error(
        404, idp.identity.patch_identity, fresh_uuid(), [ory_client.JsonPatch(op="replace", path="/state", value="active")]
    )


def test_batch_patch_identities_reports_each_item(idp):
    """batch_patch_identities creates what it can and reports each item: a create, and a duplicate as an
    error with its 409, in order, with their patch ids."""
    email = new_email()
    first, second, third = fresh_uuid(), fresh_uuid(), fresh_uuid()
    body = ory_client.PatchIdentitiesBody(
        identities=[
            ory_client.IdentityPatch(patch_id=first, create=create_body(email=email, hashed_password=HUNTER2["bcrypt"])),
            ory_client.IdentityPatch(patch_id=second, create=create_body(email=email)),
            ory_client.IdentityPatch(patch_id=third, create=create_body()),
        ]
    )
    result = idp.identity.batch_patch_identities(body)
    assert isinstance(result, ory_client.BatchPatchIdentitiesResponse)
    assert_no_unknown_keys(result)
    items = result.identities
    assert [(str(i.patch_id), i.action) for i in items] == [(first, "create"), (second, "error"), (third, "create")]
    assert items[1].identity is None
    assert items[1].error["code"] == 409 and items[1].error["message"], items[1].error
    created = idp.identity.get_identity(str(items[0].identity))
    assert created.traits == {"email": email}
    assert idp.identity.get_identity(str(items[2].identity)).state == "active"
    assert sorted(i.id for i in idp.identity.list_identities()) == sorted([items[0].identity, items[2].identity])
    assert idp.login(email, "hunter2").session.identity.id == items[0].identity

    # An item with an unusable hash refuses the whole request.
    bad = ory_client.PatchIdentitiesBody(
        identities=[
            ory_client.IdentityPatch(patch_id=fresh_uuid(), create=create_body()),
            ory_client.IdentityPatch(patch_id=fresh_uuid(), create=create_body(hashed_password="$unknown$abc")),
        ]
    )
    expect_error(400, idp.identity.batch_patch_identities, bad)
    assert len(idp.identity.list_identities()) == 2


@pytest.mark.parametrize("name", list(HUNTER2))
def test_imported_password_hash_signs_in(idp, name):
    """An identity imported with a hash of `hunter2` signs in with hunter2 and not with anything else; after the
    first sign-in the hash is upgraded to the project's hasher and still works."""
    email = new_email()
    created = create(idp, email=email, hashed_password=HUNTER2[name])
    assert created.credentials["password"].identifiers == [email]
    assert password_hash(idp, created.id) == HUNTER2[name], "the hash is stored as imported"

    flow = idp.frontend.create_native_login_flow()
    failed = expect_flow_error(ory_client.LoginFlow, idp.frontend.update_login_flow, str(flow.id), login_body(email, "hunter3"))
    assert messages(failed) == [(INVALID_CREDENTIALS, "")]

    login = idp.login(email, "hunter2")
    assert isinstance(login, ory_client.SuccessfulNativeLogin) and login.session.identity.id == created.id
    assert password_hash(idp, created.id).startswith("$argon2id$")
    assert idp.login(email, "hunter2").session.identity.id == created.id
    flow = idp.frontend.create_native_login_flow()
    expect_flow_error(ory_client.LoginFlow, idp.frontend.update_login_flow, str(flow.id), login_body(email, "hunter3"))


def test_imported_plaintext_password_is_hashed_and_signs_in(idp):
    email = new_email()
    created = create(idp, email=email, password="plain-import-password-9")
    hashed = password_hash(idp, created.id)
    assert hashed.startswith("$argon2id$") and "plain-import-password-9" not in hashed
    assert idp.login(email, "plain-import-password-9").session.identity.id == created.id


@pytest.mark.parametrize(
    "hashed",
    ["$unknown$abc", "plaintext", "$5$rounds=5000$salt$hash", "$scrypt$ln=16385,r=8,p=1$c2FsdA==$aGFzaA=="],
    ids=["unknown-prefix", "no-prefix", "raw-sha256-crypt", "scrypt-not-power-of-two"],
)
def test_unusable_imported_hash_is_400(idp, hashed):
    email = new_email()
    error = expect_error(400, idp.identity.create_identity, create_body(email=email, hashed_password=hashed))
    assert "hash" in error.get("reason", "").lower(), error
    assert idp.identity.list_identities(credentials_identifier=email) == []


# =============================================================================================
# schemas


def test_identity_schemas(idp):
    """list_identity_schemas lists the project's schema; get_identity_schema returns it by id and by the
    base64url id its schema_url carries; an unknown id is 404."""
    schemas = idp.identity.list_identity_schemas()
    assert all(isinstance(s, ory_client.IdentitySchemaContainer) for s in schemas)
    assert_no_unknown_keys(schemas)
    assert [s.id for s in schemas] == [SCHEMA_ID]
    schema = schemas[0].var_schema
    email = schema["properties"]["traits"]["properties"]["email"]
    assert email["format"] == "email"
    assert email["ory.sh/kratos"]["credentials"]["password"]["identifier"] is True

    assert idp.identity.get_identity_schema(SCHEMA_URL_ID) == schema
    assert idp.identity.get_identity_schema(SCHEMA_ID) == schema
    expect_error(404, idp.identity.get_identity_schema, "no-such-schema")


# =============================================================================================
# sessions


def test_admin_sessions(idp):
    """list_sessions (expand identity, page_size paging, active filter), get_session, extend_session,
    disable_session, list_identity_sessions and delete_identity_sessions."""
    email = new_email()
    registered = idp.register(email)
    second = idp.login(email)
    other = idp.register()
    identity_id = str(registered.identity.id)

    listed = idp.identity.list_sessions(expand=["identity"])
    assert all(isinstance(s, ory_client.Session) for s in listed)
    assert_no_unknown_keys(listed)
    assert {s.id for s in listed} == {registered.session.id, second.session.id, other.session.id}
    by_id = {s.id: s for s in listed}
    assert by_id[second.session.id].identity.id == registered.identity.id
    assert by_id[second.session.id].identity.traits == {"email": email}
    assert all(s.active for s in listed)
    assert all(s.identity is None for s in idp.identity.list_sessions()), "identity only when expanded"

    paged = []
    token: Optional[str] = None
    for _ in range(5):
        response = idp.identity.list_sessions_with_http_info(page_size=2, page_token=token)
        paged.extend(s.id for s in response.data)
        found = links(response)
        if "next" not in found:
            break
        token = page_token(found["next"])
    assert sorted(paged) == sorted(by_id), "paging returns every session once"

    session = idp.identity.get_session(str(second.session.id), expand=["identity"])
    assert isinstance(session, ory_client.Session)
    assert_no_unknown_keys(session)
    assert session.id == second.session.id and session.identity.id == registered.identity.id
    assert session.authenticator_assurance_level == "aal1"
    expect_error(404, idp.identity.get_session, fresh_uuid())
    expect_error(400, idp.identity.get_session, "not-a-uuid")

    before = session.expires_at
    response = idp.identity.extend_session_with_http_info(str(second.session.id))
    assert response.status_code == 204
    extended = idp.identity.get_session(str(second.session.id))
    assert extended.expires_at > before
    assert abs(extended.expires_at - before) < timedelta(minutes=5)
    assert idp.whoami(second.session_token).expires_at == extended.expires_at, "whoami sees the new expiry"
    expect_error(404, idp.identity.extend_session, fresh_uuid())

    assert idp.identity.disable_session(str(second.session.id)) is None
    expect_error(401, idp.frontend.to_session, x_session_token=second.session_token)
    assert idp.identity.get_session(str(second.session.id)).active is False
    assert {s.id for s in idp.identity.list_sessions(active=True)} == {registered.session.id, other.session.id}
    assert {s.id for s in idp.identity.list_sessions(active=False)} == {second.session.id}

    mine = idp.identity.list_identity_sessions(identity_id)
    assert_no_unknown_keys(mine)
    assert {s.id for s in mine} == {registered.session.id, second.session.id}
    assert {s.id for s in idp.identity.list_identity_sessions(identity_id, active=True)} == {registered.session.id}
    expect_error(404, idp.identity.list_identity_sessions, fresh_uuid())

    response = idp.identity.delete_identity_sessions_with_http_info(identity_id)
    assert response.status_code == 204
    expect_error(401, idp.frontend.to_session, x_session_token=registered.session_token)
    assert all(not s.active for s in idp.identity.list_identity_sessions(identity_id))
    assert idp.identity.list_identity_sessions(identity_id, active=True) == []
    assert idp.whoami(other.session_token).active is True, "another identity's session is untouched"
    expect_error(404, idp.identity.delete_identity_sessions, fresh_uuid())


def test_deleting_or_deactivating_an_identity_ends_its_sessions(idp):
    """whoami stops answering for an identity that was deleted, or made inactive (until it is active again)."""
    deleted, deactivated = idp.register(), idp.register()
    assert idp.whoami(deleted.session_token).active and idp.whoami(deactivated.session_token).active
    idp.identity.delete_identity(str(deleted.identity.id))
    expect_error(401, idp.frontend.to_session, x_session_token=deleted.session_token)

    identity_id = str(deactivated.identity.id)
    idp.identity.patch_identity(identity_id, [ory_client.JsonPatch(op="replace", path="/state", value="inactive")])
    expect_error(401, idp.frontend.to_session, x_session_token=deactivated.session_token)
    assert idp.identity.get_session(str(deactivated.session.id)).active is False
    idp.identity.patch_identity(identity_id, [ory_client.JsonPatch(op="replace", path="/state", value="active")])
    assert idp.whoami(deactivated.session_token).identity.state == "active"


# =============================================================================================
# isolation and keys


def test_projects_are_isolated(dev, seeded, idp):
    """Project A's identity and session ids are 404 on project B's admin API; B's key is 401 on A's admin API,
    as are no key and the workspace key."""
    other = create_identity_project(dev, seeded)
    email = new_email()
    registered = idp.register(email)
    identity_id, session_id = str(registered.identity.id), str(registered.session.id)

    assert idp.identity.get_identity(identity_id).traits == {"email": email}
    expect_error(404, other.identity.get_identity, identity_id)
    expect_error(404, other.identity.get_session, session_id)
    expect_error(404, other.identity.delete_identity, identity_id)
    expect_error(
        404, other.identity.patch_identity, identity_id, [ory_client.JsonPatch(op="replace", path="/state", value="inactive")]
    )
    assert other.identity.list_identities(credentials_identifier=email) == []
    assert other.identity.list_sessions() == []

    for key in (other.key, dev["workspace_api_key"], None):
        intruder = idp.admin_with(key)
        expect_error(401, intruder.get_identity, identity_id)
        expect_error(401, intruder.list_identities)
        expect_error(401, intruder.delete_identity, identity_id)
        expect_error(401, intruder.list_sessions)
        expect_error(401, intruder.create_identity, create_body())
    assert idp.identity.get_identity(identity_id).state == "active", "nothing was changed"
    assert idp.whoami(registered.session_token).active is True
    assert len(idp.identity.list_identities()) == 1
