"""The onboarding DAGs on a real Airflow 3 deployment, through the public REST API v2 only.

Needs the deployment fixture (tests/integration/conftest.py): PostgreSQL and Redis on
loopback; the fixture starts api-server, scheduler, dag-processor, triggerer, a Celery
worker and the AEP emulator with scripts/airflow-up.sh and stops them at the end.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from expected_records import differences, expected_records, records_by_id
from expected_resources import expected_resources
from it_helpers import (
    actual_resources,
    dataset_ids,
    make_idle,
    retry_budget_seconds,
    spec_of,
    states_by_task,
)

from aep_onboarding.dag_build import estimated_tasks

pytestmark = pytest.mark.integration

MARKETING = "hubspot_marketing"
PEOPLE = "hubspot_people"  # layout: batched
RUN_TIMEOUT = 300.0
SENSOR_TASKS = ("wait_first_run", "wait_window")


def _dag_id(spec_name: str) -> str:
    return spec_of(spec_name).dag_id


def _idle_on_empty_emulator(deployment, spec_name: str, *, run_duration_seconds: float) -> tuple[Any, Any, Any]:
    """The spec's DAG idle (make_idle lets the scheduled run that unpausing creates finish), then an
    empty emulator, so what it holds at the end comes from the run under test alone."""
    client, emulator = deployment.airflow, deployment.emulator
    spec = spec_of(spec_name)
    client.wait_dag(spec.dag_id)
    make_idle(client, spec.dag_id)
    emulator.reset()
    emulator.set_config(run_duration_seconds=run_duration_seconds)
    return client, emulator, spec


# ---------------------------------------------------------------------------- happy path
def _onboard_once(deployment, spec_name: str) -> dict[str, Any]:
    """Unpause and trigger the spec's DAG once; record what was seen while it ran."""
    # Flow runs last long enough that the sensors defer instead of finding the run finished, even on
    # a loaded machine where a sensor starts many seconds after its flow (6 s was too short there).
    client, _emulator, spec = _idle_on_empty_emulator(deployment, spec_name, run_duration_seconds=30)
    dag_id = spec.dag_id

    seen: dict[str, list[dict[str, Any]]] = {}

    def record(tis: list[dict[str, Any]]) -> None:
        for ti in tis:
            history = seen.setdefault(ti["task_id"], [])
            if not history or history[-1]["state"] != ti["state"]:
                history.append({"state": ti["state"], "trigger": ti.get("trigger"), "triggerer_job": ti.get("triggerer_job"),
                                "try_number": ti["try_number"]})

    started = time.monotonic()
    run_id = client.trigger(dag_id)
    run = client.wait_run(dag_id, run_id, timeout=RUN_TIMEOUT, on_poll=record, interval=0.5)
    return {"spec": spec, "dag_id": dag_id, "run_id": run_id, "run": run, "seen": seen,
            "seconds": time.monotonic() - started, "tis": client.task_instances(dag_id, run_id)}


@pytest.fixture(scope="module")
def marketing_run(deployment) -> dict[str, Any]:
    """aep_onboard_hubspot_marketing (a task group per object), triggered once."""
    return _onboard_once(deployment, MARKETING)


@pytest.fixture(scope="module")
def people_run(deployment) -> dict[str, Any]:
    """aep_onboard_hubspot_people (layout: batched, one task per step), triggered once."""
    return _onboard_once(deployment, PEOPLE)


def test_batched_run_onboards_every_object_in_one_task_per_step(people_run: dict[str, Any], deployment) -> None:
    """`layout: batched` on the real deployment: one task instance per step for all objects, success, exactly one
    resource of each kind per object, records in every dataset, and the many-flow sensor deferred."""
    run, tis, spec = people_run["run"], people_run["tis"], people_run["spec"]
    assert run["state"] == "success", (
        f"{people_run['dag_id']}/{people_run['run_id']} ended {run['state']}: {states_by_task(tis)}; "
        f"task logs under {deployment.log_dir}/dag_id={people_run['dag_id']}/"
    )
    # `ingestion: aep`: no window steps; one task per registered step and the DAG's own (dag_build counts them)
    assert len(tis) == estimated_tasks(spec) and len(spec.objects) == 3
    expected, actual = expected_resources(spec), actual_resources(deployment.emulator)
    assert actual == expected, f"missing: {dict(expected - actual)}; duplicated or unexpected: {dict(actual - expected)}"
    _assert_datasets_hold_exactly_the_mapped_rows(deployment, spec)
    first_run = people_run["seen"]["wait_first_run"]
    assert any(h["state"] == "deferred" and h["trigger"] for h in first_run), first_run
    assert first_run[-1]["state"] == "success"
    print(f"\n{people_run['dag_id']}: trigger to success in {people_run['seconds']:.0f}s ({len(tis)} tasks)")


