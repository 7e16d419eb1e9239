"""Airflow DAG file: one onboarding DAG per spec in include/onboarding/ (or $AEP_SPECS_DIR).

Broken specs are left out here so they never hide the valid ones; the DAG
file aep_onboarding_spec_check.py raises their errors as an import error.
Parsing reads only the YAML files: no API call, Variable or connection.
"""

from __future__ import annotations

from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import iter_specs

for loaded in iter_specs():
    if loaded.spec is not None:
        globals()[loaded.spec.dag_id] = build_onboarding_dag(loaded.spec, source_file=loaded.path.name)
