"""The hand-written example DAG (dags/aep_example_by_hand.py) on a real Airflow 3 deployment.

The deployment's DAG processor loads it with no import error, and a run for one day, triggered through the
REST API, succeeds on the Celery worker with its sensor deferred to the triggerer: the README's code works
as shown, not only under ``dag.test()``.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime, timezone
from typing import Any

import pytest
from expected_records import expected_records
from it_helpers import REPO, make_idle, states_by_task

pytestmark = pytest.mark.integration

DAG_ID = "aep_example_by_hand"
RUN_TIMEOUT = 300.0
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _example() -> Any:
    module_spec = importlib.util.spec_from_file_location("aep_example_by_hand_it", REPO / "dags" / f"{DAG_ID}.py")
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_the_example_dag_loads_and_ingests_a_day_on_the_deployment(deployment) -> None:
    """Triggered for Dec 3 (its data interval: Dec 2), the by-hand DAG creates its resources, ingests the
    contacts before the flow's start and those of Dec 2, and its sensor waits on the triggerer."""
    client, emulator = deployment.airflow, deployment.emulator
    client.wait_dag(DAG_ID)
    assert not [e for e in client.import_errors() if DAG_ID in str(e.get("filename"))]
    make_idle(client, DAG_ID)  # the run unpausing schedules (the latest day) ends first
    duration = emulator.config()["run_duration_seconds"]
    try:
        emulator.reset()
        emulator.set_config(run_duration_seconds=20)  # long enough for the sensor to defer
        seen: set[tuple[str, str]] = set()

        def note(tis: list[dict[str, Any]]) -> None:
            seen.update((ti["task_id"], str(ti["state"])) for ti in tis)

        run_id = client.trigger(DAG_ID, logical_date="2025-12-03T00:00:00+00:00")
        run = client.wait_run(DAG_ID, run_id, timeout=RUN_TIMEOUT, on_poll=note, interval=0.5)
        tis = client.task_instances(DAG_ID, run_id)
        assert run["state"] == "success", f"{DAG_ID}/{run_id} ended {run['state']}: {states_by_task(tis)}"
        assert ("wait_window", "deferred") in seen, sorted(seen)

        example = _example()
        rules = [(m["source"], m["destination"]) for m in example.MAPPING]
        start, dec2, dec3 = example.START, example.START.replace(day=2), example.START.replace(day=3)
        expected = set(expected_records(example.TABLE, rules, delta_column=example.DELTA_COLUMN, window=(EPOCH, start)))
        expected |= set(expected_records(example.TABLE, rules, delta_column=example.DELTA_COLUMN, window=(dec2, dec3)))
        [dataset_id] = [r["id"] for r in emulator.resources("dataset") if r["name"] == "by_hand Contacts dataset"]
        records = emulator.records(dataset_id)["records"]
        assert sorted(str(r["_id"]) for r in records) == sorted(expected)
    finally:
        emulator.set_config(run_duration_seconds=duration)
        client.set_paused(DAG_ID, True)
