"""A relying party nobody here wrote, Authlib, against a project's OpenID provider, unchanged: discovery, the
authorization code flow with PKCE (S256), state and nonce through a browser (a `requests.Session` that keeps
cookies and follows no redirect by itself), the project's login and consent apps played through `OAuth2Api`
with the project key, the token request, ID token validation with Authlib's own JOSE and OIDC claim classes
against the keys of `jwks_uri`, userinfo, refresh token rotation, and then introspection, revocation and
consent and login sessions through the SDK.

Authlib is used as a relying party uses it: endpoints come from discovery (none of our paths is written here),
Authlib builds the authorization URL (its state, its S256 challenge), checks the state of the callback itself,
and decides on its own whether an ID token is valid. The only concession is `AUTHLIB_INSECURE_TRANSPORT`, since
`tessera dev` speaks plain HTTP on 127.0.0.1 and Authlib refuses OAuth2 over HTTP otherwise. The provider, the
relying party and the browser flow are in oauth2_helpers.py (shared with test_oauth2_keys_and_logout.py).

Each test makes its own project in the workspace `tessera dev` seeded. Every SDK answer must parse into the SDK's
models with no key the SDK does not know.
"""

from __future__ import annotations

import base64
import dataclasses
import warnings

import ory_client
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import MismatchingStateException

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib.jose's deprecation notice (see oauth2_helpers.py)
    from authlib.jose.errors import BadSignatureError

from identity_helpers import assert_no_unknown_keys, create_identity_project
from oauth2_helpers import (
    CALLBACK,
    EMAIL,
    SCOPE,
    SUBJECT,
    TIMEOUT,
    Provider,
    authorize_url,
    code_flow,
    id_token_claims,
    login_and_consent,
    open_provider,
    query_of,
    redirected,
    relying_party,
)


@pytest.fixture()
def op(dev, seeded) -> Provider:
    return open_provider(seeded, create_identity_project(dev, seeded))


# =============================================================================================
# the relying party's own requests


def raw_refresh(op: Provider, client: ory_client.OAuth2Client, refresh_token: str) -> requests.Response:
    auth = (client.client_id, client.client_secret) if client.client_secret else None
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if not client.client_secret:
        form["client_id"] = client.client_id
    return requests.post(op.endpoint("token_endpoint"), data=form, auth=auth, timeout=TIMEOUT)


# =============================================================================================
# tests


