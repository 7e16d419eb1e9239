"""The integration suite's deployment: real Airflow 3 (CeleryExecutor) + the AEP emulator.

The session fixture ``deployment`` runs ``scripts/airflow-up.sh --fresh-db`` and ALWAYS
runs ``scripts/airflow-down.sh`` at the end, pass or fail, then asserts that no process
of the deployment is left. With ``AEP_AIRFLOW_URL`` set it reuses a deployment that is
already up instead (``AEP_EMULATOR_URL``, default http://127.0.0.1:8765, names the
emulator) and leaves it running.

Tests talk to Airflow only through the public REST API v2 (JWT from ``/auth/token``) and
to the emulator through its admin API.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from airflow_rest import AirflowClient, EmulatorAdmin  # noqa: E402
from it_deploy import airflow_home, deployment_env, processes_left, recorded_sessions, run_script  # noqa: E402

UP_TIMEOUT = float(os.environ.get("AEP_IT_UP_TIMEOUT", "300"))
DOWN_TIMEOUT = 120.0


@dataclass
class Deployment:
    airflow: AirflowClient
    emulator: EmulatorAdmin
    log_dir: Path
    started_here: bool

    def log(self, component: str) -> str:
        return str(self.log_dir / f"{component}.log")


@pytest.fixture(scope="session")
def deployment() -> Iterator[Deployment]:
    url = os.environ.get("AEP_AIRFLOW_URL")
    if url:
        client = AirflowClient.from_env()
        emulator = EmulatorAdmin(os.environ.get("AEP_EMULATOR_URL", "http://127.0.0.1:8765").rstrip("/"))
        health = client.health()
        assert all((health.get(k) or {}).get("status") == "healthy" for k in ("metadatabase", "scheduler", "triggerer")), (
            f"the deployment at {url} is not healthy: {health}"
        )
        emulator.state()
        yield Deployment(client, emulator, client.log_dir, started_here=False)
        return

    home = airflow_home()
    log_dir = home / "logs"
    env = deployment_env()
    client = AirflowClient(
        base_url=f"http://{env.get('AEP_API_HOST', '127.0.0.1')}:{env.get('AEP_API_PORT', '8080')}",
        username=env.get("AEP_AIRFLOW_USER", "admin"),
        password=env.get("AEP_AIRFLOW_PASSWORD", ""),  # empty: the one airflow-up.sh generated (home/admin_password)
        log_dir=log_dir,
    )
    emulator = EmulatorAdmin(f"http://{env.get('AEP_EMULATOR_HOST', '127.0.0.1')}:{env.get('AEP_EMULATOR_PORT', '8765')}")
    sessions: dict[str, int] = {}
    marker: str | None = None
    try:
        started = time.monotonic()
        up = run_script("airflow-up.sh", "--fresh-db", "--timeout", str(int(UP_TIMEOUT - 30)), timeout=UP_TIMEOUT)
        sessions = recorded_sessions(home)
        marker_file = home / "run" / "deployment_id"
        marker = marker_file.read_text().strip() if marker_file.exists() else None
        if up.returncode != 0:
            pytest.fail(
                f"scripts/airflow-up.sh failed (exit {up.returncode}); logs under {log_dir}\n"
                f"--- stderr (tail)\n{up.stderr[-4000:]}\n--- stdout (tail)\n{up.stdout[-2000:]}",
                pytrace=False,
            )
        print(f"\ndeployment up in {time.monotonic() - started:.0f}s: {sorted(sessions)}", file=sys.stderr)
        yield Deployment(client, emulator, log_dir, started_here=True)
    finally:
        # Whatever happened above, stop everything and prove nothing is left.
        sessions = sessions or recorded_sessions(home)
        if marker is None and (home / "run" / "deployment_id").exists():
            marker = (home / "run" / "deployment_id").read_text().strip()
        down = run_script("airflow-down.sh", timeout=DOWN_TIMEOUT)
        left = processes_left(sessions, marker)
        assert down.returncode == 0 and not left, (
            f"scripts/airflow-down.sh exit {down.returncode}; processes left: {left}\n{down.stderr[-3000:]}"
        )
