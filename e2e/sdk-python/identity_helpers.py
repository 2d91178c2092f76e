"""Helpers for the identity (Kratos API) SDK tests: a project of one's own reached at `<region>/p/<slug>`,
the SDK's FrontendApi (no key, as an app's users call it) and IdentityApi (the project API key), a cookie jar
for browser flows driven through the SDK's `cookie=` parameters, and checks on the returned models.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import ory_client
import pytest
from pydantic import BaseModel
from ory_client.exceptions import ApiException, BadRequestException

from sdk_helpers import make_clients, unique

# A password no policy objects to (long, not common, unlike any generated email address).
STRONG = "correct-horse-battery-staple-42"
PROPAGATION_TIMEOUT = 10.0  # a new project and its key reach the region (about a second)

# Kratos's message ids (text/id.go).
INVALID_CREDENTIALS = 4000006
DUPLICATE = 4000007
REQUIRED = 4000002
PASSWORD_TOO_SHORT = 4000032
PASSWORD_BREACHED = 4000034
EMAIL_FORMAT = 4000040


def new_email() -> str:
    return f"{unique('sdk-user')}@example.com"


# --------------------------------------------------------------------------- model checks


def assert_no_unknown_keys(model: Any, where: str = "") -> None:
    """Nothing in `model` (at any depth, through lists and oneOf wrappers) landed in additional_properties:
    every key the server sent is one the SDK knows."""
    if isinstance(model, list):
        for n, item in enumerate(model):
            assert_no_unknown_keys(item, f"{where}[{n}]")
        return
    if hasattr(model, "actual_instance") and hasattr(model, "one_of_schemas"):
        assert model.actual_instance is not None, f"{where}: a oneOf matched nothing"
        assert_no_unknown_keys(model.actual_instance, where)
        return
    if not isinstance(model, BaseModel):
        return
    extra = getattr(model, "additional_properties", {})
    assert extra == {}, f"{type(model).__name__}{where} got keys the SDK does not know: {extra}"
    for name in type(model).model_fields:
        if name != "additional_properties":
            assert_no_unknown_keys(getattr(model, name), f"{where}.{name}")


def header(headers: Optional[Dict[str, str]], name: str) -> Optional[str]:
    return next((v for k, v in (headers or {}).items() if k.lower() == name.lower()), None)


def messages(flow: Any) -> List[Tuple[int, str]]:
    """The messages of a flow, form-level and per node, as (id, node name or "")."""
    out = [(m.id, "") for m in (flow.ui.messages or [])]
    for node in flow.ui.nodes:
        name = getattr(node.attributes.actual_instance, "name", "")
        out.extend((m.id, name) for m in node.messages)
    return out


def node(flow: Any, name: str) -> Any:
    """The attributes of the input node `name`."""
    for n in flow.ui.nodes:
        attributes = n.attributes.actual_instance
        if getattr(attributes, "name", None) == name:
            return attributes
    raise AssertionError(f"no node {name!r} in {[getattr(n.attributes.actual_instance, 'name', None) for n in flow.ui.nodes]}")


def csrf_token(flow: Any) -> str:
    return node(flow, "csrf_token").value


def expect_flow_error(cls: type, call: Callable, *args, **kwargs) -> Any:
    """An SDK submit that must answer 400 with the flow (form errors): a BadRequestException whose body the SDK
    parsed into `cls` (a ValidationError would have left `data` empty)."""
    with pytest.raises(BadRequestException) as info:
        call(*args, **kwargs)
    error = info.value
    assert error.status == 400
    parsed = cls.from_json(error.body)  # raises the SDK's ValidationError if our JSON does not fit
    assert isinstance(error.data, cls), f"the SDK did not parse the 400 body as {cls.__name__}: {error.body}"
    assert_no_unknown_keys(parsed)
    return error.data


def expect_error(status: int, call: Callable, *args, error_id: Optional[str] = None, **kwargs) -> dict:
    """An SDK call that must fail with `status`; the body is Ory's error JSON (parsed by ErrorGeneric) and, when
    carries exactly `error_id` (None: no id). Returns the inner error object."""
    with pytest.raises(ApiException) as info:
        call(*args, **kwargs)
    error = info.value
    assert error.status == status, f"expected HTTP {status}, got {error.status}: {error.body}"
    document = json.loads(error.body)
    inner = ory_client.GenericError.from_dict(document["error"])  # Kratos's error object: id, code, status, ...
    assert inner.code == status and inner.status and inner.message, error.body
    assert inner.id == error_id, error.body
    if error_id is None:
        # The SDK maps these statuses to ErrorGeneric, whose `error.id` 1.22.87 restricts to two enum values
        # (feature_not_available, quota_exceeded): Kratos's own ids (session_inactive, ...) never parse as
        # ErrorGeneric, on Ory Network either, so only errors without an id are held to it.
        assert ory_client.ErrorGeneric.from_json(error.body).error.message == inner.message
    return document["error"]


# --------------------------------------------------------------------------- cookies


class Browser:
    """A browser's cookie jar in front of the SDK: its own FrontendApi, every answer's Set-Cookie headers kept
    (the SDK's ApiResponse.headers is a dict and keeps only one of several Set-Cookie headers, so they are read
    from the HTTP response underneath). Calls still pass `cookie=browser.cookie` themselves, as a server-side
    rendered app relays its user's cookies."""

    def __init__(self, url: str) -> None:
        self.jar: Dict[str, str] = {}
        self.set_cookies: List[str] = []  # the Set-Cookie headers of the last answer
        api_client = make_clients(url, None).api_client
        send = api_client.rest_client.request

        def request(*args, **kwargs):
            response = send(*args, **kwargs)
            self.set_cookies = response.response.headers.getlist("set-cookie")
            for cookie in self.set_cookies:
                self._keep(cookie)
            return response

        api_client.rest_client.request = request
        self.frontend = ory_client.FrontendApi(api_client)

    def _keep(self, cookie: str) -> None:
        first, _, attributes = cookie.partition(";")
        name, _, value = first.strip().partition("=")
        if value == "" or re.search(r"max-age=(0|-)", attributes, re.IGNORECASE):
            self.jar.pop(name, None)
        else:
            self.jar[name] = value

    @property
    def cookie(self) -> Optional[str]:
        """The Cookie header this browser sends (None when it has no cookies)."""
        return "; ".join(f"{k}={v}" for k, v in self.jar.items()) or None

    def csrf_cookie(self) -> Optional[str]:
        return next((k for k in self.jar if k.startswith("csrf_token_")), None)


