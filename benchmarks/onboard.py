"""Benchmark 2 (and the counters of benchmark 3): onboarding N objects against the emulator.

For every per-request latency (100 ms, 1 s; the emulator sleeps that long
before answering each IMS and Platform call, concurrently for concurrent
calls), side by side in the same run and against the same emulator process,
reset before every measurement:

* ``aepp sequential``: ``benchmarks/aepp_onboarding.py`` in a child process;
* ``ours dag.test()``: our DAG for 1 object through ``dag.test()`` (one process,
  tasks one after another) on a throwaway SQLite Airflow home;
* ``ours CeleryExecutor`` / ``ours LocalExecutor``: our DAG on the deployment of
  ``scripts/airflow-up.sh`` (``benchmarks.deployment``);

each of ours in a spec ``layout`` (``batched``: one task per step for every
object, the layout for many objects; ``per_object``: one task group per
object), named in the method, e.g. ``ours CeleryExecutor, batched``;
* ``physical limit``: the longest chain of dependent calls times the latency.

The compared figure is *time to onboarded*: from the start of the work (the
aepp script's first call; ``dag.test()`` being called; the DAG being unpaused)
to the creation of the last dataflow, read from the flows' ``createdAt`` in the
emulator, so every method is timed by the same clock and on the same work (our
DAG also waits for the flow's first run and ingests its data interval after
that; that full time is reported separately).

The longest chain of dependent calls, with unlimited parallelism, is the same
for 1 or 50 objects: IMS token -> target schema -> dataset -> target connection
-> dataflow (the ad-hoc chain, class -> schema -> source connection, is no
longer), i.e. 5 calls. Our operators look each resource up before creating
it (what makes re-runs idempotent), which makes their chain 1 + 4 x 2 = 9
calls; both are given.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import deployment
from benchmarks.common import PYTHON, AirflowHome, BenchTimeout, Emulator, log, run_child
from benchmarks.specs import write_spec

CHAIN_CREATE_ONLY = 5
CHAIN_WITH_LOOKUPS = 9


@dataclass
class OnboardRow:
    method: str
    objects: int
    latency_ms: int
    onboarded_seconds: float | None
    total_seconds: float | None = None
    requests: int | None = None
    ims_token_requests: int | None = None
    flows: int | None = None
    state: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


LAYOUTS = ("batched", "per_object")


def spec_name(n: int, latency_ms: int, layout: str = "per_object") -> str:
    return f"bench_n{n}_l{latency_ms}" + ("_batched" if layout == "batched" else "")


def ours(kind: str, layout: str) -> str:
    """The method label of one of our runs: ``ours LocalExecutor, batched``."""
    return f"ours {kind}, {layout.replace('_', '-')}"


def write_specs(folder: Path, sizes: list[int], latencies: list[int],
                layouts: tuple[str, ...] = LAYOUTS, ingestion: str = "airflow") -> dict[tuple[int, int, str], Path]:
    return {(n, lat, layout): write_spec(folder, spec_name(n, lat, layout), n, layout, ingestion)
            for n in sizes for lat in latencies for layout in layouts}


def _onboarded(emulator: Emulator, start: float, expected: int) -> tuple[float | None, int]:
    created = emulator.flow_created_times()
    if len(created) < expected or not created:
        return None, len(created)
    return max(created) - start, len(created)


def physical_limit(n: int, latency_ms: int) -> OnboardRow:
    seconds = CHAIN_CREATE_ONLY * latency_ms / 1000.0
    return OnboardRow("physical limit", n, latency_ms, seconds,
                      note=f"{CHAIN_CREATE_ONLY} dependent calls x latency (with look-ups before creates: "
                           f"{CHAIN_WITH_LOOKUPS} x = {CHAIN_WITH_LOOKUPS * latency_ms / 1000.0:g} s)")


#: The threaded aepp baseline runs as many objects at once as our batched tasks (the specs' max_concurrency).
AEPP_THREADS = 8


def aepp_method(threads: int) -> str:
    return "aepp sequential" if threads <= 1 else f"aepp threaded ({threads})"


def run_aepp(emulator: Emulator, spec: Path, n: int, latency_ms: int, timeout: float, threads: int = 1) -> OnboardRow:
    emulator.reset(latency_ms)
    method = aepp_method(threads)
    result = run_child([PYTHON, "-m", "benchmarks.aepp_onboarding", "--base-url", emulator.base_url,
                        "--spec", str(spec), "--threads", str(threads)], timeout=timeout)
    if result.returncode != 0:
        return OnboardRow(method, n, latency_ms, None, state="failed", note=result.stderr[-300:])
    data = result.last_json()
    counters = emulator.counters()
    breakdown = emulator.request_breakdown()
    return OnboardRow(method, n, latency_ms, data["total_seconds"], data["total_seconds"],
                      counters["requests"], counters["ims_token_requests"], len(data["flows"]), "success",
                      extra={"per_object_median": sorted(data["per_object_seconds"])[n // 2],
                             "shared_seconds": data["shared_seconds"], "max_rss_mib": result.max_rss_mib,
                             "cpu_seconds": result.cpu_seconds,
                             "breakdown": breakdown})


def run_dag_test(home: AirflowHome, emulator: Emulator, spec: Path, n: int, latency_ms: int, timeout: float,
                 onboarding_only: bool = False, layout: str = "per_object", again: bool = False,
                 label: str = "") -> OnboardRow:
    """``again``: a second run of the same spec on what the first created (no reset; the counters are this run's)."""
    if again:
        emulator.mark()
    else:
        emulator.reset(latency_ms)
    before = emulator.counters() if again else {"requests": 0, "ims_token_requests": 0}
    cache = home.root / f"token-cache-{spec.stem}-{int(onboarding_only)}"
    env = {**home.with_aep(emulator.base_url, token_cache=cache), "AEP_SPECS_DIR": str(spec.parent)}
    cmd = [PYTHON, "-m", "benchmarks._dag_test_runner", str(spec)]
    if onboarding_only:
        cmd.append("--onboarding-only")
    method = ours("dag.test()", layout) + (" (onboarding tasks)" if onboarding_only else "") + (
        " (second run, unchanged spec)" if again else "") + label
    try:
        result = run_child(cmd, env=env, timeout=timeout)
    except BenchTimeout as exc:
        return OnboardRow(method, n, latency_ms, None, state="timeout", note=str(exc)[:300])
    if result.returncode != 0:
        return OnboardRow(method, n, latency_ms, None, state="failed", note=result.stderr[-500:])
    data = result.last_json()
    counters = {k: v - before.get(k, 0) for k, v in emulator.counters().items()}
    breakdown = emulator.request_breakdown()
    onboarded, flows = _onboarded(emulator, data["started"], n)
    tis = [t for t in data["tis"] if t["start"] and t["end"]]
    first = min(tis, key=lambda t: t["start"]) if tis else None
    return OnboardRow(method, n, latency_ms, onboarded, data["seconds"], counters["requests"],
                      counters["ims_token_requests"], flows, data["state"],
                      extra={"max_rss_mib": result.max_rss_mib, "breakdown": breakdown,
                             "task_seconds_sum": sum(t["end"] - t["start"] for t in tis),
                             "first_task": first["task_id"] if first else None,
                             "first_task_seconds": (first["end"] - first["start"]) if first else None})


def run_deployment(dep: deployment.Deployment, emulator: Emulator, n: int, latency_ms: int,
                   timeout: float, layout: str) -> OnboardRow:
    method = ours("CeleryExecutor" if dep.executor == "celery" else "LocalExecutor", layout)
    dag_id = f"aep_onboard_{spec_name(n, latency_ms, layout)}"
    try:
        run = dep.run_once(dag_id, latency_ms, timeout)
    except BenchTimeout as exc:
        return OnboardRow(method, n, latency_ms, None, state="timeout", note=str(exc)[:300])
    counters = emulator.counters()
    breakdown = emulator.request_breakdown()
    onboarded, flows = _onboarded(emulator, run.unpaused_at, n)
    over: dict[str, Any] = dict(deployment.overhead(run))
    total = (run.end - run.unpaused_at) if run.end else None
    finished = [t for t in run.task_instances if t["end"]]
    over["cpu_seconds"] = sum(run.cpu.values())
    over["cpu_by_component"] = run.cpu
    over["cpu_per_task"] = over["cpu_seconds"] / len(finished) if finished else float("nan")
    return OnboardRow(method, n, latency_ms, onboarded, total, counters["requests"], counters["ims_token_requests"],
                      flows, run.state, extra={
                          "breakdown": breakdown,
                          "run_created_after_unpause": (run.queued_at - run.unpaused_at) if run.queued_at else None,
                          "largest_xcom": run.largest_xcom, "largest_task_memory": run.largest_task_memory,
                          **over})


@dataclass
class OnboardPlan:
    sizes: list[int]
    latencies: list[int]
    dag_test_sizes: list[int]
    executors: list[str]
    # (executor, latency) pairs to run on the deployment; None: every executor at every latency
    deploy_latencies: dict[str, list[int]] | None = None
    # time limit per deployment run by object count; a run past it is reported with what it had done
    deploy_caps: dict[int, float] = field(default_factory=lambda: {1: 120.0, 10: 240.0, 50: 300.0, 500: 900.0})
    # the object counts each layout runs on the deployment (the per-object layout as a reference)
    deploy_layouts: dict[str, list[int]] = field(default_factory=lambda: {"batched": [1, 10, 50]})
    dag_test_layouts: tuple[str, ...] = ("batched", "per_object")
    aepp_timeout_factor: float = 4.0
    # (objects, latency ms) measured besides the grid above: the batched layout on the first executor's deployment,
    # and the aepp script (both ways, in the background thread) - the at-scale row, 500 objects at 100 ms
    scale: list[tuple[int, int]] = field(default_factory=list)


def _aepp_series(emulator: Emulator, specs: dict[tuple[int, int, str], Path], jobs: list[tuple[int, int]],
                 timeout_factor: float, out: list[OnboardRow]) -> None:
    for n, latency in jobs:
        expected = (7 + 8 * n) * latency / 1000.0 + 5
        log(f"onboard: aepp n={n} latency={latency} ms (expect ~{expected:.0f} s)")
        for threads in (1, AEPP_THREADS):
            out.append(run_aepp(emulator, specs[(n, latency, "per_object")], n, latency,
                                timeout=60 + timeout_factor * expected, threads=threads))


def run(home: AirflowHome, work: Path, plan: OnboardPlan) -> tuple[list[OnboardRow], list[str], list[str]]:
    """All onboarding measurements; returns the rows, notes, and the failures: each part of the plan that could not
    be measured (a deployment that did not start, an executor the scripts cannot run). The caller reports failures
    as errors of the section, never as silently missing rows.

    The aepp runs at 1 s latency are long (about 8 s per object) and spend over 97 % of their
    time waiting for the emulator's latency; to keep ``make bench`` bounded they run at full
    object count in a background thread against a second emulator process of their own, while
    the other measurements go on (their own CPU use, a few seconds, is negligible next to the
    deployment's). Everything else runs one at a time.
    """
    notes: list[str] = []
    failures: list[str] = []
    rows: list[OnboardRow] = []
    scale_sizes = {n for n, _ in plan.scale}
    specs = write_specs(work / "onboard-specs", sorted(set(plan.sizes) | set(plan.dag_test_sizes) | scale_sizes),
                        sorted(set(plan.latencies) | {lat for _, lat in plan.scale}))
    tables = max([*plan.sizes, *scale_sizes]) + 10
    slow_jobs = [(n, lat) for lat in plan.latencies for n in plan.sizes if lat >= 1000] + list(plan.scale)
    fast_jobs = [(n, lat) for lat in plan.latencies for n in plan.sizes if lat < 1000]
    slow_rows: list[OnboardRow] = []
    with Emulator(work, latency_ms=0, synthetic_tables=tables, access_log=True) as emulator, \
            Emulator(work, latency_ms=0, synthetic_tables=tables, access_log=True) as aepp_emulator:
        background = threading.Thread(target=_aepp_series, name="aepp-1s", daemon=True,
                                      args=(aepp_emulator, specs, slow_jobs, plan.aepp_timeout_factor, slow_rows))
        background.start()
        notes.append("aepp at 1 s latency ran in a background thread against its own emulator process, "
                     "concurrently with the other measurements (it waits on latency >97 % of its time)")
        for latency in plan.latencies:
            for n in plan.sizes:
                rows.append(physical_limit(n, latency))
            for n in plan.dag_test_sizes:
                for layout in plan.dag_test_layouts:
                    log(f"onboard: dag.test() n={n} latency={latency} ms {layout}")
                    rows.append(run_dag_test(home, emulator, specs[(n, latency, layout)], n, latency,
                                             timeout=120 + 60 * n * latency / 1000.0 * 4, layout=layout))
        rows += [physical_limit(n, latency) for n, latency in plan.scale]
        _aepp_series(emulator, specs, fast_jobs, plan.aepp_timeout_factor, rows)
        why_not = deployment.scripts_ready()
        for executor in plan.executors:
            reason = why_not or deployment.executor_supported(executor)
            label = "CeleryExecutor" if executor == "celery" else "LocalExecutor"
            if reason:
                notes.append(f"ours {label}: not measured: {reason}")
                failures.append(f"ours {label} not measured: {reason}")
                continue
            latencies = (plan.deploy_latencies or {}).get(executor, plan.latencies)
            # Only the DAGs this executor runs: the DAG processor re-parses every file all along the runs.
            deploy_specs = work / f"deploy-specs-{executor}"
            for layout, sizes in plan.deploy_layouts.items():
                for latency in latencies:
                    for n in sizes:
                        write_spec(deploy_specs, spec_name(n, latency, layout), n, layout)
            scale = plan.scale if executor == plan.executors[0] else []
            for n, latency in scale:
                write_spec(deploy_specs, spec_name(n, latency, "batched"), n, "batched")
            dep = deployment.Deployment(work, emulator, deploy_specs, executor)
            try:
                dep.up()
                notes.append(f"ours {label}: airflow-up.sh took {dep.up_seconds:.0f} s (not counted); "
                             f"time limits per run: {plan.deploy_caps}")
                for latency in latencies:
                    for layout, sizes in plan.deploy_layouts.items():
                        for n in sizes:
                            log(f"onboard: {label} n={n} latency={latency} ms {layout}")
                            rows.append(run_deployment(dep, emulator, n, latency,
                                                       timeout=plan.deploy_caps.get(n, 300.0), layout=layout))
                for n, latency in scale:
                    log(f"onboard: {label} n={n} latency={latency} ms batched (at scale)")
                    rows.append(run_deployment(dep, emulator, n, latency, timeout=plan.deploy_caps.get(n, 900.0),
                                               layout="batched"))
            except Exception as exc:  # a broken deployment must not lose the other results
                notes.append(f"ours {label}: deployment failed: {str(exc)[:500]}")
                failures.append(f"ours {label}: deployment failed: {str(exc)[:500]}")
                log(f"deployment {executor} failed: {exc}")
            finally:
                dep.down()
        background.join(timeout=3600)
        rows.extend(slow_rows)
    return rows, notes, failures


def requests_only(home: AirflowHome, work: Path, sizes: list[int]) -> list[OnboardRow]:
    """Benchmark 3 on its own: counters for aepp and our DAG at 0 latency.

    Like for like, ours onboards with ``ingestion: aep`` (flows on AEP's schedule, as the aepp script creates them,
    no window run); the cost of an Airflow-driven window (``ingestion: airflow``: the first-run wait and one
    on-demand run per data interval, which the aepp script never makes) is a row of its own.
    """
    rows: list[OnboardRow] = []
    specs = write_specs(work / "requests-specs", sizes, [0], ingestion="aep")
    windows = write_specs(work / "requests-window-specs", sizes, [0], layouts=("per_object",))
    with Emulator(work, latency_ms=0, synthetic_tables=max(sizes) + 10, access_log=True) as emulator:
        for n in sizes:
            for threads in (1, AEPP_THREADS):
                rows.append(run_aepp(emulator, specs[(n, 0, "per_object")], n, 0, timeout=300, threads=threads))
            for layout in LAYOUTS:
                rows.append(run_dag_test(home, emulator, specs[(n, 0, layout)], n, 0, timeout=600,
                                         onboarding_only=True, layout=layout))
                rows.append(run_dag_test(home, emulator, specs[(n, 0, layout)], n, 0, timeout=600, layout=layout))
                rows.append(run_dag_test(home, emulator, specs[(n, 0, layout)], n, 0, timeout=600, layout=layout,
                                         again=True))
            rows.append(run_dag_test(home, emulator, windows[(n, 0, "per_object")], n, 0, timeout=600,
                                     label=" (ingestion: airflow, with the window run)"))
    return rows


def to_json(rows: list[OnboardRow]) -> str:
    return json.dumps([r.as_dict() for r in rows], indent=2)
