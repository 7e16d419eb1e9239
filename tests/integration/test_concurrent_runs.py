"""Concurrent runs never duplicate, on the real deployment at a real sandbox's latency.

Airflow runs many things at once by default: a backfill runs 10 DAG runs at once whatever the DAG's
``max_active_runs``, two specs share resources, a manual run starts during a scheduled one. Each test here
makes the emulator answer every Platform call in ``LATENCY_MS`` (races hide at 0 ms) and checks what the
sandbox holds afterwards: every resource once, every window's records once in the one dataset of its object,
every run's summary naming that dataset and flow.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest
from airflow_rest import wait_for
from expected_resources import expected_resources
from it_helpers import (
    REPO,
    actual_resources,
    dataset_ids,
    make_idle,
    spec_of,
    states_by_task,
)

from aep_onboarding.names import object_names
from aep_onboarding.spec import ObjectSpec, OnboardingSpec

pytestmark = pytest.mark.integration

#: About what a real sandbox takes per call (issue 20 measured 700 ms); the suite's floor is 500 ms.
LATENCY_MS = 500
#: Days the first backfill fills, all at once (at least 8: Airflow's own default is 10).
WINDOWS = 8
#: The cross-DAG rounds' latency: the suite's floor (issue 20 measured the race at 700 ms; the connection create's
#: own 6 s below is what opens the window).
SHARED_LATENCY_MS = 500
CONNECTIONS_LATENCY_MS = 6000
BACKFILL_TIMEOUT = 1500.0
ROUND_TIMEOUT = 600.0


def _xcom(client: Any, dag_id: str, run_id: str, task_id: str) -> Any:
    entry = client.get(
        f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/return_value"
    )
    value = entry["value"]
    return json.loads(value) if isinstance(value, str) else value


def _rows_by_day(emulator: Any, obj: ObjectSpec, id_column: str) -> dict[str, set[str]]:
    """Day (YYYY-MM-DD) of the object's delta column -> the ids of the emulator's HubSpot rows of that day.

    The emulator's data is deterministic from (seed, data end), which ``GET /_emulator/config`` reports; the rows
    come from its installed generator, run in a subprocess so the test session's sys.path cannot shadow it.
    """
    config = emulator.config()
    code = (
        "import json, sys\n"
        "from aep_emulator.hubspot import rows\n"
        "seed, end, table, key, column = json.loads(sys.argv[1]), *sys.argv[2:]\n"
        "print(json.dumps([[r[key], r[column]] for r in rows(table, seed, end)]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(config["seed"]), str(config["data_end"]), obj.source, id_column,
         str(obj.delta_column)],
        cwd=REPO / "scripts", capture_output=True, text=True, check=True, timeout=60,
    )
    days: dict[str, set[str]] = {}
    for key, when in json.loads(out.stdout):
        day = dt.datetime.fromisoformat(when.replace("Z", "+00:00")).date().isoformat()
        days.setdefault(day, set()).add(str(key))
    return days


def _id_column(obj: ObjectSpec) -> str:
    return next(rule.source for rule in obj.mapping if rule.destination == "_id")


def _assert_each_row_once(emulator: Any, spec: OnboardingSpec, end: dt.date) -> None:
    """Every object's one dataset holds each row whose delta column lies before ``end`` exactly once: the flow's
    own first run took the history before ``start_date``, each window its day, and no window was lost to a copy."""
    ids = dataset_ids(emulator, spec)
    assert set(ids) == {obj.source for obj in spec.objects}, f"datasets: {ids}"
    for obj in spec.objects:
        by_day = _rows_by_day(emulator, obj, _id_column(obj))
        wanted = {key for day, keys in by_day.items() if day < end.isoformat() for key in keys}
        assert wanted, f"{obj.source}: no row before {end}: the check would be vacuous"
        got = [str(r.get("_id")) for r in emulator.records(ids[obj.source])["records"]]
        twice = [key for key, n in Counter(got).items() if n > 1]
        assert not twice, f"{obj.source}: {len(twice)} rows ingested more than once, e.g. {twice[:5]}"
        assert set(got) == wanted, (
            f"{obj.source}: {len(wanted - set(got))} rows missing (e.g. {sorted(wanted - set(got))[:5]}), "
            f"{len(set(got) - wanted)} unexpected (e.g. {sorted(set(got) - wanted)[:5]})"
        )


def _assert_each_window_ran_its_day(client: Any, emulator: Any, spec: OnboardingSpec, runs: list[dict[str, Any]]) -> None:
    """Each DAG run's window run ingested exactly its day's rows of every object: the runs' data intervals are the
    days (a data-interval timetable), and no window was cut or taken twice by another."""
    for obj in spec.objects:
        by_day = _rows_by_day(emulator, obj, _id_column(obj))
        task = "wait_window" if spec.layout == "batched" else f"{obj.slug}.wait_window"
        for run in runs:
            day = dt.datetime.fromisoformat(run["data_interval_start"].replace("Z", "+00:00")).date().isoformat()
            window = _xcom(client, spec.dag_id, run["dag_run_id"], task)[obj.slug]
            rows = len(by_day.get(day, ()))
            assert window["status"] == "success" and window["failed_records"] == 0, (run["dag_run_id"], window)
            assert window["output_records"] == window["input_records"] == rows, (
                f"{obj.source}, the window run of {day} ingested {window}; the day has {rows} rows"
            )


def _used(summary: dict[str, Any], slug: str, step: str) -> str:
    ids = [r["id"] for r in summary["objects"][slug]["resources"] if r["step"] == step]
    assert len(ids) == 1, f"{slug}: the run summary names {ids} as its {step}"
    return str(ids[0])


@pytest.mark.parametrize("spec_name", ["hubspot_sales_daily", "hubspot_sales_daily_batched"])
def test_first_backfill_at_airflows_default_concurrency_creates_each_resource_once(deployment, spec_name: str) -> None:
    """A first-time backfill of 8 days x 3 objects with the backfill's max_active_runs at 8 (Airflow's default is 10,
    which overrides the DAG's own max_active_runs): every run succeeds, the sandbox holds every resource once,
    every day's records are in the one dataset of their object exactly once, and every run's summary names that
    dataset and that flow."""
    client, emulator = deployment.airflow, deployment.emulator
    spec = spec_of(spec_name)
    dag_id = spec.dag_id
    assert spec.ingestion == "airflow" and spec.schedule == "@daily" and len(spec.objects) == 3
    client.wait_dag(dag_id)
    # Unpausing creates the run of the latest interval (catchup is off): let it finish, then start from an empty
    # sandbox so that the backfill is the first onboarding.
    make_idle(client, dag_id)
    emulator.reset()
    emulator.set_config(run_duration_seconds=1, latency_ms=LATENCY_MS)
    start = dt.datetime.combine(spec.start_date, dt.time(), tzinfo=dt.timezone.utc)
    last = start + dt.timedelta(days=WINDOWS - 1)
    try:
        backfill = client.create_backfill(dag_id, start.isoformat(), last.isoformat(), max_active_runs=WINDOWS)
        wait_for(
            f"backfill {backfill['id']} of {dag_id} ({WINDOWS} days at once) to complete",
            lambda: client.backfill(backfill["id"]).get("completed_at"),
            timeout=BACKFILL_TIMEOUT, interval=3,
            hint=f"{deployment.log('scheduler')} and task logs under {deployment.log_dir}/dag_id={dag_id}/",
            describe=lambda: str(sorted((r["dag_run_id"], r["state"]) for r in client.dag_runs(dag_id, run_type="backfill"))),
        )
    finally:
        emulator.set_config(latency_ms=0)
    runs = sorted(client.dag_runs(dag_id, run_type="backfill"), key=lambda r: r["data_interval_start"] or "")
    assert len(runs) == WINDOWS, f"backfill runs: {[(r['dag_run_id'], r['state']) for r in runs]}"
    days = [(dt.datetime.fromisoformat(r["data_interval_start"].replace("Z", "+00:00")),
             dt.datetime.fromisoformat(r["data_interval_end"].replace("Z", "+00:00"))) for r in runs]
    assert days == [(start + dt.timedelta(days=d), start + dt.timedelta(days=d + 1)) for d in range(WINDOWS)], (
        f"the backfill runs' data intervals {days} are not the {WINDOWS} days; a daily DAG needs a data-interval "
        "timetable (CronDataIntervalTimetable) for its runs to ingest one day each"
    )
    failed = {r["dag_run_id"]: states_by_task(client.task_instances(dag_id, r["dag_run_id"]))
              for r in runs if r["state"] != "success"}
    assert not failed, f"runs that did not succeed: {failed}; task logs under {deployment.log_dir}/dag_id={dag_id}/"

    expected, actual = expected_resources(spec), actual_resources(emulator)
    assert actual == expected, f"missing: {dict(expected - actual)}; duplicated or unexpected: {dict(actual - expected)}"
    _assert_each_row_once(emulator, spec, (last + dt.timedelta(days=1)).date())
    _assert_each_window_ran_its_day(client, emulator, spec, runs)

    # A run's success says where its data went: every run names the same dataset and flow per object.
    by_name = {(r["kind"], r["name"]): r["id"] for r in emulator.resources()}
    for obj in spec.objects:
        names = object_names(spec, obj)
        want = {"dataset": by_name[("dataset", names.dataset)], "dataflow": by_name[("flow", names.dataflow)]}
        for run in runs:
            summary = _xcom(client, dag_id, run["dag_run_id"], "run_summary")
            got = {step: _used(summary, obj.slug, step) for step in want}
            assert got == want, f"{run['dag_run_id']} ({obj.slug}) used {got}; the sandbox's one copy is {want}"


def test_two_dags_sharing_the_hubspot_base_connection_never_create_it_twice(deployment) -> None:
    """Two specs that both use the HubSpot base connection under its default name, triggered at the same moment at
    a real sandbox's latency, three rounds from an empty sandbox: each round ends with one base connection (and one
    dataset base connection) and both runs succeed."""
    client, emulator = deployment.airflow, deployment.emulator
    # Two specs of one shape (batched, three objects): their plans take the same time, so their base-connection
    # steps start within a second of each other - the race a real deployment meets when two DAGs start together.
    specs = [spec_of("hubspot_people"), spec_of("hubspot_sales_daily_batched")]
    assert specs[0].hubspot.name == specs[1].hubspot.name, "the two specs must share the base connection's name"
    for spec in specs:
        client.wait_dag(spec.dag_id)
        make_idle(client, spec.dag_id)
    for round_no in range(1, 4):
        emulator.reset()
        emulator.set_config(run_duration_seconds=1, latency_ms=SHARED_LATENCY_MS)
        # Creating a base connection takes seconds (a real sandbox checks the HubSpot credentials it is given): the
        # look-up and the create of the shared connection then span the few seconds between the two DAGs' steps.
        emulator.set_faults([{"kind": "latency", "probability": 1.0, "method": "POST",
                              "path_regex": "/flowservice/connections$", "latency_ms": CONNECTIONS_LATENCY_MS}])
        try:
            run_ids: dict[str, str] = {}
            barrier = threading.Barrier(len(specs))

            def trigger(dag_id: str, barrier: threading.Barrier, run_ids: dict[str, str]) -> None:
                barrier.wait()
                run_ids[dag_id] = client.trigger(dag_id)

            threads = [threading.Thread(target=trigger, args=(spec.dag_id, barrier, run_ids)) for spec in specs]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            runs = {dag_id: client.wait_run(dag_id, run_id, timeout=ROUND_TIMEOUT) for dag_id, run_id in run_ids.items()}
        finally:
            emulator.set_config(latency_ms=0)
            emulator.lift_faults()
        states = {dag_id: run["state"] for dag_id, run in runs.items()}
        assert set(states.values()) == {"success"}, (
            f"round {round_no}: {states}; {[states_by_task(client.task_instances(d, r)) for d, r in run_ids.items()]}"
        )
        expected: Counter[tuple[str, str]] = Counter()
        for spec in specs:
            expected |= expected_resources(spec)  # the shared connections count once
        actual = actual_resources(emulator)
        assert actual == expected, (
            f"round {round_no}: missing {dict(expected - actual)}; duplicated or unexpected {dict(actual - expected)}"
        )
