"""Expectations and waits shared by the integration tests (REST API v2 + emulator admin API only)."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from pathlib import Path
from typing import Any

from airflow_rest import AirflowClient, EmulatorAdmin, wait_for

from aep_onboarding.loader import load_spec
from aep_onboarding.names import object_names
from aep_onboarding.spec import OnboardingSpec

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "include" / "onboarding"
ACTIVE_RUN_STATES = ("queued", "running")


def spec_of(name: str) -> OnboardingSpec:
    return load_spec(SPECS / f"{name}.yaml")


def actual_resources(emulator: EmulatorAdmin) -> Counter[tuple[str, str]]:
    return Counter((r["kind"], str(r["name"])) for r in emulator.resources() if r["kind"] != "run")


def dataset_ids(emulator: EmulatorAdmin, spec: OnboardingSpec) -> dict[str, str]:
    """object source path -> dataset id, from the emulator's state (by the dataset's name)."""
    by_name = {r["name"]: r["id"] for r in emulator.resources("dataset")}
    return {obj.source: by_name[object_names(spec, obj).dataset] for obj in spec.objects if object_names(spec, obj).dataset in by_name}


def retry_budget_seconds(spec: OnboardingSpec, per_try_overhead: float = 20.0) -> float:
    """Upper bound of the time a task needs to fail all its tries with the spec's retry settings.

    Airflow's exponential backoff waits between delay*2^(n-1) and twice that before retry n,
    capped by max_retry_delay; each try also costs scheduling + a task process start.
    """
    waits = sum(
        min(spec.max_retry_delay_seconds, 2 * spec.retry_delay_seconds * 2**attempt) for attempt in range(spec.retries)
    )
    return waits + per_try_overhead * (spec.retries + 1)


def make_idle(client: AirflowClient, dag_id: str, timeout: float = 300) -> list[dict[str, Any]]:
    """Unpause ``dag_id`` and wait until it has no queued/running run.

    Unpausing a DAG whose schedule has a past interval (catchup off) makes the scheduler
    create one scheduled run at once; it is waited for here so a test's own run never
    shares the DAG (max_active_runs=1) or the emulator with it. Returns the runs that were
    waited for.
    """
    dag = client.get(f"/api/v2/dags/{dag_id}")
    if dag["is_paused"]:
        client.set_paused(dag_id, False)
        run_after = dag.get("next_dagrun_run_after")
        due = run_after is not None and dt.datetime.fromisoformat(run_after.replace("Z", "+00:00")) <= dt.datetime.now(dt.timezone.utc)
        if due:
            wait_for(
                f"the scheduler to create the scheduled run of {dag_id} due at {run_after} after unpausing",
                lambda: [r for r in client.dag_runs(dag_id) if r["run_type"] == "scheduled"],
                timeout=60, interval=1, hint=client.log("scheduler"),
            )
    waited: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    for run in client.dag_runs(dag_id):
        if run["state"] in ACTIVE_RUN_STATES:
            remaining = max(1.0, deadline - time.monotonic())
            waited.append(client.wait_run(dag_id, run["dag_run_id"], timeout=remaining))
    return waited


def states_by_task(task_instances: list[dict[str, Any]]) -> dict[str, str | None]:
    return {ti["task_id"]: ti["state"] for ti in task_instances}
