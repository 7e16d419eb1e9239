"""A flow run as read from Flow Service, and how a run is asked for: one shape and one reading for every reader.

The run operator, the sensor (sync hook) and the trigger (async hook) read runs through the same requests built
here - by id, the flow's latest or first run, every run of a flow - and turn every answer into a :class:`FlowRun`.

A run's status is lower-cased without underscores: Adobe writes it three ways (help/dataflows/api/sort-and-filter.md
filters with ``property=metrics.statusSummary.status==Failed``, monitor.md answers ``"status": "success"`` and
flow-service.yaml's ``StatusDTO`` enum is ``PARTIAL_SUCCESS``, ``IN_PROGRESS``...). A run that reports an ended
status other than failed or cancelled is judged like any other ended run, by its counts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from aep_provider.hooks.ids import checked_id, path_id
from aep_provider.hooks.transport import service_path
from aep_provider.models.common import Answer

#: Lower case, without underscores: statuses are compared that way (:meth:`FlowRun.from_answer`). flow-service.yaml's
#: ``StatusDTO`` lists ``IN_PROGRESS, COMPLETED, SUCCESS, PARTIAL_SUCCESS, FAILED, PARTIAL_FAILURE, QUEUED,
#: SCHEDULED``; the pages write ``success``, ``inProgress`` and ``Failed``. Of those, a run has ended when it is
#: ``completed``, ``success``, ``partialSuccess``, ``partialFailure`` (judged by its counts, as every ended run is),
#: ``failed`` or cancelled.
FAILED = frozenset({"failed", "cancelled", "canceled"})
TERMINAL = frozenset({"success", "completed", "partialsuccess", "partialfailure", *FAILED})
#: Statuses of a run that has not ended (anything unknown is taken as not ended either, and logged where it counts).
GOING = frozenset({"scheduled", "queued", "inprogress", ""})
COPY_ACTIVITY = "copyActivity"
Which = Literal["latest", "first"]

#: ``orderby`` of "the latest" and "the first" run: Flow Service lists sort by any property, ``-`` for descending
#: (help/dataflows/api/sort-and-filter.md, "Sorting"; runs are among the sortable resources).
ORDER_BY: dict[str, str] = {"latest": "-createdAt", "first": "createdAt"}
#: The runs of every flow (help/dataflows/api/monitor.md).
RUNS_PATH = service_path("flowservice", "/runs")


def _epoch_seconds(value: Any, *, millis: bool) -> int | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return int(number // 1000) if millis else int(number)


def _window(run: dict[str, Any]) -> tuple[int, int] | None:
    """help/dataflows/api/monitor.md shows the window on the copy activity: ``activities[]`` item ``"id":
    "copyActivity"``, ``durationSummary.extensions.windowStart``/``windowEnd`` in epoch milliseconds.
    flow-service.yaml's FlowRunItemDTO has no ``params`` and monitor.md's run shows none; a
    ``params.windowStartTime``/``windowEndTime`` (epoch seconds, as sent on ``POST /runs``) is read too, as services
    may echo the request."""
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
    return (start, end) if start is not None and end is not None else None


def _errors(run: dict[str, Any]) -> list[dict[str, Any]]:
    """``metrics.statusSummary.errors`` and every activity's ``statusSummary.errors`` and
    ``statusSummary.extensions.errors`` (monitor.md puts the per-row codes, e.g. ``MAPPER-3700-400`` with its
    ``recordCount``, in the promotion activity's extensions), each once."""
    found: list[dict[str, Any]] = list(((run.get("metrics") or {}).get("statusSummary") or {}).get("errors") or [])
    for activity in run.get("activities") or []:
        summary = activity.get("statusSummary") or {}
        found.extend(summary.get("errors") or [])
        found.extend((summary.get("extensions") or {}).get("errors") or [])
    errors: list[dict[str, Any]] = []
    for error in found:
        if isinstance(error, dict) and error not in errors:
            errors.append(error)
    return errors


class FlowRun(Answer):
    """A flow run as the provider reads it: from the read of a run to the trigger's event (its dump) and the sensor's
    XCom (a part of the dump). The id is ``run_id`` when dumped, as users see it in XCom."""

    id: str = Field(alias="run_id")
    flow_id: str | None = Field(default=None, alias="flowId")
    status: str
    errors: list[dict[str, Any]] = []
    input_records: int = 0
    output_records: int = 0
    failed_records: int = 0
    #: When the run was created (``createdAt``, else the start of its metrics; epoch ms as Flow Service writes it).
    created: float = 0.0
    #: The ``[start, end)`` window (epoch seconds) the run read, ``None`` when the run does not say.
    window: tuple[int, int] | None = None

    @classmethod
    def from_answer(cls, run: dict[str, Any]) -> FlowRun:
        metrics = run.get("metrics") or {}
        records = metrics.get("recordSummary") or {}
        created = run.get("createdAt") or (metrics.get("durationSummary") or {}).get("startedAtUTC") or 0
        try:
            created_at = float(created)
        except (TypeError, ValueError):
            created_at = 0.0
        return cls(
            run_id=str(run.get("id")),
            flowId=run.get("flowId"),
            status=str((metrics.get("statusSummary") or {}).get("status") or run.get("status") or "scheduled")
            .lower().replace("_", ""),
            errors=_errors(run),
            input_records=int(records.get("inputRecordCount") or 0),
            output_records=int(records.get("outputRecordCount") or 0),
            failed_records=int(records.get("failedRecordCount") or 0),
            created=created_at,
            window=_window(run),
        )

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    def xcom(self) -> dict[str, Any]:
        """The sensor's XCom of this run: ``run_id``, ``status`` and the record counts."""
        return self.model_dump(by_alias=True, exclude={"flow_id", "errors", "created", "window"})


# -- how a run is asked for, and its answer read (the sync and the async hook alike) ----------------------------
def run_path(run_id: str) -> str:
    return service_path("flowservice", f"/runs/{path_id('runs', run_id)}")


def run_from(body: Any) -> FlowRun | None:
    """The answer to ``GET`` :func:`run_path` (Flow Service answers a read by id as ``{"items": [run]}``)."""
    items = (body or {}).get("items") or []
    return FlowRun.from_answer(items[0]) if items else None


def runs_query(flow_id: str) -> dict[str, Any]:
    """The query of every run of a flow: ``property=flowId==<id>`` (monitor.md)."""
    return {"property": f"flowId=={checked_id('flows', flow_id)}"}


def runs_from(items: Any, flow_id: str) -> list[FlowRun]:
    """The runs of ``flow_id`` among listed ``items`` (a run that names no flow is taken as the filter's)."""
    return [FlowRun.from_answer(run) for run in items if run.get("flowId") in (None, flow_id)]


def one_run_query(flow_id: str, which: Which) -> dict[str, Any]:
    """The query of the one run ``which`` of a flow: one small page, never the flow's whole history."""
    return {"property": f"flowId=={checked_id('flows', flow_id)}", "orderby": ORDER_BY[which], "limit": 1}


def one_run_from(body: Any, flow_id: str, which: Which) -> FlowRun | None:
    """The run ``which`` from the answer to :func:`one_run_query`, also when the service ignored ``orderby``."""
    runs = sorted(runs_from((body or {}).get("items", []), flow_id), key=lambda run: run.created)
    if not runs:
        return None
    return runs[-1] if which == "latest" else runs[0]
