"""Choosing and judging flow runs - shared by the sensor (poke) and the trigger.

A run is judged by what it did, not by its status word: help/dataflows/api/monitor.md shows a run whose
``statusSummary.status`` is ``success`` with ``"failedRecordCount": 1``. ``partialSuccess`` appears in no
Adobe page; a run that reports it is judged like any other ended run, by its counts.
"""

from __future__ import annotations

from typing import Any, Literal

from aep_provider.models.flow_service import RunSummary
from aep_provider.printable import printable

#: Lower case, without underscores: statuses are compared that way (:func:`run_status`). flow-service.yaml's
#: ``StatusDTO`` lists ``IN_PROGRESS, COMPLETED, SUCCESS, PARTIAL_SUCCESS, FAILED, PARTIAL_FAILURE, QUEUED,
#: SCHEDULED``; the pages write ``success``, ``inProgress`` and ``Failed``. Of those, a run has ended when it is
#: ``completed``, ``success``, ``partialSuccess``, ``partialFailure`` (judged by its counts, as every ended run is),
#: ``failed`` or cancelled.
FAILED = frozenset({"failed", "cancelled", "canceled"})
TERMINAL = frozenset({"success", "completed", "partialsuccess", "partialfailure", *FAILED})
#: Statuses of a run that has not ended (anything unknown is taken as not ended either, and logged).
GOING = frozenset({"scheduled", "queued", "inprogress", ""})
COPY_ACTIVITY = "copyActivity"
Which = Literal["latest", "first"]

#: ``orderby`` of "the latest" and "the first" run: Flow Service lists sort by any property, ``-`` for descending
#: (help/dataflows/api/sort-and-filter.md, "Sorting"; runs are among the sortable resources).
ORDER_BY: dict[str, str] = {"latest": "-createdAt", "first": "createdAt"}


def run_status(run: dict[str, Any]) -> str:
    """A run's status in lower case without underscores. Adobe writes it three ways: help/dataflows/api/sort-and-filter.md
    filters with ``property=metrics.statusSummary.status==Failed``, monitor.md answers ``"status": "success"`` and
    flow-service.yaml's ``StatusDTO`` enum is ``PARTIAL_SUCCESS``, ``IN_PROGRESS``..."""
    status = ((run.get("metrics") or {}).get("statusSummary") or {}).get("status") or run.get("status") or ""
    return str(status).lower().replace("_", "")


def _epoch_seconds(value: Any, *, millis: bool) -> int | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return int(number // 1000) if millis else int(number)


def run_window(run: dict[str, Any]) -> tuple[int, int] | None:
    """The ``[start, end)`` window (epoch seconds) a run read, or ``None`` when the run does not say.

    help/dataflows/api/monitor.md shows it on the copy activity: ``activities[]`` item ``"id": "copyActivity"``,
    ``durationSummary.extensions.windowStart``/``windowEnd`` in epoch milliseconds. flow-service.yaml's
    FlowRunItemDTO has no ``params`` and monitor.md's run shows none; a ``params.windowStartTime``/``windowEndTime``
    (epoch seconds, as sent on ``POST /runs``) is read too, as services may echo the request.
    """
    activities = [a for a in run.get("activities") or [] if isinstance(a, dict)]
    copy = [a for a in activities if COPY_ACTIVITY in (a.get("id"), a.get("name"))] or activities
    for activity in copy:
        ext = (activity.get("durationSummary") or {}).get("extensions") or {}
        start, end = _epoch_seconds(ext.get("windowStart"), millis=True), _epoch_seconds(ext.get("windowEnd"), millis=True)
        if start is not None and end is not None:
            return start, end
    params = run.get("params") or {}
    start, end = (_epoch_seconds(params.get("windowStartTime"), millis=False),
                  _epoch_seconds(params.get("windowEndTime"), millis=False))
    if start is not None and end is not None:
        return start, end
    return None


def one_run_query(flow_id: str, which: Which) -> dict[str, Any]:
    """The query of the one run ``which`` of a flow: one small page, never the flow's whole history."""
    return {"property": f"flowId=={flow_id}", "orderby": ORDER_BY[which], "limit": 1}


def run_created(run: dict[str, Any]) -> float:
    value = (
        run.get("createdAt")
        or ((run.get("metrics") or {}).get("durationSummary") or {}).get("startedAtUTC")
        or 0
    )
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def pick_run(runs: list[dict[str, Any]], which: Which) -> dict[str, Any] | None:
    """The latest or first of ``runs`` (also when the service ignored ``orderby``)."""
    if not runs:
        return None
    ordered = sorted(runs, key=run_created)
    return ordered[-1] if which == "latest" else ordered[0]


def is_terminal(summary: RunSummary) -> bool:
    return summary.status in TERMINAL


def verdict(summary: RunSummary, failed_record_tolerance: float) -> tuple[bool, str]:
    """``(ok, sentence)`` for an ended run: failed (or cancelled) fails; otherwise the failed records are
    weighed against ``failed_record_tolerance`` (a ratio of the run's input records), whatever the status word."""
    total = summary.input_records or (summary.output_records + summary.failed_records)
    if summary.status in FAILED:
        counts = f" ({summary.failed_records} of {total} records failed)" if summary.failed_records else ""
        return False, f"Run {summary.id} {summary.status}{counts}: {error_codes(summary)}."
    if not summary.failed_records:
        return True, f"Run {summary.id} {summary.status}: {summary.output_records} records written."
    ratio = summary.failed_records / total if total else 1.0
    text = (
        f"Run {summary.id} ended {summary.status} with {summary.failed_records} of {total} records failed "
        f"({ratio:.1%}; failed_record_tolerance {failed_record_tolerance:.1%}); "
        f"{summary.output_records} written; errors: {error_codes(summary)}"
    )
    if ratio <= failed_record_tolerance:
        return True, text + "."
    return False, text + ". Raise failed_record_tolerance or fix the data."


def error_codes(summary: RunSummary) -> str:
    """Every error of the run: code, record count where the service gives one, message."""
    if not summary.errors:
        return "no error detail given"
    parts = []
    for error in summary.errors:
        count = error.get("recordCount")
        counted = f" ({count} records)" if count not in (None, "") else ""
        message = str(error.get("message") or error.get("description") or "").strip()
        parts.append(f"{error.get('code', '?')}{counted}: {message}".rstrip(": "))
    # Escaped: AEP's ingestion errors may quote record values from the source.
    return printable("; ".join(parts))
