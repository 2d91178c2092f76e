"""The OAuth2 engine's client administration (Hydra's `/admin/clients` on a project's URL) through the SDK's
OAuth2Api with the project API key: create (201, the secret shown once), get, list with `page_size` and the
`Link` header's `page_token`, filters, replace (PUT), JSON patch, delete, lifespans, secret rotation, Hydra's
validation errors, and isolation between projects and keys.

Each test makes its own project in the workspace `tessera dev` seeded. Every answer must parse into the SDK's
models with no key the SDK does not know; every error must be the SDK's exception for its status.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import List, Optional
from urllib.parse import parse_qs, urlsplit

import ory_client
import pytest
from ory_client.exceptions import ConflictException

from identity_helpers import assert_no_unknown_keys, expect_error, header
from oauth2_helpers import (
    M2M_AUDIENCE,
    OAuth2Project,
    client_ids,
    create_oauth2_project,
    expect_oauth2_error,
    links,
    page_token,
    token_request,
)
from sdk_helpers import unique

# Hydra's `error` for a malformed admin request and for an unknown resource (herodot's, as Hydra renders them).
BAD_REQUEST = "The request was malformed or contained invalid parameters"
NOT_FOUND = "Unable to locate the resource"
DEFAULT_SCOPE = "offline_access offline openid"
LIFESPAN_FIELDS = [name for name in ory_client.OAuth2ClientTokenLifespans.model_fields if name.endswith("_lifespan")]


@pytest.fixture()
def op(dev, seeded) -> OAuth2Project:
    """A fresh project with the default OAuth2 configuration."""
    return create_oauth2_project(dev, seeded)


def without_secret(client: ory_client.OAuth2Client) -> dict:
    document = client.to_dict()
    document.pop("client_secret", None)
    return document


def works(op: OAuth2Project, client_id: str, secret: str) -> bool:
    """Whether `client_id:secret` gets a client credentials token (False on 401 invalid_client)."""
    try:
        answer = op.as_client(client_id, secret).oauth2_token_exchange(grant_type="client_credentials")
    except ory_client.exceptions.UnauthorizedException as error:
        assert '"invalid_client"' in error.body, error.body
        return False
    assert answer.access_token.startswith("ory_at_")
    return True


# =============================================================================================
# create, get, delete


def test_create_get_and_delete_client(op):
    """create_o_auth2_client answers 201 with Location and every field the body set, plus the generated secret;
    get_o_auth2_client returns the same client without the secret; delete makes it 404 and its secret useless."""
    body = ory_client.OAuth2Client(
        client_name="Shop",
        redirect_uris=["https://shop.example/cb", "http://localhost:3000/cb"],
        post_logout_redirect_uris=["https://shop.example/bye"],
        grant_types=["authorization_code", "refresh_token", "client_credentials"],
        response_types=["code", "id_token"],
        scope="openid offline read",
        audience=["https://api.shop.example"],
        owner="team-a",
        policy_uri="https://shop.example/policy",
        tos_uri="https://shop.example/tos",
        client_uri="https://shop.example",
        logo_uri="https://shop.example/logo.png",
        contacts=["ops@shop.example"],
        allowed_cors_origins=["https://shop.example"],
        metadata={"tier": "gold", "seats": 3, "tags": ["a", "b"]},
        skip_consent=True,
        token_endpoint_auth_method="client_secret_post",
        client_credentials_grant_access_token_lifespan="30m",
        frontchannel_logout_uri="https://shop.example/logout",
        backchannel_logout_uri="https://shop.example/backchannel",
        backchannel_logout_session_required=True,
    )
    before = datetime.now(timezone.utc).replace(microsecond=0)
    response = op.oauth2.create_o_auth2_client_with_http_info(body)
    assert response.status_code == 201
    created = response.data
    assert isinstance(created, ory_client.OAuth2Client)
    assert_no_unknown_keys(created)
    client_id = created.client_id
    assert str(uuid.UUID(client_id)) == client_id, "a generated id is a UUID"
    location = header(response.headers, "location")
    assert urlsplit(location).path == f"{urlsplit(op.url).path}/admin/clients/{client_id}", location
    assert created.client_secret and len(created.client_secret) >= 26, created.client_secret
    assert created.client_secret_expires_at == 0
    for field in (
        "client_name", "redirect_uris", "post_logout_redirect_uris", "grant_types", "response_types", "scope",
        "audience", "owner", "policy_uri", "tos_uri", "client_uri", "logo_uri", "contacts", "allowed_cors_origins",
        "metadata", "skip_consent", "token_endpoint_auth_method", "frontchannel_logout_uri",
        "backchannel_logout_uri", "backchannel_logout_session_required",
    ):
        assert getattr(created, field) == getattr(body, field), field
    assert created.client_credentials_grant_access_token_lifespan == "30m"
    assert created.subject_type == "public"
    assert created.userinfo_signed_response_alg == "none"
    assert created.created_at >= before and created.updated_at == created.created_at

    fetched = op.oauth2.get_o_auth2_client(client_id)
    assert isinstance(fetched, ory_client.OAuth2Client)
    assert_no_unknown_keys(fetched)
    assert fetched.client_secret is None, "the secret is shown once"
    assert fetched.to_dict() == without_secret(created)

    # client_secret_post: client_id and client_secret in the form.
    token = token_request(
        op.as_client(),
        [("grant_type", "client_credentials"), ("client_id", client_id), ("client_secret", created.client_secret)],
    ).data
    assert op.is_active(token.access_token)

    response = op.oauth2.delete_o_auth2_client_with_http_info(client_id)
    assert response.status_code == 204
    expect_oauth2_error(404, NOT_FOUND, op.oauth2.get_o_auth2_client, client_id)
    expect_oauth2_error(404, NOT_FOUND, op.oauth2.delete_o_auth2_client, client_id)
    assert not op.is_active(token.access_token), "a deleted client's tokens die with it"
    expect_oauth2_error(
        401,
        "invalid_client",
        token_request,
        op.as_client(),
        [("grant_type", "client_credentials"), ("client_id", client_id), ("client_secret", created.client_secret)],
    )


def test_create_client_defaults_chosen_id_and_secret(op):
    """An empty body gets Hydra's defaults; a chosen client_id and client_secret are kept (the secret echoed once
    and usable); the same client_id again is 409."""
    minimal = op.create_client()
    assert minimal.scope == DEFAULT_SCOPE
    assert minimal.token_endpoint_auth_method == "client_secret_basic"
    assert minimal.subject_type == "public"
    assert minimal.grant_types == [] and minimal.response_types == [] and minimal.redirect_uris == []
    assert minimal.audience == [] and minimal.contacts == [] and minimal.allowed_cors_origins == []
    assert minimal.client_name == "" and minimal.owner == ""
    assert minimal.metadata == {} and minimal.jwks == ory_client.JsonWebKeySet()
    assert minimal.skip_consent is False and minimal.skip_logout_consent is None
    assert all(getattr(minimal, name) is None for name in LIFESPAN_FIELDS)
    assert minimal.client_secret

    client_id = unique("my-client")
    chosen = op.create_client(
        client_id=client_id, client_secret="a-secret-of-my-own", grant_types=["client_credentials"]
    )
    assert chosen.client_id == client_id and chosen.client_secret == "a-secret-of-my-own"
    assert op.oauth2.get_o_auth2_client(client_id).client_id == client_id
    assert works(op, client_id, "a-secret-of-my-own")
    assert not works(op, client_id, "another-secret")

    with pytest.raises(ConflictException) as conflict:
        op.oauth2.create_o_auth2_client(ory_client.OAuth2Client(client_id=client_id, client_name="again"))
    assert conflict.value.status == 409
    assert ory_client.ErrorOAuth2.from_json(conflict.value.body).error
    assert op.oauth2.get_o_auth2_client(client_id).client_name == "", "the first client is untouched"
    assert works(op, client_id, "a-secret-of-my-own")


@pytest.mark.parametrize(
    "fields, error",
    [
        (dict(client_secret="12345"), "invalid_client_metadata"),
        (dict(token_endpoint_auth_method="tls_client_auth"), "invalid_client_metadata"),
        (dict(token_endpoint_auth_method="private_key_jwt"), "invalid_client_metadata"),
        (dict(grant_types=["password"]), "invalid_client_metadata"),
        (dict(allowed_cors_origins=["https://shop.example/path"]), "invalid_client_metadata"),
        (dict(logo_uri="javascript:alert(1)"), "invalid_client_metadata"),
        (dict(userinfo_signed_response_alg="HS256"), "invalid_client_metadata"),
        (dict(subject_type="pairwise"), "invalid_client_metadata"),
        (dict(access_token_strategy="magic"), "invalid_client_metadata"),
        (
            dict(redirect_uris=["https://shop.example/cb"], post_logout_redirect_uris=["https://other.example/bye"]),
            "invalid_client_metadata",
        ),
        (dict(redirect_uris=["https://shop.example/cb#fragment"]), "invalid_redirect_uri"),
        (dict(redirect_uris=["not a url"]), "invalid_redirect_uri"),
    ],
    ids=[
        "5-char-secret", "unknown-auth-method", "private-key-jwt-without-keys", "unknown-grant", "cors-with-path",
        "javascript-logo", "userinfo-alg", "pairwise-not-enabled", "token-strategy", "post-logout-other-origin",
        "redirect-fragment", "redirect-not-url",
    ],
)
def test_create_client_refuses_invalid_metadata(op, fields, error):
    """Hydra's validation: 400 with `invalid_client_metadata` (or `invalid_redirect_uri`); nothing is created."""
    parsed = expect_oauth2_error(400, error, op.oauth2.create_o_auth2_client, ory_client.OAuth2Client(**fields))
    assert parsed.error_description
    assert op.oauth2.list_o_auth2_clients() == []