def test_marketing_run_succeeds(marketing_run: dict[str, Any], deployment) -> None:
    run, tis = marketing_run["run"], marketing_run["tis"]
    assert run["state"] == "success", (
        f"{marketing_run['dag_id']}/{marketing_run['run_id']} ended {run['state']}: {states_by_task(tis)}; "
        f"task logs under {deployment.log_dir}/dag_id={marketing_run['dag_id']}/"
    )
    spec = marketing_run["spec"]
    assert {obj.source for obj in spec.objects} == {"Hubspot.Contacts", "Hubspot.Companies", "Hubspot.All_Deals"}
    # A manual run's window is already covered by the flow's first run (backfill on), so the
    # provider skips ingest_window and its sensor; judge_interval skips the run's empty data interval
    # ([t, t): no run of AEP's schedule can fall in it); every other task must succeed.
    empty_window_tasks = ("ingest_window", "wait_window", "judge_interval")
    not_ok = {
        t: s for t, s in states_by_task(tis).items()
        if s != "success" and not (s == "skipped" and t.rsplit(".", 1)[-1] in empty_window_tasks)
    }
    assert not not_ok, f"task instances neither successful nor an empty window skipped: {not_ok}"
    print(f"\n{marketing_run['dag_id']}: trigger to success in {marketing_run['seconds']:.0f}s ({len(tis)} tasks)")


def test_emulator_holds_exactly_the_expected_resources(marketing_run: dict[str, Any], deployment) -> None:
    assert marketing_run["run"]["state"] == "success"
    expected = expected_resources(marketing_run["spec"])
    actual = actual_resources(deployment.emulator)
    missing = expected - actual
    extra = actual - expected
    assert not missing and not extra, f"missing: {dict(missing)}; unexpected or duplicated: {dict(extra)}"
    kinds = sorted({kind for kind, _ in actual})
    assert kinds == sorted(["class", "connection", "dataset", "flow", "mappingSet", "schema", "sourceConnection", "targetConnection"])


def _assert_datasets_hold_exactly_the_mapped_rows(deployment, spec) -> dict[str, int]:
    """Every dataset holds exactly one record per source row that fits its mapping, with every mapped value.

    The flows' first run (backfill on, start "now") ingests every row of the emulator's deterministic
    HubSpot data (seed and data end from ``GET /_emulator/config``); the expected records are computed
    from those rows and the spec's mapping (tests/expected_records.py), not from the run's status.
    """
    config = deployment.emulator.config()
    ids = dataset_ids(deployment.emulator, spec)
    assert set(ids) == {obj.source for obj in spec.objects}, f"datasets found: {ids}"
    counts: dict[str, int] = {}
    for obj in spec.objects:
        answer = deployment.emulator.records(ids[obj.source])
        actual = records_by_id(answer["records"])
        expected = expected_records(obj.source, [(m.source, m.destination) for m in obj.mapping],
                                    seed=config["seed"], data_end=str(config["data_end"]))
        assert expected, f"{obj.source}: no source row fits the mapping; the check would be vacuous"
        assert answer["count"] == len(expected) and actual == expected, f"{obj.source}: {differences(expected, actual)}"
        counts[obj.source] = len(expected)
    return counts


def test_datasets_hold_exactly_the_mapped_source_rows(marketing_run: dict[str, Any], deployment) -> None:
    assert marketing_run["run"]["state"] == "success"
    counts = _assert_datasets_hold_exactly_the_mapped_rows(deployment, marketing_run["spec"])
    print(f"\nrecords per dataset, each compared field by field: {counts}")


