"""Shows every broken onboarding spec as an import error: file, field path and fix.

Airflow records an import error per DAG file; keeping the check in its own
file lets the valid specs load from aep_onboarding_dags.py while the broken
ones are still reported in the UI and by `airflow dags list-import-errors`.
The DAG processor only parses files that mention both words "airflow" and "dag".
"""

from __future__ import annotations

from aep_onboarding.loader import SpecError, iter_specs

_errors = [loaded.error for loaded in iter_specs() if loaded.error is not None]
if _errors:
    raise SpecError.combine(_errors)
