"""The OAuth2 engine's keys and logout through the SDK on a project's URL: Hydra's JSON Web Key sets
(`/admin/keys`, `JwkApi` with the project key: create RS256/ES256/EdDSA keys, read a set or a key, import one
key, replace a set, delete; the errors and isolation between projects), the published keys
(`/.well-known/jwks.json`, `WellknownApi`: public parts only, both signing sets, through rotation), JWT access
tokens (the project's `strategies.access_token` patched to `jwt` through the control plane, or a client's
`access_token_strategy`) verified by Authlib's JOSE against those keys, introspected and revoked, and
RP-initiated logout with the logout challenge API (`get`/`accept`/`reject_o_auth2_logout_request`) after an
authorization code flow in a browser (the flow of test_oauth2_relying_party.py, from oauth2_helpers.py), and a
login session revoked by its id.

Each test makes its own project in the workspace `tessera dev` seeded. Every answer must parse into the SDK's
models with no key the SDK does not know; every error must be the SDK's exception for its status.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
import warnings
from typing import Callable, List, Optional
from urllib.parse import urlencode

import ory_client
import pytest
import requests
from authlib.deprecate import AuthlibDeprecationWarning
from ory_client.exceptions import ApiException

with warnings.catch_warnings():
    # authlib.jose's deprecation notice (see oauth2_helpers.py); authlib.deprecate, imported first, no longer
    # installs its "always" filter inside this block.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken
    from authlib.jose.errors import BadSignatureError

from identity_helpers import PROPAGATION_TIMEOUT, assert_no_unknown_keys, expect_error
from oauth2_helpers import (
    M2M_AUDIENCE,
    SUBJECT,
    TIMEOUT,
    OAuth2Project,
    Provider,
    authorize_url,
    code_flow,
    create_oauth2_project,
    expect_oauth2_error,
    id_token_claims,
    open_provider,
    query_of,
    redirected,
    relying_party,
    token_request,
)
from sdk_helpers import make_clients, unique

# Hydra's `error` for a malformed admin request and for an unknown resource (herodot's, as Hydra renders them).
BAD_REQUEST = "The request was malformed or contained invalid parameters"
NOT_FOUND = "Unable to locate the resource"
# The members of a JWK that are private (RFC 7518 §6.2.2 and §6.3.2; `d` alone for EC and OKP keys).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")
# Hydra's names of the sets ID tokens and JWT access tokens are signed with.
ID_TOKEN_SET = "hydra.openid.id-token"
ACCESS_TOKEN_SET = "hydra.jwt.access-token"
# Where the relying party wants the browser after logout: same scheme, host and port as its CALLBACK, as Hydra
# requires of a post_logout_redirect_uri.
BYE = "https://rp.example/logged-out"
# The key types, curves and private members each algorithm's keys come with.
SHAPES = {
    "RS256": ("RSA", None, PRIVATE_MEMBERS),
    "ES256": ("EC", "P-256", ("d",)),
    "EdDSA": ("OKP", "Ed25519", ("d",)),
}


@pytest.fixture()
def op(dev, seeded) -> OAuth2Project:
    """A fresh project with the default OAuth2 configuration."""
    return create_oauth2_project(dev, seeded)


# =============================================================================================
# helpers


def jwk_api(op: OAuth2Project, key: Optional[str] = "project") -> ory_client.JwkApi:
    """JwkApi on the project's URL with its project key (default), another key, or none."""
    return ory_client.JwkApi(make_clients(op.url, op.key if key == "project" else key).api_client)


def wellknown(op: OAuth2Project) -> ory_client.WellknownApi:
    """WellknownApi on the project's URL, without any key (jwks.json is public)."""
    return ory_client.WellknownApi(make_clients(op.url, None).api_client)


def parsed_set(answer) -> ory_client.JsonWebKeySet:
    assert isinstance(answer, ory_client.JsonWebKeySet), type(answer)
    assert_no_unknown_keys(answer)
    assert answer.keys is not None
    return answer


def kids(key_set: ory_client.JsonWebKeySet) -> List[str]:
    return [k.kid for k in key_set.keys]


