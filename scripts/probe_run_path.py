"""Where one DAG run's time and CPU go, on a running deployment: each task instance from ready to started and
started to ended, and the CPU seconds of every deployment component during the run.

    source scripts/airflow-env.sh   # a deployment started by scripts/airflow-up.sh
    AEP_AIRFLOW_URL=http://127.0.0.1:8080 .venv/bin/python scripts/probe_run_path.py \\
        aep_onboard_hubspot_blog '{"objects": ["Hubspot.Blog_Authors"]}' --latency-ms 1000

Resets the emulator (every run onboards from an empty sandbox), makes it answer every Platform call after
``--latency-ms``, triggers the DAG with the given conf, waits for the run and prints one line per task instance
(ordered by start: offset from the run's start, ready -> queued, ready -> started, duration) and the CPU seconds
by component (/proc, children included: a task process counts with the worker that reaped it). Run it twice: the
first run after a deployment starts also warms the API server and the triggerer up. docs/deployment.md
("Settings that make a task start cheap") reports what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from airflow_rest import AirflowClient, EmulatorAdmin

COMPONENTS = ("scheduler", "api-server", "api_server", "celery", "triggerer", "dag-processor", "dag_processor",
              "aep-emulator", "postgres", "redis")


def cpu_by_component() -> dict[str, float]:
    """CPU seconds (user + system, reaped children included) of every process, by the component its command names."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = sum(int(x) for x in fields[11:15]) / tick
        name = next((c for c in COMPONENTS if c in command), "airflow tasks" if "airflow" in command else None)
        if name is not None:
            name = name.replace("_", "-")
            out[name] = out.get(name, 0.0) + seconds
    return out


def _ts(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dag_id")
    parser.add_argument("conf", nargs="?", default="{}", help="the run's conf, JSON")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--emulator", default=os.environ.get("AEP_EMULATOR_URL", "http://127.0.0.1:8765"))
    args = parser.parse_args(argv)
    client, emulator = AirflowClient.from_env(), EmulatorAdmin(args.emulator)
    client.set_paused(args.dag_id, False)
    emulator.reset()
    emulator.set_config(run_duration_seconds=1, latency_ms=args.latency_ms)
    upstream: dict[str, list[str]] = {}
    for task in client.get(f"/api/v2/dags/{args.dag_id}/tasks")["tasks"]:
        for down in task["downstream_task_ids"]:
            upstream.setdefault(down, []).append(task["task_id"])
    before, started = cpu_by_component(), time.time()
    try:
        run_id = client.trigger(args.dag_id, json.loads(args.conf))
        run = client.wait_run(args.dag_id, run_id, timeout=900, interval=0.5)
    finally:
        emulator.set_config(latency_ms=0)
    wall, after = time.time() - started, cpu_by_component()
    tis = {ti["task_id"]: ti for ti in client.task_instances(args.dag_id, run_id) if ti["map_index"] < 0}
    run_start = _ts(run["start_date"]) or started
    print(f"{run_id} {run['state']}: {wall:.1f} s from the trigger, {(_ts(run['end_date']) or 0) - run_start:.1f} s "
          f"from the run's start to its end, {len(tis)} task instances")
    rows: list[tuple[float, str, float, float, float]] = []
    for task_id, ti in tis.items():
        start, end = _ts(ti["start_date"]), _ts(ti["end_date"])
        if start is None or end is None:
            continue
        ready = max([e for u in upstream.get(task_id, []) if (e := _ts(tis.get(u, {}).get("end_date")))],
                    default=run_start)
        queued = _ts(ti.get("queued_when")) or start
        rows.append((start - run_start, task_id, queued - ready, start - ready, end - start))
    for offset, task_id, to_queued, to_start, duration in sorted(rows):
        print(f"  +{offset:6.1f} s  {task_id:45s} ready->queued {to_queued:5.2f}  ready->started {to_start:5.2f}  "
              f"ran {duration:5.2f}")
    lags, runs = sorted(r[3] for r in rows), sorted(r[4] for r in rows)
    if rows:
        print(f"median ready->started {lags[len(lags) // 2]:.2f} s, median duration {runs[len(runs) // 2]:.2f} s")
    used: dict[str, Any] = {k: round(after.get(k, 0.0) - before.get(k, 0.0), 2) for k in after}
    print(f"CPU seconds by component: {used}; total {sum(used.values()):.1f}")
    return 0 if run["state"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