def test_public_client_has_no_secret(op):
    """token_endpoint_auth_method `none`: no secret in the answer, and no client credentials grant (401)."""
    public = op.create_client(token_endpoint_auth_method="none", grant_types=["client_credentials"])
    assert public.client_secret is None
    assert public.token_endpoint_auth_method == "none"
    form = [("grant_type", "client_credentials"), ("client_id", public.client_id)]
    expect_oauth2_error(401, "invalid_client", token_request, op.as_client(), form)
    expect_oauth2_error(400, BAD_REQUEST, op.oauth2.rotate_o_auth2_client_secret, public.client_id)


# =============================================================================================
# list


def test_list_clients_pages_with_page_size_and_link_header(op):
    """list_o_auth2_clients pages by page_size and the page_token of the Link header's next link, in id order,
    until no next link; client_name and owner filter; a bad page_token is 400; no secret is ever listed."""
    created = [op.create_client(client_name=f"app-{n}", owner="team-a") for n in range(5)]
    other = op.create_client(client_name="app-0", owner="team-b")

    seen: List[ory_client.OAuth2Client] = []
    token: Optional[str] = None
    pages = 0
    while True:
        response = op.oauth2.list_o_auth2_clients_with_http_info(page_size=2, page_token=token)
        assert response.status_code == 200
        assert all(isinstance(c, ory_client.OAuth2Client) for c in response.data)
        assert_no_unknown_keys(response.data)
        assert all(c.client_secret is None for c in response.data)
        pages += 1
        seen.extend(response.data)
        found = links(response)
        first = urlsplit(found["first"])
        assert first.path == urlsplit(op.url).path + "/admin/clients", found
        assert parse_qs(first.query)["page_size"] == ["2"]
        if "next" not in found:
            assert len(response.data) <= 2
            break
        assert len(response.data) == 2
        token = page_token(found["next"])
        assert pages < 10, "the pages never end"
    assert pages == 3
    everyone = created + [other]
    assert client_ids(seen) == sorted(client_ids(everyone)), "every client once, in id order"
    by_id = {c.client_id: c for c in everyone}
    assert all(c.to_dict() == without_secret(by_id[c.client_id]) for c in seen)

    assert sorted(client_ids(op.oauth2.list_o_auth2_clients())) == sorted(client_ids(everyone))
    assert client_ids(op.oauth2.list_o_auth2_clients(owner="team-a")) == sorted(client_ids(created))
    assert client_ids(op.oauth2.list_o_auth2_clients(client_name="app-0")) == sorted(
        [created[0].client_id, other.client_id]
    )
    assert client_ids(op.oauth2.list_o_auth2_clients(client_name="app-0", owner="team-b")) == [other.client_id]
    assert op.oauth2.list_o_auth2_clients(owner="nobody") == []
    expect_oauth2_error(400, BAD_REQUEST, op.oauth2.list_o_auth2_clients, page_token="not a token!")


