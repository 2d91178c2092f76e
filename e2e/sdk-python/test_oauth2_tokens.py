"""The OAuth2 engine's protocol side through the SDK's OAuth2Api and OidcApi on a project's URL: the client
credentials grant at `/oauth2/token` (`oauth2_token_exchange` with HTTP Basic from the Configuration's username
and password; scope, audience and client_secret_post built with the SDK's serializer), its errors,
introspection (`/admin/oauth2/introspect`, project key), revocation (`/oauth2/revoke`, the client's own
credentials), deleting a client's tokens, OpenID discovery, and isolation between projects.

Each test makes its own project in the workspace `tessera dev` seeded. Every answer must parse into the SDK's
models with no key the SDK does not know; every error must be the SDK's exception for its status.
"""

from __future__ import annotations

import json
import time

import ory_client
import pytest

from identity_helpers import assert_no_unknown_keys, expect_error, header
from oauth2_helpers import M2M_AUDIENCE, OAuth2Project, create_oauth2_project, expect_oauth2_error, token_request
from sdk_helpers import raw_request, unique


@pytest.fixture()
def op(dev, seeded) -> OAuth2Project:
    """A fresh project with the default OAuth2 configuration."""
    return create_oauth2_project(dev, seeded)


CC = ("grant_type", "client_credentials")


# =============================================================================================
# the client credentials grant


def test_client_credentials_with_basic_auth(op):
    """oauth2_token_exchange with the client's id and secret as the Configuration's username and password: an
    opaque `ory_at_` bearer token for an hour, no refresh or ID token, no-store; introspection describes it."""
    client = op.m2m_client()
    response = op.as_client(client.client_id, client.client_secret).oauth2_token_exchange_with_http_info(
        grant_type="client_credentials"
    )
    assert response.status_code == 200
    assert header(response.headers, "cache-control") == "no-store"
    token = response.data
    assert isinstance(token, ory_client.OAuth2TokenExchange)
    assert_no_unknown_keys(token)
    assert token.access_token.startswith("ory_at_")
    assert token.token_type == "bearer"
    assert token.expires_in == 3600
    assert token.scope == "", "nothing requested, nothing granted"
    assert token.refresh_token is None and token.id_token is None

    issuer = op.oidc.discover_oidc_configuration().issuer
    now = int(time.time())
    introspected = op.introspect(token.access_token)
    assert introspected.active is True
    assert introspected.client_id == client.client_id and introspected.sub == client.client_id
    assert introspected.iss == issuer
    assert introspected.token_type == "Bearer" and introspected.token_use == "access_token"
    assert introspected.exp - introspected.iat == 3600 and introspected.nbf == introspected.iat
    assert abs(introspected.iat - now) < 60
    assert introspected.aud == [] and introspected.scope == ""
    assert introspected.ext is None and introspected.username is None

    again = op.token(client)
    assert again.access_token != token.access_token, "every request gets its own token"
    assert op.is_active(token.access_token) and op.is_active(again.access_token)


def test_client_credentials_scope_and_audience(op):
    """Scopes and audiences the client is registered for are granted as requested (the SDK's token method has no
    parameters for them, so the form is built with its serializer); introspection with a required scope the
    token lacks answers inactive."""
    client = op.m2m_client()
    api = op.as_client(client.client_id, client.client_secret)
    token = token_request(api, [CC, ("scope", "read"), ("audience", M2M_AUDIENCE)]).data
    assert token.scope == "read"
    introspected = op.introspect(token.access_token, scope="read")
    assert introspected.active and introspected.scope == "read" and introspected.aud == [M2M_AUDIENCE]
    inactive = op.introspect(token.access_token, scope="write")
    assert inactive.active is False
    assert inactive.to_dict() == {"active": False}, "an inactive token reveals nothing"

    both = token_request(api, [CC, ("scope", "read write")]).data
    assert both.scope == "read write"
    assert op.introspect(both.access_token, scope="read write").active


def test_client_secret_post_and_method_mismatch(op):
    """A client_secret_post client authenticates with client_id and client_secret in the form and not with HTTP
    Basic; a client_secret_basic client the other way round (401 invalid_client each)."""
    post = op.m2m_client(token_endpoint_auth_method="client_secret_post")
    basic = op.m2m_client()
    form = [CC, ("client_id", post.client_id), ("client_secret", post.client_secret)]
    token = token_request(op.as_client(), form).data
    assert op.introspect(token.access_token).client_id == post.client_id

    expect_oauth2_error(
        401,
        "invalid_client",
        op.as_client(post.client_id, post.client_secret).oauth2_token_exchange,
        grant_type="client_credentials",
    )
    expect_oauth2_error(
        401,
        "invalid_client",
        token_request,
        op.as_client(),
        [CC, ("client_id", basic.client_id), ("client_secret", basic.client_secret)],
    )
    expect_oauth2_error(
        400,
        "invalid_request",
        token_request,
        op.as_client(basic.client_id, basic.client_secret),
        [CC, ("client_secret", basic.client_secret)],
    )


