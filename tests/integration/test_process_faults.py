"""The deployment's own faults, one level above HTTP: what an operator meets most.

Each scenario runs a batched onboarding of five objects (``hubspot_crm_batched``) and a per-object one of two
(``hubspot_blog``) side by side on the deployment of the session fixture (tests/integration/conftest.py), hits one
component while they run, and checks the end: both runs ``success``, exactly one resource of each name in the
emulator, and exactly the source rows in each dataset (no row lost, none twice). Each prints how long recovery took,
measured from the fault. Airflow is driven through its REST API only; components are hit with the operator commands
``scripts/airflow-restart.sh`` and ``scripts/postgres-restart.sh``. The "What happens when ..." table of
docs/deployment.md carries the times measured here. Settings that make recovery quick: scripts/airflow-env.sh.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from airflow_rest import TERMINAL_RUN_STATES, AirflowClient, EmulatorAdmin, wait_for
from expected_resources import expected_resources
from it_deploy import run_script
from it_helpers import (
    REPO,
    actual_resources,
    dataset_ids,
    make_idle,
    spec_of,
    states_by_task,
)

from aep_onboarding.names import object_names
from aep_onboarding.spec import OnboardingSpec

pytestmark = pytest.mark.integration

BATCHED = "hubspot_crm_batched"  # layout: batched, five objects, one Platform call at a time
PER_OBJECT = "hubspot_blog"  # a task group per object, two objects
SPECS = (BATCHED, PER_OBJECT)
FLOWS_PATH = r"/data/foundation/flowservice/flows$"
# Generous bounds: a scenario that needs them has not recovered.
RECOVERY_TIMEOUT = 240.0
PHASE_TIMEOUT = 300.0  # the chain up to the dataflow step takes 2-3 min on 2 loaded cores
COMPONENT_TIMEOUT = 180.0
# Each flow create takes 3 s, so a fault can land while dataflow tasks are in the middle of their calls.
SLOW_FLOWS = [{"kind": "latency", "method": "POST", "path_regex": FLOWS_PATH, "latency_ms": 3000}]


@dataclass
class Onboarding:
    spec: OnboardingSpec
    run_id: str
    history: dict[str, list[tuple[str | None, int]]] = field(default_factory=dict)

    @property
    def dag_id(self) -> str:
        return self.spec.dag_id


@dataclass
class Scenario:
    """Both onboardings of one scenario, and what the test saw of them while they ran."""

    client: AirflowClient
    emulator: EmulatorAdmin
    runs: list[Onboarding]
    started: float = field(default_factory=time.monotonic)

    def poll(self) -> dict[str, list[dict[str, Any]]]:
        """Task instances of every run (recording each task's state changes), by DAG id."""
        out: dict[str, list[dict[str, Any]]] = {}
        for run in self.runs:
            tis = self.client.task_instances(run.dag_id, run.run_id)
            out[run.dag_id] = tis
            for ti in tis:
                seen = run.history.setdefault(ti["task_id"], [])
                if not seen or seen[-1] != (ti["state"], ti["try_number"]):
                    seen.append((ti["state"], ti["try_number"]))
        return out

    def wait_until(self, what: str, condition: Callable[[dict[str, list[dict[str, Any]]]], bool],
                   may_end: frozenset[str] = frozenset()) -> None:
        """Poll the task instances until ``condition`` holds; fail if a run (other than ``may_end``) ends first."""
        last: dict[str, Any] = {}

        def probe() -> bool:
            tis = self.poll()
            last["tis"] = tis
            ended = {r.dag_id: s for r in self.runs if r.dag_id not in may_end
                     and (s := self.client.dag_run(r.dag_id, r.run_id)["state"]) in TERMINAL_RUN_STATES}
            assert not ended, f"a run ended ({ended}) before {what}: the fault would miss it; {self.describe()}"
            return condition(tis)

        wait_for(what, probe, timeout=PHASE_TIMEOUT, interval=0.5, describe=self.describe,
                 hint=f"{self.client.log('scheduler')}, {self.client.log('celery-worker')}")

    def finish(self, fault_at: float, timeout: float = RECOVERY_TIMEOUT) -> dict[str, dict[str, Any]]:
        """Wait for both runs to end; returns dag_id -> run, each with ``seconds_after_fault``."""
        ends: dict[str, dict[str, Any]] = {}
        for run in self.runs:
            remaining = max(10.0, fault_at + timeout - time.monotonic())
            final = self.client.wait_run(run.dag_id, run.run_id, timeout=remaining, interval=1.0,
                                         on_poll=lambda _tis: self.poll() and None)
            ends[run.dag_id] = {**final, "seconds_after_fault": time.monotonic() - fault_at}
        self.poll()
        return ends

    def describe(self) -> str:
        return "; ".join(f"{r.dag_id}: { {t: h[-1] for t, h in r.history.items()} }" for r in self.runs)

    def tries(self, run: Onboarding) -> dict[str, int]:
        return {ti["task_id"]: ti["try_number"] for ti in self.client.task_instances(run.dag_id, run.run_id)}


# ---------------------------------------------------------------------------- what an onboarding must leave
def _source_ids(emulator: EmulatorAdmin, spec: OnboardingSpec) -> dict[str, list[str]]:
    """object source -> the ids (the column mapped onto ``_id``) of every source row, from the emulator's data.

    The flow's first run ingests every row from before its start (backfill), and every row of the
    simulated HubSpot lies before the data end date that ``GET /_emulator/config`` reports. The rows
    come from the installed ``aep_emulator.hubspot`` generator, run in a subprocess so the test
    session's sys.path cannot shadow the package.
    """
    config = emulator.config()
    id_columns = {obj.source: next(r.source for r in obj.mapping if r.destination == "_id") for obj in spec.objects}
    code = (
        "import json, sys\n"
        "from aep_emulator.hubspot import rows\n"
        "seed, end, cols = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])\n"
        "print(json.dumps({t: [str(r[c]) for r in rows(t, seed, end)] for t, c in cols.items()}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(config["seed"]), str(config["data_end"]), json.dumps(id_columns)],
        cwd=REPO / "scripts", capture_output=True, text=True, check=True, timeout=60,
    )
    ids: dict[str, list[str]] = json.loads(out.stdout)
    return ids


def _assert_onboarded(scenario: Scenario, ends: dict[str, dict[str, Any]], log_dir: Any) -> None:
    """Both runs succeeded; one resource per name across both; each dataset holds its source rows once."""
    for run in scenario.runs:
        final = ends[run.dag_id]
        tis = scenario.client.task_instances(run.dag_id, run.run_id)
        assert final["state"] == "success", (
            f"{run.dag_id}/{run.run_id} ended {final['state']}: {states_by_task(tis)}; "
            f"task logs under {log_dir}/dag_id={run.dag_id}/"
        )
    expected: Counter[tuple[str, str]] = sum((expected_resources(r.spec) for r in scenario.runs), Counter())
    actual = actual_resources(scenario.emulator)
    assert actual == expected, f"missing: {dict(expected - actual)}; duplicated or unexpected: {dict(actual - expected)}"
    for run in scenario.runs:
        ids = dataset_ids(scenario.emulator, run.spec)
        source = _source_ids(scenario.emulator, run.spec)
        for obj in run.spec.objects:
            want = source[obj.source]
            assert want, f"{obj.source} has no source row; the check would be vacuous"
            got = [str(r.get("_id")) for r in scenario.emulator.records(ids[obj.source])["records"]]
            dupes = [i for i, n in Counter(got).items() if n > 1]
            assert sorted(got) == sorted(want), (
                f"{object_names(run.spec, obj).dataset}: {len(got)} records for {len(want)} source rows; "
                f"duplicated: {dupes[:10]}; missing: {sorted(set(want) - set(got))[:10]}; "
                f"not in the source: {sorted(set(got) - set(want))[:10]}"
            )


# ---------------------------------------------------------------------------- setting a scenario up
@pytest.fixture(scope="module")
def dags(deployment) -> Iterator[None]:
    """Both DAGs parsed and unpaused (manual runs only: unpausing creates no run)."""
    for name in SPECS:
        spec = spec_of(name)
        assert spec.schedule is None, f"{name} must be manual-only so unpausing starts nothing"
        deployment.airflow.wait_dag(spec.dag_id)
        make_idle(deployment.airflow, spec.dag_id)
    yield


def _start(deployment, *, run_duration: float, faults: list[dict[str, Any]] | None = None) -> Scenario:
    """An empty emulator with this run duration and fault set, then both DAGs triggered at once."""
    client, emulator = deployment.airflow, deployment.emulator
    for name in SPECS:
        make_idle(client, spec_of(name).dag_id)
    emulator.reset()
    emulator.set_config(run_duration_seconds=run_duration)
    emulator.set_faults(faults or [], seed=7)
    runs = [Onboarding(spec_of(name), client.trigger(spec_of(name).dag_id)) for name in SPECS]
    return Scenario(client, emulator, runs)


def _component(script: str, *args: str) -> dict[str, float]:
    """Run an operator command of scripts/; returns the epoch times it printed (``stopped``/``started``/...)."""
    result = run_script(script, *args, timeout=COMPONENT_TIMEOUT)
    assert result.returncode == 0, (
        f"scripts/{script} {' '.join(args)} exit {result.returncode}\n{result.stderr[-3000:]}\n{result.stdout[-1000:]}"
    )
    times: dict[str, float] = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 4 and words[2] == "at":
            times[words[0]] = float(words[3])
    return times


def _ti(tis: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    return [ti for ti in tis if ti["task_id"] == suffix or ti["task_id"].endswith(f".{suffix}")]


def _dataflow_running(tis: dict[str, list[dict[str, Any]]]) -> bool:
    """A dataflow task running in one run, while the other is still going: the two first onboardings take turns
    on the sandbox's write lease (docs/concurrency.md), so the other one is then waiting for it (its plan deferred)
    or writing beside it - the fault hits both a writer and a waiter."""
    return any(any(ti["state"] == "running" for ti in _ti(run_tis, "dataflow")) for run_tis in tis.values())


def _flows_of(emulator: EmulatorAdmin, spec: OnboardingSpec) -> int:
    names = {object_names(spec, obj).dataflow for obj in spec.objects}
    return sum(1 for r in emulator.resources("flow") if r["name"] in names)


def _report(name: str, ends: dict[str, dict[str, Any]], extra: str = "") -> None:
    times = ", ".join(f"{dag_id} {end['seconds_after_fault']:.0f}s" for dag_id, end in ends.items())
    print(f"\n[{name}] runs ended after the fault: {times}{'; ' + extra if extra else ''}")


def _first_queued_after(scenario: Scenario, epoch: float) -> str:
    """Seconds from ``epoch`` to the first task instance queued after it: when scheduling resumed."""
    queued = [
        dt.datetime.fromisoformat(ti["queued_when"].replace("Z", "+00:00")).timestamp()
        for run in scenario.runs for ti in scenario.client.task_instances(run.dag_id, run.run_id)
        if ti.get("queued_when")
    ]
    later = [q - epoch for q in queued if q > epoch]
    return f"{min(later):.0f}s" if later else "never"


def _clear_failed_and_finish(
    scenario: Scenario,
    ends: dict[str, dict[str, Any]],
    fault_at: float,
    check: Callable[[Onboarding, dict[str, Any]], None] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """The one operator action after a fault: clear the failed task instances of every failed run (each
    first passed to ``check``) and wait for the runs to end again; returns the ends and what was cleared."""
    cleared: dict[str, list[str]] = {}
    for run in scenario.runs:
        if ends[run.dag_id]["state"] != "failed":
            continue
        failed = [ti for ti in scenario.client.task_instances(run.dag_id, run.run_id) if ti["state"] == "failed"]
        for ti in failed:
            if check is not None:
                check(run, ti)
        cleared[run.dag_id] = [ti["task_id"] for ti in failed]
        scenario.client.clear_task_instances(run.dag_id, run.run_id, cleared[run.dag_id])
    return (scenario.finish(fault_at) if cleared else ends), cleared


def _task_log(client: AirflowClient, run: Onboarding, task_id: str, try_number: int) -> str:
    path = (f"/api/v2/dags/{run.dag_id}/dagRuns/{quote(run.run_id, safe='')}/taskInstances/"
            f"{quote(task_id, safe='')}/logs/{try_number}")
    body = client.get(path, params={"full_content": True})
    content = body.get("content") if isinstance(body, dict) else body
    return json.dumps(content)


# ---------------------------------------------------------------------------- the scenarios
def test_worker_killed_mid_task_is_retried_without_duplicates(deployment, dags) -> None:
    """A Celery worker SIGKILLed (OOM killer, node drain) while Platform calls are in flight: its task
    instances stop heartbeating, are failed and retried within seconds of the 20 s heartbeat timeout, and
    both runs end in success with one resource per name and each source row once.

    The flow step is slowed (8 s per create) and the batched task makes one call at a time, so the kill
    lands after the batched task has created at least one flow and before it made all five, while the
    per-object dataflow tasks wait on their creates (whose writes land after their worker is gone).
    """
    slow_flows = [{"kind": "latency", "method": "POST", "path_regex": FLOWS_PATH, "latency_ms": 8000}]
    scenario = _start(deployment, run_duration=3, faults=slow_flows)
    batched, per_object = scenario.runs
    # No task instance queued at the kill: a queued task the dead worker had taken is requeued after
    # [scheduler] task_queued_timeout (60 s, docs/deployment.md), a different and slower path than the one tested here.
    # The per-object run is hit when its dataflow tasks overlap the batched one's creates; the scheduler
    # may have run its shorter chain through before that (seen once in CI), so it may end first: it must
    # then still end in success with nothing duplicated, and its retry is asserted only if it was running.
    scenario.wait_until(
        "the batched dataflow task to have created 1-4 of its 5 flows and no task instance is queued",
        lambda tis: 1 <= _flows_of(scenario.emulator, batched.spec) < len(batched.spec.objects)
        and not any(ti["state"] == "queued" for run_tis in tis.values() for ti in run_tis),
        may_end=frozenset({per_object.dag_id}),
    )
    flows_before = _flows_of(scenario.emulator, batched.spec)
    writes_before = scenario.emulator.state()["counters"]["writes"]
    running = {r.dag_id: [ti["task_id"] for ti in tis if ti["state"] == "running"] for r, tis in
               zip(scenario.runs, scenario.poll().values(), strict=True)}
    scenario.emulator.lift_faults()  # calls in flight keep their delay; the retries find a quick Platform
    times = _component("airflow-restart.sh", "celery-worker", "--kill")
    fault_at = time.monotonic() - (time.time() - times["stopped"])
    ends = scenario.finish(fault_at)
    _assert_onboarded(scenario, ends, deployment.log_dir)
    assert 1 <= flows_before < len(batched.spec.objects) and writes_before > 0
    retried = {dag_id: {t: n for t, n in scenario.tries(run).items() if t in running[dag_id] and n > 1}
               for dag_id, run in ((r.dag_id, r) for r in scenario.runs)}
    assert retried[batched.dag_id].get("dataflow", 0) >= 2, (
        f"the batched dataflow task was running at the kill but was not retried: {retried}; running then: {running}"
    )
    if running[per_object.dag_id]:
        assert retried[per_object.dag_id], f"no per-object task running at the kill was retried: {running}, {retried}"
    _report("worker SIGKILL", ends, f"batched flows before the kill {flows_before}/5; retried {retried}; "
            f"worker ready {times['started'] - times['stopped']:.0f}s after the kill; first retry queued "
            f"{_first_queued_after(scenario, times['stopped'])} after the kill")


def test_scheduler_restarted_mid_run_runs_nothing_twice(deployment, dags) -> None:
    """The scheduler stopped and started (an upgrade) while tasks run: the new scheduler adopts the running
    Celery tasks, both runs end in success, and no task instance ran a second try."""
    scenario = _start(deployment, run_duration=3, faults=SLOW_FLOWS)
    scenario.wait_until("a dataflow task running in one run", _dataflow_running)
    times = _component("airflow-restart.sh", "scheduler")
    fault_at = time.monotonic() - (time.time() - times["stopped"])
    scenario.emulator.lift_faults()
    ends = scenario.finish(fault_at)
    _assert_onboarded(scenario, ends, deployment.log_dir)
    for run in scenario.runs:
        twice = {t: n for t, n in scenario.tries(run).items() if n > 1}
        assert not twice, f"{run.dag_id}: task instances ran more than once across the scheduler restart: {twice}"
    _report("scheduler restart", ends, f"scheduler healthy again {times['started'] - times['stopped']:.0f}s after the "
            f"stop; first task queued {_first_queued_after(scenario, times['stopped'])} after the stop")


def test_triggerer_killed_while_sensors_deferred_resumes_them(deployment, dags) -> None:
    """The triggerer SIGKILLed while every flow-run sensor is deferred: the restarted triggerer takes their
    triggers over, the sensors finish in their first try, and both runs end in success."""
    # The onboardings take turns on the write lease: runs of ten minutes (emulator time, moved past their end after
    # the kill) keep the first one's sensors deferred until the second one's are, however loaded the machine.
    run_duration = 600.0
    scenario = _start(deployment, run_duration=run_duration)
    scenario.wait_until(
        "every flow-run sensor (wait_first_run) to be deferred",
        lambda tis: all(
            (sensors := _ti(run_tis, "wait_first_run")) and all(ti["state"] == "deferred" for ti in sensors)
            for run_tis in tis.values()
        ),
    )
    times = _component("airflow-restart.sh", "triggerer", "--kill")
    fault_at = time.monotonic() - (time.time() - times["stopped"])
    scenario.emulator.advance(run_duration)
    ends = scenario.finish(fault_at)
    _assert_onboarded(scenario, ends, deployment.log_dir)
    for run in scenario.runs:
        sensors = {t: h for t, h in run.history.items() if t.rsplit(".", 1)[-1] == "wait_first_run"}
        for task_id, history in sensors.items():
            assert history[-1] == ("success", 1), f"{run.dag_id}.{task_id} went {history}: not resumed in its first try"
            assert ("deferred", 1) in history, f"{run.dag_id}.{task_id} never deferred: {history}"
    _report("triggerer SIGKILL", ends, f"flow runs of {run_duration:.0f}s of emulator time, its clock moved past "
            f"them after the kill; triggerer healthy again {times['started'] - times['stopped']:.0f}s after the kill")


def test_platform_unreachable_for_a_minute(deployment, dags) -> None:
    """The Platform (the emulator, state kept in its --state file) unreachable for 60 s mid-run: tasks
    retry and finish, or fail saying the Platform was unavailable; then the one operator action - clear
    the failed task instances - finishes the runs, with one resource per name and each row once."""
    scenario = _start(deployment, run_duration=3, faults=SLOW_FLOWS)
    scenario.wait_until("a dataflow task running in one run", _dataflow_running)
    times = _component("airflow-restart.sh", "aep-emulator", "--down", "60")
    fault_at = time.monotonic() - (time.time() - times["stopped"])
    ends = scenario.finish(fault_at)

    def says_unreachable(run: Any, ti: dict[str, Any]) -> None:
        log = _task_log(scenario.client, run, ti["task_id"], ti["try_number"])
        assert "unavailable" in log or "did not answer" in log, (
            f"{run.dag_id}.{ti['task_id']} failed without saying the Platform was unreachable: {log[-1500:]}"
        )

    ends, cleared = _clear_failed_and_finish(scenario, ends, fault_at, check=says_unreachable)
    _assert_onboarded(scenario, ends, deployment.log_dir)
    _report("AEP unreachable 60 s", ends, f"emulator answering {times['started'] - times['stopped']:.0f}s after the stop; "
            f"first task queued {_first_queued_after(scenario, times['started'])} after that; "
            f"cleared by the test: {cleared or 'nothing, the runs finished by themselves'}")


def test_metadata_database_restarted_mid_run(deployment, dags) -> None:
    """PostgreSQL (the metadata database) restarted once while tasks run: the runs end in success (or,
    where a task failed on the lost connection, after clearing it) with one resource per name and each
    source row once."""
    scenario = _start(deployment, run_duration=3, faults=SLOW_FLOWS)
    scenario.wait_until("a dataflow task running in one run", _dataflow_running)
    times = _component("postgres-restart.sh")
    fault_at = time.monotonic() - (time.time() - times["restarting"])
    scenario.emulator.lift_faults()
    ends, cleared = _clear_failed_and_finish(scenario, ends=scenario.finish(fault_at), fault_at=fault_at)
    _assert_onboarded(scenario, ends, deployment.log_dir)
    _report("PostgreSQL restart", ends, f"database answering {times['restarted'] - times['restarting']:.0f}s after the "
            f"restart began; first task queued {_first_queued_after(scenario, times['restarted'])} after that; "
            f"cleared by the test: {cleared or 'nothing, the runs finished by themselves'}")