# --------------------------------------------------------------------------- projects


@dataclass
class IdentityProject:
    """A fresh project with its own API key; its Kratos API at `url`."""

    project: ory_client.Project
    key: str
    url: str
    frontend: ory_client.FrontendApi
    identity: ory_client.IdentityApi

    @property
    def slug(self) -> str:
        return self.project.slug

    @property
    def session_cookie(self) -> str:
        return "ory_session_" + self.slug.replace("-", "")

    def browser(self) -> Browser:
        return Browser(self.url)

    def admin_with(self, key: Optional[str]) -> ory_client.IdentityApi:
        """The IdentityApi of this project's URL with another key (or none)."""
        return ory_client.IdentityApi(make_clients(self.url, key).api_client)

    # ---- native (api) flows

    def register(self, email: Optional[str] = None, password: str = STRONG) -> ory_client.SuccessfulNativeRegistration:
        flow = self.frontend.create_native_registration_flow()
        return self.frontend.update_registration_flow(
            str(flow.id),
            ory_client.UpdateRegistrationFlowBody(
                ory_client.UpdateRegistrationFlowWithPasswordMethod(
                    method="password", password=password, traits={"email": email or new_email()}
                )
            ),
        )

    def login(self, identifier: str, password: str = STRONG) -> ory_client.SuccessfulNativeLogin:
        flow = self.frontend.create_native_login_flow()
        return self.frontend.update_login_flow(str(flow.id), login_body(identifier, password))

    def whoami(self, token: str) -> ory_client.Session:
        return self.frontend.to_session(x_session_token=token)


def login_body(identifier: str, password: str, csrf: Optional[str] = None) -> ory_client.UpdateLoginFlowBody:
    return ory_client.UpdateLoginFlowBody(
        ory_client.UpdateLoginFlowWithPasswordMethod(
            method="password", identifier=identifier, password=password, csrf_token=csrf
        )
    )


def registration_body(traits: dict, password: str, csrf: Optional[str] = None) -> ory_client.UpdateRegistrationFlowBody:
    return ory_client.UpdateRegistrationFlowBody(
        ory_client.UpdateRegistrationFlowWithPasswordMethod(
            method="password", password=password, traits=traits, csrf_token=csrf
        )
    )


def project_url(dev: dict, slug: str) -> str:
    return dev["project_url_template"].format(slug=slug).rstrip("/")


def wait_until_served(identity: ory_client.IdentityApi, url: str) -> None:
    """Polls the admin identity list until the project and its key reached the region."""
    deadline = time.monotonic() + PROPAGATION_TIMEOUT
    last: Any = None
    while time.monotonic() < deadline:
        try:
            identity.list_identities(page_size=1)
            return
        except ApiException as error:  # 401/404 until the project and its key reach the region
            last = f"HTTP {error.status}: {error.body}"
        time.sleep(0.1)
    raise AssertionError(f"{url}: the identity API still answers {last!r} after {PROPAGATION_TIMEOUT}s")


def create_identity_project(dev: dict, seeded) -> IdentityProject:
    """A project in the seeded workspace, with a project API key, once its region serves it."""
    project = seeded.project.create_project(
        ory_client.CreateProjectBody(
            name=unique("sdk-identity"), environment="dev", home_region="eu-central", workspace_id=seeded.workspace_id
        )
    )
    assert isinstance(project, ory_client.Project)
    key = seeded.project.create_project_api_key(
        str(project.id), ory_client.CreateProjectApiKeyBody(name=unique("sdk-identity-pat"))
    )
    assert isinstance(key, ory_client.ProjectApiKey) and key.value
    url = project_url(dev, project.slug)
    made = IdentityProject(
        project,
        key.value,
        url,
        ory_client.FrontendApi(make_clients(url, None).api_client),
        ory_client.IdentityApi(make_clients(url, key.value).api_client),
    )
    wait_until_served(made.identity, url)
    return made


def fresh_uuid() -> str:
    return str(uuid.uuid4())