def assert_private(key: ory_client.JsonWebKey, alg: str) -> None:
    """A signing key of `alg`, shown with its private members (as Hydra's admin API shows them)."""
    kty, crv, private = SHAPES[alg]
    assert (key.alg, key.kty, key.crv, key.use) == (alg, kty, crv, "sig"), key.to_dict()
    missing = [m for m in private if not getattr(key, m)]
    assert not missing, f"{key.kid}: the admin API shows the private key, but {missing} are missing"


def public_part(key: ory_client.JsonWebKey) -> dict:
    return {k: v for k, v in key.to_dict().items() if k not in PRIVATE_MEMBERS}


def create_key(api: ory_client.JwkApi, set_name: str, alg: str, kid: str = "") -> ory_client.JsonWebKey:
    """create_json_web_key_set: 201 with the one new key, private members included; an empty kid is generated."""
    response = api.create_json_web_key_set_with_http_info(
        set_name, ory_client.CreateJsonWebKeySet(alg=alg, kid=kid, use="sig")
    )
    assert response.status_code == 201
    created = parsed_set(response.data)
    assert len(created.keys) == 1, created.to_dict()
    key = created.keys[0]
    assert_private(key, alg)
    if kid:
        assert key.kid == kid
    else:
        assert str(uuid.UUID(key.kid)) == key.kid, f"a generated kid is a UUID: {key.kid}"
    return key


def expect_gone(call: Callable, *args) -> ory_client.OAuth2RedirectTo:
    """A challenge call on a request already handled: 410 with Hydra's `{"redirect_to": …}`, which OAuth2RedirectTo
    parses with no unknown key (the SDK lists no 410 for the logout calls, so it stays a plain ApiException)."""
    with pytest.raises(ApiException) as info:
        call(*args)
    assert info.value.status == 410, f"expected HTTP 410, got {info.value.status}: {info.value.body}"
    assert set(json.loads(info.value.body)) == {"redirect_to"}, info.value.body
    gone = ory_client.OAuth2RedirectTo.from_json(info.value.body)
    assert_no_unknown_keys(gone)
    return gone


def published(op: OAuth2Project) -> ory_client.JsonWebKeySet:
    """discover_json_web_keys: parsed, and no private member in the raw body."""
    response = wellknown(op).discover_json_web_keys_with_http_info()
    assert response.status_code == 200
    for key in json.loads(response.raw_data)["keys"]:
        leaked = set(key) & set(PRIVATE_MEMBERS)
        assert not leaked, f"jwks.json publishes private members {leaked} of {key.get('kid')}"
    return parsed_set(response.data)


def verify_jwt(op: OAuth2Project, token: str):
    """An access token verified by Authlib's JOSE against the keys of jwks.json (fetched through the SDK): its
    header and claims, exp/iat/nbf validated, iss the project's issuer."""
    keys = JsonWebKey.import_key_set(published(op).to_dict())
    claims = JsonWebToken(["RS256", "ES256", "EdDSA"]).decode(
        token, keys, claims_options={"iss": {"essential": True, "value": op.url}, "exp": {"essential": True}}
    )
    claims.validate(leeway=5)
    return claims


def wait_for_jwt(op: OAuth2Project, client: ory_client.OAuth2Client) -> str:
    """Client credentials tokens until the project's new access token strategy reached its region: a JWT."""
    deadline = time.monotonic() + PROPAGATION_TIMEOUT
    while True:
        token = op.token(client).access_token
        if not token.startswith("ory_at_"):
            return token
        assert time.monotonic() < deadline, f"tokens still opaque {PROPAGATION_TIMEOUT}s after the config change"
        time.sleep(0.1)


def logout_url(provider: Provider, **params: str) -> str:
    return provider.endpoint("end_session_endpoint") + ("?" + urlencode(params) if params else "")


# =============================================================================================
# JSON Web Key sets


