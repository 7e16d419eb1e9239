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
- If the modules cannot be imported in the worker (a deployment whose DAGs do not use them), the worker starts
  as before and logs why; tasks then import what they need themselves.
"""

from __future__ import annotations

import importlib
import logging
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


try:
    log.info("Celery worker: onboarding modules imported once for every task (%.2f s)", preload())
except Exception as error:  # a worker must start whatever the DAGs folder holds
    log.warning("Celery worker: onboarding modules not preloaded (%s: %s); each task imports them", type(error).__name__, error)

#: Airflow's Celery settings, unchanged (a copy, so that nothing here edits the provider's own dict).
CELERY_CONFIG: dict[str, Any] = dict(DEFAULT_CELERY_CONFIG)