# =============================================================================================
# replace, patch, lifespans


def test_set_client_replaces_it(op):
    """set_o_auth2_client (PUT) of a GET result with changes keeps the secret; a body without a field clears it;
    a body with a client_secret shows and sets the new one; an invalid body changes nothing; unknown is 404."""
    created = op.m2m_client(client_name="Before", owner="team-a", metadata={"v": 1})
    client_id, secret = created.client_id, created.client_secret
    current = op.oauth2.get_o_auth2_client(client_id)
    current.client_name = "After"
    current.metadata = {"v": 2}
    current.redirect_uris = ["https://shop.example/cb"]
    replaced = op.oauth2.set_o_auth2_client(client_id, current)
    assert isinstance(replaced, ory_client.OAuth2Client)
    assert_no_unknown_keys(replaced)
    assert replaced.client_name == "After" and replaced.metadata == {"v": 2}
    assert replaced.redirect_uris == ["https://shop.example/cb"] and replaced.owner == "team-a"
    assert replaced.client_secret is None
    assert replaced.created_at == created.created_at and replaced.updated_at > created.updated_at
    assert op.oauth2.get_o_auth2_client(client_id).to_dict() == replaced.to_dict()
    assert works(op, client_id, secret), "the secret is kept"

    bare = op.oauth2.set_o_auth2_client(
        client_id, ory_client.OAuth2Client(client_name="Bare", grant_types=["client_credentials"])
    )
    assert bare.client_name == "Bare"
    assert bare.owner == "" and bare.metadata == {} and bare.audience == [] and bare.redirect_uris == []
    assert bare.scope == DEFAULT_SCOPE, "omitted fields are cleared to Hydra's defaults"
    assert bare.client_id == client_id, "the id is the path's"

    with_secret = op.oauth2.set_o_auth2_client(
        client_id, ory_client.OAuth2Client(grant_types=["client_credentials"], client_secret="replaced-secret")
    )
    assert with_secret.client_secret == "replaced-secret"
    assert works(op, client_id, "replaced-secret")
    assert not works(op, client_id, secret)

    expect_oauth2_error(
        400,
        "invalid_client_metadata",
        op.oauth2.set_o_auth2_client,
        client_id,
        ory_client.OAuth2Client(client_secret="short"),
    )
    assert op.oauth2.get_o_auth2_client(client_id).to_dict() == without_secret(with_secret)
    expect_oauth2_error(
        404, NOT_FOUND, op.oauth2.set_o_auth2_client, unique("no-such-client"), ory_client.OAuth2Client()
    )


