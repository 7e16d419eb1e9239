"""A small client of the Airflow 3 public REST API (v2) and of the AEP emulator's admin API.

Used by the integration suite (tests/integration/) and scripts/measure_deployment.py.
Only public endpoints: a JWT from ``POST /auth/token`` (SimpleAuthManager user), then
``/api/v2/...``. Every wait has a deadline and fails with a message naming what it waited
for and the log file to read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import requests

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LOG_DIR = REPO / ".airflow" / "logs"
TERMINAL_RUN_STATES = {"success", "failed"}
FINISHED_TI_STATES = {"success", "failed", "skipped", "upstream_failed", "removed"}

T = TypeVar("T")


def admin_password(home: Path | None = None) -> str:
    """The deployment's UI/REST password: ``AEP_AIRFLOW_PASSWORD``, else the one airflow-up.sh generated.

    scripts/airflow-up.sh writes it once to ``$AEP_AIRFLOW_HOME/admin_password`` (mode 0600); there is
    no default password.
    """
    given = os.environ.get("AEP_AIRFLOW_PASSWORD")
    if given:
        return given
    home = home or Path(os.environ.get("AEP_AIRFLOW_HOME") or REPO / ".airflow")
    file = home / "admin_password"
    try:
        return file.read_text().strip()
    except OSError:
        raise AssertionError(
            f"no Airflow password: set AEP_AIRFLOW_PASSWORD or start the deployment with scripts/airflow-up.sh, "
            f"which writes {file}"
        ) from None


class WaitTimeout(AssertionError):
    """A bounded wait ran out; the message says what was awaited and where to look."""


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 1.0,
    hint: str = "",
    describe: Callable[[], str] | None = None,
) -> T:
    """Call ``probe`` until it returns something truthy; raise ``WaitTimeout`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = f"; last seen: {describe()}" if describe else ""
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}{detail}" + (f"; see {hint}" if hint else ""))
        time.sleep(interval)


@dataclass
class AirflowClient:
    """Airflow REST API v2 with SimpleAuthManager credentials; re-authenticates on 401."""

    base_url: str = "http://127.0.0.1:8080"
    username: str = "admin"
    #: empty: :func:`admin_password` of the deployment whose logs are ``log_dir``, read at login
    password: str = ""
    log_dir: Path = DEFAULT_LOG_DIR
    timeout: float = 30.0
    session: requests.Session = field(default_factory=requests.Session)
    _token: str | None = None

    @classmethod
    def from_env(cls) -> AirflowClient:
        return cls(
            base_url=os.environ.get("AEP_AIRFLOW_URL", "http://127.0.0.1:8080").rstrip("/"),
            username=os.environ.get("AEP_AIRFLOW_USER", "admin"),
            password=os.environ.get("AEP_AIRFLOW_PASSWORD", ""),
            log_dir=Path(os.environ.get("AEP_LOG_DIR", str(DEFAULT_LOG_DIR))),
        )

    def log(self, component: str) -> str:
        return str(self.log_dir / f"{component}.log")

    # ------------------------------------------------------------------ http
    def login(self) -> str:
        response = self.session.post(
            f"{self.base_url}/auth/token",
            json={"username": self.username, "password": self.password or admin_password(self.log_dir.parent)},
            timeout=self.timeout,
        )
        if response.status_code not in (200, 201):
            raise AssertionError(
                f"POST /auth/token as {self.username!r} answered {response.status_code}: {response.text[:300]}"
            )
        self._token = response.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, *, expect: Iterable[int] = (200,), **kwargs: Any) -> Any:
        if self._token is None:
            self.login()
        url = f"{self.base_url}{path}"
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
            response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
            if response.status_code == 401 and attempt == 0:
                self.login()
                continue
            break
        if response.status_code not in set(expect):
            raise AssertionError(
                f"{method} {path} answered {response.status_code}: {response.text[:500]} "
                f"(api-server log: {self.log('api-server')})"
            )
        return response.json() if response.content else None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=body, **kwargs)

    # ------------------------------------------------------------------ dags
    def health(self) -> dict[str, Any]:
        return self.session.get(f"{self.base_url}/api/v2/monitor/health", timeout=self.timeout).json()

    def import_errors(self) -> list[dict[str, Any]]:
        return self.get("/api/v2/importErrors", params={"limit": 100}).get("import_errors", [])

    def wait_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """Wait until the DAG processor has parsed ``dag_id``."""

        def probe() -> dict[str, Any] | None:
            response = self.request("GET", f"/api/v2/dags/{dag_id}", expect=(200, 404))
            return response if response and response.get("dag_id") == dag_id else None

        def describe() -> str:
            errors = self.import_errors()
            return f"import errors: {[(e.get('filename'), e.get('stack_trace', '')[-300:]) for e in errors]}" if errors else "no import error"

        return wait_for(
            f"DAG {dag_id} to be parsed", probe, timeout=timeout, interval=2,
            hint=f"{self.log('dag-processor')} and {self.log_dir}/dag_processor/", describe=describe,
        )

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.patch(f"/api/v2/dags/{dag_id}", {"is_paused": paused})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: str | None = "now") -> str:
        """Trigger a run; like the UI, with the current time as logical date unless told otherwise."""
        if logical_date == "now":
            logical_date = datetime.now(timezone.utc).isoformat()
        body = {"logical_date": logical_date, "conf": conf or {}}
        return str(self.post(f"/api/v2/dags/{dag_id}/dagRuns", body)["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")

    def dag_runs(self, dag_id: str, **params: Any) -> list[dict[str, Any]]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100, **params})["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of a run (paged)."""
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.get(
                f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances",
                params={"limit": 100, "offset": offset},
            )
            out.extend(page["task_instances"])
            offset += len(page["task_instances"])
            if not page["task_instances"] or offset >= page["total_entries"]:
                return out

    def wait_run(
        self,
        dag_id: str,
        run_id: str,
        *,
        timeout: float,
        states: set[str] = TERMINAL_RUN_STATES,
        on_poll: Callable[[list[dict[str, Any]]], None] | None = None,
        interval: float = 1.0,
    ) -> dict[str, Any]:
        """Wait until the DAG run reaches one of ``states``; ``on_poll`` sees the task instances each poll."""
        last: dict[str, Any] = {}

        def probe() -> dict[str, Any] | None:
            if on_poll is not None:
                on_poll(self.task_instances(dag_id, run_id))
            run = self.dag_run(dag_id, run_id)
            last["run"] = run
            return run if run["state"] in states else None

        def describe() -> str:
            tis = self.task_instances(dag_id, run_id)
            by_state: dict[str, list[str]] = {}
            for ti in tis:
                by_state.setdefault(str(ti["state"]), []).append(ti["task_id"])
            return f"run state {last.get('run', {}).get('state')}, task instances by state {by_state}"

        return wait_for(
            f"DAG run {dag_id}/{run_id} to reach {sorted(states)}", probe, timeout=timeout, interval=interval,
            hint=f"{self.log('scheduler')}, {self.log('celery-worker')}, {self.log('triggerer')} and task logs "
            f"under {self.log_dir}/dag_id={dag_id}/run_id={run_id}/",
            describe=describe,
        )

    def clear_task_instances(self, dag_id: str, run_id: str, task_ids: list[str], **options: Any) -> list[dict[str, Any]]:
        body = {
            "dry_run": False, "only_failed": True, "dag_run_id": run_id, "task_ids": task_ids,
            "include_downstream": True, "reset_dag_runs": True, **options,
        }
        return self.post(f"/api/v2/dags/{dag_id}/clearTaskInstances", body)["task_instances"]

    def create_backfill(self, dag_id: str, from_date: str, to_date: str, **options: Any) -> dict[str, Any]:
        body = {"dag_id": dag_id, "from_date": from_date, "to_date": to_date, "max_active_runs": 1,
                "reprocess_behavior": "none", **options}
        return self.post("/api/v2/backfills", body)

    def backfill(self, backfill_id: int) -> dict[str, Any]:
        return self.get(f"/api/v2/backfills/{backfill_id}")


@dataclass
class EmulatorAdmin:
    """The AEP emulator's admin surface (``/_emulator/*``, no auth); see docs/architecture.md."""

    base_url: str = "http://127.0.0.1:8765"
    timeout: float = 30.0

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        # Writes go as JSON ({} when there is nothing to say): the admin API refuses any other body (admin_guard.py).
        body = {} if body is None and method != "GET" else body
        response = requests.request(method, f"{self.base_url}/_emulator{path}", json=body, timeout=self.timeout)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    def resources(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.state()["resources"] if kind is None or r["kind"] == kind]

    def records(self, dataset_id: str) -> dict[str, Any]:
        return self._call("GET", f"/datasets/{dataset_id}/records")

    def set_faults(self, rules: list[dict[str, Any]], seed: int = 1) -> Any:
        return self._call("POST", "/faults", {"seed": seed, "rules": rules})

    def lift_faults(self) -> Any:
        return self._call("POST", "/faults", {"rules": []})

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")

    def reset(self) -> Any:
        return self._call("POST", "/reset")

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move emulator time forward (scheduled runs that come due are made); answers ``{"now", "offset"}``."""
        return self._call("POST", "/clock/advance", {"seconds": seconds})

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def set_config(self, **settings: Any) -> dict[str, Any]:
        return self._call("POST", "/config", settings)
