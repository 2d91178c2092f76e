"""Helpers for the OAuth2 (Hydra API) SDK tests: a project of one's own with `OAuth2Api` on its admin API (the
project API key) and on its protocol endpoints as a client (HTTP Basic from the Configuration's username and
password, as the SDK sends it), token requests the SDK has no parameters for, and Hydra's error shape; and the
authorization code flow as a relying party (Authlib) and a browser (`requests`) go through it, with the project's
login and consent apps played through `OAuth2Api` (test_oauth2_relying_party.py, test_oauth2_keys_and_logout.py);
JWT-bearer assertions and the device grant's requests and browser journey (test_oauth2_grants.py).
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import parse_qs, urlsplit

# `tessera dev` serves http://127.0.0.1:<port>; Authlib refuses OAuth2 over plain HTTP unless told this.
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

import ory_client
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from ory_client.exceptions import ApiException

with warnings.catch_warnings():
    # Authlib 1.7+ says authlib.jose is deprecated in favour of joserfc (it stays until 2.0); it is still the
    # JOSE layer its OIDC claim classes are documented with, so it is what a relying party uses today.
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, jwt

from identity_helpers import assert_no_unknown_keys, create_identity_project, header
from sdk_helpers import EXCEPTION_FOR_STATUS, make_clients

M2M_SCOPE = "read write"
M2M_AUDIENCE = "https://api.example.com"


@dataclass
class OAuth2Project:
    """A fresh project with its own API key; Hydra's API at `url`."""

    project: ory_client.Project
    key: str
    url: str
    oauth2: ory_client.OAuth2Api  # admin API, with the project key
    oidc: ory_client.OidcApi  # public, no key

    @property
    def slug(self) -> str:
        return self.project.slug

    def admin_with(self, key: Optional[str]) -> ory_client.OAuth2Api:
        """The OAuth2Api of this project's URL with another key (or none)."""
        return ory_client.OAuth2Api(make_clients(self.url, key).api_client)

    def as_client(self, client_id: Optional[str] = None, secret: Optional[str] = None) -> ory_client.OAuth2Api:
        """The OAuth2Api as an OAuth2 client calls the protocol endpoints: with HTTP Basic `client_id:secret` set
        through the Configuration's username and password (the SDK's `basic` auth), or without credentials."""
        api_client = make_clients(self.url, None).api_client
        if client_id is not None:
            api_client.configuration.username = client_id
            api_client.configuration.password = secret or ""
        return ory_client.OAuth2Api(api_client)

    def create_client(self, **fields) -> ory_client.OAuth2Client:
        """create_o_auth2_client; checks the answer parses with no unknown keys."""
        created = self.oauth2.create_o_auth2_client(ory_client.OAuth2Client(**fields))
        assert isinstance(created, ory_client.OAuth2Client)
        assert_no_unknown_keys(created)
        return created

    def m2m_client(self, **fields) -> ory_client.OAuth2Client:
        """A confidential client allowed the client credentials grant (scopes `read write`, one audience)."""
        body = dict(grant_types=["client_credentials"], scope=M2M_SCOPE, audience=[M2M_AUDIENCE])
        body.update(fields)
        return self.create_client(**body)

    def token(self, client: ory_client.OAuth2Client, secret: Optional[str] = None) -> ory_client.OAuth2TokenExchange:
        """oauth2_token_exchange (client credentials) with the client's HTTP Basic credentials."""
        answer = self.as_client(client.client_id, secret or client.client_secret).oauth2_token_exchange(
            grant_type="client_credentials"
        )
        assert isinstance(answer, ory_client.OAuth2TokenExchange)
        assert_no_unknown_keys(answer)
        return answer

    def introspect(self, token: str, scope: Optional[str] = None) -> ory_client.IntrospectedOAuth2Token:
        answer = self.oauth2.introspect_o_auth2_token(token, scope=scope)
        assert isinstance(answer, ory_client.IntrospectedOAuth2Token)
        assert_no_unknown_keys(answer)
        return answer

    def is_active(self, token: str) -> bool:
        return self.introspect(token).active


def create_oauth2_project(dev: dict, seeded) -> OAuth2Project:
    """A project in the seeded workspace, with a project API key, once its region serves it."""
    made = create_identity_project(dev, seeded)
    return OAuth2Project(
        made.project,
        made.key,
        made.url,
        ory_client.OAuth2Api(make_clients(made.url, made.key).api_client),
        ory_client.OidcApi(make_clients(made.url, None).api_client),
    )


