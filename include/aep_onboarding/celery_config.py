"""Celery settings for a deployment that runs the onboarding DAGs: Airflow's own, plus a cheaper task start.

Point ``[celery] celery_config_options`` at :data:`CELERY_CONFIG` (the native deployment and docker-compose.yaml
do). The Celery settings are Airflow's defaults, unchanged. What this module adds is that the Celery worker
imports the onboarding's code (the DAG factory and the provider's operators, sensors, triggers and hooks) once,
when it starts, instead of in every task:

- Airflow 3 runs each task in a process forked from the worker's pool process, and that process first parses
  the task's DAG file (``task_runner.parse``). Measured on the deployment (py-spy on the worker during a
  one-object onboarding): 85 % of the task processes' CPU went to that parse, nearly all of it importing these
  modules again (0.5 s of a 2-core machine per task). A forked process inherits what its parent imported, so
  with the modules already imported the parse only reads the specs and builds the one DAG the task needs.
- What a task reads is still read fresh in every task: the DAG file is executed again, and the specs (YAML) with
  it, so a spec edited while the worker runs is what the next task sees. Only a change to this project's Python
  code needs the worker restarted - as it already does for Airflow plugins and installed providers.
- Only the worker preloads (the scheduler reads this setting too, for the CeleryExecutor, and forks no task).
- If the modules cannot be imported in the worker (a deployment whose DAGs do not use them), the worker starts
  as before and logs why; tasks then import what they need themselves.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

log = logging.getLogger(__name__)


#: The modules the DAG file imports, and those its build imports (every operator, sensor, hook and trigger):
#: tests/aep_onboarding/test_celery_config.py fails, naming them, if a task's parse would import any other of ours.
PRELOADED = (
    "aep_onboarding.dag_build",
    "aep_onboarding.factory",
    "aep_provider.hooks.api.bulk",
    "aep_provider.triggers.flow_run",
    "aep_provider.triggers.write_lease",
)


def preload() -> float:
    """Import the modules every onboarding task's DAG-file parse imports; the seconds it took."""
    started = time.monotonic()
    for module in PRELOADED:
        importlib.import_module(module)
    return time.monotonic() - started


def in_celery_worker(argv: list[str] | None = None) -> bool:
    """Whether this process is the Celery worker (``airflow celery worker``): the scheduler imports this module too
    (the CeleryExecutor reads the same setting), and has no task to fork."""
    args = sys.argv if argv is None else argv
    return args[1:3] == ["celery", "worker"]


def preload_logged() -> None:
    """:func:`preload`, saying what it did; a failure is logged, never raised (a worker must start whatever the DAGs
    folder holds)."""
    try:
        log.info("Celery worker: onboarding modules imported once for every task (%.2f s)", preload())
    except Exception as error:
        log.warning(
            "Celery worker: onboarding modules not preloaded (%s: %s); each task imports them", type(error).__name__, error
        )


if in_celery_worker():
    preload_logged()

#: Airflow's Celery settings, unchanged: the provider's own dict (not a copy, so that the provider still recognises
#: it as its default and applies per-team settings over it).
CELERY_CONFIG: dict[str, Any] = DEFAULT_CELERY_CONFIG
