"""Benchmark 5: a backfill of N daily windows x M objects on the real deployment, at max_active_runs N and 1.

Issue 20's question: Airflow runs a backfill's DAG runs at once (its ``max_active_runs``, default 10, replaces
the DAG's), the sandbox's write lease (docs/concurrency.md) makes all but one of a first onboarding's runs wait
for the one that creates - so does running the windows at once still pay, and what does it cost next to the same
backfill one run at a time? Four measurements on the deployment ``deployment.py`` starts (CeleryExecutor):

* (a) first time at N: an empty sandbox (emulator reset), a backfill of the days D1..DN at ``max_active_runs`` N;
* (c) onboarded at N: right after (a), on what it created, a backfill of the next N days at N;
* (b), (d): the same two backfills of a second DAG (the same spec under another name, the same days) at 1.

Two DAGs, so that each backfill's days have no earlier runs (a backfill skips the days that have one). Each
measurement: wall time = the backfill's ``completed_at`` minus its ``created_at`` (Airflow's clock, REST
``GET /api/v2/backfills/{id}``), the DAG runs that succeeded, the sandbox's resources afterwards by kind and
name (the emulator's admin state, as ``tests/integration/it_helpers.actual_resources`` reads it: every name
once), and the Platform and IMS requests the backfill made (emulator counters). ratio = time at 1 / time at N.

Every Platform call answers after ``latency_ms`` (default 500, about what a real sandbox takes) and a flow run
takes 1 s, as in ``tests/integration/test_concurrent_runs.py``. The days lie in June 2025, where the emulator's
HubSpot tables have rows on most days (its data thins out towards the data end date, 2026-01-01); the rows of the
measured days are reported with each row. A failed run, a duplicate, a resource an onboarded backfill added, or a
deployment that did not start is an error of the section (raised after the rows measured are kept).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from benchmarks import deployment
from benchmarks.common import BenchTimeout, Emulator, log
from benchmarks.specs import spec_dict

#: The first day of the first backfill (the spec's start_date: the flow's own first run takes the rows before it).
FIRST_DAY = dt.date(2025, 6, 1)
RUN_DURATION_SECONDS = 1
POLL_SECONDS = 1.0


@dataclass
class BackfillPlan:
    windows: int = 8
    objects: int = 3
    latency_ms: int = 500
    layout: str = "batched"
    timeout: float = 1800.0


@dataclass
class BackfillRow:
    case: str  # "first time" | "onboarded"
    windows: int
    objects: int
    layout: str
    max_active_runs: int
    latency_ms: int
    seconds: float | None
    runs: int
    runs_succeeded: int
    resources: int
    duplicates: dict[str, int]
    requests: int | None
    ims_token_requests: int | None
    hubspot_rows: int
    days: str
    state: str
    run_states: dict[str, str] = field(default_factory=dict)
    #: where the time went: task instances, their summed durations, the longest ``plan`` (a plan that found the
    #: lease held waits in it, deferred), the summed ``ingest_window`` durations (one at a time per DAG:
    #: ``max_active_tis_per_dag=1``), the deployment's CPU seconds and the load average after
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def spec_names(plan: BackfillPlan) -> dict[int, str]:
    """max_active_runs -> the spec (and DAG) measured at it."""
    base = f"bench_backfill_{plan.windows}x{plan.objects}"
    return {plan.windows: f"{base}_at_{plan.windows}", 1: f"{base}_at_1"}


def write_specs(folder: Path, plan: BackfillPlan) -> dict[int, str]:
    """The two specs (same objects, same days, two names); returns max_active_runs -> DAG id."""
    from aep_onboarding.loader import load_spec

    folder.mkdir(parents=True, exist_ok=True)
    dag_ids: dict[int, str] = {}
    for runs, name in spec_names(plan).items():
        spec = spec_dict(name, plan.objects, layout=plan.layout, ingestion="airflow")
        spec["start_date"] = FIRST_DAY.isoformat()
        spec["description"] = f"benchmark backfill: {plan.objects} objects, one day per DAG run"
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        dag_ids[runs] = load_spec(path).dag_id
    return dag_ids


def hubspot_rows(emulator: Emulator, plan: BackfillPlan, first: dt.date, days: int) -> int:
    """Rows of the spec's tables whose delta column (``Added_At``) lies in the days [first, first + days)."""
    from aep_emulator import hubspot

    config = emulator.config()
    wanted = {(first + dt.timedelta(days=d)).isoformat() for d in range(days)}
    total = 0
    for obj in spec_dict("rows", plan.objects)["objects"]:
        table = hubspot.rows(obj["source"], int(config["seed"]), str(config["data_end"]))
        total += sum(1 for row in table if str(row["Added_At"])[:10] in wanted)
    return total


