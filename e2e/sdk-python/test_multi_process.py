"""Tessera as separate OS processes: a control plane and two regional workers (eu-central, us-east).

Unlike the rest of the suite, this module does not use the `tessera dev` server that run.sh starts:
it starts its own processes from $TESSERA_BIN, on free loopback ports, in a temp dir of its own, each
on its own SQLite database, exactly as an operator would deploy them:

    tessera --config tessera.toml control-plane serve
    tessera --config tessera.toml control-plane issue-region-key --region eu-central   (and us-east)
    TESSERA_DATABASE__URL=... TESSERA_HTTP__LISTEN=... TESSERA_DATA_PLANE__REGION_KEY=... \\
        tessera --config tessera.toml data-plane serve --region eu-central             (and us-east)

The workspace, the project and their keys are made with the Ory SDK against the control plane; the
project is then reached through both regions' addresses while it is halted and resumed, while the
control plane is down (SIGKILL), across a restart of a worker, and after the control plane is back.

The tests run in file order and share the processes and the project (module scope): each one starts
from the state the previous one leaves behind when it passes (everything up, the project running).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import ory_client
import pytest

from sdk_helpers import Clients, RawResponse, assert_error_envelope, raw_request, unique

from multi_process import Cluster, http_get, launch_cluster, reachable, shutdown_cluster

REGIONS = ("eu-central", "us-east")
HOME = "eu-central"
SESSION_LIFESPAN = "/services/identity/config/session/lifespan"

STOP_TIMEOUT = 10.0  # SIGTERM, then SIGKILL after this many seconds
PROPAGATION_TIMEOUT = 5.0  # a change on the control plane reaches the regions (directory long-poll)
RECONNECT_TIMEOUT = 10.0  # ... also after the control plane was down (the workers' retry backoff is capped)




@pytest.fixture(scope="module")
def cluster():
    """The control plane and the eu-central and us-east workers, each its own OS process.

    Every process is stopped at the end (SIGTERM, SIGKILL after a timeout), whatever happened, and
    the temp dir (databases, config, logs, a private copy of the binary) is removed. If starting
    fails, the error carries the tail of each log; a failing test gets them in its report too.
    """
    cluster = launch_cluster("tessera-multi-process-")
    try:
        yield cluster
    finally:
        shutdown_cluster(cluster)


# =============================================================================================
# the project, made through the SDK


@dataclass
class Deployment:
    """What step 1 made: a workspace (and its key), a project homed in eu-central (and its key)."""

    workspace_id: str
    workspace: Clients
    project: ory_client.Project
    project_key: str

    @property
    def project_id(self) -> str:
        return str(self.project.id)


@pytest.fixture(scope="module")
def deployment(cluster) -> Deployment:
    """Step 1, with the Ory SDK: the operator creates a workspace and a workspace API key; with the
    workspace key, a prod project homed in eu-central and a project API key."""
    operator = cluster.operator()
    workspace = operator.workspace.create_workspace(ory_client.CreateWorkspaceBody(name=unique("mp-ws")))
    assert isinstance(workspace, ory_client.Workspace)
    workspace_key = operator.workspace.create_workspace_api_key(
        str(workspace.id), ory_client.CreateWorkspaceApiKeyBody(name=unique("mp-wak"))
    )
    assert isinstance(workspace_key, ory_client.WorkspaceApiKey) and workspace_key.value
    tenant = cluster.clients(workspace_key.value)

    project = create_project(tenant, str(workspace.id), HOME)
    project_key = tenant.project.create_project_api_key(
        str(project.id), ory_client.CreateProjectApiKeyBody(name=unique("mp-pat"))
    )
    assert isinstance(project_key, ory_client.ProjectApiKey)
    assert project_key.value and str(project_key.project_id) == str(project.id)
    return Deployment(str(workspace.id), tenant, project, project_key.value)


def create_project(tenant: Clients, workspace_id: str, home_region: str) -> ory_client.Project:
    project = tenant.project.create_project(
        ory_client.CreateProjectBody(
            name=unique("mp-project"), environment="prod", home_region=home_region, workspace_id=workspace_id
        )
    )
    assert isinstance(project, ory_client.Project)
    assert project.home_region == home_region and project.environment == "prod" and project.state == "running"
    assert project.slug and isinstance(project.revision_id, uuid.UUID)
    return project


# =============================================================================================
# reaching a project through a region


def addresses(cluster: Cluster, slug: str) -> List[Tuple[str, str, str, Optional[str]]]:
    """Every way to reach the project: (label, worker URL, path, Host header), for each region,
    by path prefix (/p/<slug>/...) and by host (<slug>.projects.localhost)."""
    result = []
    for region in REGIONS:
        url = cluster.worker(region).url
        result.append((f"{region} /p/{slug}", url, f"/p/{slug}/admin/tenant", None))
        result.append((f"{region} Host {slug}.projects.localhost", url, "/admin/tenant", f"{slug}.projects.localhost"))
    return result


def fetch_tenant(cluster: Cluster, slug: str, key: Optional[str], polite: bool = False) -> Dict[str, RawResponse]:
    """GET .../admin/tenant through every address of the project (see http_get for `polite`)."""
    return {label: http_get(url, path, key, host, polite) for label, url, path, host in addresses(cluster, slug)}


def describe(answers: Dict[str, RawResponse]) -> str:
    return "\n".join(f"  {label}: HTTP {a.status} {a.body[:400].decode(errors='replace')}" for label, a in answers.items())


def eventually(
    check: Callable[[], Tuple[bool, Any]], timeout: float, what: str, show: Callable[[Any], str] = str, interval: float = 0.1
) -> Any:
    """Call `check` until it returns (True, observation) or `timeout` s pass; returns the observation,
    or fails showing the last one."""
    deadline = time.monotonic() + timeout
    while True:
        ok, observation = check()
        if ok:
            return observation
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not so after {timeout} s; last seen:\n{show(observation)}")
        time.sleep(interval)


def served(answers: Dict[str, RawResponse], project: ory_client.Project, revision_id: Any, region: str = HOME) -> bool:
    """Every answer is 200 with this project at this revision, served by its home region."""
    for answer in answers.values():
        if answer.status != 200:
            return False
        body = answer.json()
        if (
            body.get("project_id") != str(project.id)
            or body.get("slug") != project.slug
            or body.get("revision_id") != str(revision_id)
            or body.get("served_by") != region
            or body.get("home_region") != region
        ):
            return False
    return True


def wait_until_served(
    cluster: Cluster, project: ory_client.Project, key: str, revision_id: Any, timeout: float, region: str = HOME
) -> Dict[str, RawResponse]:
    """Poll every address until each serves the project at `revision_id` from `region`."""

    def check():
        answers = fetch_tenant(cluster, project.slug, key)
        return served(answers, project, revision_id, region), answers

    what = f"project {project.slug} served by {region} at revision {revision_id} through every address"
    return eventually(check, timeout, what, show=describe)


def assert_served_now(cluster: Cluster, project: ory_client.Project, key: str, revision_id: Any, when: str) -> None:
    """One request per address, no waiting: all must be served by the home region."""
    answers = fetch_tenant(cluster, project.slug, key)
    assert served(answers, project, revision_id), f"{when}, the project is not served through every address:\n{describe(answers)}"


# ory_client's GenericErrorContent only accepts these values for `error.id` (an enum in Ory's spec).
SDK_ERROR_IDS = {"feature_not_available", "quota_exceeded"}


def assert_error(answer: RawResponse, status: int, error_id: Optional[str], label: str) -> None:
    """A worker's error: HTTP `status` with Ory's error body {"error": {code, status, reason?, message, id?}},
    and error.id == `error_id` unless that is None.

    The body goes through the SDK's ErrorGeneric model too, unless it carries an `id` outside that
    model's enum: the workers' ids (project_halted, project_not_found) are not in Ory's project-API
    enum, just as Kratos's own ids (session_inactive, ...) are not.
    """
    assert answer.status == status, f"{label}: expected HTTP {status}, got {answer.status}: {answer.body!r}"
    document = answer.json()
    content = document.get("error")
    assert set(document) == {"error"} and isinstance(content, dict), f"{label}: {document}"
    assert content.get("code") == status, f"{label}: {document}"
    assert isinstance(content.get("status"), str) and content["status"], f"{label}: {document}"
    assert isinstance(content.get("message"), str) and content["message"], f"{label}: {document}"
    if error_id is not None:
        assert content.get("id") == error_id, f"{label}: expected error.id {error_id!r}: {document}"
    if content.get("id") is None or content["id"] in SDK_ERROR_IDS:
        assert_error_envelope(answer.body.decode(), status)


def set_state(cluster: Cluster, project_id: str, state: str) -> None:
    """PUT /projects/{id}/state with the operator key (a Tessera extension the SDK does not know)."""
    answer = raw_request(cluster.control_plane.url, "PUT", f"/projects/{project_id}/state", cluster.admin_key, {"state": state})
    assert answer.status == 200, f"PUT state {state}: HTTP {answer.status} {answer.body!r}"


def worker_status(cluster: Cluster, region: str) -> dict:
    answer = http_get(cluster.worker(region).url, "/status", polite=True)
    assert answer.status == 200, f"{region} /status: HTTP {answer.status} {answer.body!r}"
    status = answer.json()
    assert status["region"] == region, status
    return status


# =============================================================================================
# the tests, in order


def test_processes_are_up_and_report_their_region(cluster):
    """Three separate processes answer /health/ready; each worker's /status names its region."""
    pids = {name: process.popen.pid for name, process in cluster.processes.items()}
    assert len(set(pids.values())) == 3 and all(p.running for p in cluster.processes.values()), pids
    for region in REGIONS:
        status = worker_status(cluster, region)
        assert isinstance(status["directory"]["seq"], int), status


