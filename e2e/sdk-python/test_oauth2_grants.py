"""The OAuth2 engine's last two grants through the SDK on a project's URL:

* JWT-bearer trust relationships (`/admin/trust/grants/jwt-bearer/issuers`, `OAuth2Api` with the project key):
  trust, list (issuer filter, `page_size` and the `Link` header's `page_token`), get, delete, and their errors;
  then the JWT-bearer grant (RFC 7523) itself: a client exchanges an ES256 assertion signed by Authlib for an
  access token about the assertion's subject, introspected through the SDK; a replayed `jti`, another key, another
  audience, an untrusted subject or scope, a deleted trust refused.
* The device authorization grant (RFC 8628): a public client asks `/oauth2/device/auth`, polls the token endpoint
  (`authorization_pending`, `slow_down`), a `requests` browser brings the user code through the login and consent
  apps (played with `OAuth2Api`), then the device gets its tokens once; and the verification UI's path with the
  SDK's `accept_user_code_request` (device challenge, 400/404/410).

Each test makes its own project in the workspace `tessera dev` seeded. Every answer must parse into the SDK's models
with no key the SDK does not know; every error must be the SDK's exception for its status.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid

import ory_client
import pytest
import requests
from ory_client.exceptions import ApiException

from identity_helpers import PROPAGATION_TIMEOUT, assert_no_unknown_keys, header
from oauth2_helpers import (
    DEVICE_CODE_GRANT,
    EMAIL,
    JWT_BEARER_GRANT,
    TIMEOUT,
    OAuth2Project,
    assertion_claims,
    browser_login_and_consent,
    create_oauth2_project,
    device_authorization,
    ec_signing_key,
    expect_oauth2_error,
    links,
    open_provider,
    page_token,
    poll_device,
    public_jwk,
    query_of,
    redirected,
    sign_assertion,
    token_request,
)
from sdk_helpers import unique

BAD_REQUEST = "The request was malformed or contained invalid parameters"
NOT_FOUND = "Unable to locate the resource"
CONFLICT = "Unable to insert or update resource because a resource with that value exists already"

DEVICE_SCOPE = "openid offline_access"
VERIFICATION_UI = "https://ui.example/device"
SUCCESS_UI = "https://ui.example/done"


@pytest.fixture()
def op(dev, seeded) -> OAuth2Project:
    """A fresh project with the default OAuth2 configuration."""
    return create_oauth2_project(dev, seeded)


def in_an_hour() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(hours=1)


def trust(op: OAuth2Project, **fields) -> ory_client.TrustedOAuth2JwtGrantIssuer:
    """trust_o_auth2_jwt_grant_issuer: 201 with the relationship, parsed with no unknown key."""
    response = op.oauth2.trust_o_auth2_jwt_grant_issuer_with_http_info(ory_client.TrustOAuth2JwtGrantIssuer(**fields))
    assert response.status_code == 201, response.raw_data
    created = response.data
    assert isinstance(created, ory_client.TrustedOAuth2JwtGrantIssuer)
    assert_no_unknown_keys(created)
    return created


def listed(op: OAuth2Project, **params) -> ory_client.ApiResponse:
    response = op.oauth2.list_trusted_o_auth2_jwt_grant_issuers_with_http_info(**params)
    assert response.status_code == 200
    assert isinstance(response.data, list)
    for item in response.data:
        assert isinstance(item, ory_client.TrustedOAuth2JwtGrantIssuer)
    assert_no_unknown_keys(response.data)
    return response


# =============================================================================================
# JWT-bearer trust relationships


def test_trust_relationships_create_list_get_delete(op):
    issuer = f"https://{unique('issuer')}.example"
    other_issuer = f"https://{unique('issuer')}.example"
    key = ec_signing_key("key-1")
    expires_at = in_an_hour()
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)

    created = trust(op, issuer=issuer, subject="user-7", scope=["read", "write"], jwk=public_jwk(key), expires_at=expires_at)
    assert str(uuid.UUID(created.id)) == created.id
    assert (created.issuer, created.subject, created.allow_any_subject) == (issuer, "user-7", False)
    assert created.scope == ["read", "write"]
    assert created.expires_at == expires_at
    assert before <= created.created_at <= datetime.datetime.now(datetime.timezone.utc)
    assert (created.public_key.kid, created.public_key.set) == ("key-1", issuer)

    # Another issuer trusted for any subject; the same issuer with another key.
    any_subject = trust(
        op, issuer=other_issuer, allow_any_subject=True, scope=[], jwk=public_jwk(ec_signing_key("key-2")), expires_at=expires_at
    )
    assert any_subject.allow_any_subject is True and any_subject.subject == "" and any_subject.scope == []
    second_key = trust(op, issuer=issuer, subject="user-7", scope=["read"], jwk=public_jwk(ec_signing_key("key-3")), expires_at=expires_at)
    ids = {created.id, any_subject.id, second_key.id}

    # get
    got = op.oauth2.get_trusted_o_auth2_jwt_grant_issuer(created.id)
    assert isinstance(got, ory_client.TrustedOAuth2JwtGrantIssuer)
    assert_no_unknown_keys(got)
    assert got.to_dict() == created.to_dict()

    # list: everything, by issuer, and paged one at a time through the Link header's page_token.
    assert {t.id for t in listed(op).data} == ids
    assert {t.id for t in listed(op, issuer=issuer).data} == {created.id, second_key.id}
    assert [t.id for t in listed(op, issuer=other_issuer).data] == [any_subject.id]
    assert listed(op, issuer="https://nobody.example").data == []
    seen, token = [], None
    for _ in range(5):
        page = listed(op, page_size=1, **({"page_token": token} if token else {}))
        assert len(page.data) <= 1
        seen += [t.id for t in page.data]
        following = links(page).get("next")
        if not following:
            break
        token = page_token(following)
    assert sorted(seen) == sorted(ids) and len(seen) == 3

    # delete: 204, then 404 for get and delete, and gone from the list.
    deleted = op.oauth2.delete_trusted_o_auth2_jwt_grant_issuer_with_http_info(created.id)
    assert deleted.status_code == 204
    expect_oauth2_error(404, NOT_FOUND, op.oauth2.get_trusted_o_auth2_jwt_grant_issuer, created.id)
    expect_oauth2_error(404, NOT_FOUND, op.oauth2.delete_trusted_o_auth2_jwt_grant_issuer, created.id)
    assert {t.id for t in listed(op).data} == ids - {created.id}


def test_trust_relationship_errors(dev, seeded, op):
    issuer = f"https://{unique('issuer')}.example"
    key = ec_signing_key("key-1")
    fields = dict(issuer=issuer, subject="user-7", scope=["read"], jwk=public_jwk(key), expires_at=in_an_hour())
    body = lambda **changes: ory_client.TrustOAuth2JwtGrantIssuer(**dict(fields, **changes))  # noqa: E731

    # A private key, both subject and allow_any_subject, neither, an expiry in the past, no kid: 400.
    private = dict(key.as_dict(is_private=True), alg="ES256", use="sig")
    assert private.get("d")
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
    for changes, why in [
        (dict(jwk=private), "private parts"),
        (dict(allow_any_subject=True), "cannot both be set"),
        (dict(subject=None), "`subject` is required"),
        (dict(expires_at=past), "`expires_at` must be in the future"),
        (dict(jwk=dict(public_jwk(key), kid="")), "must have a `kid`"),
    ]:
        error = expect_oauth2_error(400, BAD_REQUEST, op.oauth2.trust_o_auth2_jwt_grant_issuer, body(**changes))
        assert why in error.error_description, (changes, error.error_description)
    assert listed(op).data == []

    # The same issuer, subject and key twice: 409.
    trust(op, **fields)
    expect_oauth2_error(409, CONFLICT, op.oauth2.trust_o_auth2_jwt_grant_issuer, body())

    # Unknown ids (a UUID, or not even one): 404; a bad page token: 400.
    for unknown in (str(uuid.uuid4()), "not-an-id"):
        expect_oauth2_error(404, NOT_FOUND, op.oauth2.get_trusted_o_auth2_jwt_grant_issuer, unknown)
        expect_oauth2_error(404, NOT_FOUND, op.oauth2.delete_trusted_o_auth2_jwt_grant_issuer, unknown)
    expect_oauth2_error(400, BAD_REQUEST, op.oauth2.list_trusted_o_auth2_jwt_grant_issuers, page_token="not a token!")

    # Another project sees none of them.
    other = create_oauth2_project(dev, seeded)
    assert listed(other).data == []


def test_jwt_bearer_grant_exchanges_a_trusted_assertion_once(op):
    issuer = f"https://{unique('issuer')}.example"
    key = ec_signing_key(unique("kid"))
    kid = key.as_dict()["kid"]
    trusted = trust(op, issuer=issuer, subject="user-7", scope=["read", "write"], jwk=public_jwk(key), expires_at=in_an_hour())
    client = op.create_client(grant_types=[JWT_BEARER_GRANT], scope="read write")
    assert client.grant_types == [JWT_BEARER_GRANT]
    as_client = op.as_client(client.client_id, client.client_secret)
    audience = op.url + "/oauth2/token"

    assertion = sign_assertion(key, assertion_claims(issuer, "user-7", audience))
    form = [("grant_type", JWT_BEARER_GRANT), ("assertion", assertion), ("scope", "read")]
    answer = token_request(as_client, form)
    tokens = answer.data
    assert answer.status_code == 200 and header(answer.headers, "cache-control") == "no-store"
    assert tokens.access_token.startswith("ory_at_") and tokens.token_type == "bearer"
    assert tokens.scope == "read" and tokens.expires_in == 3600
    assert tokens.refresh_token is None and tokens.id_token is None
    introspected = op.introspect(tokens.access_token)
    assert introspected.active is True and introspected.token_use == "access_token"
    assert introspected.sub == "user-7" and introspected.client_id == client.client_id
    assert introspected.scope == "read" and introspected.iss == op.url

    # The same jti again: invalid_grant.
    replayed = expect_oauth2_error(400, "invalid_grant", token_request, as_client, form)
    assert "`jti` was used already" in replayed.error_description, replayed.error_description

    def refused(error: str, claims: dict, signer=key, status: int = 400, api=as_client, scope: str = "read"):
        form = [("grant_type", JWT_BEARER_GRANT), ("assertion", sign_assertion(signer, claims, kid)), ("scope", scope)]
        return expect_oauth2_error(status, error, token_request, api, form)

    # Another key under the same kid, another audience, another subject, an expired assertion, no jti.
    refused("invalid_grant", assertion_claims(issuer, "user-7", audience), signer=ec_signing_key(kid))
    refused("invalid_grant", assertion_claims(issuer, "user-7", "https://elsewhere.example/oauth2/token"))
    refused("invalid_grant", assertion_claims(issuer, "user-8", audience))
    refused("invalid_grant", assertion_claims(issuer, "user-7", audience, exp=int(time.time()) - 10))
    no_jti = assertion_claims(issuer, "user-7", audience)
    del no_jti["jti"]
    refused("invalid_grant", no_jti)
    # A scope the trust does not allow; a client not registered for the grant.
    refused("invalid_scope", assertion_claims(issuer, "user-7", audience), scope="admin")
    m2m = op.m2m_client()
    refused("unauthorized_client", assertion_claims(issuer, "user-7", audience), api=op.as_client(m2m.client_id, m2m.client_secret))
    # A well-formed, fresh assertion still works; once the trust is deleted it no longer does.
    assert token_request(as_client, [("grant_type", JWT_BEARER_GRANT), ("assertion", sign_assertion(key, assertion_claims(issuer, "user-7", audience)))]).data.access_token
    op.oauth2.delete_trusted_o_auth2_jwt_grant_issuer(trusted.id)
    refused("invalid_grant", assertion_claims(issuer, "user-7", audience))


def test_jwt_bearer_grant_for_any_subject(op):
    issuer = f"https://{unique('issuer')}.example"
    key = ec_signing_key("any-1")
    trust(op, issuer=issuer, allow_any_subject=True, scope=["read"], jwk=public_jwk(key), expires_at=in_an_hour())
    client = op.create_client(grant_types=[JWT_BEARER_GRANT], scope="read write")
    as_client = op.as_client(client.client_id, client.client_secret)
    for subject in ("alice", "bob@example.com"):
        assertion = sign_assertion(key, assertion_claims(issuer, subject, op.url + "/oauth2/token"))
        tokens = token_request(as_client, [("grant_type", JWT_BEARER_GRANT), ("assertion", assertion)]).data
        introspected = op.introspect(tokens.access_token)
        assert introspected.active and introspected.sub == subject and introspected.client_id == client.client_id


# =============================================================================================
# the device authorization grant


def device_client(op: OAuth2Project) -> ory_client.OAuth2Client:
    """A public client (`none`) of the device grant and refresh tokens."""
    client = op.create_client(
        grant_types=[DEVICE_CODE_GRANT, "refresh_token"], token_endpoint_auth_method="none", scope=DEVICE_SCOPE + " profile"
    )
    assert client.token_endpoint_auth_method == "none" and not client.client_secret
    return client


def wait_interval(since: float, interval: int) -> None:
    """Sleep until `interval` seconds (and a little) have passed since the last poll at `since`."""
    time.sleep(max(0.0, since + interval + 0.2 - time.monotonic()))


def test_device_flow_through_the_browser(dev, seeded, op):
    provider = open_provider(seeded, op)
    client = device_client(op)
    device = op.as_client()  # no credentials: a public client names itself in the form

    auth = device_authorization(device, DEVICE_SCOPE, client.client_id)
    assert auth.device_code.startswith("ory_dc_") and len(auth.user_code) == 8
    assert auth.verification_uri == op.url + "/oauth2/device/verify"
    assert auth.verification_uri_complete == f"{auth.verification_uri}?user_code={auth.user_code}"
    assert auth.interval == 5 and auth.expires_in > 60
    expect_oauth2_error(400, "invalid_scope", device_authorization, device, "openid admin", client.client_id)

    # Polled before approval: pending, then slow_down when polled again at once.
    expect_oauth2_error(400, "authorization_pending", poll_device, device, auth.device_code, client.client_id)
    expect_oauth2_error(400, "slow_down", poll_device, device, auth.device_code, client.client_id)
    last_poll = time.monotonic()

    # The browser: verification_uri_complete → login → consent → the plain success page.
    browser = requests.Session()
    done = browser_login_and_consent(provider, browser, auth.verification_uri_complete, client.client_id, "user-9", DEVICE_SCOPE.split())
    assert done.status_code == 200, done.text
    assert done.headers["content-type"].startswith("text/html")

    wait_interval(last_poll, auth.interval)
    answer = poll_device(device, auth.device_code, client.client_id)
    tokens = answer.data
    assert answer.status_code == 200
    assert tokens.access_token.startswith("ory_at_") and tokens.refresh_token.startswith("ory_rt_")
    assert tokens.id_token and tokens.scope == DEVICE_SCOPE and tokens.token_type == "bearer"
    introspected = op.introspect(tokens.access_token)
    assert introspected.active is True and introspected.sub == "user-9"
    assert introspected.client_id == client.client_id and introspected.scope == DEVICE_SCOPE
    userinfo = requests.get(
        provider.endpoint("userinfo_endpoint"), headers={"Authorization": f"Bearer {tokens.access_token}"}, timeout=TIMEOUT
    )
    assert userinfo.status_code == 200 and userinfo.json()["sub"] == "user-9" and userinfo.json()["email"] == EMAIL

    # The refresh token works like the code flow's (a public client, no secret).
    refreshed = token_request(
        device, [("grant_type", "refresh_token"), ("refresh_token", tokens.refresh_token), ("client_id", client.client_id)]
    ).data
    assert op.is_active(refreshed.access_token)

    # A second redemption is refused and revokes what the first one issued.
    time.sleep(auth.interval + 0.2)
    expect_oauth2_error(400, "invalid_grant", poll_device, device, auth.device_code, client.client_id)
    assert not op.is_active(refreshed.access_token)


def test_device_flow_through_the_verification_ui_with_accept_user_code_request(dev, seeded, op):
    update = seeded.project.patch_project(
        str(op.project.id),
        [
            ory_client.JsonPatch(
                op="add",
                path="/services/oauth2/config/urls/device",
                value={"verification": VERIFICATION_UI, "success": SUCCESS_UI},
            )
        ],
    )
    assert isinstance(update, ory_client.SuccessfulProjectUpdate) and not update.warnings
    provider = open_provider(seeded, op)
    client = device_client(op)
    device = op.as_client()
    auth = device_authorization(device, DEVICE_SCOPE, client.client_id)

    # Without a user code, the browser goes to the verification UI with a device challenge (once the configuration
    # reached the region).
    browser = requests.Session()
    deadline = time.monotonic() + PROPAGATION_TIMEOUT
    while True:
        to_ui = redirected(browser, auth.verification_uri)
        if to_ui.startswith(VERIFICATION_UI + "?"):
            break
        assert time.monotonic() < deadline, f"still {to_ui} {PROPAGATION_TIMEOUT}s after the config change"
        time.sleep(0.2)
    challenge = query_of(to_ui)["device_challenge"]

    # The UI accepts the challenge with the user code it collected (typed in lower case with a dash).
    accept = op.oauth2.accept_user_code_request
    typed = f"{auth.user_code[:4]}-{auth.user_code[4:]}".lower()
    expect_oauth2_error(
        400, "invalid_request", accept, challenge, ory_client.AcceptDeviceUserCodeRequest(user_code="BBBBBBBB")
    )
    expect_oauth2_error(
        404, NOT_FOUND, accept, "no-such-challenge", ory_client.AcceptDeviceUserCodeRequest(user_code=typed)
    )
    response = op.oauth2.accept_user_code_request_with_http_info(
        challenge, ory_client.AcceptDeviceUserCodeRequest(user_code=typed)
    )
    assert response.status_code == 200
    accepted = response.data
    assert isinstance(accepted, ory_client.OAuth2RedirectTo)
    assert_no_unknown_keys(accepted)
    assert accepted.redirect_to.startswith(auth.verification_uri + "?")
    assert query_of(accepted.redirect_to)["client_id"] == client.client_id and query_of(accepted.redirect_to)["device_verifier"]
    # Accepted twice: 410 with the same redirect_to.
    with pytest.raises(ApiException) as info:
        accept(challenge, ory_client.AcceptDeviceUserCodeRequest(user_code=typed))
    assert info.value.status == 410, info.value.body
    assert set(json.loads(info.value.body)) == {"redirect_to"}
    gone = ory_client.OAuth2RedirectTo.from_json(info.value.body)
    assert_no_unknown_keys(gone)
    assert gone.redirect_to == accepted.redirect_to

    # The browser continues into login and consent, and lands on the success UI.
    done = browser_login_and_consent(provider, browser, accepted.redirect_to, client.client_id, "user-10", DEVICE_SCOPE.split())
    assert done.status_code == 302, done.text
    assert done.headers["location"] == f"{SUCCESS_UI}?client_id={client.client_id}"

    tokens = poll_device(device, auth.device_code, client.client_id).data
    introspected = op.introspect(tokens.access_token)
    assert introspected.active is True and introspected.sub == "user-10" and introspected.client_id == client.client_id
    # The user code is spent.
    spent = browser.get(auth.verification_uri_complete, allow_redirects=False, timeout=TIMEOUT)
    assert spent.status_code == 302 and query_of(spent.headers["location"]).get("error") == "invalid_request"
