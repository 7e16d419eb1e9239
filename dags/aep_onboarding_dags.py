"""Airflow DAG file: one onboarding DAG per spec in include/onboarding/ (or $AEP_SPECS_DIR).

A spec that does not validate, or whose DAG raises anything while it is built, is left out here so it never
hides the others; the DAG file aep_onboarding_spec_check.py reports it, naming its file, as an import error.
Parsing reads only the YAML files: no API call, Variable or connection.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import get_parsing_context

from aep_onboarding.dag_build import build_specs

# A task process needs only its own DAG: skip building the others when Airflow says which one.
_wanted = get_parsing_context().dag_id
_project = Path(__file__).resolve().parents[1]


def _shown(path: Path) -> str:
    """The spec's path as the DAG docs show it: from the project root when it lives there."""
    resolved = path.resolve()
    return str(resolved.relative_to(_project)) if resolved.is_relative_to(_project) else str(resolved)


for _built in build_specs(wanted=_wanted, shown=_shown, dag_file=__file__):
    if _built.dag is not None:
        globals()[_built.dag.dag_id] = _built.dag