def test_project_is_served_through_both_regions(cluster, deployment):
    """Step 2: the new project answers at both regions' addresses, by path prefix and by Host header:
    eu-central serves it itself, us-east forwards to eu-central (so served_by is eu-central everywhere).
    It reaches the regions by the directory long-poll, so this waits (briefly) for propagation."""
    project = deployment.project
    answers = wait_until_served(cluster, project, deployment.project_key, project.revision_id, PROPAGATION_TIMEOUT)
    for answer in answers.values():
        body = answer.json()
        assert body["workspace_id"] == deployment.workspace_id, body
        assert body["environment"] == "prod", body

    # Without a key, and for a slug nobody has, every region says so.
    for label, answer in fetch_tenant(cluster, project.slug, None, polite=True).items():
        assert_error(answer, 401, None, f"{label} without a key")
    for region in REGIONS:
        unknown = f"no-such-project-{uuid.uuid4().hex[:8]}"
        answer = http_get(cluster.worker(region).url, f"/p/{unknown}/admin/tenant", deployment.project_key, polite=True)
        assert_error(answer, 404, "project_not_found", f"{region} unknown slug")


def test_another_projects_key_is_refused_in_both_regions(cluster, deployment):
    """A project API key works for its own project only: a second project's key (a valid key: its
    project answers with it, through both regions) gets 401 from this project in either region."""
    other = create_project(deployment.workspace, deployment.workspace_id, "us-east")
    other_key = deployment.workspace.project.create_project_api_key(
        str(other.id), ory_client.CreateProjectApiKeyBody(name=unique("mp-other-pat"))
    )
    assert isinstance(other_key, ory_client.ProjectApiKey) and other_key.value
    wait_until_served(cluster, other, other_key.value, other.revision_id, PROPAGATION_TIMEOUT, region="us-east")

    for label, answer in fetch_tenant(cluster, deployment.project.slug, other_key.value, polite=True).items():
        assert_error(answer, 401, None, f"{label} with another project's key")
    for label, answer in fetch_tenant(cluster, other.slug, deployment.project_key, polite=True).items():
        assert_error(answer, 401, None, f"{label} (the other project) with this project's key")