def test_patch_client_with_json_patch(op):
    """patch_o_auth2_client applies an RFC 6902 list; patching client_id, a failing test op or an invalid result
    is 400 and changes nothing; an unknown client is 404; a patched client_secret is shown and works."""
    created = op.m2m_client(client_name="Shop", metadata={"tier": "silver"})
    client_id = created.client_id
    patched = op.oauth2.patch_o_auth2_client(
        client_id,
        [
            ory_client.JsonPatch(op="replace", path="/client_name", value="Shop 2"),
            ory_client.JsonPatch(op="add", path="/audience/-", value="https://other.example"),
            ory_client.JsonPatch(op="replace", path="/metadata/tier", value="gold"),
            ory_client.JsonPatch(op="add", path="/contacts", value=["ops@shop.example"]),
            ory_client.JsonPatch(op="test", path="/owner", value=""),
            ory_client.JsonPatch(op="copy", var_from="/client_name", path="/owner"),
        ],
    )
    assert isinstance(patched, ory_client.OAuth2Client)
    assert_no_unknown_keys(patched)
    assert patched.client_name == "Shop 2" and patched.owner == "Shop 2"
    assert patched.audience == [M2M_AUDIENCE, "https://other.example"]
    assert patched.metadata == {"tier": "gold"} and patched.contacts == ["ops@shop.example"]
    assert patched.client_secret is None
    assert op.oauth2.get_o_auth2_client(client_id).to_dict() == patched.to_dict()
    assert works(op, client_id, created.client_secret)

    for bad, error in (
        ([ory_client.JsonPatch(op="replace", path="/client_id", value="stolen")], BAD_REQUEST),
        ([ory_client.JsonPatch(op="test", path="/client_name", value="Someone else")], BAD_REQUEST),
        ([ory_client.JsonPatch(op="remove", path="/no_such_field")], BAD_REQUEST),
        ([ory_client.JsonPatch(op="replace", path="/token_endpoint_auth_method", value="magic")], "invalid_client_metadata"),
    ):
        expect_oauth2_error(400, error, op.oauth2.patch_o_auth2_client, client_id, bad)
    assert op.oauth2.get_o_auth2_client(client_id).to_dict() == patched.to_dict(), "failed patches change nothing"
    expect_oauth2_error(
        404,
        NOT_FOUND,
        op.oauth2.patch_o_auth2_client,
        unique("no-such-client"),
        [ory_client.JsonPatch(op="replace", path="/client_name", value="x")],
    )

    new_secret = op.oauth2.patch_o_auth2_client(
        client_id, [ory_client.JsonPatch(op="add", path="/client_secret", value="patched-secret")]
    )
    assert new_secret.client_secret == "patched-secret"
    assert works(op, client_id, "patched-secret") and not works(op, client_id, created.client_secret)