def resources(emulator: Emulator) -> Counter[tuple[str, str]]:
    """The sandbox's resources by kind and name (flow runs left out: each window makes one)."""
    return Counter((r["kind"], str(r["name"])) for r in emulator.state()["resources"] if r["kind"] != "run")


def _ts(value: str | None) -> float | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def make_idle(dep: deployment.Deployment, dag_ids: list[str], timeout: float) -> None:
    """Unpause the DAGs (the scheduler runs only unpaused DAGs' backfills) and let the one scheduled run that
    unpausing makes (catch-up off: the latest interval) finish, so it never overlaps a measurement."""
    for dag_id in dag_ids:
        dep.wait_dag(dag_id)
        dep.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
    deadline = time.monotonic() + timeout
    for dag_id in dag_ids:
        while True:
            runs = dep.api("GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 20}).get("dag_runs", [])
            if runs and all(r["state"] in ("success", "failed") for r in runs):
                break
            if time.monotonic() > deadline:
                raise BenchTimeout(f"{dag_id}: the scheduled run after unpausing did not finish within "
                                   f"{timeout:.0f} s: {[(r['dag_run_id'], r['state']) for r in runs]}")
            time.sleep(2)


def measure(dep: deployment.Deployment, emulator: Emulator, plan: BackfillPlan, dag_id: str, case: str,
            first: dt.date, max_active_runs: int) -> tuple[BackfillRow, Counter[tuple[str, str]]]:
    """One backfill of ``plan.windows`` days from ``first``; ``case`` "first time" starts from an empty sandbox."""
    if case == "first time":
        emulator.reset(0)
    else:
        emulator.mark()
    emulator.configure(latency_ms=plan.latency_ms, run_duration_seconds=RUN_DURATION_SECONDS)
    shutil.rmtree(dep.home / ".aep_token_cache", ignore_errors=True)
    before = emulator.counters()
    cpu_before = sum(dep.cpu_by_component().values())
    last = first + dt.timedelta(days=plan.windows - 1)
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(last, dt.time(), tzinfo=dt.UTC)
    log(f"backfill: {case}, {dag_id} {first}..{last}, max_active_runs {max_active_runs}, {plan.latency_ms} ms")
    backfill = dep.api("POST", "/api/v2/backfills", json={
        "dag_id": dag_id, "from_date": start.isoformat(), "to_date": end.isoformat(),
        "max_active_runs": max_active_runs, "reprocess_behavior": "none"})
    deadline = time.monotonic() + plan.timeout
    state = "completed"
    while True:
        backfill = dep.api("GET", f"/api/v2/backfills/{backfill['id']}")
        if backfill.get("completed_at"):
            break
        if time.monotonic() > deadline:
            state = f"unfinished after {plan.timeout:.0f} s (time limit)"
            dep.api("PUT", f"/api/v2/backfills/{backfill['id']}/cancel")
            break
        time.sleep(POLL_SECONDS)
    cpu = sum(dep.cpu_by_component().values()) - cpu_before
    emulator.configure(latency_ms=0, run_duration_seconds=RUN_DURATION_SECONDS)
    counters = {k: v - before.get(k, 0) for k, v in emulator.counters().items()}
    runs = [r for r in dep.api("GET", f"/api/v2/dags/{dag_id}/dagRuns",
                               params={"limit": 100, "run_type": "backfill"}).get("dag_runs", [])
            if start.timestamp() <= (_ts(r.get("data_interval_start")) or 0) <= end.timestamp()]
    run_states = {r["dag_run_id"]: str(r["state"]) for r in runs}
    held = resources(emulator)
    duplicates = {f"{kind} {name}": n for (kind, name), n in held.items() if n > 1}
    created, completed = _ts(backfill.get("created_at")), _ts(backfill.get("completed_at"))
    row = BackfillRow(
        case=case, windows=plan.windows, objects=plan.objects, layout=plan.layout, max_active_runs=max_active_runs,
        latency_ms=plan.latency_ms, seconds=(completed - created) if created and completed else None,
        runs=len(runs), runs_succeeded=sum(1 for s in run_states.values() if s == "success"),
        resources=sum(held.values()), duplicates=duplicates, requests=counters.get("requests"),
        ims_token_requests=counters.get("ims_token_requests"),
        hubspot_rows=hubspot_rows(emulator, plan, first, plan.windows), days=f"{first}..{last}", state=state,
        run_states=run_states, extra={**time_spent(dep, dag_id, runs), "deployment_cpu_seconds": cpu,
                                      "load_after": os.getloadavg()[0]})
    log(f"backfill: {case} at {max_active_runs}: {row.seconds} s, {row.runs_succeeded}/{plan.windows} runs "
        f"succeeded, {row.resources} resources, duplicates {duplicates or 'none'}, {row.requests} requests")
    return row, held


def time_spent(dep: deployment.Deployment, dag_id: str, runs: list[dict[str, Any]]) -> dict[str, float]:
    """Task instances of the runs (REST): how many, their summed durations, the longest plan, the window steps."""
    spans: list[tuple[str, float]] = []
    for run in runs:
        tis = dep.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run['dag_run_id'], safe='')}/taskInstances",
                      params={"limit": 1000}).get("task_instances", [])
        for ti in tis:
            start, end = _ts(ti.get("start_date")), _ts(ti.get("end_date"))
            if start and end:
                spans.append((str(ti["task_id"]), end - start))
    plans = [d for task, d in spans if task == "plan"]
    return {"task_instances": float(len(spans)), "task_seconds": sum(d for _, d in spans),
            "plan_longest": max(plans, default=0.0),
            "ingest_window_seconds": sum(d for task, d in spans if task.endswith("ingest_window"))}


