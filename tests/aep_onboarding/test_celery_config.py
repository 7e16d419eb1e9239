"""The Celery settings the deployment points ``[celery] celery_config_options`` at: a task's start must not
import the onboarding's code again (each task process is forked from the worker), and a worker must start even
where that code cannot be imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter (what a Celery worker starts from); its last line is JSON."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "AIRFLOW__CORE__UNIT_TEST_MODE": "True", **env},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_a_tasks_dag_file_parse_imports_none_of_the_onboardings_code_after_the_worker_preloaded_it() -> None:
    """What makes a task start cheap: with the worker's preload done, the DAG file a task parses (its own DAG only,
    as Airflow's parsing context asks) finds every module of ours already imported, and builds that DAG."""
    got = _run(
        """
        import json, runpy, sys
        from aep_onboarding import celery_config
        from aep_onboarding.celery_config import CELERY_CONFIG
        from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
        celery_config.preload_logged()  # what the worker's own import does (celery_config.in_celery_worker)
        before = set(sys.modules)
        dags = runpy.run_path("dags/aep_onboarding_dags.py")
        fresh = sorted(m for m in set(sys.modules) - before if m.startswith(("aep_onboarding", "aep_provider")))
        built = sorted(k for k, v in dags.items() if type(v).__name__ == "DAG")
        print(json.dumps({"fresh": fresh, "built": built, "same": CELERY_CONFIG is DEFAULT_CELERY_CONFIG}))
        """,
        _AIRFLOW_PARSING_CONTEXT_DAG_ID="aep_onboard_hubspot_blog",
    )
    assert got["fresh"] == [], f"the task's parse imported {got['fresh']} again: add them to celery_config.preload"
    assert got["built"] == ["aep_onboard_hubspot_blog"]
    assert got["same"] is True, "the Celery settings themselves must stay Airflow's defaults"


def test_a_worker_whose_python_cannot_import_the_onboarding_still_gets_airflows_celery_settings() -> None:
    """A deployment pointed at this module must never lose its workers to an import error of ours."""
    got = _run(
        """
        import json, logging, sys
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        sys.modules["aep_onboarding.dag_build"] = None  # makes `import aep_onboarding.dag_build` raise ImportError
        sys.argv = ["airflow", "celery", "worker"]  # imported as the worker imports it: the preload runs, and fails
        from aep_onboarding.celery_config import CELERY_CONFIG
        print(json.dumps({"broker": bool(CELERY_CONFIG.get("broker_url"))}))
        """,
    )
    assert got == {"broker": True}


def test_only_the_celery_worker_preloads() -> None:
    """The scheduler imports the same setting for the CeleryExecutor: it must not import (or log) a preload."""
    from aep_onboarding.celery_config import in_celery_worker

    assert in_celery_worker(["/venv/bin/airflow", "celery", "worker", "--concurrency", "16"])
    assert not in_celery_worker(["/venv/bin/airflow", "scheduler"])
    assert not in_celery_worker(["/venv/bin/airflow", "celery", "flower"])