def test_token_endpoint_errors(op):
    """401 invalid_client for a wrong secret, an unknown client or no credentials (with WWW-Authenticate); 400
    unauthorized_client for a client not registered for the grant; 400 unsupported_grant_type; 400 invalid_scope
    and invalid_request for a scope or audience the client lacks."""
    client = op.m2m_client()
    wrong = op.as_client(client.client_id, client.client_secret + "x")
    expect_oauth2_error(401, "invalid_client", wrong.oauth2_token_exchange, grant_type="client_credentials")
    unknown = op.as_client(unique("no-such-client"), "whatever-secret")
    expect_oauth2_error(401, "invalid_client", unknown.oauth2_token_exchange, grant_type="client_credentials")
    expect_oauth2_error(401, "invalid_client", op.as_client().oauth2_token_exchange, grant_type="client_credentials")

    web = op.create_client(grant_types=["authorization_code"], redirect_uris=["https://shop.example/cb"])
    expect_oauth2_error(
        400,
        "unauthorized_client",
        op.as_client(web.client_id, web.client_secret).oauth2_token_exchange,
        grant_type="client_credentials",
    )

    api = op.as_client(client.client_id, client.client_secret)
    for grant_type in ("password", "urn:ietf:params:oauth:grant-type:token-exchange"):
        expect_oauth2_error(400, "unsupported_grant_type", api.oauth2_token_exchange, grant_type=grant_type)
    expect_oauth2_error(400, "invalid_scope", token_request, api, [CC, ("scope", "read admin")])
    expect_oauth2_error(
        400, "invalid_request", token_request, api, [CC, ("audience", "https://not-registered.example")]
    )
    expect_oauth2_error(400, "invalid_request", token_request, api, [CC, CC])
    assert op.token(client).access_token, "the client still works"


# =============================================================================================
# introspection, revocation, deletion


def test_introspection_of_unusable_tokens(dev, op):
    """Garbage, a forged signature, a refresh-token prefix and a deleted client's token are all `{"active":
    false}`; introspection needs the project key (401 without it, with the workspace key or an unknown key)."""
    client = op.m2m_client()
    token = op.token(client).access_token
    for label, candidate in (
        ("garbage", "not-a-token"),
        ("forged signature", token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]),
        ("refresh token prefix", token.replace("ory_at_", "ory_rt_", 1)),
    ):
        answer = op.oauth2.introspect_o_auth2_token_with_http_info(candidate)
        assert answer.status_code == 200
        assert json.loads(answer.raw_data) == {"active": False}, label
        assert answer.data.active is False
    assert op.is_active(token)

    for key in (None, dev["workspace_api_key"], "ory_pat_" + "0" * 40):
        expect_error(401, op.admin_with(key).introspect_o_auth2_token, token)

    op.oauth2.delete_o_auth2_client(client.client_id)
    assert not op.is_active(token)


def test_revoke_token(op):
    """revoke_o_auth2_token with the owning client's HTTP Basic credentials (a Configuration with username and
    password) makes the token inactive; another client's token is 400 unauthorized_client and stays active; an
    unknown token is fine (RFC 7009); without credentials 401; client_secret_post clients send theirs in the form."""
    client = op.m2m_client()
    other = op.m2m_client()
    token = op.token(client).access_token
    kept = op.token(client).access_token
    as_client = op.as_client(client.client_id, client.client_secret)

    expect_oauth2_error(
        400, "unauthorized_client", op.as_client(other.client_id, other.client_secret).revoke_o_auth2_token, token
    )
    assert op.is_active(token)
    expect_oauth2_error(401, "invalid_client", op.as_client().revoke_o_auth2_token, token)
    expect_oauth2_error(
        401, "invalid_client", op.as_client(client.client_id, "wrong-secret").revoke_o_auth2_token, token
    )
    assert op.is_active(token)

    response = as_client.revoke_o_auth2_token_with_http_info(token)
    assert response.status_code == 200 and response.data is None
    assert not op.is_active(token)
    assert op.is_active(kept), "revocation ends that token only"
    assert as_client.revoke_o_auth2_token(token) is None, "revoking twice is fine"
    assert as_client.revoke_o_auth2_token("ory_at_unknown.signature") is None
    assert as_client.revoke_o_auth2_token("not-a-token") is None

    post = op.m2m_client(token_endpoint_auth_method="client_secret_post")
    post_token = token_request(
        op.as_client(), [CC, ("client_id", post.client_id), ("client_secret", post.client_secret)]
    ).data.access_token
    assert op.as_client().revoke_o_auth2_token(
        post_token, client_id=post.client_id, client_secret=post.client_secret
    ) is None
    assert not op.is_active(post_token)