def test_key_sets_create_read_import_replace_and_delete(op):
    """create_json_web_key_set with RS256, ES256 and EdDSA (201, Location, the private key shown, a kid generated
    when empty); get_json_web_key_set newest first; get_json_web_key; set_json_web_key importing a key generated
    in another set; set_json_web_key_set replacing the set; delete_json_web_key and delete_json_web_key_set (204,
    then 404)."""
    api = jwk_api(op)
    set_name = unique("sdk-set")
    response = api.create_json_web_key_set_with_http_info(
        set_name, ory_client.CreateJsonWebKeySet(alg="RS256", kid="rsa", use="sig")
    )
    assert response.status_code == 201
    location = next(v for k, v in response.headers.items() if k.lower() == "location")
    assert location.endswith(f"/p/{op.slug}/admin/keys/{set_name}"), location
    rsa = parsed_set(response.data).keys[0]
    assert_private(rsa, "RS256")
    assert rsa.kid == "rsa" and rsa.e and len(base64.urlsafe_b64decode(rsa.n + "==")) >= 256, "RSA-2048 or more"
    ec = create_key(api, set_name, "ES256", "ec")
    assert ec.x and ec.y
    ed = create_key(api, set_name, "EdDSA")
    assert ed.x and ed.y is None

    whole = parsed_set(api.get_json_web_key_set(set_name))
    assert kids(whole) == [ed.kid, "ec", "rsa"], "newest first"
    assert [k.to_dict() for k in whole.keys] == [ed.to_dict(), ec.to_dict(), rsa.to_dict()]
    one = parsed_set(api.get_json_web_key(set_name, "ec"))
    assert [k.to_dict() for k in one.keys] == [ec.to_dict()]

    # Import one key: generated in another set, read back from there, PUT under its kid here.
    source = unique("sdk-source")
    create_key(api, source, "EdDSA", "imported")
    generated = parsed_set(api.get_json_web_key(source, "imported")).keys[0]
    response = api.set_json_web_key_with_http_info(set_name, "imported", generated)
    assert response.status_code == 200
    assert isinstance(response.data, ory_client.JsonWebKey)
    assert_no_unknown_keys(response.data)
    assert response.data.to_dict() == generated.to_dict()
    assert kids(parsed_set(api.get_json_web_key_set(set_name))) == ["imported", ed.kid, "ec", "rsa"]
    assert parsed_set(api.get_json_web_key(set_name, "imported")).keys[0].to_dict() == generated.to_dict()
    # PUT again under the same kid updates it: still one key of that kid.
    assert api.set_json_web_key(set_name, "imported", generated).kid == "imported"
    assert kids(parsed_set(api.get_json_web_key_set(set_name))).count("imported") == 1

    # Replace the whole set with keys generated elsewhere; the first one is the newest.
    a, b = create_key(api, source, "ES256", "a"), create_key(api, source, "RS256", "b")
    replaced = parsed_set(api.set_json_web_key_set(set_name, ory_client.JsonWebKeySet(keys=[a, b])))
    assert [k.to_dict() for k in replaced.keys] == [a.to_dict(), b.to_dict()]
    assert kids(parsed_set(api.get_json_web_key_set(set_name))) == ["a", "b"]

    response = api.delete_json_web_key_with_http_info(set_name, "a")
    assert response.status_code == 204 and response.data is None
    assert kids(parsed_set(api.get_json_web_key_set(set_name))) == ["b"]
    expect_oauth2_error(404, NOT_FOUND, api.delete_json_web_key, set_name, "a")
    expect_oauth2_error(404, NOT_FOUND, api.get_json_web_key, set_name, "a")

    response = api.delete_json_web_key_set_with_http_info(set_name)
    assert response.status_code == 204 and response.data is None
    expect_oauth2_error(404, NOT_FOUND, api.get_json_web_key_set, set_name)
    expect_oauth2_error(404, NOT_FOUND, api.delete_json_web_key_set, set_name)
    assert kids(parsed_set(api.get_json_web_key_set(source))) == ["b", "a", "imported"], "the other set is kept"
    assert api.delete_json_web_key_set(source) is None


