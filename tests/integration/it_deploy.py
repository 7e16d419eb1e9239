"""Plumbing of the integration deployment: environment, pid bookkeeping, the scripts."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
# HubSpot credentials of this session's deployment: distinctive, so a log scan can look for them.
HUBSPOT_SECRETS = {
    "client_secret": f"it-hubspot-client-secret-{uuid.uuid4().hex}",
    "access_token": f"it-hubspot-access-token-{uuid.uuid4().hex}",
    "refresh_token": f"it-hubspot-refresh-token-{uuid.uuid4().hex}",
}


def airflow_home() -> Path:
    return Path(os.environ.get("AEP_AIRFLOW_HOME", str(REPO / ".airflow")))


def deployment_env() -> dict[str, str]:
    """The environment for the scripts: ours, minus what the unit-test session set for Airflow.

    tests/airflow_test_env.py points AIRFLOW_HOME & co. at a throwaway SQLite home; the
    deployment must not inherit that. The AEP connection targets the emulator with a short
    hook retry budget so a persistent fault fails a task within seconds; the HubSpot connection
    carries this session's distinctive secrets (``HUBSPOT_SECRETS``).
    """
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith("AIRFLOW") and key not in {"AEP_TOKEN_CACHE_DIR", "AEP_SPECS_DIR"}
    }
    emulator = f"http://{env.get('AEP_EMULATOR_HOST', '127.0.0.1')}:{env.get('AEP_EMULATOR_PORT', '8765')}"
    env["AIRFLOW_CONN_AEP_DEFAULT"] = json.dumps({
        "conn_type": "adobe_experience_platform", "login": "demo-client", "password": "demo-secret",
        "host": emulator,
        "extra": {"ims_host": emulator, "org_id": "DEMO0000000000000000000@AdobeOrg", "sandbox": "prod",
                  "max_retries": 1, "retry_max_seconds": 10},
    })
    env["AIRFLOW_CONN_HUBSPOT_DEFAULT"] = json.dumps({
        "conn_type": "generic", "login": "it-hubspot-client", "password": HUBSPOT_SECRETS["client_secret"],
        "extra": {"access_token": HUBSPOT_SECRETS["access_token"], "refresh_token": HUBSPOT_SECRETS["refresh_token"]},
    })
    return env


def recorded_sessions(home: Path) -> dict[str, int]:
    """component -> pid (== session id) from the pid files airflow-up.sh wrote."""
    out: dict[str, int] = {}
    for pid_file in sorted((home / "run").glob("*.pid")):
        fields = pid_file.read_text().split()
        if fields:
            out[pid_file.stem] = int(fields[0])
    return out


def processes_left(sessions: dict[str, int], marker: str | None) -> list[str]:
    """Live processes in the recorded sessions, or carrying the deployment's marker variable."""
    wanted = set(sessions.values())
    left: list[str] = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            state, session = fields[0], int(fields[3])
            if state == "Z":
                continue
            marked = bool(marker) and f"AEP_AIRFLOW_DEPLOYMENT={marker}".encode() in (proc / "environ").read_bytes().split(b"\0")
            if session in wanted or marked:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
                left.append(f"{proc.name} (session {session}): {cmd}")
        except (OSError, ValueError):
            continue
    return left


def run_script(name: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPTS / name), *args], cwd=REPO, env=deployment_env(), capture_output=True, text=True,
        timeout=timeout, check=False,
    )
