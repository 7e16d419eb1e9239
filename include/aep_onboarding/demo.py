"""`make demo`: onboard the example spec's HubSpot objects into the local AEP emulator.

Starts the emulator on a free port, prepares a throwaway Airflow home on
SQLite, runs the example DAG with ``airflow dags test`` (the real task runner,
one process), and prints a table per object: every created ID, the first
run's status and its record counts. Exits non-zero when anything fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from aep_onboarding.loader import load_spec
from aep_onboarding.names import object_names, shared_name
from aep_onboarding.spec import OnboardingSpec
from aep_onboarding.steps import DATASET_BASE, object_resources
from aep_provider.outcomes import Kind

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = REPO / "include" / "onboarding" / "hubspot_marketing.yaml"
DEMO_ORG = "DEMO0000000000000000000@AdobeOrg"
TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
TASK_STATE = re.compile(r"new_state=(success|failed|skipped|deferred|up_for_retry|up_for_reschedule)")
#: The emulator's name (``/_emulator/state``) for each kind of resource an onboarding makes.
EMULATOR_KIND = {
    Kind.CLASS: "class", Kind.SCHEMA: "schema", Kind.SOURCE_CONNECTION: "sourceConnection", Kind.DATASET: "dataset",
    Kind.TARGET_CONNECTION: "targetConnection", Kind.MAPPING_SET: "mappingSet", Kind.DATAFLOW: "flow",
    Kind.HUBSPOT_BASE_CONNECTION: "connection", Kind.DATASET_BASE_CONNECTION: "connection",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin(name: str) -> str:
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else name


def _start_emulator(port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [_bin("aep-emulator"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the emulator exited at start; see {log}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/_emulator/state", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"the emulator did not answer within 30 s; see {log}")


def airflow_env(home: Path, base_url: str) -> dict[str, str]:
    """The environment of a throwaway Airflow home pointed at the emulator."""
    connection = {
        "conn_type": "adobe_experience_platform", "login": "demo-client", "password": "demo-secret",
        "host": base_url, "extra": {"ims_host": base_url, "org_id": DEMO_ORG, "sandbox": "prod"},
    }
    hubspot = {"conn_type": "generic", "login": "hubspot-demo-client", "password": "hubspot-demo-secret",
               "extra": {"access_token": "hubspot-demo-access", "refresh_token": "hubspot-demo-refresh"}}
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_AEP_DEFAULT": json.dumps(connection),
        "AIRFLOW_CONN_HUBSPOT_DEFAULT": json.dumps(hubspot),
        "AEP_TOKEN_CACHE_DIR": str(home / "token-cache"),
    })
    return env


def _run_dag(dag_id: str, env: dict[str, str], log: Path) -> int:
    print(f"running {dag_id} with `airflow dags test` (full log: {log})", flush=True)
    with log.open("w") as sink:
        process = subprocess.Popen(
            [_bin("airflow"), "dags", "test", dag_id], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        task, done = "", 0
        for line in process.stdout:
            sink.write(line)
            if started := TASK_START.search(line):
                task = started.group(1)
            elif (state := TASK_STATE.search(line)) and task:
                done += state.group(1) in {"success", "skipped"}
                print(f"  [{done:3d} done] {task:<40} {state.group(1)}", flush=True)
        return process.wait()


def _platform(base_url: str) -> httpx.Client:
    token = httpx.post(
        f"{base_url}/ims/token/v3",
        data={"client_id": "demo-client", "client_secret": "demo-secret", "grant_type": "client_credentials",
              "scope": "openid,AdobeID"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "x-api-key": "demo-client", "x-gw-ims-org-id": DEMO_ORG,
               "x-sandbox-name": "prod"}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


def report(spec: OnboardingSpec, base_url: str) -> tuple[str, bool]:
    """A table per object from the emulator's state and the flow's first run."""
    state = httpx.get(f"{base_url}/_emulator/state", timeout=30).json()["resources"]
    by_name: dict[tuple[str, str], str] = {(r["kind"], r["name"]): r["id"] for r in state if r.get("name")}
    ok = True
    lines: list[str] = []
    shared = shared_name(spec, DATASET_BASE)
    lines.append(f"dataset base connection: {by_name.get(('connection', shared), 'missing')}")
    with _platform(base_url) as client:
        for obj in spec.objects:
            names = object_names(spec, obj)
            ids = {step_id: (resource.label, by_name.get((EMULATOR_KIND[resource.kind], names[step_id])))
                   for step_id, resource in object_resources()}
            status, records = "no run", {}
            flow_id = ids["dataflow"][1]
            if flow_id:
                runs = client.get("/data/foundation/flowservice/runs",
                                  params={"property": f"flowId=={flow_id}", "orderby": "createdAt",
                                          "limit": 1}).json()
                items = runs.get("items", [])
                if items:
                    first = items[0]["metrics"]
                    status = first["statusSummary"]["status"]
                    records = first.get("recordSummary", {})
            ok = ok and all(found for _, found in ids.values()) and status == "success"
            lines.append("")
            lines.append(f"### {obj.source} ({obj.slug})")
            lines.append("| resource | id |")
            lines.append("|---|---|")
            lines.extend(f"| {label} | {value or 'MISSING'} |" for label, value in ids.values())
            lines.append(f"| first run | {status}: {records.get('inputRecordCount', 0)} read, "
                         f"{records.get('outputRecordCount', 0)} ingested, {records.get('failedRecordCount', 0)} failed |")
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="onboarding spec to run")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway Airflow home and logs")
    args = parser.parse_args(argv)

    spec = load_spec(args.spec)
    work = Path(tempfile.mkdtemp(prefix="aep-demo-"))
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    keep = args.keep
    emulator = _start_emulator(port, work / "emulator.log")
    try:
        print(f"AEP emulator on {base_url}", flush=True)
        env = airflow_env(work / "airflow", base_url)
        env["AEP_SPECS_DIR"] = str(args.spec.resolve().parent)
        migrate = subprocess.run([_bin("airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
        if migrate.returncode != 0:
            print(migrate.stdout[-2000:], migrate.stderr[-2000:], sep="\n")
            keep = True
            return migrate.returncode
        code = _run_dag(spec.dag_id, env, work / "dag-test.log")
        table, ok = report(spec, base_url)
        print(f"\n## {spec.dag_id}: {'succeeded' if code == 0 and ok else 'FAILED'} in {time.monotonic() - started:.0f} s\n")
        print(table)
        if code != 0 or not ok:
            print(f"\nlogs kept in {work}")
            keep = True
            return code or 1
        return 0
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
