"""Our DAG on the real deployment started by ``scripts/airflow-up.sh`` (the scripts team's), driven over REST.

The benchmark gives the deployment its own everything so it never touches a
developer's deployment: ``AEP_AIRFLOW_HOME`` in the work folder, metadata
database ``airflow_aep_bench``, Redis database 9, free ports for the API
server, the log servers and the emulator the script starts (unused: ``AIRFLOW_CONN_AEP_DEFAULT``
points at the benchmark's own emulator, which has the synthetic tables), a dags
folder holding only our DAG file and ``AEP_SPECS_DIR`` holding the benchmark
specs. ``--fresh-db`` at start, ``airflow-down.sh`` at the end.

A measured run: reset the emulator and set its latency, clear the token cache,
unpause the spec's DAG (``@daily``, no catch-up: the scheduler creates exactly
one run, for the latest interval), wait for it to finish, then read its task
instances and the DAG's tasks over REST for the overhead analysis.

Executors: ``AEP_EXECUTOR=celery|local`` (scripts/airflow-env.sh); an older
copy of the scripts without that knob gets ``local`` reported as not measured.
The log-server ports are free ports too (``AEP_WORKER_LOG_PORT``,
``AEP_TRIGGERER_LOG_PORT``), so a developer's deployment can keep running.

dag-factory's Airflow plugin, which the ``bench`` extra installs into the same
venv, is replaced by an empty stand-in on the deployment's PYTHONPATH
(``benchmarks/_no_dagfactory_plugin``): otherwise every task process would
pay for importing dag-factory.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import (
    HUBSPOT_CONN,
    REPO,
    BenchTimeout,
    Emulator,
    aep_connection,
    free_port,
    log,
    run_child,
)
from benchmarks.task_memory import TaskMemory

ONE_SPEC_DAG_FILE = '''"""Airflow DAG file of one benchmark spec, built by our factory (aep_onboarding)."""
from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import load_spec

_spec = load_spec({spec!r})
globals()[_spec.dag_id] = build_onboarding_dag(_spec, source_file={spec!r})
'''

SCRIPTS = REPO / "scripts"


def scripts_ready() -> str | None:
    """None when the deployment scripts exist, else why not."""
    for name in ("airflow-up.sh", "airflow-down.sh", "airflow-env.sh"):
        if not (SCRIPTS / name).exists():
            return f"scripts/{name} does not exist yet"
    return None


def executor_supported(executor: str) -> str | None:
    """None when the scripts can run this executor, else why not."""
    if executor == "celery":
        return None
    env_sh = (SCRIPTS / "airflow-env.sh").read_text()
    if "AEP_EXECUTOR" not in env_sh:
        return "scripts/airflow-env.sh hard-codes AIRFLOW__CORE__EXECUTOR=CeleryExecutor (no AEP_EXECUTOR knob)"
    return None


def _ts(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


@dataclass
class DeploymentRun:
    dag_id: str
    state: str
    unpaused_at: float
    queued_at: float | None
    start: float | None
    end: float | None
    task_instances: list[dict[str, Any]] = field(default_factory=list)
    upstream: dict[str, list[str]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    #: the largest XCom value of the run: {"task_id", "key", "bytes"} (its JSON size), {} when none was read
    largest_xcom: dict[str, Any] = field(default_factory=dict)
    #: the task with the largest sampled peak RSS: {"task_id", "peak_mib"} (benchmarks/task_memory.py)
    largest_task_memory: dict[str, Any] = field(default_factory=dict)


class Deployment:
    def __init__(self, work: Path, emulator: Emulator, specs_dir: Path, executor: str = "celery") -> None:
        self.work = work
        self.home = work / f"deploy-{executor}"
        self.dags = work / "deploy-dags"
        self.executor = executor
        self.emulator = emulator
        self.specs_dir = specs_dir
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.env = dict(os.environ)
        for key in list(self.env):
            if key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_HOME")):
                del self.env[key]
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)  # a real deployment writes bytecode
        self.env.update({
            "AEP_AIRFLOW_HOME": str(self.home),
            "AEP_AIRFLOW_DB": "airflow_aep_bench",
            "AEP_REDIS_URL": "redis://127.0.0.1:6379/9",
            "AEP_API_PORT": str(self.api_port),
            "AEP_EMULATOR_PORT": str(free_port()),
            "AEP_DAGS_FOLDER": str(self.dags),
            "AEP_SPECS_DIR": str(specs_dir),
            "AEP_EXECUTOR": executor,
            "AEP_WORKER_LOG_PORT": str(free_port()),
            "AEP_TRIGGERER_LOG_PORT": str(free_port()),
            "PYTHONPYCACHEPREFIX": str(self.home / "pycache"),
            "DO_NOT_TRACK": "1",
            # dag-factory's Airflow plugin (bench extra) would load in every process: see the stand-in's docstring
            "PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).parent / "_no_dagfactory_plugin"),
                                                      os.environ.get("PYTHONPATH", "")) if p),
            "AIRFLOW_CONN_AEP_DEFAULT": json.dumps(aep_connection(emulator.base_url)),
            "AIRFLOW_CONN_HUBSPOT_DEFAULT": json.dumps(HUBSPOT_CONN),
        })
        self._http = httpx.Client(base_url=self.api_url, timeout=60)
        self._token: str | None = None
        self.up_seconds = 0.0

    # -- lifecycle ---------------------------------------------------------------------------
    def up(self, timeout: float = 420) -> None:
        # One DAG file per spec: a task process parses only its own DAG's file, so it does not also
        # build the DAGs of the other benchmark specs (dags/aep_onboarding_dags.py builds every spec's
        # DAG in one file, so there every task pays for all of them; see the report).
        self.dags.mkdir(parents=True, exist_ok=True)
        for spec in sorted(self.specs_dir.glob("*.yaml")):
            (self.dags / f"onboard_{spec.stem}.py").write_text(ONE_SPEC_DAG_FILE.format(spec=str(spec)))
        log(f"deployment ({self.executor}): scripts/airflow-up.sh --fresh-db (API on {self.api_url})")
        started = time.monotonic()
        result = run_child(["bash", str(SCRIPTS / "airflow-up.sh"), "--fresh-db", "--timeout", str(int(timeout - 30))],
                           env=self.env, timeout=timeout)
        self.up_seconds = time.monotonic() - started
        if result.returncode != 0:
            raise RuntimeError(f"airflow-up.sh failed ({result.returncode}):\n{result.stderr[-3000:]}")

    def down(self) -> None:
        try:
            run_child(["bash", str(SCRIPTS / "airflow-down.sh")], env=self.env, timeout=120)
        except BenchTimeout as exc:
            log(f"airflow-down.sh: {exc}")
        self._http.close()

    # -- REST ----------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        if self._token is None:
            password = self.env.get("AEP_AIRFLOW_PASSWORD") or (self.home / "admin_password").read_text().strip()
            answer = self._http.post("/auth/token", json={"username": "admin", "password": password})
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return {"Authorization": f"Bearer {self._token}"}

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        for _ in range(2):
            answer = self._http.request(method, path, headers=self._headers(), **kw)
            if answer.status_code == 401:
                self._token = None
                continue
            answer.raise_for_status()
            return answer.json()
        raise RuntimeError(f"{method} {path}: unauthorized")

    def api(self, method: str, path: str, **kw: Any) -> Any:
        """One REST call (``/api/v2/...``) as the admin user; raises on an error status."""
        return self._call(method, path, **kw)

    def wait_dag(self, dag_id: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self._call("GET", f"/api/v2/dags/{dag_id}")
                return
            except httpx.HTTPStatusError:
                time.sleep(2)
        errors = self._call("GET", "/api/v2/importErrors")
        raise BenchTimeout(f"{dag_id} not parsed within {timeout:.0f}s; import errors: {json.dumps(errors)[:2000]}")

    def cpu_by_component(self) -> dict[str, float]:
        """CPU seconds used so far by the deployment's processes, by component (process group).

        Every process the scripts start is in its component's process group or carries
        ``AEP_AIRFLOW_DEPLOYMENT=<id>``; for each live one,
        user + system time of itself and of its reaped children (task processes end up in their
        worker's, or with LocalExecutor the scheduler's, children time).
        """
        try:
            dep_id = (self.home / "run" / "deployment_id").read_text().strip()
        except OSError:
            return {}
        marker = f"AEP_AIRFLOW_DEPLOYMENT={dep_id}".encode()
        groups: dict[int, str] = {}
        for pid_file in (self.home / "run").glob("*.pid"):
            try:
                groups[int(pid_file.read_text().split()[0])] = pid_file.stem
            except (OSError, ValueError, IndexError):
                continue
        ticks = float(os.sysconf("SC_CLK_TCK"))
        totals: dict[str, float] = {}
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                # Processes that set their title (Celery pool workers, the api-server) overwrite the
                # environment block /proc shows, so the marker is missing there: their process group says.
                if int(fields[2]) not in groups and marker not in (proc / "environ").read_bytes().split(b"\0"):
                    continue
            except (OSError, ValueError, IndexError):
                continue
            # after the command: state, ppid, pgrp, ... utime (14), stime, cutime, cstime (17)
            component = groups.get(int(fields[2]), "other (own process groups)")
            totals[component] = totals.get(component, 0.0) + sum(int(x) for x in fields[11:15]) / ticks
        return totals

    def run_once(self, dag_id: str, latency_ms: int, timeout: float) -> DeploymentRun:
        """Reset the emulator, unpause the DAG, wait for its one scheduled run (or the time limit)."""
        self.wait_dag(dag_id)
        self.emulator.reset(latency_ms)
        shutil.rmtree(self.home / ".aep_token_cache", ignore_errors=True)  # cold token cache per run
        time.sleep(3)  # let the deployment settle after parsing, so the CPU count is this run's
        cpu_before = self.cpu_by_component()
        memory = TaskMemory().start()
        unpaused = time.time()
        self._call("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            runs = self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 5}).get("dag_runs", [])
            if runs:
                run = runs[0]
                if run.get("state") in ("success", "failed"):
                    break
            time.sleep(1)
        else:
            run = {**run, "state": f"unfinished after {timeout:.0f} s (time limit)"}
        cpu_after = self.cpu_by_component()
        peaks = memory.stop()
        self._call("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": True})
        if not run:
            raise BenchTimeout(f"{dag_id}: no run was created within {timeout:.0f}s")
        run_id = run["dag_run_id"]
        if str(run["state"]).startswith("unfinished"):
            # A paused DAG's running run goes on and would hold the pool and the worker during the
            # next measurement: mark it failed, then give its task processes a moment to be stopped.
            try:
                self._call("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", json={"state": "failed"})
            except httpx.HTTPError as exc:
                log(f"could not mark {dag_id} {run_id} failed: {exc}")
            time.sleep(15)
        tis = self._call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                         params={"limit": 1000}).get("task_instances", [])
        tasks = self._call("GET", f"/api/v2/dags/{dag_id}/tasks").get("tasks", [])
        upstream: dict[str, list[str]] = {t["task_id"]: [] for t in tasks}
        for t in tasks:
            for down in t.get("downstream_task_ids") or []:
                upstream.setdefault(down, []).append(t["task_id"])
        rows = [{
            "task_id": ti["task_id"], "state": ti.get("state"), "start": _ts(ti.get("start_date")),
            "end": _ts(ti.get("end_date")), "queued": _ts(ti.get("queued_when")), "try_number": ti.get("try_number"),
            "peak_mib": peaks.get(str(ti.get("id"))),
        } for ti in tis]
        cpu = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_after.items()}
        sampled = [r for r in rows if r["peak_mib"] is not None]
        largest = max(sampled, key=lambda r: r["peak_mib"]) if sampled else None
        return DeploymentRun(dag_id, str(run.get("state")), unpaused, _ts(run.get("queued_at")),
                             _ts(run.get("start_date")), _ts(run.get("end_date")), rows, upstream, cpu,
                             largest_xcom=self.largest_xcom(dag_id, run_id, [t["task_id"] for t in tis]),
                             largest_task_memory={"task_id": largest["task_id"], "peak_mib": largest["peak_mib"]}
                             if largest else {})

    def largest_xcom(self, dag_id: str, run_id: str, task_ids: list[str]) -> dict[str, Any]:
        """The run's largest XCom value (its JSON size in bytes), read over REST."""
        best: dict[str, Any] = {}
        base = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        for task_id in task_ids:
            try:
                entries = self._call("GET", f"{base}/{task_id}/xcomEntries", params={"limit": 100})
                for entry in entries.get("xcom_entries", []):
                    value = self._call("GET", f"{base}/{task_id}/xcomEntries/{entry['key']}").get("value")
                    size = len(value.encode()) if isinstance(value, str) else len(json.dumps(value).encode())
                    if size > best.get("bytes", -1):
                        best = {"task_id": task_id, "key": entry["key"], "bytes": size}
            except httpx.HTTPError as exc:
                log(f"xcom of {dag_id} {task_id}: {exc}")
        return best


