"""Airflow DAG file: one onboarding DAG per spec in include/onboarding/ (or $AEP_SPECS_DIR).

Broken specs are left out here so they never hide the valid ones; the DAG
file aep_onboarding_spec_check.py raises their errors as an import error.
Parsing reads only the YAML files: no API call, Variable or connection.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import get_parsing_context

from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import iter_specs

# A task process needs only its own DAG: skip building the others when Airflow says which one.
_wanted = get_parsing_context().dag_id
_project = Path(__file__).resolve().parents[1]


def _shown(path: Path) -> str:
    """The spec's path as the DAG docs show it: from the project root when it lives there."""
    resolved = path.resolve()
    return str(resolved.relative_to(_project)) if resolved.is_relative_to(_project) else str(resolved)


for loaded in iter_specs():
    if loaded.spec is not None and _wanted in (None, loaded.spec.dag_id):
        globals()[loaded.spec.dag_id] = build_onboarding_dag(loaded.spec, source_file=_shown(loaded.path))
