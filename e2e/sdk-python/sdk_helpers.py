"""Helpers shared by the SDK tests: client construction, raw HTTP and error assertions."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Optional

import ory_client
import pytest
from ory_client.exceptions import (
    ApiException,
    BadRequestException,
    ConflictException,
    ForbiddenException,
    NotFoundException,
    UnauthorizedException,
)

# The SDK maps these statuses to its own exception subclasses; anything else is a plain ApiException.
EXCEPTION_FOR_STATUS = {
    400: BadRequestException,
    401: UnauthorizedException,
    403: ForbiddenException,
    404: NotFoundException,
    409: ConflictException,
}


def unique(prefix: str) -> str:
    """A short name that no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# --------------------------------------------------------------------------- clients


@dataclass
class Clients:
    """The two SDK API classes, sharing one ApiClient authenticated with `key`."""

    key: Optional[str]
    api_client: ory_client.ApiClient
    project: ory_client.ProjectApi
    workspace: ory_client.WorkspaceApi


# The control plane rate-limits per API key and, more strictly, per address for requests without a
# valid key (so that guessing keys is slow). The suite is a fast client: like any polite client it
# waits out a 429 for the time Retry-After says and tries again, a bounded number of times.
MAX_RATE_LIMIT_RETRIES = 20
rate_limit_retries = 0


def _retry_after_seconds(value: Optional[str]) -> float:
    try:
        return min(max(float(value), 0.1), 5.0)
    except (TypeError, ValueError):
        return 1.0


def _wait_out_rate_limits(rest_client) -> None:
    """Wrap the SDK's REST client so that a 429 is retried after Retry-After."""
    send = rest_client.request

    def request(method, url, headers=None, body=None, post_params=None, _request_timeout=None):
        global rate_limit_retries
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            response = send(method, url, headers=headers, body=body, post_params=post_params, _request_timeout=_request_timeout)
            if response.status != 429 or attempt == MAX_RATE_LIMIT_RETRIES:
                return response
            response.read()
            rate_limit_retries += 1
            time.sleep(_retry_after_seconds(response.getheader("retry-after")))
        raise AssertionError("unreachable")

    rest_client.request = request


def make_clients(url: str, key: Optional[str], wait_out_rate_limits: bool = True) -> Clients:
    """SDK clients for `url`; `key=None` sends no Authorization header at all."""
    configuration = ory_client.Configuration(
        host=url,
        access_token=key,
        # Project and workspace operations are pinned to https://api.console.ory.sh in the
        # spec; this makes the SDK send them to `host` instead.
        ignore_operation_servers=True,
        # urllib3, under the SDK, already waits out a 429 with Retry-After on GET/PUT/DELETE (3 times)
        # unless told otherwise; retries=0 turns that off where a test wants to see the 429 itself.
        retries=None if wait_out_rate_limits else 0,
    )
    api_client = ory_client.ApiClient(configuration)
    if wait_out_rate_limits:
        _wait_out_rate_limits(api_client.rest_client)
    return Clients(
        key=key,
        api_client=api_client,
        project=ory_client.ProjectApi(api_client),
        workspace=ory_client.WorkspaceApi(api_client),
    )


@dataclass
class Tenant:
    """A workspace of its own, with a workspace API key and SDK clients using that key."""

    workspace_id: str
    key: str
    clients: Clients

    @property
    def project(self) -> ory_client.ProjectApi:
        return self.clients.project

    @property
    def workspace(self) -> ory_client.WorkspaceApi:
        return self.clients.workspace


# --------------------------------------------------------------------------- raw HTTP


@dataclass
class RawResponse:
    status: int
    headers: dict
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    url: str, method: str, path: str, key: Optional[str] = None, body: Any = None, headers: Optional[dict] = None
) -> RawResponse:
    """A plain HTTP call, for Tessera's extension endpoints that the SDK does not know.

    `headers` adds or replaces request headers (a `Host` given here is sent instead of the URL's).
    """
    data = None
    headers = {"Accept": "application/json", **(headers or {})}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    global rate_limit_retries
    for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
        request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return RawResponse(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            answer = RawResponse(error.code, dict(error.headers), error.read())
        if answer.status != 429 or attempt == MAX_RATE_LIMIT_RETRIES:
            return answer
        rate_limit_retries += 1
        retry_after = next((v for k, v in answer.headers.items() if k.lower() == "retry-after"), None)
        time.sleep(_retry_after_seconds(retry_after))
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- assertions


def expect_api_error(status: int, call: Callable, *args, **kwargs) -> ApiException:
    """Run an SDK call that must fail with HTTP `status`; check the SDK exception and error body.

    A pydantic ValidationError (or any other exception) propagates and fails the test.
    """
    with pytest.raises(ApiException) as info:
        call(*args, **kwargs)
    error = info.value
    assert error.status == status, f"expected HTTP {status}, got {error.status}: {error.body}"
    expected_class = EXCEPTION_FOR_STATUS.get(status)
    if expected_class is not None:
        assert isinstance(error, expected_class), f"{type(error).__name__} for HTTP {status}"
    assert_error_envelope(error.body, status)
    return error


def assert_error_envelope(body: Optional[str], status: int) -> None:
    """The body is Ory's generic error shape {"error": {code, status, reason?, message}} and the
    SDK's ErrorGeneric model parses it."""
    assert body, f"HTTP {status} came with an empty body"
    document = json.loads(body)
    assert set(document) == {"error"}, document
    content = document["error"]
    assert content["code"] == status, content
    assert isinstance(content["status"], str) and content["status"], content
    assert isinstance(content["message"], str) and content["message"], content
    parsed = ory_client.ErrorGeneric.from_json(body)
    assert parsed is not None and parsed.error.message == content["message"]


def set_body_from(project: ory_client.Project, **overrides) -> ory_client.SetProject:
    """A full SetProject (PUT body) built from a GET result, with some fields replaced."""
    fields = dict(
        name=project.name,
        services=project.services,
        cors_public=project.cors_public,
        cors_admin=project.cors_admin,
        organizations=project.organizations,
    )
    fields.update(overrides)
    return ory_client.SetProject(**fields)


def list_workspace_projects_page(
    clients: Clients, workspace_id: str, page_size: Optional[int] = None, page_token: Optional[str] = None
) -> ory_client.ListWorkspaceProjects:
    """GET /workspaces/{workspace}/projects with paging, through the SDK's own machinery.

    The SDK's list_workspace_projects() takes no paging parameters, so this builds the same
    request with the SDK's serializer and auth, adds page_size/page_token, and lets the SDK
    deserialize (and validate) the answer into its ListWorkspaceProjects model.
    """
    query = []
    if page_size is not None:
        query.append(("page_size", page_size))
    if page_token is not None:
        query.append(("page_token", page_token))
    method, request_url, headers, body, post_params = clients.api_client.param_serialize(
        method="GET",
        resource_path="/workspaces/{workspace}/projects",
        path_params={"workspace": workspace_id},
        query_params=query,
        header_params={"Accept": "application/json"},
        auth_settings=["oryWorkspaceApiKey"],
    )
    response = clients.api_client.call_api(method, request_url, headers, body, post_params)
    response.read()
    return clients.api_client.response_deserialize(
        response,
        {"200": "ListWorkspaceProjects", "400": "ErrorGeneric", "401": "ErrorGeneric", "403": "ErrorGeneric"},
    ).data