CELERY_WORKLOAD = re.compile(
    r"Executing workload in Celery: .*? ti=TaskInstanceDTO\(id=UUID\('(?P<id>[0-9a-f-]+)'\), task_id='(?P<task_id>[^']+)', "
    r"dag_id='(?P<dag_id>[^']+)', run_id='(?P<run_id>[^']+)', try_number=(?P<try_number>\d+)"
)


def test_every_task_ran_on_the_celery_worker(marketing_run: dict[str, Any], deployment) -> None:
    """Each task instance that ran was executed by the Celery worker: the worker's own log names its
    task-instance id and try in an ``execute_workload`` line, and the REST API reports the worker's host
    and the Celery queue. Unconditional: it needs neither ``/api/v2/config`` nor ``expose_config``."""
    log = Path(deployment.log("celery-worker"))
    assert log.exists(), f"no Celery worker log at {log}"
    executed = {
        (m["id"], m["dag_id"], m["run_id"], m["task_id"], int(m["try_number"]))
        for m in CELERY_WORKLOAD.finditer(log.read_text(errors="replace"))
    }
    ran = [ti for ti in marketing_run["tis"] if ti["state"] == "success"]
    assert len(ran) >= 3 * 9, f"too few task instances ran: {states_by_task(marketing_run['tis'])}"
    missing = [
        ti["task_id"] for ti in ran
        if (ti["id"], ti["dag_id"], ti["dag_run_id"], ti["task_id"], ti["try_number"]) not in executed
    ]
    assert not missing, f"task instances the Celery worker did not execute (see {log}): {missing}"
    assert {ti["queue"] for ti in ran} == {"default"}, {ti["task_id"]: ti["queue"] for ti in ran}
    assert all(ti["hostname"] for ti in ran), {ti["task_id"]: ti["hostname"] for ti in ran}


def test_flow_run_sensor_deferred_and_finished_by_the_triggerer(marketing_run: dict[str, Any], deployment) -> None:
    seen = marketing_run["seen"]
    sensors = {task_id: history for task_id, history in seen.items() if task_id.rsplit(".", 1)[-1] in SENSOR_TASKS}
    assert sensors, f"no flow-run sensor task among {sorted(seen)}"
    deferred = {
        task_id: history for task_id, history in sensors.items() if any(h["state"] == "deferred" for h in history)
    }
    assert deferred, (
        "no flow-run sensor task instance was seen in the deferred state (polled every 0.5 s): "
        f"{ {t: [h['state'] for h in hist] for t, hist in sensors.items()} }; see {deployment.log('triggerer')}"
    )
    for task_id, history in deferred.items():
        states = [h["state"] for h in history]
        assert states[-1] == "success", f"{task_id} went {states}"
        deferred_entries = [h for h in history if h["state"] == "deferred"]
        # While deferred, the task instance points at its trigger, run by a triggerer job.
        assert any(h["trigger"] for h in deferred_entries), f"{task_id} deferred without a trigger: {deferred_entries}"
        after = states[states.index("deferred") + 1:]
        assert "success" in after, f"{task_id} never resumed after deferring: {states}"
        # ... the provider's trigger, which the triggerer started and which fired the event that resumed it.
        triggers = {(h["trigger"]["id"], h["try_number"]): h["trigger"] for h in deferred_entries if h["trigger"]}
        text = _triggerer_logs(deployment, marketing_run, task_id)
        for (trigger_id, try_number), trigger in triggers.items():
            assert trigger["classpath"] == "aep_provider.triggers.flow_run.AepFlowRunTrigger", trigger
            # The triggerer names a trigger "<dag_id>/<run_id>/<task_id>/<map_index>/<try> (ID <id>)".
            name = re.escape(f"{marketing_run['dag_id']}/{marketing_run['run_id']}/{task_id}/") + rf"-?\d+/{try_number} \(ID {trigger_id}\)"
            assert re.search(rf"trigger {name} starting", text), (
                f"no 'trigger ... (ID {trigger_id}) starting' line for {task_id} in the triggerer's logs"
            )
            assert re.search(rf"Trigger fired event.*{name}", text), (
                f"no 'Trigger fired event' line for trigger {trigger_id} of {task_id} in the triggerer's logs"
            )