def test_set_client_lifespans(op):
    """set_o_auth2_client_lifespans replaces every lifespan (absent ones cleared); the client credentials
    lifespan sets the token's expires_in and exp; an invalid duration is 400; unknown is 404."""
    created = op.m2m_client(implicit_grant_access_token_lifespan="5m")
    client_id = created.client_id
    assert created.implicit_grant_access_token_lifespan == "5m"

    updated = op.oauth2.set_o_auth2_client_lifespans(
        client_id,
        ory_client.OAuth2ClientTokenLifespans(
            client_credentials_grant_access_token_lifespan="90m", refresh_token_grant_refresh_token_lifespan="720h"
        ),
    )
    assert isinstance(updated, ory_client.OAuth2Client)
    assert_no_unknown_keys(updated)
    assert updated.client_credentials_grant_access_token_lifespan in ("1h30m", "1h30m0s")
    assert updated.refresh_token_grant_refresh_token_lifespan in ("720h", "720h0m0s")
    assert updated.implicit_grant_access_token_lifespan is None, "a lifespan the body omits is cleared"
    assert updated.client_secret is None
    assert op.oauth2.get_o_auth2_client(client_id).to_dict() == updated.to_dict()

    token = op.token(created)
    assert token.expires_in == 5400
    introspected = op.introspect(token.access_token)
    assert introspected.exp - introspected.iat == 5400

    cleared = op.oauth2.set_o_auth2_client_lifespans(client_id, ory_client.OAuth2ClientTokenLifespans())
    assert all(getattr(cleared, name) is None for name in LIFESPAN_FIELDS)
    assert op.token(created).expires_in == 3600, "back to the project's access token TTL"

    # The SDK checks the duration pattern itself; model_construct sends what it would refuse.
    invalid = ory_client.OAuth2ClientTokenLifespans.model_construct(
        client_credentials_grant_access_token_lifespan="forever"
    )
    expect_oauth2_error(400, BAD_REQUEST, op.oauth2.set_o_auth2_client_lifespans, client_id, invalid)
    expect_oauth2_error(
        404, NOT_FOUND, op.oauth2.set_o_auth2_client_lifespans, unique("nope"), ory_client.OAuth2ClientTokenLifespans()
    )


# =============================================================================================
# secret rotation


