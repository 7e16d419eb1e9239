"""Whether an ended flow run passes: by what it did, not by its status word.

help/dataflows/api/monitor.md shows a run whose ``statusSummary.status`` is ``success`` with
``"failedRecordCount": 1``: ``failed`` or cancelled fails; any other ended run is weighed by its failed records.
"""

from __future__ import annotations

from aep_provider.flow_runs.run import FlowRun
from aep_provider.hooks.errors import AepConfigError
from aep_provider.printable import printable


def checked_tolerance(failed_record_tolerance: float) -> float:
    """``failed_record_tolerance`` as a float, refused (naming the fix) outside 0..1: the sensors' one check."""
    if not 0.0 <= float(failed_record_tolerance) <= 1.0:
        raise AepConfigError(
            f"failed_record_tolerance={failed_record_tolerance} must be a ratio between 0 and 1 (e.g. 0.05)"
        )
    return float(failed_record_tolerance)


def verdict(run: FlowRun, failed_record_tolerance: float) -> tuple[bool, str]:
    """``(ok, sentence)`` for an ended run: failed (or cancelled) fails; otherwise the failed records are
    weighed against ``failed_record_tolerance`` (a ratio of the run's input records), whatever the status word."""
    total = run.input_records or (run.output_records + run.failed_records)
    if run.failed:
        counts = f" ({run.failed_records} of {total} records failed)" if run.failed_records else ""
        return False, f"Run {run.id} {run.status}{counts}: {error_codes(run)}."
    if not run.failed_records:
        return True, f"Run {run.id} {run.status}: {run.output_records} records written."
    ratio = run.failed_records / total if total else 1.0
    text = (
        f"Run {run.id} ended {run.status} with {run.failed_records} of {total} records failed "
        f"({ratio:.1%}; failed_record_tolerance {failed_record_tolerance:.1%}); "
        f"{run.output_records} written; errors: {error_codes(run)}"
    )
    if ratio <= failed_record_tolerance:
        return True, text + "."
    return False, text + ". Raise failed_record_tolerance or fix the data."


def error_codes(run: FlowRun) -> str:
    """Every error of the run: code, record count where the service gives one, message."""
    if not run.errors:
        return "no error detail given"
    parts = []
    for error in run.errors:
        count = error.get("recordCount")
        counted = f" ({count} records)" if count not in (None, "") else ""
        message = str(error.get("message") or error.get("description") or "").strip()
        parts.append(f"{error.get('code', '?')}{counted}: {message}".rstrip(": "))
    # Escaped: AEP's ingestion errors may quote record values from the source.
    return printable("; ".join(parts))
