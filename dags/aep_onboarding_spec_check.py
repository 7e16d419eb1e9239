"""Shows every problem of the onboarding specs as an import error: file, field path and fix.

Airflow records an import error per DAG file; keeping the check in its own file lets the valid specs load
from aep_onboarding_dags.py while the broken ones are still reported in the UI and by
`airflow dags list-import-errors`: a spec that does not validate, a spec whose DAG raises anything while it is
built (this file builds each DAG too, and drops it), a specs folder that is missing, empty or a file. Files that
look like specs but are not loaded are named in a warning (aep_onboarding.spec_folder).
The DAG processor only parses files that mention both words "airflow" and "dag".
"""

from __future__ import annotations

import logging
import warnings

from aep_onboarding.dag_build import build_specs, folder_warning
from aep_onboarding.loader import SpecError
from aep_onboarding.spec_folder import SpecFolderWarning

_ignored = folder_warning()
if _ignored:
    logging.getLogger(__name__).warning(_ignored)
    warnings.warn(_ignored, SpecFolderWarning, stacklevel=1)
_errors = [built.error for built in build_specs(check=True, dag_file=__file__) if built.error is not None]
if _errors:
    raise SpecError.combine(_errors)