def test_rotate_client_secret(op):
    """rotate_o_auth2_client_secret shows a new secret; the old one keeps working until
    delete_rotated_o_auth2_client_secrets; a chosen secret is used as given; unknown clients are 404."""
    created = op.m2m_client()
    client_id, old = created.client_id, created.client_secret

    rotated = op.oauth2.rotate_o_auth2_client_secret(client_id)
    assert isinstance(rotated, ory_client.OAuth2Client)
    assert_no_unknown_keys(rotated)
    new = rotated.client_secret
    assert new and new != old
    assert rotated.updated_at > created.updated_at
    assert works(op, client_id, old) and works(op, client_id, new), "no downtime: both secrets work"
    assert op.oauth2.get_o_auth2_client(client_id).client_secret is None

    dropped = op.oauth2.delete_rotated_o_auth2_client_secrets(client_id)
    assert isinstance(dropped, ory_client.OAuth2Client)
    assert_no_unknown_keys(dropped)
    assert dropped.client_secret is None
    assert not works(op, client_id, old)
    assert works(op, client_id, new)

    chosen = op.oauth2.rotate_o_auth2_client_secret(
        client_id, ory_client.RotateOAuth2ClientSecretBody(client_secret="replicated-secret-42")
    )
    assert chosen.client_secret == "replicated-secret-42", "a supplied secret is the new one"
    assert works(op, client_id, "replicated-secret-42") and works(op, client_id, new)
    expect_oauth2_error(
        400,
        "invalid_client_metadata",
        op.oauth2.rotate_o_auth2_client_secret,
        client_id,
        ory_client.RotateOAuth2ClientSecretBody(client_secret="short"),
    )
    assert works(op, client_id, "replicated-secret-42")

    expect_oauth2_error(404, NOT_FOUND, op.oauth2.rotate_o_auth2_client_secret, unique("nope"))
    expect_oauth2_error(404, NOT_FOUND, op.oauth2.delete_rotated_o_auth2_client_secrets, unique("nope"))


# =============================================================================================
# isolation and keys


def test_clients_are_isolated_between_projects(dev, seeded, op):
    """A client of project A is 404 on project B's admin API and unknown at B's token endpoint; B may register
    the same client_id with its own secret; B's key, the workspace key and no key are 401 on A's admin API."""
    other = create_oauth2_project(dev, seeded)
    client_id = unique("shared-id")
    mine = op.m2m_client(client_id=client_id, client_name="A's")

    expect_oauth2_error(404, NOT_FOUND, other.oauth2.get_o_auth2_client, client_id)
    expect_oauth2_error(404, NOT_FOUND, other.oauth2.delete_o_auth2_client, client_id)
    expect_oauth2_error(404, NOT_FOUND, other.oauth2.set_o_auth2_client, client_id, ory_client.OAuth2Client())
    expect_oauth2_error(
        404,
        NOT_FOUND,
        other.oauth2.patch_o_auth2_client,
        client_id,
        [ory_client.JsonPatch(op="replace", path="/client_name", value="stolen")],
    )
    expect_oauth2_error(
        404, NOT_FOUND, other.oauth2.set_o_auth2_client_lifespans, client_id, ory_client.OAuth2ClientTokenLifespans()
    )
    expect_oauth2_error(404, NOT_FOUND, other.oauth2.rotate_o_auth2_client_secret, client_id)
    assert other.oauth2.list_o_auth2_clients() == []
    assert not works(other, client_id, mine.client_secret), "A's client is unknown at B's token endpoint"

    theirs = other.m2m_client(client_id=client_id, client_name="B's")
    assert theirs.client_secret != mine.client_secret
    assert works(op, client_id, mine.client_secret) and works(other, client_id, theirs.client_secret)
    assert not works(op, client_id, theirs.client_secret)
    assert op.oauth2.get_o_auth2_client(client_id).client_name == "A's"
    assert other.oauth2.get_o_auth2_client(client_id).client_name == "B's"

    for key in (other.key, dev["workspace_api_key"], "ory_pat_" + "x" * 40, None):
        intruder = op.admin_with(key)
        expect_error(401, intruder.get_o_auth2_client, client_id)
        expect_error(401, intruder.list_o_auth2_clients)
        expect_error(401, intruder.delete_o_auth2_client, client_id)
        expect_error(401, intruder.create_o_auth2_client, ory_client.OAuth2Client())
        expect_error(401, intruder.rotate_o_auth2_client_secret, client_id)
    assert op.oauth2.get_o_auth2_client(client_id).client_name == "A's", "nothing was changed"
    assert client_ids(op.oauth2.list_o_auth2_clients()) == [client_id]