def test_delete_client_tokens(op):
    """delete_o_auth2_token(client_id) ends every token of that client (204) and no other; the client can get a
    new one; an unknown client id is 204 too."""
    first, second = op.m2m_client(), op.m2m_client()
    first_tokens = [op.token(first).access_token for _ in range(2)]
    second_token = op.token(second).access_token

    response = op.oauth2.delete_o_auth2_token_with_http_info(first.client_id)
    assert response.status_code == 204
    assert [op.is_active(t) for t in first_tokens] == [False, False]
    assert op.is_active(second_token)
    assert op.is_active(op.token(first).access_token), "the client itself still works"
    assert op.oauth2.delete_o_auth2_token(unique("no-such-client")) is None
    expect_error(401, op.admin_with(None).delete_o_auth2_token, second.client_id)
    assert op.is_active(second_token)


# =============================================================================================
# discovery


def test_discover_oidc_configuration(op):
    """OidcApi.discover_oidc_configuration parses into OidcConfiguration with no unknown key; the issuer is the
    project's URL and every endpoint is under it; RFC 8414's document is the same."""
    response = op.oidc.discover_oidc_configuration_with_http_info()
    assert response.status_code == 200
    config = response.data
    assert isinstance(config, ory_client.OidcConfiguration)
    assert_no_unknown_keys(config)
    assert config.issuer == op.url
    assert config.token_endpoint == f"{op.url}/oauth2/token"
    assert config.authorization_endpoint == f"{op.url}/oauth2/auth"
    assert config.jwks_uri == f"{op.url}/.well-known/jwks.json"
    assert config.revocation_endpoint == f"{op.url}/oauth2/revoke"
    assert config.userinfo_endpoint == f"{op.url}/userinfo"
    assert config.end_session_endpoint == f"{op.url}/oauth2/sessions/logout"
    assert config.device_authorization_endpoint == f"{op.url}/oauth2/device/auth"
    assert config.subject_types_supported == ["public"]
    assert "client_credentials" in config.grant_types_supported
    assert {"client_secret_basic", "client_secret_post", "none"} <= set(config.token_endpoint_auth_methods_supported)
    assert "S256" in config.code_challenge_methods_supported
    assert "RS256" in config.id_token_signing_alg_values_supported

    raw = raw_request(op.url, "GET", "/.well-known/oauth-authorization-server")
    assert raw.status == 200
    rfc8414 = ory_client.OidcConfiguration.from_json(raw.body.decode())
    assert_no_unknown_keys(rfc8414)
    assert rfc8414.to_dict() == config.to_dict()

    # A token's iss is the discovery issuer.
    client = op.m2m_client()
    assert op.introspect(op.token(client).access_token).iss == config.issuer


# =============================================================================================
# isolation


def test_tokens_are_isolated_between_projects(dev, seeded, op):
    """A token of project A is inactive when introspected on project B, and B's clients cannot revoke it; A's
    client is unknown at B's token endpoint; deleting tokens by client id on B leaves A's alone; B's key is 401
    on A's introspection."""
    other = create_oauth2_project(dev, seeded)
    client_id = unique("shared-id")
    mine = op.m2m_client(client_id=client_id)
    theirs = other.m2m_client(client_id=client_id)
    token = op.token(mine).access_token
    their_token = other.token(theirs).access_token

    assert op.is_active(token) and other.is_active(their_token)
    foreign = other.oauth2.introspect_o_auth2_token_with_http_info(token)
    assert json.loads(foreign.raw_data) == {"active": False}, "B neither accepts nor describes A's token"
    assert not op.is_active(their_token)

    expect_oauth2_error(
        401,
        "invalid_client",
        other.as_client(client_id, mine.client_secret).oauth2_token_exchange,
        grant_type="client_credentials",
    )
    assert other.as_client(client_id, theirs.client_secret).revoke_o_auth2_token(token) is None
    assert op.is_active(token), "revoking A's token on B does nothing"

    other.oauth2.delete_o_auth2_token(client_id)
    assert op.is_active(token) and not other.is_active(their_token)

    expect_error(401, op.admin_with(other.key).introspect_o_auth2_token, token)
    expect_error(401, op.admin_with(other.key).delete_o_auth2_token, client_id)
    assert op.is_active(token)