def _triggerer_logs(deployment, run: dict[str, Any], task_id: str) -> str:
    """The triggerer's component log and the trigger log files it wrote next to the task's logs."""
    parts = [(deployment.log_dir / "triggerer.log").read_text(errors="replace")]
    task_dir = deployment.log_dir / f"dag_id={run['dag_id']}" / f"run_id={run['run_id']}" / f"task_id={task_id}"
    parts += [p.read_text(errors="replace") for p in sorted(task_dir.glob("*.trigger.*"))]
    return "\n".join(parts)


# ---------------------------------------------------------------------------- resume after a fault
@pytest.mark.parametrize("spec_name", [MARKETING, PEOPLE])
def test_resume_after_persistent_mapping_fault(deployment, spec_name: str) -> None:
    """A persistent 500 on mapping-set creation fails the mapping tasks; clearing them resumes the run.

    Per-object layout: one mapping task per object; batched layout: one mapping task for all of them.
    """
    client, emulator, spec = _idle_on_empty_emulator(deployment, spec_name, run_duration_seconds=1)
    dag_id = spec.dag_id
    emulator.set_faults([{"kind": "500", "probability": 1.0, "method": "POST", "path_regex": "/conversion/mappingSets"}])
    try:
        run_id = client.trigger(dag_id)
        budget = retry_budget_seconds(spec) + 120
        run = client.wait_run(dag_id, run_id, timeout=budget)
        before = {ti["task_id"]: ti for ti in client.task_instances(dag_id, run_id)}
        assert run["state"] == "failed", f"the run should fail while the fault holds: {states_by_task(list(before.values()))}"
        mapping = sorted(t for t in before if t.rsplit(".", 1)[-1] == "mapping_set")
        assert len(mapping) == (1 if spec.layout == "batched" else len(spec.objects)), f"mapping tasks: {mapping}"
        for task_id in mapping:
            ti = before[task_id]
            assert ti["state"] == "failed", f"{task_id}: {ti['state']}"
            assert ti["try_number"] == spec.retries + 1, (
                f"{task_id} failed after {ti['try_number']} tries, expected retries+1 = {spec.retries + 1}"
            )
        hits = sum(rule.get("hits", 0) for rule in emulator.faults().get("rules", []))
        assert hits >= len(spec.objects) * (spec.retries + 1), f"fault hits: {emulator.faults()}"
        assert not [r for r in emulator.resources("mappingSet")], "a mapping set exists although every create failed"
    finally:
        emulator.lift_faults()

    cleared = client.clear_task_instances(dag_id, run_id, mapping)
    cleared_ids = {ti["task_id"] for ti in cleared}
    assert set(mapping) <= cleared_ids, f"cleared: {sorted(cleared_ids)}"
    upstream_ok = {t for t, ti in before.items() if ti["state"] == "success"}
    assert not (cleared_ids & upstream_ok), f"clearing with only_failed touched successful tasks: {cleared_ids & upstream_ok}"

    run = client.wait_run(dag_id, run_id, timeout=RUN_TIMEOUT)
    after = {ti["task_id"]: ti for ti in client.task_instances(dag_id, run_id)}
    assert run["state"] == "success", f"resumed run ended {run['state']}: {states_by_task(list(after.values()))}"
    for task_id in upstream_ok:
        assert after[task_id]["try_number"] == before[task_id]["try_number"], (
            f"{task_id} ran again: try {before[task_id]['try_number']} -> {after[task_id]['try_number']}"
        )
        assert after[task_id]["state"] == "success"
    for task_id in mapping:
        assert after[task_id]["try_number"] == before[task_id]["try_number"] + 1, (
            f"{task_id}: try {before[task_id]['try_number']} -> {after[task_id]['try_number']}"
        )
    expected = expected_resources(spec)
    actual = actual_resources(emulator)
    assert actual == expected, f"missing: {dict(expected - actual)}; duplicated or unexpected: {dict(actual - expected)}"


# ---------------------------------------------------------------------------- backfill
# A backfill (a first one, at Airflow's default concurrency, in both layouts, each window's rows checked run by run)
# is tests/integration/test_concurrent_runs.py.
