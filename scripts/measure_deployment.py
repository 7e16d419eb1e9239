"""Measure the native Airflow deployment through its REST API: trigger-to-success time and throughput.

    .venv/bin/python scripts/measure_deployment.py                     # 1 and 20 objects, both layouts
    .venv/bin/python scripts/measure_deployment.py --objects 1 5 20 --layouts batched --pool threads

Starts a deployment of its own with scripts/airflow-up.sh (its own AIRFLOW_HOME under
.airflow/measure, database airflow_aep_measure, Redis database 8, free ports, so a running
development deployment is left alone), writes one onboarding spec per object count
and layout (``measure_<n>_objects`` per object, ``measure_<n>_objects_batched``: Hubspot.Contacts
plus synthetic copies of it, no schedule),
triggers each DAG through ``POST /api/v2/dags/{id}/dagRuns`` on an empty emulator, waits
for success and prints a markdown table. Always stops the deployment with
scripts/airflow-down.sh at the end.

Columns: trigger -> success is wall time from the POST to the run observed successful
(polled every 0.5 s); run time is the run's own start_date -> end_date; tasks/min is the
run's task instances divided by its run time; peak running is the most task instances
seen running at once; worker PSS is the Celery worker session's proportional memory,
peak over the run; load avg is the machine's 1-minute load before -> after the run (anything
else running on the machine slows the run down: read the figures with it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _emulator_tables import synthetic_table_names
from airflow_rest import AirflowClient, EmulatorAdmin

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spec_name(objects: int, layout: str) -> str:
    return f"measure_{objects}_objects" + ("_batched" if layout == "batched" else "")


def spec_yaml(objects: int, layout: str = "per_object") -> str:
    sources = ["Hubspot.Contacts", *synthetic_table_names(objects - 1)]
    lines = [
        f"name: {spec_name(objects, layout)}",
        f"layout: {layout}",
        f"description: measurement, {objects} HubSpot contact tables",
        "hubspot: {conn_id: hubspot_default}",
        "schedule: null",
        "retries: 1",
        "retry_delay_seconds: 5",
        "sensor_poll_seconds: 2",
        "objects:",
    ]
    for source in sources:
        lines += [
            f"  - source: {source}",
            "    mapping:",
            "      - {source: Vid, destination: _id}",
            "      - {source: Properties_Firstname_Value, destination: person.name.firstName}",
            "      - {source: Properties_Lastname_Value, destination: person.name.lastName}",
        ]
    return "\n".join(lines) + "\n"


def session_pss_mb(leader: int) -> float:
    """Proportional set size of every process in the session ``leader`` leads, in MB."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            if int(stat[stat.rindex(")") + 2:].split()[3]) != leader:
                continue
            for line in (proc / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def measure(client: AirflowClient, emulator: EmulatorAdmin, dag_id: str, worker_pid: int | None, timeout: float) -> dict[str, Any]:
    client.wait_dag(dag_id, timeout=180)
    client.set_paused(dag_id, False)
    emulator.reset()
    peak = {"running": 0, "pss": 0.0, "next": 0.0}

    def sample() -> None:
        # Cheap probes only: listing hundreds of task instances twice a second would load the
        # api-server (and so the 2 cores) more than the run under measurement.
        if time.monotonic() < peak["next"]:
            return
        peak["next"] = time.monotonic() + 3
        running = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances",
                             params={"state": "running", "limit": 1})["total_entries"]
        peak["running"] = max(peak["running"], running)
        if worker_pid:
            peak["pss"] = max(peak["pss"], session_pss_mb(worker_pid))

    started = time.monotonic()
    run_id = client.trigger(dag_id)
    deadline = time.monotonic() + timeout
    while True:
        sample()
        run = client.dag_run(dag_id, run_id)
        if run["state"] in ("success", "failed"):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"{dag_id}/{run_id} still {run['state']} after {timeout:.0f}s; logs: {client.log_dir}")
        time.sleep(0.5)
    wall = time.monotonic() - started
    tis = client.task_instances(dag_id, run_id)
    if run["state"] != "success":
        raise SystemExit(f"{dag_id}/{run_id} ended {run['state']}: {sorted((t['task_id'], t['state']) for t in tis if t['state'] != 'success')}")
    run_seconds = _ts(run["end_date"]) - _ts(run["start_date"])
    return {
        "tasks": len(tis),
        "wall": wall,
        "run": run_seconds,
        "per_minute": len(tis) / (run_seconds / 60) if run_seconds else 0.0,
        "peak_running": peak["running"],
        "pss": peak["pss"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, nargs="+", default=[1, 20], help="object counts to measure")
    parser.add_argument("--layouts", nargs="+", choices=["per_object", "batched"], default=["per_object", "batched"],
                        help="spec layouts to measure")
    parser.add_argument("--pool", choices=["prefork", "threads"], default=os.environ.get("AEP_WORKER_POOL", "prefork"))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("AEP_WORKER_CONCURRENCY", "16")))
    parser.add_argument("--timeout", type=float, default=900, help="seconds one run may take")
    parser.add_argument("--keep-logs", action="store_true", help="print where the deployment's logs are")
    args = parser.parse_args(argv)

    home = REPO / ".airflow" / "measure"
    specs = Path(tempfile.mkdtemp(prefix="aep-measure-specs-"))
    runs = [(n, layout) for n in args.objects for layout in args.layouts]
    for n, layout in runs:
        (specs / f"{spec_name(n, layout)}.yaml").write_text(spec_yaml(n, layout))
    api_port, emulator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "AEP_TOKEN_CACHE_DIR"}
    env.update({
        "AEP_AIRFLOW_HOME": str(home),
        "AEP_AIRFLOW_DB": "airflow_aep_measure",
        "AEP_REDIS_URL": "redis://127.0.0.1:6379/8",
        "AEP_API_PORT": str(api_port),
        "AEP_EMULATOR_PORT": str(emulator_port),
        "AEP_WORKER_LOG_PORT": str(free_port()),
        "AEP_TRIGGERER_LOG_PORT": str(free_port()),
        "AEP_SPECS_DIR": str(specs),
        "AEP_WORKER_POOL": args.pool,
        "AEP_WORKER_CONCURRENCY": str(args.concurrency),
        "AEP_EMULATOR_COMMAND": f"{sys.executable} {SCRIPTS / '_emulator_tables.py'} --synthetic-tables {max(args.objects)} serve",
    })
    client = AirflowClient(base_url=f"http://127.0.0.1:{api_port}", log_dir=home / "logs")
    emulator = EmulatorAdmin(f"http://127.0.0.1:{emulator_port}")
    rows: list[str] = []
    try:
        print(f"starting the deployment (logs: {home / 'logs'})", file=sys.stderr, flush=True)
        up_started = time.monotonic()
        up = subprocess.run(["bash", str(SCRIPTS / "airflow-up.sh"), "--fresh-db"], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=600, check=False)
        if up.returncode != 0:
            raise SystemExit(f"airflow-up.sh failed:\n{up.stderr[-3000:]}")
        up_seconds = time.monotonic() - up_started
        pid_file = home / "run" / "celery-worker.pid"
        worker_pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        idle_pss = session_pss_mb(worker_pid) if worker_pid else 0.0
        for n, layout in runs:
            print(f"measuring {n} object(s), {layout}...", file=sys.stderr, flush=True)
            load_before = os.getloadavg()[0]
            result = measure(client, emulator, f"aep_onboard_{spec_name(n, layout)}", worker_pid, args.timeout)
            load = f"{load_before:.1f} → {os.getloadavg()[0]:.1f}"
            rows.append(
                f"| {n} | {layout} | {result['tasks']} | {result['wall']:.0f} | {result['run']:.0f} | {result['per_minute']:.0f} "
                f"| {result['peak_running']} | {result['pss']:.0f} | {load} |"
            )
            print(json.dumps({"objects": n, "layout": layout, **result}), file=sys.stderr, flush=True)
    finally:
        down = subprocess.run(["bash", str(SCRIPTS / "airflow-down.sh")], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=180, check=False)
        if down.returncode != 0:
            print(f"airflow-down.sh failed:\n{down.stderr[-2000:]}", file=sys.stderr)
    print(f"\nNative deployment, CeleryExecutor, worker pool {args.pool} x {args.concurrency}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}; deployment up in {up_seconds:.0f} s; "
          f"idle worker PSS {idle_pss:.0f} MB; emulator flow runs take 1 s.\n")
    print("| objects | layout | tasks | trigger → success (s) | run start → end (s) | tasks/min | peak running | worker PSS peak (MB) | load avg (1 min) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
