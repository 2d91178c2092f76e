"""The identity engine's frontend (Kratos's public API on a project's URL) through the SDK's FrontendApi.

Each test makes its own project (in the workspace `tessera dev` seeded) and reaches it at `<region>/p/<slug>`
without a key, as an app's users do: native (api) flows with session tokens, browser flows with cookies relayed
through the SDK's `cookie=` parameters (as a server-side rendered app does), settings, logout and the user's own
sessions. Every answer must parse into the SDK's models with no key the SDK does not know.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import ory_client
import pytest
from ory_client.exceptions import ForbiddenException, UnauthorizedException

from identity_helpers import (
    DUPLICATE,
    EMAIL_FORMAT,
    INVALID_CREDENTIALS,
    PASSWORD_BREACHED,
    PASSWORD_TOO_SHORT,
    REQUIRED,
    STRONG,
    IdentityProject,
    assert_no_unknown_keys,
    create_identity_project,
    csrf_token,
    expect_error,
    expect_flow_error,
    fresh_uuid,
    header,
    login_body,
    messages,
    new_email,
    node,
    registration_body,
)

SESSION_LIFESPAN = timedelta(hours=72)  # a new project's session.lifespan


@pytest.fixture()
def idp(dev, seeded) -> IdentityProject:
    """A fresh project with the default identity configuration (email + password schema)."""
    return create_identity_project(dev, seeded)


def now() -> datetime:
    return datetime.now(timezone.utc)


def continue_with(items) -> dict:
    """`continue_with` items by action."""
    return {item.actual_instance.action: item.actual_instance for item in items or []}


# =============================================================================================
# native (api) flows


def test_native_registration_issues_a_session_token_and_whoami_returns_the_session(idp):
    """create_native_registration_flow → update_registration_flow (password) → a session token; to_session with
    it returns the identity, aal1, the password method, expiry and the device."""
    flow = idp.frontend.create_native_registration_flow()
    assert isinstance(flow, ory_client.RegistrationFlow)
    assert_no_unknown_keys(flow)
    assert flow.type == "api" and flow.state == "choose_method"
    assert flow.ui.method == "POST"
    assert flow.ui.action == f"{idp.url}/self-service/registration?flow={flow.id}"
    assert flow.request_url == f"{idp.url}/self-service/registration/api"
    assert flow.expires_at > flow.issued_at
    names = [n.attributes.actual_instance.name for n in flow.ui.nodes]
    assert names == ["csrf_token", "traits.email", "password", "method"]
    assert csrf_token(flow) == "", "api flows carry no CSRF token"
    email_node = node(flow, "traits.email")
    assert email_node.type == "email" and email_node.required is True
    assert node(flow, "password").type == "password"
    assert node(flow, "method").value == "password"

    fetched = idp.frontend.get_registration_flow(str(flow.id))
    assert isinstance(fetched, ory_client.RegistrationFlow) and fetched.id == flow.id
    assert_no_unknown_keys(fetched)

    email = new_email()
    done = idp.frontend.update_registration_flow(str(flow.id), registration_body({"email": email}, STRONG))
    assert isinstance(done, ory_client.SuccessfulNativeRegistration)
    assert_no_unknown_keys(done)
    token = done.session_token
    assert token and token.startswith("ory_st_")
    assert done.identity.traits == {"email": email}
    assert done.identity.state == "active" and done.identity.schema_id == "preset://email"
    assert done.identity.credentials is None and done.identity.metadata_admin is None
    assert done.session.identity.id == done.identity.id
    assert done.session.active is True
    assert continue_with(done.continue_with)["set_ory_session_token"].ory_session_token == token

    before = now()
    response = idp.frontend.to_session_with_http_info(x_session_token=token)
    session = response.data
    assert isinstance(session, ory_client.Session)
    assert_no_unknown_keys(session)
    assert header(response.headers, "x-kratos-authenticated-identity-id") == str(done.identity.id)
    raw = json.loads(response.raw_data)
    assert "metadata_admin" not in raw["identity"] and "credentials" not in raw["identity"]
    assert session.id == done.session.id and session.active is True
    assert session.identity.id == done.identity.id
    assert session.identity.traits == {"email": email}
    assert [a.value for a in session.identity.verifiable_addresses] == [email]
    assert session.identity.verifiable_addresses[0].verified is False
    assert [a.value for a in session.identity.recovery_addresses] == [email]
    assert session.authenticator_assurance_level == "aal1"
    assert [(m.method, m.aal) for m in session.authentication_methods] == [("password", "aal1")]
    assert session.authenticated_at <= before + timedelta(seconds=1)
    lifetime = session.expires_at - session.issued_at
    assert abs(lifetime - SESSION_LIFESPAN) < timedelta(seconds=5), lifetime
    assert len(session.devices) == 1 and "ory-client-python" in (session.devices[0].user_agent or "")


def test_native_login_and_logout(idp):
    """create_native_login_flow → update_login_flow → a new session; perform_native_logout ends it: whoami is 401
    after, while the registration's session lives on."""
    email = new_email()
    registered = idp.register(email)

    flow = idp.frontend.create_native_login_flow()
    assert isinstance(flow, ory_client.LoginFlow)
    assert_no_unknown_keys(flow)
    assert flow.type == "api" and flow.state == "choose_method" and flow.refresh is False
    assert flow.requested_aal == "aal1"
    assert [n.attributes.actual_instance.name for n in flow.ui.nodes] == ["csrf_token", "identifier", "password", "method"]
    label = next(n for n in flow.ui.nodes if n.attributes.actual_instance.name == "identifier").meta.label
    assert label.id == 1070002 and label.text == "Email address"
    fetched = idp.frontend.get_login_flow(str(flow.id))
    assert isinstance(fetched, ory_client.LoginFlow) and fetched.id == flow.id

    # Identifiers are matched case-insensitively, as stored (normalised).
    login = idp.frontend.update_login_flow(str(flow.id), login_body(email.upper(), STRONG))
    assert isinstance(login, ory_client.SuccessfulNativeLogin)
    assert_no_unknown_keys(login)
    assert login.session_token.startswith("ory_st_") and login.session_token != registered.session_token
    assert login.session.identity.id == registered.identity.id
    assert login.session.id != registered.session.id
    assert [m.method for m in login.session.authentication_methods] == ["password"]

    assert idp.whoami(login.session_token).id == login.session.id
    assert idp.frontend.perform_native_logout(ory_client.PerformNativeLogoutBody(session_token=login.session_token)) is None
    error = expect_error(401, idp.frontend.to_session, x_session_token=login.session_token)
    assert error["status"] == "Unauthorized"
    with pytest.raises(UnauthorizedException):
        idp.whoami(login.session_token)
    assert idp.whoami(registered.session_token).id == registered.session.id, "other sessions are untouched"

    # The token is gone: logging it out again is refused.
    expect_error(403, idp.frontend.perform_native_logout, ory_client.PerformNativeLogoutBody(session_token=login.session_token))
    # A token nobody issued is 401 on whoami.
    expect_error(401, idp.frontend.to_session, x_session_token="ory_st_" + "x" * 32)
    expect_error(401, idp.frontend.to_session)


