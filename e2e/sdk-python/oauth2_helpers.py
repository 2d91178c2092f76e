"""Helpers for the OAuth2 (Hydra API) SDK tests: a project of one's own with `OAuth2Api` on its admin API (the
project API key) and on its protocol endpoints as a client (HTTP Basic from the Configuration's username and
password, as the SDK sends it), token requests the SDK has no parameters for, and Hydra's error shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import parse_qs, urlsplit

import ory_client
import pytest
from ory_client.exceptions import ApiException

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


def token_request(
    api: ory_client.OAuth2Api, form: Sequence[Tuple[str, str]]
) -> ory_client.ApiResponse:
    """POST /oauth2/token with any form (scope, audience, client_secret: oauth2_token_exchange has no parameters
    for them), built with the SDK's serializer and its `basic` auth (the api's username/password, if set), the
    answer deserialized (and validated) into OAuth2TokenExchange by the SDK; an error raises its ApiException."""
    api_client = api.api_client
    method, url, headers, body, post_params = api_client.param_serialize(
        method="POST",
        resource_path="/oauth2/token",
        header_params={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
        post_params=list(form),
        auth_settings=["basic"],
    )
    response = api_client.call_api(method, url, headers, body, post_params)
    response.read()
    answer = api_client.response_deserialize(response, {"200": "OAuth2TokenExchange"})
    assert isinstance(answer.data, ory_client.OAuth2TokenExchange)
    assert_no_unknown_keys(answer.data)
    return answer


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