def failures_of(row: BackfillRow, plan: BackfillPlan) -> list[str]:
    where = f"backfill {row.case} at max_active_runs {row.max_active_runs}"
    out = []
    if row.state != "completed":
        out.append(f"{where}: {row.state}")
    if row.runs_succeeded != plan.windows:
        bad = {k: v for k, v in row.run_states.items() if v != "success"}
        out.append(f"{where}: {row.runs_succeeded} of {plan.windows} DAG runs succeeded (others: {bad})")
    if row.duplicates:
        out.append(f"{where}: duplicated resources {row.duplicates}")
    return out


def run(work: Path, plan: BackfillPlan) -> tuple[list[BackfillRow], list[str], list[str]]:
    """The four measurements; returns the rows, notes and failures (the caller raises on failures)."""
    rows: list[BackfillRow] = []
    notes: list[str] = []
    failures: list[str] = []
    why_not = deployment.scripts_ready()
    if why_not:
        return rows, notes, [f"backfill not measured: {why_not}"]
    specs_dir = work / "backfill-specs"
    dag_ids = write_specs(specs_dir, plan)
    second = FIRST_DAY + dt.timedelta(days=plan.windows)
    with Emulator(work, latency_ms=0, access_log=False) as emulator:
        dep = deployment.Deployment(work, emulator, specs_dir, "celery")
        try:
            dep.up()
            notes.append(f"airflow-up.sh took {dep.up_seconds:.0f} s (not counted); CeleryExecutor; every "
                         f"Platform call answered after {plan.latency_ms} ms, each flow run took "
                         f"{RUN_DURATION_SECONDS} s")
            make_idle(dep, list(dag_ids.values()), timeout=600)
            for runs in (plan.windows, 1):
                dag_id = dag_ids[runs]
                first_row, first_held = measure(dep, emulator, plan, dag_id, "first time", FIRST_DAY, runs)
                rows.append(first_row)
                failures += failures_of(first_row, plan)
                again_row, again_held = measure(dep, emulator, plan, dag_id, "onboarded", second, runs)
                rows.append(again_row)
                failures += failures_of(again_row, plan)
                added = again_held - first_held
                if added:
                    failures.append(f"backfill onboarded at max_active_runs {runs}: the onboarded sandbox gained "
                                    f"resources {dict(added)}")
        except Exception as exc:  # the rows measured are kept; what is missing is an error of the section
            failures.append(f"backfill: {str(exc)[:1500]}")
            log(f"backfill failed: {exc}")
        finally:
            dep.down()
    return rows, notes, failures