# --------------------------------------------------------------------------- requests the SDK cannot make


def form_request(
    api: ory_client.OAuth2Api, path: str, form: Sequence[Tuple[str, str]], model: str
) -> ory_client.ApiResponse:
    """POST `path` with any form, built with the SDK's serializer and its `basic` auth (the api's username/password,
    if set), the 200 answer deserialized (and validated) into the SDK model named `model`, with no unknown keys; an
    error raises its ApiException."""
    api_client = api.api_client
    method, url, headers, body, post_params = api_client.param_serialize(
        method="POST",
        resource_path=path,
        header_params={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
        post_params=list(form),
        auth_settings=["basic"],
    )
    response = api_client.call_api(method, url, headers, body, post_params)
    response.read()
    answer = api_client.response_deserialize(response, {"200": model})
    assert isinstance(answer.data, getattr(ory_client, model)), type(answer.data)
    assert_no_unknown_keys(answer.data)
    return answer


def token_request(
    api: ory_client.OAuth2Api, form: Sequence[Tuple[str, str]]
) -> ory_client.ApiResponse:
    """POST /oauth2/token with any form (scope, audience, client_secret, assertion, device_code:
    oauth2_token_exchange has no parameters for them) through form_request, the answer an OAuth2TokenExchange."""
    return form_request(api, "/oauth2/token", form, "OAuth2TokenExchange")


# --------------------------------------------------------------------------- JWT-bearer assertions (RFC 7523)

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def ec_signing_key(kid: str):
    """A fresh EC P-256 private key (Authlib's JsonWebKey) with `kid`, as an assertion issuer holds it."""
    return JsonWebKey.generate_key("EC", "P-256", is_private=True, options={"kid": kid})


def public_jwk(key) -> dict:
    """The public JWK of `key` as a trust relationship registers it (alg and use, which the SDK's JsonWebKey
    requires, included).

    Authlib drops leading zero bytes of the coordinates (about one key in 128 has one), while RFC 7518 §6.2.1.2
    wants the full 32 bytes for P-256 and the server (like Ory's go-jose) refuses anything shorter: pad them."""
    jwk = dict(key.as_dict(is_private=False), alg="ES256", use="sig")
    for member in ("x", "y"):
        raw = base64.urlsafe_b64decode(jwk[member] + "=" * (-len(jwk[member]) % 4))
        jwk[member] = base64.urlsafe_b64encode(raw.rjust(32, b"\0")).rstrip(b"=").decode()
    return jwk


def sign_assertion(key, claims: dict, kid: Optional[str] = None) -> str:
    """A JWT assertion signed with ES256 by `key`, its header naming `kid` (default: the key's own)."""
    header = {"alg": "ES256", "kid": kid or key.as_dict()["kid"]}
    return jwt.encode(header, claims, key).decode()


def assertion_claims(issuer: str, subject: str, audience: str, lifetime: int = 300, **extra) -> dict:
    """iss, sub, aud, exp (`lifetime` seconds ahead), iat and a fresh jti; `extra` overrides."""
    now = int(time.time())
    claims = dict(iss=issuer, sub=subject, aud=audience, exp=now + lifetime, iat=now, jti=str(uuid.uuid4()))
    claims.update(extra)
    return claims


# --------------------------------------------------------------------------- errors and paging


def expect_oauth2_error(status: int, error: str, call, *args, **kwargs) -> ory_client.ErrorOAuth2:
    """An SDK call that must fail with `status` and Hydra's error JSON `{"error": <error>, "error_description"}`:
    the SDK's exception class for the status, a body ErrorOAuth2 parses with no unknown keys. Returns it."""
    with pytest.raises(ApiException) as info:
        call(*args, **kwargs)
    exception = info.value
    assert exception.status == status, f"expected HTTP {status}, got {exception.status}: {exception.body}"
    expected_class = EXCEPTION_FOR_STATUS.get(status)
    if expected_class is not None:
        assert isinstance(exception, expected_class), f"{type(exception).__name__} for HTTP {status}"
    document = json.loads(exception.body)
    assert set(document) <= {"error", "error_description", "error_hint", "error_debug", "status_code"}, document
    parsed = ory_client.ErrorOAuth2.from_json(exception.body)
    assert_no_unknown_keys(parsed)
    assert parsed.error == error, exception.body
    assert isinstance(parsed.error_description, str), exception.body
    if exception.data is not None:  # the SDK parsed it itself where the spec lists the status
        assert isinstance(exception.data, ory_client.ErrorOAuth2)
    if status == 401:
        assert header(exception.headers, "www-authenticate"), "a 401 of the OAuth2 engine says how to authenticate"
    return parsed


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


def client_ids(clients: List[ory_client.OAuth2Client]) -> List[str]:
    return [c.client_id for c in clients]


# =============================================================================================
# the authorization code flow: the provider, the relying party (Authlib) and the browser
#
# Authlib is used as a relying party uses it: endpoints come from discovery, Authlib builds the authorization URL
# (its state, its S256 challenge), checks the state of the callback itself, and decides on its own whether an ID
# token is valid. The browser is a `requests.Session` that keeps cookies and follows no redirect by itself.

CALLBACK = "https://rp.example/callback"
SCOPE = "openid offline_access email"
SUBJECT = "user-42"
EMAIL = "ada@example.com"
TIMEOUT = 30


@dataclass
class Provider:
    """A project as an OpenID provider: its issuer, its discovery document and JWKS (fetched as a relying party
    fetches them), and `OAuth2Api` with the project key (what the project's login, consent and logout apps use)."""

    issuer: str
    admin: ory_client.OAuth2Api
    login_url: str
    consent_url: str
    logout_url: str
    discovery: dict

    def endpoint(self, name: str) -> str:
        return self.discovery[name]

    def jwks(self) -> dict:
        answer = requests.get(self.endpoint("jwks_uri"), timeout=TIMEOUT)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def as_client(self, client_id: str, secret: Optional[str]) -> ory_client.OAuth2Api:
        """OAuth2Api as the client calls the protocol endpoints: HTTP Basic from the Configuration."""
        api_client = make_clients(self.issuer, None).api_client
        api_client.configuration.username = client_id
        api_client.configuration.password = secret or ""
        return ory_client.OAuth2Api(api_client)

    def introspect(self, token: str) -> ory_client.IntrospectedOAuth2Token:
        answer = self.admin.introspect_o_auth2_token(token)
        assert isinstance(answer, ory_client.IntrospectedOAuth2Token)
        assert_no_unknown_keys(answer)
        return answer

    def create_client(self, **fields) -> ory_client.OAuth2Client:
        """A client of the code flow (redirect URI CALLBACK, scopes SCOPE, refresh tokens); `fields` override."""
        body = dict(
            redirect_uris=[CALLBACK],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            scope=SCOPE,
        )
        body.update(fields)
        created = self.admin.create_o_auth2_client(ory_client.OAuth2Client(**body))
        assert isinstance(created, ory_client.OAuth2Client)
        assert_no_unknown_keys(created)
        return created


def as_https(document: dict) -> dict:
    """The discovery document with `http://` URLs read as `https://` (only the scheme differs)."""
    def https(v):
        return "https://" + v[len("http://") :] if isinstance(v, str) and v.startswith("http://") else v

    return {k: https(v) for k, v in document.items()}


def open_provider(seeded, made) -> Provider:
    """The provider of a project made by create_identity_project or create_oauth2_project (in the workspace
    `seeded`): its discovery document, fetched and validated by Authlib, and its apps' URLs from the project's
    configuration."""
    project = seeded.project.get_project(str(made.project.id))
    urls = project.services.oauth2.config["urls"]
    answer = requests.get(made.url + "/.well-known/openid-configuration", timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    discovery = answer.json()
    # OIDC Discovery §4.3: the issuer in the document is the one the configuration was fetched from.
    assert discovery["issuer"] == made.url
    # Authlib's own validation of the provider metadata (RFC 8414 + OIDC Discovery), read as served over HTTPS.
    metadata = OpenIDProviderMetadata(as_https(discovery))
    for key in metadata.REGISTRY_KEYS:
        if key == "token_endpoint_auth_signing_alg_values_supported":
            # Authlib requires this list since `private_key_jwt` is among the token endpoint's methods; Hydra's
            # discovery (and so ours, and the SDK's OidcConfiguration model) does not have it. Not needed here.
            continue
        getattr(metadata, f"validate_{key}")()
    metadata.validate_code_challenge_methods_supported()
    assert "code" in metadata["response_types_supported"] and "S256" in metadata["code_challenge_methods_supported"]
    assert {"client_secret_basic", "none"} <= set(metadata["token_endpoint_auth_methods_supported"])
    return Provider(
        issuer=discovery["issuer"],
        admin=ory_client.OAuth2Api(make_clients(made.url, made.key).api_client),
        login_url=urls["login"],
        consent_url=urls["consent"],
        logout_url=urls["logout"],
        discovery=discovery,
    )


def relying_party(client: ory_client.OAuth2Client) -> OAuth2Session:
    return OAuth2Session(
        client.client_id,
        client.client_secret,
        token_endpoint_auth_method=client.token_endpoint_auth_method,
        scope=SCOPE,
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )


@dataclass
class Authorization:
    """An authorization request Authlib made: the URL, and the values it must check on the way back."""

    url: str
    state: str
    code_verifier: str
    nonce: str


def authorize_url(op: Provider, session: OAuth2Session) -> Authorization:
    code_verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = session.create_authorization_url(op.endpoint("authorization_endpoint"), code_verifier=code_verifier, nonce=nonce)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] and query["state"] == [state]
    assert query["nonce"] == [nonce] and query["scope"] == [SCOPE] and query["redirect_uri"] == [CALLBACK]
    return Authorization(url, state, code_verifier, nonce)


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def redirected(browser: requests.Session, url: str) -> str:
    """The browser requests `url` (following no redirect): it must answer 302; its Location."""
    answer = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 302, f"{answer.status_code} for {url}: {answer.text}"
    return answer.headers["location"]


def login_and_consent(
    op: Provider,
    browser: requests.Session,
    authorization: Authorization,
    client: ory_client.OAuth2Client,
    login_skip: bool = False,
    consent_skip: bool = False,
) -> str:
    """The browser goes through the project's login and consent apps, which accept through the SDK; the callback
    URL with the code (not requested: it is the relying party's). `login_skip`: the browser has a remembered login
    session (its cookie); `consent_skip`: the subject remembered a consent to this client for these scopes."""
    to_login = redirected(browser, authorization.url)
    assert to_login.startswith(op.login_url + "?"), to_login
    login_challenge = query_of(to_login)["login_challenge"]

    login = op.admin.get_o_auth2_login_request(login_challenge)
    assert isinstance(login, ory_client.OAuth2LoginRequest)
    assert_no_unknown_keys(login)
    assert login.challenge == login_challenge
    assert login.client.client_id == client.client_id and login.client.client_secret is None
    assert login.requested_scope == SCOPE.split()
    assert login.request_url.startswith(op.endpoint("authorization_endpoint") + "?")
    assert login.skip is login_skip
    assert login.subject == (SUBJECT if login_skip else "")
    accepted = op.admin.accept_o_auth2_login_request(
        login_challenge, ory_client.AcceptOAuth2LoginRequest(subject=SUBJECT, remember=True, remember_for=3600)
    )
    assert isinstance(accepted, ory_client.OAuth2RedirectTo)
    assert_no_unknown_keys(accepted)

    to_consent = redirected(browser, accepted.redirect_to)
    assert to_consent.startswith(op.consent_url + "?"), to_consent
    consent_challenge = query_of(to_consent)["consent_challenge"]
    consent = op.admin.get_o_auth2_consent_request(consent_challenge)
    assert isinstance(consent, ory_client.OAuth2ConsentRequest)
    assert_no_unknown_keys(consent)
    assert consent.subject == SUBJECT and consent.client.client_id == client.client_id
    assert consent.requested_scope == SCOPE.split()
    assert consent.login_challenge == login_challenge
    assert consent.skip is consent_skip
    accepted = op.admin.accept_o_auth2_consent_request(
        consent_challenge,
        ory_client.AcceptOAuth2ConsentRequest(
            grant_scope=consent.requested_scope,
            remember=True,
            remember_for=3600,
            session=ory_client.AcceptOAuth2ConsentRequestSession(id_token={"email": EMAIL}),
        ),
    )
    assert isinstance(accepted, ory_client.OAuth2RedirectTo)
    assert_no_unknown_keys(accepted)

    callback = redirected(browser, accepted.redirect_to)
    assert callback.startswith(CALLBACK + "?"), callback
    answer = query_of(callback)
    assert answer["state"] == authorization.state and answer["code"]
    return callback


def id_token_claims(
    op: Provider,
    client: ory_client.OAuth2Client,
    token: dict,
    nonce: str,
    id_token: Optional[str] = None,
    jwks: Optional[dict] = None,
):
    """Authlib's validation of an ID token: signature with the keys of `jwks_uri`, then iss, aud, exp, iat,
    nonce, azp and at_hash by its CodeIDToken claims class. Raises what Authlib raises."""
    claims = jwt.decode(
        id_token or token["id_token"],
        JsonWebKey.import_key_set(jwks or op.jwks()),
        claims_cls=CodeIDToken,
        claims_options={
            "iss": {"essential": True, "value": op.issuer},
            # CodeIDToken checks `aud` only when the options name it (Authlib checks `azp` from the client id).
            "aud": {"essential": True, "value": client.client_id},
        },
        claims_params={"nonce": nonce, "client_id": client.client_id, "access_token": token["access_token"]},
    )
    claims.validate()
    return claims


def code_flow(
    op: Provider, client: ory_client.OAuth2Client, browser: Optional[requests.Session] = None, skip: bool = False
) -> Tuple[OAuth2Session, Authorization, dict]:
    """The whole flow, the token request made by Authlib from the callback URL; the session and the tokens."""
    session = relying_party(client)
    authorization = authorize_url(op, session)
    callback = login_and_consent(op, browser or requests.Session(), authorization, client, skip, skip)
    token = session.fetch_token(
        op.endpoint("token_endpoint"),
        authorization_response=callback,
        state=authorization.state,
        code_verifier=authorization.code_verifier,
    )
    return session, authorization, token


# =============================================================================================
# the device authorization grant (RFC 8628): the device's requests and the browser's journey

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def device_authorization(
    api: ory_client.OAuth2Api, scope: str, client_id: Optional[str] = None
) -> ory_client.DeviceAuthorization:
    """POST /oauth2/device/auth as a device: `client_id` in the form for a public client (else the api's Basic
    credentials), the answer parsed into the SDK's DeviceAuthorization. (The SDK's own o_auth2_device_flow takes no
    parameters and sends no form, so it cannot name a client or a scope.)"""
    form = [("scope", scope)] + ([("client_id", client_id)] if client_id else [])
    return form_request(api, "/oauth2/device/auth", form, "DeviceAuthorization").data


def poll_device(api: ory_client.OAuth2Api, device_code: str, client_id: Optional[str] = None) -> ory_client.ApiResponse:
    """One poll of the token endpoint with the device code (`client_id` in the form for a public client)."""
    form = [("grant_type", DEVICE_CODE_GRANT), ("device_code", device_code)]
    return token_request(api, form + ([("client_id", client_id)] if client_id else []))


def browser_login_and_consent(
    op: Provider,
    browser: requests.Session,
    start: str,
    client_id: str,
    subject: str,
    scopes: List[str],
) -> requests.Response:
    """The browser opens `start` (a device verification URL) and goes through the login and consent apps, which
    accept through the SDK (login as `subject`, every requested scope granted); the answer of the consent
    verifier's URL (not followed). Checks the login and consent requests name `client_id` and `scopes`."""
    to_login = redirected(browser, start)
    assert to_login.startswith(op.login_url + "?"), to_login
    login_challenge = query_of(to_login)["login_challenge"]
    login = op.admin.get_o_auth2_login_request(login_challenge)
    assert isinstance(login, ory_client.OAuth2LoginRequest)
    assert_no_unknown_keys(login)
    assert login.client.client_id == client_id and login.requested_scope == scopes
    assert login.skip is False
    accepted = op.admin.accept_o_auth2_login_request(
        login_challenge, ory_client.AcceptOAuth2LoginRequest(subject=subject, remember=True, remember_for=3600)
    )
    assert isinstance(accepted, ory_client.OAuth2RedirectTo)
    assert_no_unknown_keys(accepted)

    to_consent = redirected(browser, accepted.redirect_to)
    assert to_consent.startswith(op.consent_url + "?"), to_consent
    consent_challenge = query_of(to_consent)["consent_challenge"]
    consent = op.admin.get_o_auth2_consent_request(consent_challenge)
    assert isinstance(consent, ory_client.OAuth2ConsentRequest)
    assert_no_unknown_keys(consent)
    assert consent.subject == subject and consent.client.client_id == client_id
    assert consent.requested_scope == scopes and consent.login_challenge == login_challenge
    accepted = op.admin.accept_o_auth2_consent_request(
        consent_challenge,
        ory_client.AcceptOAuth2ConsentRequest(
            grant_scope=consent.requested_scope,
            session=ory_client.AcceptOAuth2ConsentRequestSession(id_token={"email": EMAIL}),
        ),
    )
    assert isinstance(accepted, ory_client.OAuth2RedirectTo)
    assert_no_unknown_keys(accepted)
    return browser.get(accepted.redirect_to, allow_redirects=False, timeout=TIMEOUT)