def test_key_errors_and_isolation_between_projects(dev, seeded, op):
    """404 for an unknown set or kid; 400 for a symmetric (HS256/HS512) or unknown algorithm and for a body whose
    kid is not the path's; 409 for a kid taken in the set; another project's key, the workspace key or no key 401;
    a set of another project is not visible, and the same set name in two projects holds different keys."""
    api = jwk_api(op)
    set_name = unique("sdk-set")
    expect_oauth2_error(404, NOT_FOUND, api.get_json_web_key_set, "no-such-set")
    expect_oauth2_error(404, NOT_FOUND, api.get_json_web_key, "no-such-set", "k1")
    expect_oauth2_error(404, NOT_FOUND, api.delete_json_web_key_set, "no-such-set")
    mine = create_key(api, set_name, "ES256", "k1")
    expect_oauth2_error(404, NOT_FOUND, api.get_json_web_key, set_name, "no-such-kid")
    expect_oauth2_error(404, NOT_FOUND, api.delete_json_web_key, set_name, "no-such-kid")

    for alg in ("HS256", "HS512", "none"):
        error = expect_oauth2_error(
            400, BAD_REQUEST, api.create_json_web_key_set, set_name, ory_client.CreateJsonWebKeySet(alg=alg, kid="h", use="sig")
        )
        assert alg in error.error_description, error.error_description
    expect_oauth2_error(
        409,
        "Unable to insert or update resource because a resource with that value exists already",
        api.create_json_web_key_set,
        set_name,
        ory_client.CreateJsonWebKeySet(alg="ES256", kid="k1", use="sig"),
    )

    # set_json_web_key with a body naming another kid than the path: 400, and nothing is written.
    other_key = create_key(api, unique("sdk-source"), "EdDSA", "k2")
    error = expect_oauth2_error(400, BAD_REQUEST, api.set_json_web_key, set_name, "k3", other_key)
    assert "k2" in error.error_description and "k3" in error.error_description, error.error_description
    expect_oauth2_error(400, BAD_REQUEST, api.set_json_web_key, set_name, "k1", other_key)
    assert [k.to_dict() for k in parsed_set(api.get_json_web_key_set(set_name)).keys] == [mine.to_dict()]

    # Keys of other projects and of the workspace open nothing here.
    other = create_oauth2_project(dev, seeded)
    for key in (other.key, dev["workspace_api_key"], None):
        foreign = jwk_api(op, key)
        expect_error(401, foreign.get_json_web_key_set, set_name)
        expect_error(401, foreign.get_json_web_key, set_name, "k1")
        expect_error(
            401, foreign.create_json_web_key_set, set_name, ory_client.CreateJsonWebKeySet(alg="ES256", kid="x", use="sig")
        )
        expect_error(401, foreign.delete_json_web_key_set, set_name)
    assert kids(parsed_set(api.get_json_web_key_set(set_name))) == ["k1"]

    # The other project, with its own key, sees none of this project's sets, and its sets are its own.
    theirs = jwk_api(other)
    expect_oauth2_error(404, NOT_FOUND, theirs.get_json_web_key_set, set_name)
    expect_oauth2_error(404, NOT_FOUND, theirs.get_json_web_key, set_name, "k1")
    expect_oauth2_error(404, NOT_FOUND, theirs.delete_json_web_key_set, set_name)
    their_key = create_key(theirs, set_name, "ES256", "k1")
    assert their_key.d != mine.d and their_key.x != mine.x
    assert parsed_set(api.get_json_web_key(set_name, "k1")).keys[0].to_dict() == mine.to_dict()
    only_theirs = unique("sdk-theirs")
    create_key(theirs, only_theirs, "RS256", "t1")
    expect_oauth2_error(404, NOT_FOUND, api.get_json_web_key_set, only_theirs)
    published_here = {k.kid for k in published(op).keys}
    assert not published_here & {k.kid for k in published(other).keys}, "projects sign with keys of their own"


# =============================================================================================
# jwks.json


def test_jwks_publishes_public_keys_of_both_signing_sets(op):
    """discover_json_web_keys (no key): the ID-token key (RS256) and the access-token key (ES256), generated on
    first use, public members only and equal to the admin API's keys without their private members; a key added
    to `hydra.openid.id-token` is published next to the old one (newest first), a custom set is not published."""
    first = published(op)
    assert [(k.alg, k.kty, k.use) for k in first.keys] == [("RS256", "RSA", "sig"), ("ES256", "EC", "sig")]
    assert all(getattr(k, m) is None for k in first.keys for m in PRIVATE_MEMBERS)
    id_key, access_key = first.keys
    api = jwk_api(op)
    admin_id = parsed_set(api.get_json_web_key_set(ID_TOKEN_SET))
    admin_access = parsed_set(api.get_json_web_key_set(ACCESS_TOKEN_SET))
    assert kids(admin_id) == [id_key.kid] and kids(admin_access) == [access_key.kid]
    assert_private(admin_id.keys[0], "RS256")
    assert_private(admin_access.keys[0], "ES256")
    assert public_part(admin_id.keys[0]) == id_key.to_dict()
    assert public_part(admin_access.keys[0]) == access_key.to_dict()
    assert published(op).to_dict() == first.to_dict(), "the same keys on every call"

    # Rotation: a new ID-token key; both are published, the new one first.
    new = create_key(api, ID_TOKEN_SET, "RS256")
    after = published(op)
    assert kids(after) == [new.kid, id_key.kid, access_key.kid]
    assert after.keys[0].to_dict() == public_part(new)
    assert kids(parsed_set(api.get_json_web_key_set(ID_TOKEN_SET))) == [new.kid, id_key.kid]

    # Keys of other sets are the admin API's only.
    create_key(api, unique("sdk-set"), "ES256", "private-use")
    assert "private-use" not in kids(published(op))

    # A key deleted from a published set is no longer published.
    assert api.delete_json_web_key(ID_TOKEN_SET, id_key.kid) is None
    assert kids(published(op)) == [new.kid, access_key.kid]


