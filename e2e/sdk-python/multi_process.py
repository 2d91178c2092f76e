"""Running Tessera as separate OS processes, for test_multi_process.py: free ports, the shared config, each
process's lifecycle (start, wait for readiness, SIGTERM then SIGKILL, logs), and raw HTTP to them."""

from __future__ import annotations

import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from sdk_helpers import Clients, RawResponse, make_clients, raw_request


READY_TIMEOUT = 20.0  # a process must answer /health/ready within this many seconds of its start
STOP_TIMEOUT = 10.0  # SIGTERM, then SIGKILL after this many seconds
LOG_TAIL_LINES = 40

ANSI = re.compile(r"\x1b\[[0-9;]*m")


# =============================================================================================
# the processes


def tessera_binary() -> Path:
    """$TESSERA_BIN (run.sh exports it), else run.sh's default ${CARGO_TARGET_DIR:-<repo>/target}/debug/tessera."""
    configured = os.environ.get("TESSERA_BIN")
    if configured:
        path = Path(configured)
    else:
        repo = Path(__file__).resolve().parents[2]
        path = Path(os.environ.get("CARGO_TARGET_DIR") or repo / "target") / "debug" / "tessera"
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"no tessera binary at {path}: set TESSERA_BIN (run.sh does)", pytrace=False)
    return path


def free_ports(count: int) -> List[int]:
    """`count` distinct loopback ports that are free right now (all bound at once, then released)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, have the kernel SIGKILL it if pytest itself dies, so that
    not even a killed test run leaves a server behind."""
    if sys.platform.startswith("linux"):
        try:
            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except Exception:
            pass


