"""The native deployment itself: health, authentication, pool, DAG parsing, idempotent start."""

from __future__ import annotations

import os

import pytest
import requests
from it_deploy import recorded_sessions, run_script
from it_helpers import spec_of

pytestmark = pytest.mark.integration


def test_every_component_reports_healthy(deployment) -> None:
    health = deployment.airflow.health()
    for component in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
        assert (health.get(component) or {}).get("status") == "healthy", f"{component}: {health}"


def test_rest_api_requires_a_token(deployment) -> None:
    url = f"{deployment.airflow.base_url}/api/v2/dags"
    assert requests.get(url, timeout=10).status_code == 401
    bad = requests.post(f"{deployment.airflow.base_url}/auth/token", json={"username": "admin", "password": "wrong"}, timeout=10)
    assert bad.status_code in (401, 403)
    assert "dags" in deployment.airflow.get("/api/v2/dags")


def test_pool_and_a_celery_worker_serving_airflows_queue(deployment) -> None:
    """The `aep_api` pool exists and a Celery worker answers on the deployment's broker, consuming the
    `default` queue with Airflow's `execute_workload` task registered (Celery's own inspection, so it holds
    whether or not `/api/v2/config` is exposed). That tasks really ran on it is checked per task instance
    in test_onboarding_on_airflow.py::test_every_task_ran_on_the_celery_worker."""
    from celery import Celery

    pool = deployment.airflow.get("/api/v2/pools/aep_api")
    assert pool["slots"] >= 1
    broker = os.environ.get("AEP_REDIS_URL", "redis://127.0.0.1:6379/0")
    app = Celery(broker=broker)
    try:
        inspect = app.control.inspect(timeout=10)
        registered = inspect.registered() or {}
        queues = inspect.active_queues() or {}
    finally:
        app.close()
    assert registered, f"no Celery worker answered on {broker}; see {deployment.log('celery-worker')}"
    for worker, tasks in registered.items():
        assert any(t.split(".")[-1].split(" ")[0] == "execute_workload" for t in tasks), (worker, tasks)
        assert "default" in {q["name"] for q in queues.get(worker, [])}, (worker, queues)


def test_onboarding_dags_parse_without_import_errors(deployment) -> None:
    for name in ("hubspot_marketing", "hubspot_contacts_daily"):
        dag = deployment.airflow.wait_dag(spec_of(name).dag_id)
        assert not dag.get("has_import_errors"), dag
    errors = deployment.airflow.import_errors()
    assert not errors, [(e.get("filename"), e.get("stack_trace", "")[-500:]) for e in errors]


def test_airflow_up_is_idempotent(deployment) -> None:
    if not deployment.started_here:
        pytest.skip("reusing a deployment started elsewhere (AEP_AIRFLOW_URL)")
    home = deployment.log_dir.parent
    before = recorded_sessions(home)
    again = run_script("airflow-up.sh", timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already running" in again.stderr
    assert recorded_sessions(home) == before, "a second airflow-up.sh restarted components"