def test_wrong_password_and_unknown_account_give_the_same_invalid_credentials_message(idp):
    """A wrong password and an unknown account: 400 with the login flow carrying 4000006 on the form, the
    identifier echoed; get_login_flow shows the same; the same flow then accepts the right password."""
    email = new_email()
    idp.register(email)
    flow = idp.frontend.create_native_login_flow()

    for identifier, password in [(email, "wrong-password-123"), (new_email(), STRONG)]:
        failed = expect_flow_error(ory_client.LoginFlow, idp.frontend.update_login_flow, str(flow.id), login_body(identifier, password))
        assert failed.id == flow.id and failed.type == "api"
        assert messages(failed) == [(INVALID_CREDENTIALS, "")], messages(failed)
        text = failed.ui.messages[0]
        assert text.type == "error" and "credentials are invalid" in text.text
        assert node(failed, "identifier").value == identifier
        assert not node(failed, "password").value

    fetched = idp.frontend.get_login_flow(str(flow.id))
    assert messages(fetched) == [(INVALID_CREDENTIALS, "")]

    login = idp.frontend.update_login_flow(str(flow.id), login_body(email, STRONG))
    assert isinstance(login, ory_client.SuccessfulNativeLogin) and login.session_token


def test_login_form_errors_for_missing_fields(idp):
    """Missing password → 4000002 on the password node."""
    flow = idp.frontend.create_native_login_flow()
    body = ory_client.UpdateLoginFlowBody(
        ory_client.UpdateLoginFlowWithPasswordMethod(method="password", identifier=new_email(), password="")
    )
    failed = expect_flow_error(ory_client.LoginFlow, idp.frontend.update_login_flow, str(flow.id), body)
    assert (REQUIRED, "password") in messages(failed), messages(failed)