def test_confidential_client_code_flow_with_authlib(op):
    """client_secret_basic: the browser flow, Authlib's token request and ID token validation, userinfo, refresh
    with rotation (the old refresh token then fails and takes its chain with it), then a second, remembered
    authorization (login and consent skipped) whose tokens are introspected and revoked through the SDK, and the
    consent and login sessions listed and revoked."""
    client = op.create_client(token_endpoint_auth_method="client_secret_basic")
    assert client.client_secret
    browser = requests.Session()
    session, authorization, token = code_flow(op, client, browser)

    assert token["token_type"].lower() == "bearer" and token["expires_in"] > 0
    assert set(token["scope"].split()) == set(SCOPE.split())
    assert token["access_token"] and token["refresh_token"] and token["id_token"]

    # The ID token, by Authlib's rules.
    jwks = op.jwks()
    claims = id_token_claims(op, client, token, authorization.nonce, jwks=jwks)
    assert claims["sub"] == SUBJECT and claims["email"] == EMAIL
    assert claims["iss"] == op.issuer and client.client_id in claims["aud"] and claims["nonce"] == authorization.nonce
    assert claims.header["alg"] in op.discovery["id_token_signing_alg_values_supported"]
    assert claims.header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert all("d" not in k and "p" not in k for k in jwks["keys"]), "jwks_uri publishes public keys only"

    # userinfo with Authlib's bearer token.
    userinfo = session.get(op.endpoint("userinfo_endpoint"), timeout=TIMEOUT)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.headers["content-type"].startswith("application/json")
    assert userinfo.json()["sub"] == SUBJECT and userinfo.json()["email"] == EMAIL

    introspected = op.introspect(token["access_token"])
    assert introspected.active is True and introspected.client_id == client.client_id and introspected.sub == SUBJECT

    # Refresh with Authlib: new access and refresh tokens, and a new ID token that still validates.
    old = dict(token)
    refreshed = session.refresh_token(op.endpoint("token_endpoint"))
    assert refreshed["access_token"] != old["access_token"]
    assert refreshed["refresh_token"] and refreshed["refresh_token"] != old["refresh_token"]
    assert session.token["access_token"] == refreshed["access_token"]
    again = id_token_claims(op, client, refreshed, authorization.nonce, jwks=jwks)
    assert again["sub"] == SUBJECT and again["email"] == EMAIL
    assert op.introspect(refreshed["access_token"]).active is True
    userinfo = session.get(op.endpoint("userinfo_endpoint"), timeout=TIMEOUT)
    assert userinfo.status_code == 200 and userinfo.json()["sub"] == SUBJECT

    # The old refresh token again: a raw POST and another Authlib session both get invalid_grant.
    reused = raw_refresh(op, client, old["refresh_token"])
    assert reused.status_code == 400, reused.text
    assert reused.json()["error"] == "invalid_grant"
    with pytest.raises(OAuthError) as info:
        relying_party(client).refresh_token(op.endpoint("token_endpoint"), refresh_token=old["refresh_token"])
    assert info.value.error == "invalid_grant"
    # Reuse is taken as theft: the chain it belongs to is revoked.
    assert op.introspect(refreshed["access_token"]).active is False
    with pytest.raises(OAuthError) as info:
        session.refresh_token(op.endpoint("token_endpoint"))
    assert info.value.error == "invalid_grant"

    # A second authorization in the same browser: the remembered login and consent make both requests skip.
    second, authorization, token = code_flow(op, client, browser, skip=True)
    claims = id_token_claims(op, client, token, authorization.nonce)
    assert claims["sub"] == SUBJECT and claims["email"] == EMAIL

    introspected = op.introspect(token["access_token"])
    assert introspected.active is True
    assert introspected.client_id == client.client_id and introspected.sub == SUBJECT
    assert introspected.iss == op.issuer and introspected.token_use == "access_token"
    assert set(introspected.scope.split()) == set(SCOPE.split())
    assert op.introspect(token["refresh_token"]).active is True

    # RFC 7009 revocation with the client's own credentials (HTTP Basic from the SDK's Configuration).
    assert op.as_client(client.client_id, client.client_secret).revoke_o_auth2_token(token["access_token"]) is None
    assert op.introspect(token["access_token"]).active is False
    assert second.get(op.endpoint("userinfo_endpoint"), timeout=TIMEOUT).status_code == 401

    # Consent sessions: listed (parsed by the SDK), then revoked for this client.
    sessions = op.admin.list_o_auth2_consent_sessions(subject=SUBJECT)
    assert isinstance(sessions, list) and sessions
    for s in sessions:
        assert isinstance(s, ory_client.OAuth2ConsentSession)
        assert_no_unknown_keys(s)
    mine = [s for s in sessions if s.consent_request.client.client_id == client.client_id]
    assert mine, sessions
    assert all(set(s.grant_scope) == set(SCOPE.split()) for s in mine)
    assert all(s.session.id_token == {"email": EMAIL} for s in mine)
    assert all(s.consent_request.subject == SUBJECT and s.remember is True for s in mine)
    assert op.admin.revoke_o_auth2_consent_sessions(subject=SUBJECT, client=client.client_id) is None
    left = op.admin.list_o_auth2_consent_sessions(subject=SUBJECT)
    assert [s for s in left if s.consent_request.client.client_id == client.client_id] == []

    # Login sessions: revoked, so the same browser must sign in again.
    assert op.admin.revoke_o_auth2_login_sessions(subject=SUBJECT) is None
    to_login = redirected(browser, authorize_url(op, relying_party(client)).url)
    login = op.admin.get_o_auth2_login_request(query_of(to_login)["login_challenge"])
    assert_no_unknown_keys(login)
    assert login.skip is False and login.subject == ""