def test_id_tokens_are_signed_with_the_newest_id_token_key(dev, seeded, op):
    """After a new key is created in `hydra.openid.id-token`, ID tokens carry its kid and verify (Authlib) against
    jwks.json, which still publishes the previous key."""
    provider = open_provider(seeded, op)
    old = published(op).keys[0]
    new = create_key(jwk_api(op), ID_TOKEN_SET, "RS256")
    client = provider.create_client()
    _, authorization, token = code_flow(provider, client)
    claims = id_token_claims(provider, client, token, authorization.nonce)
    assert claims.header["kid"] == new.kid and claims.header["alg"] == "RS256"
    assert claims["sub"] == SUBJECT
    assert {old.kid, new.kid} <= set(kids(published(op)))


# =============================================================================================
# JWT access tokens


def test_jwt_access_tokens_verify_against_jwks_introspect_and_revoke(dev, seeded, op):
    """A client with access_token_strategy "jwt" gets a JWT on an opaque project; the project's
    services.oauth2.config.strategies.access_token patched to "jwt" through the control plane (ProjectApi with the
    workspace key) makes every client's client credentials token (oauth2_token_exchange) a JWT signed with the
    access-token key, verified by Authlib against jwks.json; introspection says active with the same claims until
    the client revokes it; a forged payload is inactive; a client asking for "opaque" keeps opaque tokens; a new
    access-token key signs from then on while tokens of the old one still verify."""
    opaque_project_client = op.m2m_client()
    assert op.token(opaque_project_client).access_token.startswith("ory_at_"), "the default strategy is opaque"
    per_client = op.m2m_client(access_token_strategy="jwt")
    assert per_client.access_token_strategy == "jwt"
    token = op.token(per_client).access_token
    claims = verify_jwt(op, token)
    assert claims["client_id"] == per_client.client_id and claims["sub"] == per_client.client_id

    # Project-wide, through the control plane.
    update = seeded.project.patch_project(
        str(op.project.id),
        [ory_client.JsonPatch(op="add", path="/services/oauth2/config/strategies/access_token", value="jwt")],
    )
    # (Not held to assert_no_unknown_keys: the control plane's Project carries Tessera's `hosts`, see test_models.py.)
    assert isinstance(update, ory_client.SuccessfulProjectUpdate) and not update.warnings
    assert update.project.services.oauth2.config["strategies"]["access_token"] == "jwt"
    client = op.m2m_client()
    opaque_client = op.m2m_client(access_token_strategy="opaque")
    wait_for_jwt(op, client)

    answer = op.as_client(client.client_id, client.client_secret).oauth2_token_exchange(grant_type="client_credentials")
    assert isinstance(answer, ory_client.OAuth2TokenExchange)
    assert_no_unknown_keys(answer)
    assert answer.token_type == "bearer" and answer.expires_in == 3600
    token = answer.access_token
    access_kid = parsed_set(jwk_api(op).get_json_web_key_set(ACCESS_TOKEN_SET)).keys[0].kid
    claims = verify_jwt(op, token)
    assert claims.header["alg"] == "ES256" and claims.header["kid"] == access_kid and claims.header["typ"] == "JWT"
    assert claims["iss"] == op.url
    assert claims["client_id"] == client.client_id and claims["sub"] == client.client_id
    assert claims["exp"] - claims["iat"] == 3600 and claims["nbf"] == claims["iat"]
    assert str(uuid.UUID(claims["jti"])) == claims["jti"]

    introspected = op.introspect(token)
    assert introspected.active is True and introspected.token_use == "access_token"
    assert introspected.client_id == client.client_id and introspected.sub == client.client_id
    assert (introspected.exp, introspected.iat, introspected.iss) == (claims["exp"], claims["iat"], op.url)

    # Scope and audience end up in the claims (`scp`, as strategies.jwt.scope_claim defaults to a list).
    scoped = token_request(
        op.as_client(client.client_id, client.client_secret),
        [("grant_type", "client_credentials"), ("scope", "read"), ("audience", M2M_AUDIENCE)],
    ).data
    scoped_claims = verify_jwt(op, scoped.access_token)
    assert scoped_claims["scp"] == ["read"] and scoped_claims["aud"] == [M2M_AUDIENCE]
    scoped_introspection = op.introspect(scoped.access_token, scope="read")
    assert scoped_introspection.active and scoped_introspection.aud == [M2M_AUDIENCE]
    assert scoped_introspection.scope == "read"

    # One payload byte changed: Authlib refuses the signature, introspection says inactive.
    header, payload, signature = token.split(".")
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    forged = base64.urlsafe_b64encode(decoded.replace(b'"exp":', b'"exq":', 1)).rstrip(b"=").decode()
    assert forged != payload
    with pytest.raises(BadSignatureError):
        verify_jwt(op, f"{header}.{forged}.{signature}")
    assert op.introspect(f"{header}.{forged}.{signature}").to_dict() == {"active": False}

    # Revocation by the owning client: inactive, while the signature alone still verifies.
    assert op.as_client(client.client_id, client.client_secret).revoke_o_auth2_token(token) is None
    assert op.introspect(token).to_dict() == {"active": False}
    assert verify_jwt(op, token)["jti"] == claims["jti"], "only introspection knows a JWT was revoked"
    assert op.is_active(scoped.access_token), "revocation ends that token only"

    assert op.token(opaque_client).access_token.startswith("ory_at_"), "a client may still ask for opaque tokens"

    # Rotation of the access-token key: new tokens carry the new kid, older ones still verify.
    rotated = create_key(jwk_api(op), ACCESS_TOKEN_SET, "ES256", unique("rotated"))
    fresh = op.token(client).access_token
    assert verify_jwt(op, fresh).header["kid"] == rotated.kid
    assert verify_jwt(op, scoped.access_token).header["kid"] == access_kid
    assert op.is_active(fresh)