def test_duplicate_registration_is_4000007(idp):
    """Registering an email that is taken: 400 with the registration flow carrying 4000007; the email is echoed."""
    email = new_email()
    idp.register(email)
    flow = idp.frontend.create_native_registration_flow()
    failed = expect_flow_error(
        ory_client.RegistrationFlow,
        idp.frontend.update_registration_flow,
        str(flow.id),
        registration_body({"email": email.upper()}, STRONG),
    )
    assert messages(failed) == [(DUPLICATE, "")], messages(failed)
    assert failed.ui.messages[0].type == "error"
    assert node(failed, "traits.email").value == email.upper()
    assert not node(failed, "password").value


@pytest.mark.parametrize(
    "password, expected",
    [("short", PASSWORD_TOO_SHORT), ("password123", PASSWORD_BREACHED)],
    ids=["too-short", "common"],
)
def test_password_policy_on_registration(idp, password, expected):
    """A short password → 4000032 (with min_length 8), a common one → 4000034, on the password node."""
    flow = idp.frontend.create_native_registration_flow()
    email = new_email()
    failed = expect_flow_error(
        ory_client.RegistrationFlow,
        idp.frontend.update_registration_flow,
        str(flow.id),
        registration_body({"email": email}, password),
    )
    assert messages(failed) == [(expected, "password")], messages(failed)
    message = next(n for n in failed.ui.nodes if n.attributes.actual_instance.name == "password").messages[0]
    assert message.type == "error"
    if expected == PASSWORD_TOO_SHORT:
        assert message.context == {"min_length": 8, "actual_length": len(password)}
    assert node(failed, "traits.email").value == email
    # Nothing was created: the email can still register.
    assert idp.register(email).identity.traits == {"email": email}


@pytest.mark.parametrize(
    "traits, expected",
    [({}, REQUIRED), ({"email": "not-an-email"}, EMAIL_FORMAT)],
    ids=["missing-email", "invalid-email"],
)
def test_trait_validation_on_registration(idp, traits, expected):
    """No email → 4000002, a malformed email → 4000040, on the traits.email node."""
    flow = idp.frontend.create_native_registration_flow()
    failed = expect_flow_error(
        ory_client.RegistrationFlow,
        idp.frontend.update_registration_flow,
        str(flow.id),
        registration_body(traits, STRONG),
    )
    assert messages(failed) == [(expected, "traits.email")], messages(failed)
    fetched = idp.frontend.get_registration_flow(str(flow.id))
    assert messages(fetched) == [(expected, "traits.email")]


def test_unknown_flows_are_404(idp):
    expect_error(404, idp.frontend.get_login_flow, fresh_uuid())
    expect_error(404, idp.frontend.get_registration_flow, fresh_uuid())
    # A login flow is not a registration flow.
    flow = idp.frontend.create_native_login_flow()
    expect_error(404, idp.frontend.get_registration_flow, str(flow.id))


def test_signed_in_clients_cannot_start_login_or_registration(idp):
    """A native login flow asked for with a valid session token → 400 session_already_available; with
    refresh=true it is a refresh flow for that identity."""
    email = new_email()
    token = idp.register(email).session_token
    expect_error(400, idp.frontend.create_native_login_flow, x_session_token=token, error_id="session_already_available")
    refresh = idp.frontend.create_native_login_flow(x_session_token=token, refresh=True)
    assert isinstance(refresh, ory_client.LoginFlow) and refresh.refresh is True
    assert_no_unknown_keys(refresh)


def test_api_flow_submitted_with_cookies_is_refused(idp):
    """A native flow submitted with browser cookies is refused with the flow (4000001), not accepted."""
    email = new_email()
    idp.register(email)
    flow = idp.frontend.create_native_login_flow()
    failed = expect_flow_error(
        ory_client.LoginFlow, idp.frontend.update_login_flow, str(flow.id), login_body(email, STRONG), cookie="some=cookie"
    )
    assert messages(failed) == [(4000001, "")], messages(failed)