def child_environment(extra: Dict[str, str]) -> Dict[str, str]:
    """Our environment without any TESSERA_* or RUST_LOG setting that could leak into the servers
    (the config file says everything), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_") and k != "RUST_LOG"}
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


@dataclass
class Process:
    """One server process: its command line and environment, and its log file (appended to on restart)."""

    name: str
    args: List[str]
    env: Dict[str, str]
    log: Path
    url: str
    popen: Optional[subprocess.Popen] = None
    starts: int = 0
    terminated_at: Optional[float] = None

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        assert not self.running, f"{self.name} is already running"
        self.starts += 1
        with open(self.log, "ab") as log:
            log.write(f"\n===== [test] start #{self.starts}: {' '.join(self.args)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.args,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )

    def note(self, text: str) -> None:
        with open(self.log, "ab") as log:
            log.write(f"===== [test] {text}\n".encode())

    def terminate(self) -> None:
        """Send SIGTERM once (a graceful stop), without waiting."""
        if self.running and self.terminated_at is None:
            self.terminated_at = time.monotonic()
            self.popen.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        """SIGTERM, wait up to `timeout` s, then SIGKILL; returns the exit code (None if not started)."""
        if self.popen is None:
            return None
        if self.popen.poll() is None or self.terminated_at is not None:
            self.terminate()
            started = self.terminated_at if self.terminated_at is not None else time.monotonic()
            try:
                self.popen.wait(max(0.0, started + timeout - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.note(f"did not stop within {timeout} s of SIGTERM: SIGKILL")
                self.popen.kill()
                self.popen.wait()
            self.note(f"exited with {self.popen.returncode}, {time.monotonic() - started:.2f} s after SIGTERM")
            self.terminated_at = None
        return self.popen.returncode

    def kill(self) -> int:
        """SIGKILL, at once."""
        assert self.running, f"{self.name} is not running"
        self.popen.kill()
        self.popen.wait()
        self.note(f"SIGKILLed by the test (exit {self.popen.returncode})")
        return self.popen.returncode

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = ANSI.sub("", self.log.read_text(errors="replace"))
        except OSError as error:
            return f"(no log: {error})"
        return "\n".join(text.splitlines()[-lines:])


def http_get(base: str, path: str, key: Optional[str] = None, host: Optional[str] = None, polite: bool = False) -> RawResponse:
    """One GET, optionally with a Host header.

    By default a 429 is returned like any other answer (a check that the project is served "at once"
    must not pass after quietly waiting out a rate limit); `polite=True` goes through the suite's
    raw_request, which waits out 429s (for checks of refusals, which are rate-limited per address).
    """
    headers = {"Host": host} if host else None
    if polite:
        return raw_request(base, "GET", path, key, headers=headers)
    request = urllib.request.Request(base + path, method="GET", headers={"Accept": "application/json", **(headers or {})})
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return RawResponse(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return RawResponse(error.code, dict(error.headers), error.read())


def reachable(url: str) -> bool:
    """Whether /health/ready answers 200 (False on any connection error)."""
    try:
        with urllib.request.urlopen(url + "/health/ready", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Cluster:
    """A control plane and one worker per region, as separate processes sharing one config file."""

    directory: Path
    binary: Path
    config: Path
    admin_key: str
    processes: Dict[str, Process] = field(default_factory=dict)

    @property
    def control_plane(self) -> Process:
        return self.processes["control-plane"]

    def worker(self, region: str) -> Process:
        return self.processes[region]

    def operator(self) -> Clients:
        return make_clients(self.control_plane.url, self.admin_key)

    def clients(self, key: str) -> Clients:
        return make_clients(self.control_plane.url, key)

    def start(self, name: str) -> None:
        """Start a process and wait for /health/ready; fail (with its log) if it exits or never answers."""
        process = self.processes[name]
        process.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if not process.running:
                raise AssertionError(
                    f"{name} exited with {process.popen.returncode} before it was ready:\n{process.tail()}"
                )
            if reachable(process.url):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not answer {process.url}/health/ready within {READY_TIMEOUT} s")
            time.sleep(0.05)

    def issue_region_key(self, region: str) -> str:
        """`tessera control-plane issue-region-key --region REGION`: the key is the only line on stdout."""
        result = subprocess.run(
            [str(self.binary), "--config", str(self.config), "control-plane", "issue-region-key", "--region", region],
            env=child_environment({}),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
        )
        stdout = result.stdout.decode(errors="replace")
        stderr = ANSI.sub("", result.stderr.decode(errors="replace"))
        assert result.returncode == 0, f"issue-region-key --region {region} exited {result.returncode}:\n{stderr}"
        key = stdout.strip()
        assert re.fullmatch(r"tessera_rk_\S+", key), f"issue-region-key printed {stdout!r}, stderr:\n{stderr}"
        return key

    def failure_details(self) -> str:
        """The state and the log tail of every process (attached to a failing test's report)."""
        parts = []
        for process in self.processes.values():
            if process.popen is None:
                state = "never started"
            elif process.running:
                state = f"running (pid {process.popen.pid})"
            else:
                state = f"exited with {process.popen.returncode}"
            parts.append(f"----- {process.name} ({process.url}): {state}; last lines of {process.log}:\n{process.tail()}")
        return "\n".join(parts)

    def close(self) -> None:
        """SIGTERM every running process at once, then wait for each (SIGKILL after STOP_TIMEOUT)."""
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            process.stop()


CONFIG = """\
[database]
url = "sqlite://{dir}/control-plane.db"

[http]
listen = "127.0.0.1:{cp_port}"

[telemetry]
log_format = "pretty"
log_level = "info,sqlx=warn"

[control_plane]
admin_api_key = "{admin_key}"

[regions.eu-central]
url = "http://127.0.0.1:{eu_port}"

[regions.us-east]
url = "http://127.0.0.1:{us_port}"

[data_plane]
control_plane_url = "http://127.0.0.1:{cp_port}"
forward_secret = "{forward_secret}"
system_secret = "{forward_secret}{forward_secret}"
directory_wait_ms = 2000
# The per-project request budgets (token buckets, a few requests per second on the free plan) are not
# under test here; the polling below would spend them, and a 429 must not be mistaken for an outage.
rate_limit_scale = 100.0
"""




def launch_cluster(prefix: str, data_plane_extra: str = "") -> Cluster:
    """A control plane and the eu-central and us-east workers, each its own OS process on a free loopback port and
    its own SQLite database, in a fresh temp dir (with a private copy of the binary, so that a concurrent rebuild
    cannot swap it between two starts). `data_plane_extra` is appended to the `[data_plane]` table of the shared
    config. If starting fails, every process is stopped and the test fails with the tail of each log."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    binary = directory / "tessera"
    shutil.copy2(tessera_binary(), binary)
    cp_port, eu_port, us_port = free_ports(3)
    admin_key = "tessera-operator-" + secrets.token_hex(16)
    config = directory / "tessera.toml"
    config.write_text(
        CONFIG.format(
            dir=directory,
            cp_port=cp_port,
            eu_port=eu_port,
            us_port=us_port,
            admin_key=admin_key,
            forward_secret=secrets.token_hex(16),
        )
        + data_plane_extra
    )
    cluster = Cluster(directory=directory, binary=binary, config=config, admin_key=admin_key)
    cluster.processes["control-plane"] = Process(
        name="control-plane",
        args=[str(binary), "--config", str(config), "control-plane", "serve"],
        env=child_environment({}),
        log=directory / "control-plane.log",
        url=f"http://127.0.0.1:{cp_port}",
    )
    try:
        cluster.start("control-plane")
        for region, port in (("eu-central", eu_port), ("us-east", us_port)):
            key = cluster.issue_region_key(region)
            cluster.processes[region] = Process(
                name=region,
                args=[str(binary), "--config", str(config), "data-plane", "serve", "--region", region],
                env=child_environment(
                    {
                        "TESSERA_DATABASE__URL": f"sqlite://{directory}/{region}.db",
                        "TESSERA_HTTP__LISTEN": f"127.0.0.1:{port}",
                        "TESSERA_DATA_PLANE__REGION_KEY": key,
                    }
                ),
                log=directory / f"{region}.log",
                url=f"http://127.0.0.1:{port}",
            )
            cluster.start(region)
    except BaseException as error:
        failure = f"could not start the processes: {str(error).splitlines()[0]}\n{cluster.failure_details()}"
        shutdown_cluster(cluster)
        if not isinstance(error, Exception):
            raise  # KeyboardInterrupt and the like
        pytest.fail(failure, pytrace=False)
    return cluster


def shutdown_cluster(cluster: Cluster) -> None:
    """Stops every process (SIGTERM, SIGKILL after a timeout) and removes the temp dir."""
    cluster.close()
    shutil.rmtree(cluster.directory, ignore_errors=True)