# =============================================================================================
# RP-initiated logout


def test_rp_initiated_logout_accepted(dev, seeded, op):
    """After an authorization code flow, the browser goes to end_session_endpoint with id_token_hint, a registered
    post_logout_redirect_uri and state: 302 to the project's logout app with logout_challenge;
    get_o_auth2_logout_request (subject, sid of the ID token, rp_initiated, the client without its secret);
    accept_o_auth2_logout_request → redirect_to, which the browser follows to the post-logout URI with the state;
    the request then answers 410 to get, accept and reject, the verifier works once, and the browser's next
    authorization asks for a login again."""
    provider = open_provider(seeded, op)
    client = provider.create_client(post_logout_redirect_uris=[BYE])
    assert client.post_logout_redirect_uris == [BYE]
    browser = requests.Session()
    _, authorization, token = code_flow(provider, client, browser)
    id_claims = id_token_claims(provider, client, token, authorization.nonce)
    end_session = provider.endpoint("end_session_endpoint")
    assert end_session == f"{op.url}/oauth2/sessions/logout"

    state = unique("bye-state")
    to_app = redirected(
        browser, logout_url(provider, id_token_hint=token["id_token"], post_logout_redirect_uri=BYE, state=state)
    )
    assert to_app.startswith(provider.logout_url + "?"), to_app
    challenge = query_of(to_app)["logout_challenge"]

    response = provider.admin.get_o_auth2_logout_request_with_http_info(challenge)
    assert response.status_code == 200
    request = response.data
    assert isinstance(request, ory_client.OAuth2LogoutRequest)
    assert_no_unknown_keys(request)
    assert request.challenge == challenge
    assert request.subject == SUBJECT and request.rp_initiated is True
    assert request.sid and request.sid == id_claims["sid"], "the login session the ID token was issued in"
    assert isinstance(request.client, ory_client.OAuth2Client)
    assert request.client.client_id == client.client_id and request.client.client_secret is None
    assert request.client.post_logout_redirect_uris == [BYE]
    assert request.request_url.startswith(end_session + "?")
    assert query_of(request.request_url)["state"] == state
    assert request.requested_at < request.expires_at

    accepted = provider.admin.accept_o_auth2_logout_request(challenge)
    assert isinstance(accepted, ory_client.OAuth2RedirectTo)
    assert_no_unknown_keys(accepted)
    assert accepted.redirect_to.startswith(end_session + "?") and query_of(accepted.redirect_to)["logout_verifier"]

    # Handled: 410 for the logout app's calls, whatever it tries.
    expect_gone(provider.admin.accept_o_auth2_logout_request, challenge)
    expect_gone(provider.admin.get_o_auth2_logout_request, challenge)
    expect_gone(provider.admin.reject_o_auth2_logout_request, challenge)

    done = redirected(browser, accepted.redirect_to)
    assert done.startswith(BYE + "?"), done
    assert query_of(done) == {"state": state}
    again = browser.get(accepted.redirect_to, allow_redirects=False, timeout=TIMEOUT)
    assert again.status_code == 400 and again.json()["error"] == "invalid_request", "the verifier works once"

    # The login session has ended: the same browser must sign in again.
    to_login = redirected(browser, authorize_url(provider, relying_party(client)).url)
    login = provider.admin.get_o_auth2_login_request(query_of(to_login)["login_challenge"])
    assert_no_unknown_keys(login)
    assert login.skip is False and login.subject == ""


