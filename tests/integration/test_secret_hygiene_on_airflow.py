"""Secret hygiene on the real deployment: no credential in any log file Airflow and the emulator wrote.

Runs after the onboarding runs of test_onboarding_on_airflow.py (file order; run alone, it triggers
the marketing DAG once itself). Scans ``<AIRFLOW_HOME>/logs`` recursively: the task log files the
Celery worker wrote (``dag_id=*/run_id=*/task_id=*/attempt=*.log``, and the triggerer's trigger logs
next to them), the component logs (scheduler, api-server, dag-processor, triggerer, Celery worker,
emulator) and the DAG processor's logs. Looked for: the AEP client secret, every access token the
tasks cached (decrypted from the deployment's token cache, so the very tokens the tasks sent) and
this session's HubSpot client secret, access token and refresh token (tests/integration/it_deploy.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from it_deploy import HUBSPOT_SECRETS, deployment_env
from it_helpers import make_idle, spec_of

pytestmark = pytest.mark.integration

MARKETING = "hubspot_marketing"


def _task_logs(log_dir: Path) -> list[Path]:
    return sorted(p for p in log_dir.glob("dag_id=*/run_id=*/task_id=*/attempt=*.log") if p.is_file())


def _cached_tokens(home: Path, conn: dict) -> list[str]:
    """Every access token in the deployment's encrypted token cache, decrypted with the connection's secret."""
    from aep_provider.constants import DEFAULT_SCOPES
    from aep_provider.hooks.token_cache import TokenCache

    tokens = []
    for file in sorted((home / ".aep_token_cache").glob("*.token")):
        reader = TokenCache(str(file.parent), client_id=conn["login"], client_secret=conn["password"],
                            ims_host=conn["extra"]["ims_host"], scopes=DEFAULT_SCOPES)
        reader.path = str(file)
        cached = reader._read()
        if cached is not None:
            tokens.append(cached.access_token)
    return tokens


def test_no_secret_in_any_task_or_component_log(deployment) -> None:
    """Every log file of the deployment is free of the AEP client secret, the tokens the tasks used and
    the HubSpot secrets; the scan covers task logs written by the worker, not an empty folder."""
    if not deployment.started_here:
        pytest.skip("the secrets of a deployment started elsewhere (AEP_AIRFLOW_URL) are not known here")
    client, log_dir = deployment.airflow, deployment.log_dir
    if not _task_logs(log_dir):  # run alone: make task logs to scan
        dag_id = spec_of(MARKETING).dag_id
        client.wait_dag(dag_id)
        make_idle(client, dag_id)
        run_id = client.trigger(dag_id)
        assert client.wait_run(dag_id, run_id, timeout=300)["state"] == "success"

    conn = json.loads(deployment_env()["AIRFLOW_CONN_AEP_DEFAULT"])
    tokens = _cached_tokens(log_dir.parent, conn)
    assert tokens, f"no decryptable token in {log_dir.parent / '.aep_token_cache'}: the tasks cached none"
    secrets = {"AEP client secret": conn["password"], **{f"HubSpot {k}": v for k, v in HUBSPOT_SECRETS.items()}}
    secrets.update({f"AEP access token {t[:8]}...": t for t in tokens})

    files = sorted(p for p in log_dir.rglob("*") if p.is_file())
    task_logs = _task_logs(log_dir)
    component_logs = [p for p in files if p.parent == log_dir and p.suffix == ".log"]
    leaks = [
        f"{what} in {file.relative_to(log_dir)}"
        for file in files
        for what, value in secrets.items()
        if value.encode() in file.read_bytes()
    ]
    print(
        f"\n[hygiene] scanned {len(files)} log files under {log_dir} ({len(task_logs)} task logs, "
        f"{len(component_logs)} component logs) for {len(secrets)} secrets ({len(tokens)} tokens): {len(leaks)} leaks"
    )
    assert len(task_logs) >= 10, f"the scan covers too few task logs: {task_logs}"
    assert {"scheduler.log", "celery-worker.log", "triggerer.log", "api-server.log"} <= {p.name for p in component_logs}
    # The task logs are real: written by the worker for the onboarding tasks, with the hook's lines in them.
    assert any("AEP" in p.read_text(errors="replace") for p in task_logs)
    assert not leaks, leaks
