"""Scheduled DAG runs of an `ingestion: aep` spec judge what AEP did in their data interval, on the real deployment.

One object of hubspot_blog (hourly flow) is onboarded, the emulator's clock is moved two hours on (its hourly flow
makes a run per hour), and two DAG runs with consecutive hourly data intervals each judge the one run AEP made in
theirs. Short on purpose (one object, runs of two seconds): the CI suite is near its time limit.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import pytest
from it_helpers import make_idle, spec_of, states_by_task

pytestmark = pytest.mark.integration

SPEC = "hubspot_blog"
TABLE = "Hubspot.Blog_Authors"
HOUR = 3600
RUN_TIMEOUT = 240.0


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat()


def _xcom(client: Any, dag_id: str, run_id: str, task_id: str) -> Any:
    value = client.get(
        f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/return_value"
    )["value"]
    return json.loads(value) if isinstance(value, str) else value


def _trigger_interval(client: Any, dag_id: str, start: float, end: float) -> str:
    """A run of the interval ``[start, end)`` of emulator time, which is ahead of Airflow's: its logical date is
    now (Airflow runs no task of a run whose logical date is in the future), its data interval the emulator's."""
    body = {"logical_date": datetime.now(timezone.utc).isoformat(), "data_interval_start": _iso(start),
            "data_interval_end": _iso(end), "conf": {"objects": [TABLE]}}
    return str(client.post(f"/api/v2/dags/{dag_id}/dagRuns", body)["dag_run_id"])


def test_two_hourly_intervals_are_each_judged_by_the_run_aep_made_in_them(deployment) -> None:
    """The onboarding run waits for the flow's first run; each later DAG run lists the runs AEP made in its own
    interval, judges them and reports them in its run summary - a different run for each interval."""
    client, emulator = deployment.airflow, deployment.emulator
    spec = spec_of(SPEC)
    obj = next(o for o in spec.objects if o.source == TABLE)
    group = f"{obj.slug}."
    client.wait_dag(spec.dag_id)
    make_idle(client, spec.dag_id)
    emulator.reset()
    emulator.set_config(run_duration_seconds=2)
    began = float(emulator.advance(0)["now"])  # the flow starts `now`, so its runs are due began + k hours (+ a few s)

    onboard = client.trigger(spec.dag_id, conf={"objects": [TABLE]})
    run = client.wait_run(spec.dag_id, onboard, timeout=RUN_TIMEOUT)
    tis = states_by_task(client.task_instances(spec.dag_id, onboard))
    assert run["state"] == "success", tis
    assert tis[group + "wait_first_run"] == "success"

    emulator.advance(2 * HOUR + 60)  # AEP's hourly runs of the next two hours
    intervals = [(began + HOUR / 2, began + 1.5 * HOUR), (began + 1.5 * HOUR, began + 2.5 * HOUR)]
    run_ids = [_trigger_interval(client, spec.dag_id, *interval) for interval in intervals]
    judged: list[str] = []
    for run_id in run_ids:
        run = client.wait_run(spec.dag_id, run_id, timeout=RUN_TIMEOUT)
        tis = states_by_task(client.task_instances(spec.dag_id, run_id))
        assert run["state"] == "success" and tis[group + "judge_interval"] == "success", (run_id, tis)
        (aep_run,) = _xcom(client, spec.dag_id, run_id, group + "judge_interval")[obj.slug]["runs"]
        assert aep_run["status"] == "success"
        summary = _xcom(client, spec.dag_id, run_id, "run_summary")["objects"][obj.slug]
        assert [r["run_id"] for r in summary["flow_runs"]] == [aep_run["run_id"]]
        judged.append(aep_run["run_id"])
    assert len(set(judged)) == 2, judged  # each interval its own run