def test_logout_rejected_unknown_challenges_and_login_session_revoked_by_sid(dev, seeded, op):
    """A logout the browser starts without id_token_hint (not rp_initiated, no client), rejected by the logout app
    with reject_o_auth2_logout_request (204): 410 afterwards and the login session stays (the next login request
    skips); revoke_o_auth2_login_sessions with the request's sid ends it. Unknown challenges are 404 to get,
    accept and reject, a missing one 400."""
    provider = open_provider(seeded, op)
    client = provider.create_client(post_logout_redirect_uris=[BYE])
    browser = requests.Session()
    code_flow(provider, client, browser)

    to_app = redirected(browser, logout_url(provider))
    challenge = query_of(to_app)["logout_challenge"]
    request = provider.admin.get_o_auth2_logout_request(challenge)
    assert isinstance(request, ory_client.OAuth2LogoutRequest)
    assert_no_unknown_keys(request)
    assert request.subject == SUBJECT and request.rp_initiated is False and request.client is None
    assert request.sid

    response = provider.admin.reject_o_auth2_logout_request_with_http_info(challenge)
    assert response.status_code == 204 and response.data is None
    expect_gone(provider.admin.get_o_auth2_logout_request, challenge)
    expect_gone(provider.admin.accept_o_auth2_logout_request, challenge)
    expect_gone(provider.admin.reject_o_auth2_logout_request, challenge)

    def next_login() -> ory_client.OAuth2LoginRequest:
        to_login = redirected(browser, authorize_url(provider, relying_party(client)).url)
        login = provider.admin.get_o_auth2_login_request(query_of(to_login)["login_challenge"])
        assert_no_unknown_keys(login)
        return login

    kept = next_login()
    assert kept.skip is True and kept.subject == SUBJECT, "a rejected logout leaves the login session alone"
    assert kept.session_id == request.sid

    # Another subject's session id, or an unknown one, ends nothing.
    assert provider.admin.revoke_o_auth2_login_sessions(sid=str(uuid.uuid4())) is None
    assert next_login().skip is True
    assert provider.admin.revoke_o_auth2_login_sessions(sid=request.sid) is None
    revoked = next_login()
    assert revoked.skip is False and revoked.subject == ""

    for call in (
        provider.admin.get_o_auth2_logout_request,
        provider.admin.accept_o_auth2_logout_request,
        provider.admin.reject_o_auth2_logout_request,
    ):
        expect_oauth2_error(404, NOT_FOUND, call, "no-such-challenge")
    expect_oauth2_error(400, BAD_REQUEST, provider.admin.get_o_auth2_logout_request, "")
    # The logout API needs the project key.
    expect_error(401, ory_client.OAuth2Api(make_clients(op.url, None).api_client).get_o_auth2_logout_request, challenge)