def test_public_client_with_pkce_only(op):
    """token_endpoint_auth_method "none": no secret, PKCE alone binds the code to the relying party; the same flow,
    token request, ID token validation, userinfo and refresh rotation as a confidential client."""
    client = op.create_client(token_endpoint_auth_method="none")
    assert client.client_secret in (None, "")
    session, authorization, token = code_flow(op, client)
    assert token["access_token"] and token["refresh_token"] and token["id_token"]

    claims = id_token_claims(op, client, token, authorization.nonce)
    assert claims["sub"] == SUBJECT and claims["email"] == EMAIL

    userinfo = session.get(op.endpoint("userinfo_endpoint"), timeout=TIMEOUT)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == SUBJECT and userinfo.json()["email"] == EMAIL

    old = dict(token)
    refreshed = session.refresh_token(op.endpoint("token_endpoint"))
    assert refreshed["access_token"] != old["access_token"] and refreshed["refresh_token"] != old["refresh_token"]
    assert id_token_claims(op, client, refreshed, authorization.nonce)["sub"] == SUBJECT
    reused = raw_refresh(op, client, old["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant", reused.text

    # Without a code challenge a public client gets no code (PKCE is enforced for public clients): the error goes
    # to its redirect URI with the state Authlib made.
    plain = OAuth2Session(client.client_id, token_endpoint_auth_method="none", scope=SCOPE, redirect_uri=CALLBACK)
    url, state = plain.create_authorization_url(op.endpoint("authorization_endpoint"), nonce=generate_token(20))
    assert "code_challenge" not in query_of(url)
    refused = redirected(requests.Session(), url)
    assert refused.startswith(CALLBACK + "?"), refused
    assert query_of(refused)["error"] == "invalid_request" and query_of(refused)["state"] == state


def test_wrong_verifier_state_and_tampered_id_token_are_refused(op):
    """The server refuses a wrong PKCE verifier (invalid_grant, through Authlib); Authlib itself refuses a callback
    with another state, and an ID token with one payload byte changed, another audience, nonce or issuer."""
    client = op.create_client(token_endpoint_auth_method="client_secret_basic")

    # A wrong code_verifier.
    session = relying_party(client)
    authorization = authorize_url(op, session)
    callback = login_and_consent(op, requests.Session(), authorization, client)
    with pytest.raises(OAuthError) as info:
        session.fetch_token(
            op.endpoint("token_endpoint"),
            authorization_response=callback,
            state=authorization.state,
            code_verifier=generate_token(48),
        )
    assert info.value.error == "invalid_grant"

    # A callback whose state is not the one Authlib made is refused before any request. (A new browser signs in
    # again; the consent given above was remembered, so the consent request skips.)
    session = relying_party(client)
    authorization = authorize_url(op, session)
    callback = login_and_consent(op, requests.Session(), authorization, client, consent_skip=True)
    with pytest.raises(MismatchingStateException):
        session.fetch_token(
            op.endpoint("token_endpoint"),
            authorization_response=callback,
            state=generate_token(30),
            code_verifier=authorization.code_verifier,
        )
    # The code was not spent: with the right state it is exchanged.
    token = session.fetch_token(
        op.endpoint("token_endpoint"),
        authorization_response=callback,
        state=authorization.state,
        code_verifier=authorization.code_verifier,
    )
    jwks = op.jwks()
    assert id_token_claims(op, client, token, authorization.nonce, jwks=jwks)["sub"] == SUBJECT

    # One byte of the payload changed (user-42 → user-43), signature kept.
    header, payload, signature = token["id_token"].split(".")
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert decoded.count(SUBJECT.encode()) == 1
    forged = base64.urlsafe_b64encode(decoded.replace(b"user-42", b"user-43")).rstrip(b"=").decode()
    assert len(forged) == len(payload) and forged != payload
    with pytest.raises(BadSignatureError):
        id_token_claims(op, client, token, authorization.nonce, id_token=f"{header}.{forged}.{signature}", jwks=jwks)

    # Claims Authlib checks against what the relying party expects.
    from joserfc.errors import InvalidClaimError

    other = ory_client.OAuth2Client(client_id="another-client")
    with pytest.raises(InvalidClaimError):
        id_token_claims(op, other, token, authorization.nonce, jwks=jwks)
    with pytest.raises(InvalidClaimError):
        id_token_claims(op, client, token, generate_token(20), jwks=jwks)
    with pytest.raises(InvalidClaimError):
        id_token_claims(op, client, {**token, "access_token": "another-access-token"}, authorization.nonce, jwks=jwks)
    elsewhere = dataclasses.replace(op, issuer=op.issuer + "-elsewhere")
    with pytest.raises(InvalidClaimError):
        id_token_claims(elsewhere, client, token, authorization.nonce, jwks=jwks)