# =============================================================================================
# browser flows (cookies relayed through the SDK)


def test_browser_registration_and_login_with_csrf_and_session_cookie(idp):
    """Browser flows: init sets the anti-CSRF cookie and a masked token in the form; a submission with both signs
    in and sets `ory_session_<slug without dashes>`, which whoami accepts as a cookie."""
    browser = idp.browser()
    flow = browser.frontend.create_browser_registration_flow()
    assert isinstance(flow, ory_client.RegistrationFlow) and flow.type == "browser"
    assert_no_unknown_keys(flow)
    assert browser.csrf_cookie(), f"no anti-CSRF cookie set: {browser.set_cookies}"
    assert flow.ui.action == f"{idp.url}/self-service/registration?flow={flow.id}"
    token = csrf_token(flow)
    assert token and len(token) == 88, "a masked token (pad and token, base64)"
    # Each render masks the token afresh.
    again = browser.frontend.get_registration_flow(str(flow.id), cookie=browser.cookie)
    assert csrf_token(again) != token

    email = new_email()
    done = browser.frontend.update_registration_flow(
        str(flow.id), registration_body({"email": email}, STRONG, csrf=token), cookie=browser.cookie
    )
    assert isinstance(done, ory_client.SuccessfulNativeRegistration)
    assert_no_unknown_keys(done)
    assert done.session_token is None, "browsers get a cookie, not a token"
    assert done.identity.traits == {"email": email}
    assert "redirect_browser_to" in continue_with(done.continue_with)
    assert idp.session_cookie == "ory_session_" + idp.slug.replace("-", "")
    assert idp.session_cookie in browser.jar, browser.set_cookies
    assert any("httponly" in c.lower() for c in browser.set_cookies if c.startswith(idp.session_cookie + "="))

    session = browser.frontend.to_session(cookie=browser.cookie)
    assert session.identity.id == done.identity.id and session.id == done.session.id

    # Sign in again from another browser.
    other = idp.browser()
    login_flow = other.frontend.create_browser_login_flow()
    assert isinstance(login_flow, ory_client.LoginFlow) and login_flow.type == "browser"
    assert_no_unknown_keys(login_flow)
    fetched = other.frontend.get_login_flow(str(login_flow.id), cookie=other.cookie)
    assert fetched.id == login_flow.id
    login = other.frontend.update_login_flow(
        str(login_flow.id), login_body(email, STRONG, csrf=csrf_token(fetched)), cookie=other.cookie
    )
    assert isinstance(login, ory_client.SuccessfulNativeLogin)
    assert_no_unknown_keys(login)
    assert login.session_token is None
    assert login.session.identity.id == done.identity.id
    assert "redirect_browser_to" in continue_with(login.continue_with)
    whoami = other.frontend.to_session(cookie=other.cookie)
    assert whoami.id == login.session.id and whoami.id != session.id


def test_browser_flow_csrf_violations_are_403(idp):
    """Without the anti-CSRF cookie, without the token, or with another browser's token: 403
    security_csrf_violation; fetching a browser flow without its cookie is refused too."""
    email = new_email()
    idp.register(email)
    browser = idp.browser()
    flow = browser.frontend.create_browser_login_flow()
    good = csrf_token(flow)
    other = idp.browser()
    other.frontend.create_browser_login_flow()

    attempts = [
        ("no cookie, no token", login_body(email, STRONG), None),
        ("no cookie", login_body(email, STRONG, csrf=good), None),
        ("no token", login_body(email, STRONG), browser.cookie),
        ("another browser's cookie", login_body(email, STRONG, csrf=good), other.cookie),
        ("a forged token", login_body(email, STRONG, csrf="A" * 88), browser.cookie),
    ]
    for what, body, cookie in attempts:
        with pytest.raises(ForbiddenException) as info:
            idp.frontend.update_login_flow(str(flow.id), body, cookie=cookie)
        error = info.value
        document = json.loads(error.body)
        assert document["error"]["id"] == "security_csrf_violation", (what, error.body)
        assert document["error"]["details"]["reject_reason"], what
        assert ory_client.GenericError.from_dict(document["error"]).code == 403
        assert header(error.headers, "ory-error-id") == "security_csrf_violation"

    expect_error(403, idp.frontend.get_login_flow, str(flow.id), error_id="security_csrf_violation")
    expect_error(403, idp.frontend.get_login_flow, str(flow.id), cookie=other.cookie, error_id="security_csrf_violation")
    # Nothing was signed in by any of those; the right cookie and token still work.
    browser.frontend.update_login_flow(str(flow.id), login_body(email, STRONG, csrf=good), cookie=browser.cookie)
    assert browser.frontend.to_session(cookie=browser.cookie).identity.traits == {"email": email}


