"""Run the benchmarks, print the markdown table, write results/results.{md,json,png}.

    python -m benchmarks.run                  # everything (45-60 minutes on 2 CPUs, mostly the deployment;
                                              # the backfill section alone about 15)
    python -m benchmarks.run --quick          # smaller sizes, CeleryExecutor at 1 s only, backfill 4 x 2
    python -m benchmarks.run --no-deployment  # everything but the real-deployment runs
    python -m benchmarks.run --only parse     # parse | onboard | requests | memory | backfill | emulator
    python -m benchmarks.run --only backfill --windows 8 --backfill-objects 3 --backfill-latency 500

Results of earlier runs are kept per section in results/results.json, so
``--only`` refreshes one section of the report and leaves the others as they
were (each section says when and how it was measured).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import chart, report
from benchmarks.common import RESULTS, AirflowHome, log, workdir
from benchmarks.specs import OURS_DAG_FILE

SECTIONS = ("parse", "onboard", "requests", "memory", "backfill", "emulator")


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for name in ("apache-airflow", "dag-factory", "aepp"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} missing")
    return ", ".join(parts)


def _environment() -> str:
    load = os.getloadavg()
    return (f"Machine: {os.cpu_count()} CPUs, load average at start {load[0]:.1f}; Python "
            f"{platform.python_version()}; {_versions()}.")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections to run: parse, onboard, requests, memory, backfill, emulator")
    parser.add_argument("--executors", default="celery,local",
                        help="deployment executors for the onboarding benchmark (celery, local)")
    parser.add_argument("--sizes", default="", help="onboard: object counts, e.g. 1,10,50 (default by mode)")
    parser.add_argument("--latencies", default="", help="onboard: latencies in ms, e.g. 100,1000 (default 100,1000)")
    parser.add_argument("--scale", default=None,
                        help="onboard: objects@latency measured besides the grid, batched on the deployment and by "
                             "aepp, e.g. 500@100 (default 50@100,500@100; quick: none; '' for none)")
    parser.add_argument("--layouts", default="",
                        help="onboard: layouts on the deployment, e.g. batched,per_object (default: batched at "
                             "every size, per_object at 10 objects)")
    parser.add_argument("--windows", type=int, default=0,
                        help="backfill: days per backfill, the max_active_runs measured against 1 (default 8, quick 4)")
    parser.add_argument("--backfill-objects", type=int, default=0,
                        help="backfill: objects in the spec, at most 7 (default 3, quick 2)")
    parser.add_argument("--backfill-latency", type=int, default=500,
                        help="backfill: latency of every Platform call in ms (default 500, about a real sandbox's)")
    parser.add_argument("--backfill-layout", default="batched", choices=("batched", "per_object"),
                        help="backfill: the spec's layout (default batched)")
    parser.add_argument("--no-deployment", action="store_true",
                        help="skip the real-deployment runs (the onboarding's deployment rows, the backfill section)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, Airflow homes)")
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; use some of {', '.join(SECTIONS)}")
    if args.windows and not 2 <= args.windows <= 16:
        parser.error(f"--windows {args.windows}: use 2 to 16 days")
    if args.backfill_objects and not 1 <= args.backfill_objects <= 7:
        parser.error(f"--backfill-objects {args.backfill_objects}: use 1 to 7 (the emulator's HubSpot tables)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "quick" if args.quick else "full"
    RESULTS.mkdir(parents=True, exist_ok=True)
    store = RESULTS / "results.json"
    data: dict[str, Any] = json.loads(store.read_text()) if store.exists() else {}
    environment = _environment()
    status = 0
    with workdir(keep=args.keep) as work:
        if args.keep:
            log(f"work folder: {work}")
        dags = work / "dags"
        dags.mkdir()
        (dags / "aep_onboarding_dags.py").write_text(OURS_DAG_FILE)
        home = AirflowHome.create(work / "home", dags)
        if set(args.sections) & {"onboard", "requests", "memory"}:
            log("airflow db migrate (throwaway SQLite home)")
            home.migrate()
        for section in SECTIONS:
            if section not in args.sections:
                continue
            if section == "backfill" and args.no_deployment:
                log("--- backfill skipped (--no-deployment): it runs only on the deployment")
                continue
            started = time.monotonic()
            load_before = os.getloadavg()[0]
            log(f"--- {section} ({mode})")
            try:
                _run_section(section, args, home, work, data)
            except Exception as exc:  # one broken benchmark must not hide the others
                status = 1
                log(f"{section} failed: {exc}")
                data.setdefault("errors", {})[section] = str(exc)[:2000]
                continue
            data.get("errors", {}).pop(section, None)
            data["meta"][section] = {"when": time.strftime("%Y-%m-%d %H:%M"), "mode": mode,
                                     "seconds": time.monotonic() - started, "load_after": os.getloadavg()[0],
                                     "load_before": load_before, "environment": environment}
    # Merge into what is on disk now (another run may have written other sections meanwhile).
    latest: dict[str, Any] = json.loads(store.read_text()) if store.exists() else {}
    for section in args.sections:
        for key in (section, f"{section}_notes"):
            if key in data:
                latest[key] = data[key]
        if section in data["meta"]:
            latest.setdefault("meta", {})[section] = data["meta"][section]
        if section in data.get("errors", {}):
            latest.setdefault("errors", {})[section] = data["errors"][section]
        else:
            latest.get("errors", {}).pop(section, None)
    # The environment of the sections measured before sections carried their own (kept, never overwritten).
    latest.setdefault("meta", {}).setdefault("environment", environment)
    data = latest
    store.write_text(json.dumps(data, indent=2))
    text = report.markdown(data)
    if data.get("errors"):
        text += "\n## Errors\n\n" + "\n".join(f"- {k}: {v}" for k, v in data["errors"].items()) + "\n"
    (RESULTS / "results.md").write_text(text)
    png = chart.chart(data, RESULTS / "results.png")
    print(text)
    log(f"wrote {RESULTS / 'results.md'}" + (f" and {png}" if png else " (no matplotlib: results.png not redrawn)"))
    return status


def _run_section(section: str, args: argparse.Namespace, home: AirflowHome, work: Path, data: dict[str, Any]) -> None:
    if section == "parse":
        from benchmarks import parse

        sizes = [1, 10, 100] if args.quick else [1, 10, 100, 500]
        reps = {1: 3, 10: 3, 100: 3} if args.quick else {1: 5, 10: 5, 100: 3, 500: 3}
        parse_rows = parse.run(home, work, sizes, reps)
        data["parse"] = [r.as_dict() for r in parse_rows]
        parse.write_profile(parse.profile(home, work, max(sizes)))
    elif section == "onboard":
        from benchmarks import onboard

        executors = [] if args.no_deployment else [e.strip() for e in args.executors.split(",") if e.strip()]
        if args.quick:
            plan = onboard.OnboardPlan(sizes=[1, 10], latencies=[100, 1000], dag_test_sizes=[1],
                                       executors=[e for e in executors if e == "celery"],
                                       deploy_latencies={"celery": [1000]}, deploy_layouts={"batched": [1, 10]})
        else:
            plan = onboard.OnboardPlan(sizes=[1, 10, 50], latencies=[100, 1000], dag_test_sizes=[1],
                                       executors=executors,
                                       deploy_latencies={"celery": [100, 1000], "local": [100, 1000]},
                                       deploy_layouts={"batched": [1, 10, 50], "per_object": [10]})
        if args.sizes:
            plan.sizes = [int(x) for x in args.sizes.split(",")]
            plan.deploy_layouts = {layout: [n for n in sizes if n in plan.sizes] or plan.sizes
                                   for layout, sizes in plan.deploy_layouts.items()}
        if args.latencies:
            plan.latencies = [int(x) for x in args.latencies.split(",")]
            plan.deploy_latencies = {e: plan.latencies for e in executors}
        if args.layouts:
            chosen = [x.strip() for x in args.layouts.split(",") if x.strip()]
            plan.deploy_layouts = {layout: plan.sizes for layout in chosen}
        scale = args.scale if args.scale is not None else ("" if args.quick else "50@100,500@100")
        plan.scale = [(int(n), int(lat)) for n, lat in (pair.split("@") for pair in scale.split(",") if pair.strip())]
        onboard_rows, notes, failures = onboard.run(home, work, plan)
        data["onboard"] = [r.as_dict() for r in onboard_rows]
        data["onboard_notes"] = notes
        if failures:  # the rows measured are kept; what is missing is an error of the section, not left out
            raise RuntimeError("; ".join(failures))
    elif section == "requests":
        from benchmarks import onboard

        request_rows = onboard.requests_only(home, work, [1, 5] if args.quick else [1, 10])
        data["requests"] = [r.as_dict() for r in request_rows]
    elif section == "backfill":
        from benchmarks import backfill

        backfill_plan = backfill.BackfillPlan(windows=args.windows or (4 if args.quick else 8),
                                              objects=args.backfill_objects or (2 if args.quick else 3),
                                              latency_ms=args.backfill_latency, layout=args.backfill_layout)
        backfill_rows, notes, failures = backfill.run(work, backfill_plan)
        data["backfill"] = [r.as_dict() for r in backfill_rows]
        data["backfill_notes"] = notes
        if failures:  # the rows measured are kept; what is missing or wrong is an error of the section
            raise RuntimeError("; ".join(failures))
    elif section == "memory":
        from benchmarks import memory

        memory_rows, profile = memory.run(home, work, repetitions=1 if args.quick else 3)
        data["memory"] = [r.as_dict() for r in memory_rows]
        memory.write_profile(profile)
    elif section == "emulator":
        from benchmarks import emulator_scale

        data["emulator"] = [r.as_dict() for r in emulator_scale.run(rounds=10 if args.quick else 20)]


if __name__ == "__main__":
    sys.exit(main())