def test_halt_and_resume_reach_both_regions(cluster, deployment):
    """Step 3: halted by the operator, the project is refused by both regions (403 project_halted);
    resumed, both serve it again."""
    project = deployment.project
    set_state(cluster, deployment.project_id, "halted")
    assert deployment.workspace.project.get_project(deployment.project_id).state == "halted"

    def refused():
        answers = fetch_tenant(cluster, project.slug, deployment.project_key)
        ok = all(a.status == 403 and a.json().get("error", {}).get("id") == "project_halted" for a in answers.values())
        return ok, answers

    answers = eventually(refused, PROPAGATION_TIMEOUT, "halted project refused (403 project_halted) everywhere", show=describe)
    for label, answer in answers.items():
        assert_error(answer, 403, "project_halted", label)

    set_state(cluster, deployment.project_id, "running")
    assert deployment.workspace.project.get_project(deployment.project_id).state == "running"
    wait_until_served(cluster, project, deployment.project_key, project.revision_id, PROPAGATION_TIMEOUT)


def test_regions_keep_serving_without_the_control_plane(cluster, deployment):
    """Steps 4 to 6, static stability:

    4. the control plane is SIGKILLed: both workers notice (their /status shows the sync error) and
       keep serving the project;
    5. the us-east worker is restarted (SIGTERM, then the same database) while the control plane is
       still down: it serves the project at once from its persisted directory;
    6. the control plane comes back (same database and port), the project's config is changed with the
       SDK, and both regions report the new revision.
    """
    project = deployment.project
    revision = project.revision_id
    # Start from a running, propagated project whatever an earlier test left.
    set_state(cluster, deployment.project_id, "running")
    wait_until_served(cluster, project, deployment.project_key, revision, PROPAGATION_TIMEOUT)

    # 4. The control plane dies abruptly.
    cluster.control_plane.kill()
    assert not reachable(cluster.control_plane.url)

    def noticed(region):
        status = worker_status(cluster, region)
        return bool(status["directory"].get("last_error")), status

    for region in REGIONS:
        eventually(lambda: noticed(region), PROPAGATION_TIMEOUT, f"{region} notices the control plane is gone")
    assert_served_now(cluster, project, deployment.project_key, revision, "with the control plane down")

    # 5. us-east restarts (graceful stop, same database) while the control plane is still down.
    seq_before = worker_status(cluster, "us-east")["directory"]["seq"]
    started = time.monotonic()
    exit_code = cluster.worker("us-east").stop()
    assert exit_code == 0, f"us-east exited with {exit_code} on SIGTERM (graceful stop expected)"
    assert time.monotonic() - started < STOP_TIMEOUT
    cluster.start("us-east")
    assert not reachable(cluster.control_plane.url), "the control plane must still be down"

    assert_served_now(cluster, project, deployment.project_key, revision, "right after us-east restarted without the control plane")
    status = worker_status(cluster, "us-east")
    assert status["directory"]["projects"] >= 1, status
    assert status["directory"]["seq"] == seq_before, f"restarted from its persisted directory: {status}"

    # 6. The control plane comes back on the same database and port; a config change reaches both regions.
    cluster.start("control-plane")
    tenant = deployment.workspace
    current = tenant.project.get_project(deployment.project_id)
    assert isinstance(current, ory_client.Project) and current.revision_id == revision
    lifespan = current.services.identity.config["session"]["lifespan"]
    new_lifespan = "36h" if lifespan != "36h" else "48h"

    updated = tenant.project.patch_project(
        deployment.project_id, [ory_client.JsonPatch(op="replace", path=SESSION_LIFESPAN, value=new_lifespan)]
    )
    assert isinstance(updated, ory_client.SuccessfulProjectUpdate)
    assert updated.project.revision_id != revision
    assert updated.project.services.identity.config["session"]["lifespan"] == new_lifespan
    assert tenant.project.get_project(deployment.project_id).revision_id == updated.project.revision_id

    wait_until_served(cluster, project, deployment.project_key, updated.project.revision_id, RECONNECT_TIMEOUT)
    for region in REGIONS:
        assert worker_status(cluster, region)["directory"]["projects"] >= 1