def test_browser_logout(idp):
    """create_browser_logout_flow gives a logout URL and token for the cookie's session; update_logout_flow
    with them ends it (204 for JSON) and removes the cookie; whoami with the old cookie is then 401."""
    email = new_email()
    idp.register(email)
    browser = idp.browser()
    flow = browser.frontend.create_browser_login_flow()
    browser.frontend.update_login_flow(str(flow.id), login_body(email, STRONG, csrf=csrf_token(flow)), cookie=browser.cookie)
    signed_in = browser.cookie
    assert browser.frontend.to_session(cookie=signed_in).active is True

    logout = browser.frontend.create_browser_logout_flow(cookie=signed_in)
    assert isinstance(logout, ory_client.LogoutFlow)
    assert_no_unknown_keys(logout)
    assert logout.logout_token.startswith("ory_lo_")
    url = urlsplit(logout.logout_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{idp.url}/self-service/logout"
    assert parse_qs(url.query)["token"] == [logout.logout_token]

    expect_error(401, idp.frontend.create_browser_logout_flow, error_id="session_inactive")
    # A made-up logout token does not end the session.
    expect_error(403, idp.frontend.update_logout_flow, token="ory_lo_" + "y" * 32, cookie=signed_in)
    assert idp.frontend.to_session(cookie=signed_in).active is True

    response = browser.frontend.update_logout_flow_with_http_info(token=logout.logout_token, cookie=signed_in)
    assert response.status_code == 204
    assert idp.session_cookie not in browser.jar, f"the session cookie is not removed: {browser.set_cookies}"
    expect_error(401, idp.frontend.to_session, cookie=signed_in)


# =============================================================================================
# settings


def test_native_settings_change_password_and_profile(idp):
    """create_native_settings_flow with the session token shows the identity and its form; update_settings_flow
    changes the password (the old one stops working) and the profile (the new email signs in)."""
    email = new_email()
    token = idp.register(email).session_token
    expect_error(401, idp.frontend.create_native_settings_flow, error_id="session_inactive")

    flow = idp.frontend.create_native_settings_flow(x_session_token=token)
    assert isinstance(flow, ory_client.SettingsFlow)
    assert_no_unknown_keys(flow)
    assert flow.type == "api" and flow.state == "show_form"
    assert flow.identity.traits == {"email": email}
    assert node(flow, "traits.email").value == email
    groups = {n.attributes.actual_instance.name: n.group for n in flow.ui.nodes}
    assert groups["traits.email"] == "profile" and groups["password"] == "password"
    fetched = idp.frontend.get_settings_flow(str(flow.id), x_session_token=token)
    assert fetched.id == flow.id

    # A weak new password is refused with the flow.
    weak = ory_client.UpdateSettingsFlowBody(
        ory_client.UpdateSettingsFlowWithPasswordMethod(method="password", password="short")
    )
    failed = expect_flow_error(ory_client.SettingsFlow, idp.frontend.update_settings_flow, str(flow.id), weak, x_session_token=token)
    assert messages(failed) == [(PASSWORD_TOO_SHORT, "password")], messages(failed)

    new_password = "another-long-passphrase-77"
    body = ory_client.UpdateSettingsFlowBody(
        ory_client.UpdateSettingsFlowWithPasswordMethod(method="password", password=new_password)
    )
    saved = idp.frontend.update_settings_flow(str(flow.id), body, x_session_token=token)
    assert isinstance(saved, ory_client.SettingsFlow)
    assert_no_unknown_keys(saved)
    assert saved.state == "success"
    assert [(m.id, m.type) for m in saved.ui.messages] == [(1050001, "success")]

    login = idp.frontend.create_native_login_flow()
    failed = expect_flow_error(ory_client.LoginFlow, idp.frontend.update_login_flow, str(login.id), login_body(email, STRONG))
    assert messages(failed) == [(INVALID_CREDENTIALS, "")]
    assert idp.login(email, new_password).session_token

    new = new_email()
    flow = idp.frontend.create_native_settings_flow(x_session_token=token)
    body = ory_client.UpdateSettingsFlowBody(
        ory_client.UpdateSettingsFlowWithProfileMethod(method="profile", traits={"email": new})
    )
    saved = idp.frontend.update_settings_flow(str(flow.id), body, x_session_token=token)
    assert saved.state == "success" and saved.identity.traits == {"email": new}
    assert node(saved, "traits.email").value == new
    assert idp.whoami(token).identity.traits == {"email": new}
    assert idp.login(new, new_password).session.identity.id == saved.identity.id

    # An invalid profile is refused with the flow.
    flow = idp.frontend.create_native_settings_flow(x_session_token=token)
    body = ory_client.UpdateSettingsFlowBody(
        ory_client.UpdateSettingsFlowWithProfileMethod(method="profile", traits={"email": "nope"})
    )
    failed = expect_flow_error(ory_client.SettingsFlow, idp.frontend.update_settings_flow, str(flow.id), body, x_session_token=token)
    assert messages(failed) == [(EMAIL_FORMAT, "traits.email")]


def test_settings_flow_of_another_identity_is_refused(idp):
    mine = idp.register().session_token
    theirs = idp.register().session_token
    flow = idp.frontend.create_native_settings_flow(x_session_token=mine)
    expect_error(403, idp.frontend.get_settings_flow, str(flow.id), x_session_token=theirs, error_id="security_identity_mismatch")


# =============================================================================================
# the user's own sessions


def test_my_sessions_list_and_revoke(idp):
    """list_my_sessions shows the caller's other sessions; disable_my_session ends one (not the current one);
    disable_my_other_sessions ends the rest and says how many."""
    email = new_email()
    current = idp.register(email)
    second = idp.login(email)
    third = idp.login(email)
    stranger = idp.register()  # another identity's session is never listed

    response = idp.frontend.list_my_sessions_with_http_info(x_session_token=current.session_token)
    listed = response.data
    assert all(isinstance(s, ory_client.Session) for s in listed)
    assert_no_unknown_keys(listed)
    assert {s.id for s in listed} == {second.session.id, third.session.id}
    assert header(response.headers, "x-total-count") == "2"
    assert all(s.identity.id == current.identity.id and s.active for s in listed)

    assert idp.frontend.disable_my_session(str(second.session.id), x_session_token=current.session_token) is None
    expect_error(401, idp.frontend.to_session, x_session_token=second.session_token)
    expect_error(400, idp.frontend.disable_my_session, str(current.session.id), x_session_token=current.session_token)
    # Another identity's session cannot be ended this way.
    idp.frontend.disable_my_session(str(stranger.session.id), x_session_token=current.session_token)
    assert idp.whoami(stranger.session_token).active is True

    count = idp.frontend.disable_my_other_sessions(x_session_token=current.session_token)
    assert isinstance(count, ory_client.DeleteMySessionsCount) and count.count == 1
    expect_error(401, idp.frontend.to_session, x_session_token=third.session_token)
    assert idp.whoami(current.session_token).active is True
    assert idp.frontend.list_my_sessions(x_session_token=current.session_token) == []

    expect_error(401, idp.frontend.list_my_sessions)
    expect_error(401, idp.frontend.disable_my_other_sessions)


# =============================================================================================
# isolation


def test_a_session_of_one_project_is_unknown_to_another(dev, seeded, idp):
    """A session token of project A is 401 on project B's whoami, as header and as B's cookie."""
    other = create_identity_project(dev, seeded)
    email = new_email()
    token = idp.register(email).session_token
    assert idp.whoami(token).identity.traits == {"email": email}
    expect_error(401, other.frontend.to_session, x_session_token=token)
    expect_error(401, other.frontend.to_session, cookie=f"{other.session_cookie}={token}")
    expect_error(401, other.frontend.list_my_sessions, x_session_token=token)
    # The same email registers separately in B, and its sessions are B's.
    theirs = other.register(email)
    assert theirs.identity.id != idp.whoami(token).identity.id
    expect_error(401, idp.frontend.to_session, x_session_token=theirs.session_token)
