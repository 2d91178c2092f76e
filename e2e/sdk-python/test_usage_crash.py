"""Usage metering under crashes: the control plane and the eu-central worker are SIGKILLed at random points while
requests flow, then everything is brought back and the usage compared with two ledgers:

- the region's own ledger (every batch its workers wrote to the outbox, read from its SQLite file): the control
  plane's aggregates must equal it exactly, whatever was killed when (nothing lost once written, nothing twice);
- this test's ledger (every request that got a 200): the aggregates may miss only what a worker had counted in
  memory and not yet flushed when it was SIGKILLed, i.e. requests answered within one flush interval (100 ms
  here, plus scheduling slack) before that kill; with only the control plane killed, they are equal.

Like test_multi_process.py, this module starts its own processes (see multi_process.launch_cluster).
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import List, Tuple

import ory_client
import pytest

from multi_process import Cluster, http_get, launch_cluster, shutdown_cluster
from sdk_helpers import raw_request, unique

FLUSH_MS = 100
SLACK_S = 0.4  # scheduling slack on a busy 2-core machine, on top of the flush interval
DRAIN_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def cluster():
    cluster = launch_cluster("tessera-usage-crash-", f"usage_flush_ms = {FLUSH_MS}\n")
    try:
        yield cluster
    finally:
        shutdown_cluster(cluster)


class Traffic(threading.Thread):
    """Requests to the project through eu-central, as fast as one client goes; records when each 200 arrived."""

    def __init__(self, base: str, slug: str):
        super().__init__(daemon=True)
        self.path = f"/p/{slug}/.well-known/openid-configuration"
        self.base = base
        self.answered: List[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                answer = http_get(self.base, self.path)
            except OSError:
                time.sleep(0.01)  # the worker is down
                continue
            if answer.status == 200:
                self.answered.append(time.monotonic())
            else:
                time.sleep(0.01)


def outbox(cluster: Cluster, region: str) -> Tuple[int, int]:
    """(pending batches, api requests of all batches ever written) from the region's database file."""
    db = sqlite3.connect(f"file:{Path(cluster.directory) / (region + '.db')}?mode=ro", uri=True, timeout=10)
    try:
        pending = db.execute("SELECT COUNT(*) FROM usage_outbox WHERE acked_at IS NULL").fetchone()[0]
        written = 0
        for (body,) in db.execute("SELECT body FROM usage_outbox"):
            for count in json.loads(body)["counts"]:
                if count["meter"].startswith("api_requests."):
                    written += count["quantity"]
        return pending, written
    finally:
        db.close()


def aggregated(cluster: Cluster, workspace_id: str, key: str, project_id: str) -> int:
    answer = raw_request(cluster.control_plane.url, "GET", f"/workspaces/{workspace_id}/usage", key)
    assert answer.status == 200, answer.body
    total = 0
    for project in answer.json()["projects"]:
        if project["project_id"] == project_id:
            total += sum(m["total"] for m in project["meters"] if m["meter"].startswith("api_requests."))
    return total


def test_every_written_event_is_applied_exactly_once_across_sigkills(cluster):
    operator = cluster.operator()
    workspace = operator.workspace.create_workspace(ory_client.CreateWorkspaceBody(name=unique("usage-ws")))
    key = operator.workspace.create_workspace_api_key(
        str(workspace.id), ory_client.CreateWorkspaceApiKeyBody(name=unique("usage-wak"))
    ).value
    tenant = cluster.clients(key)
    project = tenant.project.create_project(
        ory_client.CreateProjectBody(name=unique("usage"), environment="prod", home_region="eu-central", workspace_id=str(workspace.id))
    )
    eu = cluster.worker("eu-central")
    deadline = time.monotonic() + 10
    while http_get(eu.url, f"/p/{project.slug}/.well-known/openid-configuration").status != 200:
        assert time.monotonic() < deadline, "the project never reached eu-central"
        time.sleep(0.05)

    traffic = Traffic(eu.url, project.slug)
    traffic.start()
    rng = random.Random(20261130)
    worker_kills: List[float] = []
    try:
        for _ in range(6):
            time.sleep(rng.uniform(0.3, 1.2))
            if rng.random() < 0.5:
                cluster.control_plane.kill()
                time.sleep(rng.uniform(0.1, 0.8))
                cluster.start("control-plane")
            else:
                worker_kills.append(time.monotonic())
                eu.kill()
                time.sleep(rng.uniform(0.1, 0.5))
                cluster.start("eu-central")
        time.sleep(0.5)
    finally:
        traffic.stopping.set()
        traffic.join(timeout=30)

    # A graceful stop flushes what is in memory; the restarted worker ships everything left.
    assert eu.stop() == 0
    cluster.start("eu-central")
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while outbox(cluster, "eu-central")[0] > 0:
        assert time.monotonic() < deadline, "the outbox never drained"
        time.sleep(0.1)

    _, written = outbox(cluster, "eu-central")
    applied = aggregated(cluster, str(workspace.id), key, str(project.id))
    assert applied == written, f"the control plane holds exactly what the region wrote: {applied} != {written}"

    answered = len(traffic.answered)
    assert answered > 100, f"the traffic flowed ({answered} answered)"
    requests = answered + 1  # and the readiness poll's one 200
    at_risk = sum(
        1
        for t in traffic.answered
        if any(kill - (FLUSH_MS / 1000 + SLACK_S) <= t <= kill for kill in worker_kills)
    )
    # A sequential client has at most one request in flight when a worker dies: counted (and maybe flushed)
    # by the server, never answered to the client.
    in_flight = len(worker_kills)
    print(f"usage under SIGKILLs: {requests} answered, {written} written and applied, {len(worker_kills)} worker kills, {at_risk} at risk")
    assert requests - at_risk <= written <= requests + in_flight, (
        f"{requests} answered, {written} written; only the {at_risk} answered within a flush interval before one "
        f"of the {len(worker_kills)} worker kills may be missing"
    )
    if not worker_kills:
        assert written == requests
