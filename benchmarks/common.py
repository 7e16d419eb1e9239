"""What the benchmarks share: paths, child processes with their peak memory, the emulator, timing."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
DEMO_ORG = "DEMO0000000000000000000@AdobeOrg"
DEMO_CLIENT = "demo-client"
DEMO_SECRET = "demo-secret"
HUBSPOT_CONN = {
    "conn_type": "generic", "login": "bench-hubspot-client", "password": "bench-hubspot-secret",
    "extra": {"access_token": "bench-hubspot-access", "refresh_token": "bench-hubspot-refresh"},
}


def venv_bin(name: str) -> str:
    local = Path(PYTHON).parent / name
    return str(local) if local.exists() else name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


class BenchTimeout(RuntimeError):
    """A benchmark step ran past its time bound."""


@dataclass
class ChildResult:
    """A finished child process: exit status, wall time, peak RSS (MiB) and its output."""

    returncode: int
    wall_seconds: float
    max_rss_mib: float
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0

    def last_json(self) -> dict[str, Any]:
        """The last stdout line that is a JSON object (children report that way)."""
        for line in reversed(self.stdout.splitlines()):
            line = line.strip()
            if line.startswith("{") and line.endswith("}"):
                result: dict[str, Any] = json.loads(line)
                return result
        raise RuntimeError(f"the child printed no JSON result (exit {self.returncode}):\n"
                           f"{self.stdout[-2000:]}\n{self.stderr[-4000:]}")


def run_child(cmd: Sequence[str], env: dict[str, str] | None = None, timeout: float = 600.0,
              cwd: Path | None = None) -> ChildResult:
    """Run a command to completion, bounded in time, and read its own peak RSS with ``wait4``.

    ``wait4`` gives the rusage of exactly this child (not of every child the
    benchmark ever had, as ``RUSAGE_CHILDREN`` would).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), env=env, cwd=str(cwd or REPO), stdout=out, stderr=err,
                                start_new_session=True)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
                out.seek(0)
                err.seek(0)
                raise BenchTimeout(f"{' '.join(cmd)[:200]} ran past {timeout:.0f} s\n{err.read()[-3000:]}")
            time.sleep(0.005)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in KiB on Linux.
        return ChildResult(proc.returncode, wall, usage.ru_maxrss / 1024.0, out.read(), err.read(),
                           usage.ru_utime + usage.ru_stime)


@dataclass
class AirflowHome:
    """A throwaway Airflow home on SQLite, migrated once per benchmark run."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path, dags_folder: Path) -> AirflowHome:
        root.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        for key in list(env):
            if key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")):
                del env[key]
        # This environment sets PYTHONDONTWRITEBYTECODE=1, which would make every child compile our
        # (editable, never byte-compiled) sources again while site-packages keep their pip-built .pyc:
        # both sides get a bytecode cache of their own instead, outside the repository.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update({
            "DO_NOT_TRACK": "1",  # dag-factory's telemetry (its Airflow plugin) must not try the network
            "PYTHONPYCACHEPREFIX": str(root / "pycache"),
            "AIRFLOW_HOME": str(root),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{root / 'airflow.db'}",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(root / "logs"),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AEP_TOKEN_CACHE_DIR": str(root / "token-cache"),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO), str(REPO / "include"), str(REPO / "plugins"), env.get("PYTHONPATH", "")) if p
            ),
            "AIRFLOW_CONN_HUBSPOT_DEFAULT": json.dumps(HUBSPOT_CONN),
        })
        return cls(root, env)

    def migrate(self, timeout: float = 300.0) -> None:
        if (self.root / ".migrated").exists():
            return
        result = run_child([venv_bin("airflow"), "db", "migrate"], env=self.env, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        (self.root / ".migrated").touch()

    def with_aep(self, base_url: str, token_cache: Path | None = None) -> dict[str, str]:
        """This home's environment with ``aep_default`` pointing at an emulator."""
        env = dict(self.env)
        env["AIRFLOW_CONN_AEP_DEFAULT"] = json.dumps(aep_connection(base_url))
        if token_cache is not None:
            env["AEP_TOKEN_CACHE_DIR"] = str(token_cache)
        return env


def aep_connection(base_url: str) -> dict[str, Any]:
    return {
        "conn_type": "adobe_experience_platform", "login": DEMO_CLIENT, "password": DEMO_SECRET,
        "host": base_url, "extra": {"ims_host": base_url, "org_id": DEMO_ORG, "sandbox": "prod"},
    }


ACCESS_LINE = re.compile(r'"(GET|POST|PUT|PATCH|DELETE) (\S+) HTTP/[\d.]+" \d+')
ID_PART = re.compile(r"/(?:[0-9a-f]{8}-[0-9a-f-]{27,}|[0-9a-f]{24,}|https?%3A[^/]+|_?[a-z]+\.(?:classes|schemas)\.[0-9a-f]+)")