def overhead(run: DeploymentRun) -> dict[str, float]:
    """Where a deployment run's time goes, from its task instances.

    ``ready_to_start``: for each task, its start minus the last end of its upstream tasks (scheduler
    loop, executor queue, Celery pickup, task process start-up and DAG-file parse before the
    task instance is marked running); ``duration``: start to end (the operator's calls plus the rest
    of the task process's own work).
    """
    by_id = {ti["task_id"]: ti for ti in run.task_instances}
    gaps: list[float] = []
    durations: list[float] = []
    for ti in run.task_instances:
        if ti["start"] is None or ti["end"] is None or ti["state"] != "success":
            continue
        durations.append(ti["end"] - ti["start"])
        ups = [by_id[u]["end"] for u in run.upstream.get(ti["task_id"], []) if u in by_id and by_id[u]["end"]]
        ready = max(ups) if ups else (run.start or ti["start"])
        gaps.append(max(0.0, ti["start"] - ready))
    gaps.sort()
    durations.sort()

    def med(xs: list[float]) -> float:
        return xs[len(xs) // 2] if xs else float("nan")

    return {"tasks": float(len(durations)), "ready_to_start_median": med(gaps),
            "ready_to_start_sum": sum(gaps), "duration_median": med(durations), "duration_sum": sum(durations)}
