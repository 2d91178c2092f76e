"""Fixtures for the Python SDK end-to-end suite.

The server is started by run.sh (`tessera dev`), which writes dev.json and points
TESSERA_DEV_JSON at it. Every fixture here builds clients with the real `ory_client`
package, exactly as an Ory Network customer would, only aimed at our control plane.
"""

from __future__ import annotations

import json
import os
from typing import Callable, Optional

import ory_client
import pytest

from sdk_helpers import Clients, RawResponse, Tenant, make_clients, raw_request, unique



@pytest.fixture(scope="session")
def dev() -> dict:
    """The contents of dev.json written by `tessera dev`."""
    path = os.environ.get("TESSERA_DEV_JSON")
    if not path:
        pytest.exit("TESSERA_DEV_JSON is not set: run the suite through e2e/sdk-python/run.sh", returncode=2)
    with open(path) as file:
        return json.load(file)


@pytest.fixture(scope="session")
def url(dev) -> str:
    return dev["control_plane_url"].rstrip("/")


@pytest.fixture(scope="session")
def clients_for(url) -> Callable[[Optional[str]], Clients]:
    """Factory: SDK clients for an arbitrary key (or None for no key)."""
    return lambda key: make_clients(url, key)


@pytest.fixture(scope="session")
def raw(url) -> Callable[..., RawResponse]:
    """Factory: raw(method, path, key=None, body=None) against the control plane."""
    return lambda method, path, key=None, body=None: raw_request(url, method, path, key, body)


@pytest.fixture(scope="session")
def operator(url, dev) -> Clients:
    """Clients with the operator (admin) key."""
    return make_clients(url, dev["admin_api_key"])


@pytest.fixture(scope="session")
def seeded(url, dev) -> Tenant:
    """The workspace `tessera dev` seeded, with its workspace key."""
    return Tenant(dev["workspace_id"], dev["workspace_api_key"], make_clients(url, dev["workspace_api_key"]))


@pytest.fixture()
def new_tenant(url, operator) -> Callable[[], Tenant]:
    """Factory: a fresh workspace (created by the operator) with a fresh workspace API key."""

    def create() -> Tenant:
        workspace = operator.workspace.create_workspace(ory_client.CreateWorkspaceBody(name=unique("sdk-ws")))
        assert isinstance(workspace, ory_client.Workspace)
        key = operator.workspace.create_workspace_api_key(
            str(workspace.id), ory_client.CreateWorkspaceApiKeyBody(name=unique("sdk-wak"))
        )
        assert isinstance(key, ory_client.WorkspaceApiKey) and key.value
        return Tenant(str(workspace.id), key.value, make_clients(url, key.value))

    return create


@pytest.fixture()
def tenant(new_tenant) -> Tenant:
    """A fresh workspace of this test's own."""
    return new_tenant()


@pytest.fixture()
def new_project(tenant) -> Callable[..., ory_client.Project]:
    """Factory: create a project in this test's workspace."""

    def create(environment: str = "dev", home_region: Optional[str] = None, name: Optional[str] = None):
        project = tenant.project.create_project(
            ory_client.CreateProjectBody(
                name=name or unique("sdk-project"),
                environment=environment,
                home_region=home_region,
                workspace_id=tenant.workspace_id,
            )
        )
        assert isinstance(project, ory_client.Project)
        return project

    return create


@pytest.fixture()
def project(new_project) -> ory_client.Project:
    """A fresh project (dev, default region) in this test's workspace."""
    return new_project()


def pytest_terminal_summary(terminalreporter):
    """Say how often the suite had to wait out the server's rate limit."""
    import sdk_helpers

    if sdk_helpers.rate_limit_retries:
        terminalreporter.write_line(
            f"rate limit: {sdk_helpers.rate_limit_retries} request(s) answered 429 and were retried after Retry-After"
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test fails, attach what its fixtures can tell about it (e.g. the tail of each server
    process's log, see test_multi_process.py): any fixture value with a `failure_details()` method."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for name, value in getattr(item, "funcargs", {}).items():
        details = getattr(value, "failure_details", None)
        if callable(details):
            try:
                report.sections.append((f"fixture {name}: failure details", details()))
            except Exception as error:  # never hide the test's own failure
                report.sections.append((f"fixture {name}: failure details", f"(could not collect: {error!r})"))