class Emulator:
    """``aep-emulator serve`` in its own process (so its CPU never shares a GIL with what it measures)."""

    def __init__(self, workdir: Path, latency_ms: int = 0, run_duration: float = 0.0,
                 synthetic_tables: int = 60, access_log: bool = False) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.latency_ms = latency_ms
        self.log_path = workdir / f"emulator-{self.port}.log"
        # benchmarks.emulator_main = `aep-emulator serve` plus synthetic HubSpot tables (see there).
        self._cmd = [PYTHON, "-m", "benchmarks.emulator_main", "--synthetic-tables", str(synthetic_tables),
                     "serve", "--host", "127.0.0.1", "--port", str(self.port), "--latency-ms", str(latency_ms),
                     # with a state file, as the deployment runs it (scripts/airflow-up.sh passes --state)
                     "--state", str(workdir / f"emulator-{self.port}" / "state.json"),
                     "--run-duration", str(run_duration), "--log-level", "info" if access_log else "warning"]
        self._log_mark = 0
        self.access_log = access_log
        self._proc: subprocess.Popen[bytes] | None = None
        self._admin = httpx.Client(base_url=self.base_url, timeout=60.0)

    def start(self) -> Emulator:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the access log must be on disk when we read it
        self._proc = subprocess.Popen(self._cmd, stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT,
                                      start_new_session=True, cwd=str(REPO), env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the emulator exited at start; see {self.log_path}")
            try:
                self._admin.get("/_emulator/state").raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the emulator did not answer within 30 s; see {self.log_path}")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._admin.close()

    def reset(self, latency_ms: int | None = None) -> None:
        """Drop every resource and zero the counters; reset restores the start-up config, so set latency after."""
        self._admin.post("/_emulator/reset", json={}).raise_for_status()
        self.set_latency(self.latency_ms if latency_ms is None else latency_ms)
        self._log_mark = self.log_path.stat().st_size if self.log_path.exists() else 0

    def mark(self) -> None:
        """Start ``request_breakdown`` here without dropping anything (a second run on the same resources)."""
        self._log_mark = self.log_path.stat().st_size if self.log_path.exists() else 0

    def request_breakdown(self) -> dict[str, int]:
        """IMS/Platform requests since the last reset by method and path pattern (needs ``access_log``).

        Read it (and ``counters``) before ``flow_created_times``, whose own calls would count.
        """
        counts: dict[str, int] = {}
        if not self.access_log:
            return counts
        time.sleep(0.2)
        with self.log_path.open("rb") as handle:
            handle.seek(self._log_mark)
            text = handle.read().decode("utf-8", "replace")
        for match in ACCESS_LINE.finditer(text):
            method, path = match.group(1), match.group(2).split("?", 1)[0]
            if not path.startswith(("/data/", "/ims/")):
                continue
            path = ID_PART.sub("/{id}", path)
            query = match.group(2).split("?", 1)[1] if "?" in match.group(2) else ""
            if method == "GET" and "property=" in query:
                path += "?property=..."
            key = f"{method} {path}"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    def set_latency(self, latency_ms: int) -> None:
        self._admin.post("/_emulator/config", json={"latency_ms": latency_ms, "run_duration_seconds": 0}
                         ).raise_for_status()

    def configure(self, latency_ms: int, run_duration_seconds: float) -> None:
        """Latency of every Platform call and duration of every flow run, from now on."""
        self._admin.post("/_emulator/config", json={"latency_ms": latency_ms,
                                                    "run_duration_seconds": run_duration_seconds}).raise_for_status()

    def config(self) -> dict[str, Any]:
        """The emulator's run-time settings (``GET /_emulator/config``: seed, data end date, latency, ...)."""
        response = self._admin.get("/_emulator/config")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def state(self) -> dict[str, Any]:
        response = self._admin.get("/_emulator/state")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def counters(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.state()["counters"].items()}

    def platform(self) -> httpx.Client:
        """A Platform client with fresh headers (admin-side reads; not counted as onboarding work)."""
        token = httpx.post(f"{self.base_url}/ims/token/v3", timeout=60, data={
            "client_id": DEMO_CLIENT, "client_secret": DEMO_SECRET, "grant_type": "client_credentials",
            "scope": "openid,AdobeID,read_organizations"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "x-api-key": DEMO_CLIENT, "x-gw-ims-org-id": DEMO_ORG,
                   "x-sandbox-name": "prod"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=120)

    def flow_created_times(self) -> list[float]:
        """``createdAt`` (epoch seconds, emulator clock) of every flow in the demo org's prod sandbox."""
        times: list[float] = []
        with self.platform() as client:
            url: str | None = "/data/foundation/flowservice/flows?limit=100"
            while url:
                body = client.get(url).raise_for_status().json()
                times.extend(float(item["createdAt"]) / 1000.0 for item in body.get("items", []))
                nxt = (body.get("_links") or {}).get("next") or {}
                href = nxt.get("href") if isinstance(nxt, dict) else None
                url = ("/data/foundation/flowservice" + href) if href and not href.startswith("/data/") else href
        return times

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def workdir(keep: bool = False) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="aep-bench-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)
