"""Flow runs: scheduled and on-demand runs, their progress, and the ingestion they do.

A run is created ``scheduled`` at its start time, is ``inProgress`` from a third of the
configured run duration on, and ends when the duration has passed: ingestion is applied
then (records are committed to the target dataset) and the run ends ``success`` or
``failed``. A run is judged by its record counts, as Adobe shows it (help/dataflows/api/monitor.md:
a ``success`` run with ``"failedRecordCount": 1``); ``partialSuccess`` appears in no Adobe page and is
never produced. A run ends ``failed`` when every record failed, when the share of failed records
exceeds the flow's ``options.partialIngestionPercent`` (the CRMToAEP ``optionSpec``: "threshold of
errors allowed before the run is marked as failed"), when any record failed and the flow has no
``partialIngestionPercent`` (partial.md: partial ingestion ingests data with errors "up to a certain
threshold", and "By default, dataflows may not have partial ingestion ... enabled"), or when the
flow's resources are gone.

Run errors use the codes Adobe shows in monitor.md: ``metrics.statusSummary.errors`` and the promotion
activity carry ``CONNECTOR-2001-500`` ("Error occurred at promotion activity."), and the promotion
activity's ``statusSummary.extensions.errors`` carry ``INGEST-1212-400`` (the summary) and
``MAPPER-3700-400`` with its ``recordCount``. Where Adobe documents no code the code is ours and
is ours, ``EMU-<status>`` (listed in docs/architecture.md).

Progress is computed lazily: every Platform or admin request first calls :func:`tick_all`, which
also starts the scheduled runs that have come due; it looks only at what is due (``timeline.py``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body, Request

from . import hubspot, schedule
from .common import new_etag, new_uuid, public
from .data_prep import at_version
from .deps import container_of, ctx_of, store_of
from .errors import neutral
from .flow_service_common import list_page, metadata, narrowed
from .flow_service_run_params import check_delta_column, epoch, flow_delta_column, run_params
from .ingestion import IngestResult, ingest
from .schema_registry_resources import schema_fields
from .services import FLOW_SERVICE
from .state import Container, Store
from .timeline import Event, Timeline

if TYPE_CHECKING:
    from .faults import FaultEngine, FaultRule

router = APIRouter(prefix=FLOW_SERVICE.prefix, tags=["Flow Service runs"])

FINAL = ("success", "failed")

# Codes Adobe documents (help/dataflows/api/monitor.md; the Flow Service error table).
PROMOTION_ERROR = {"code": "CONNECTOR-2001-500", "message": "Error occurred at promotion activity."}
INGEST_SUMMARY_CODE = "INGEST-1212-400"
MAPPER_ERROR_CODE = "MAPPER-3700-400"
FLOW_NOT_FOUND_CODE = "1430-400"  # "The flow with ID {id} was not found."
# Ours: Adobe documents the rules but no code for them, so they carry the emulator's neutral codes
# (``EMU-<status>``, errors.py; docs/architecture.md lists the cases); the detail names the rule.
NOT_ONE_TIME_CODE = neutral(400)
RESOURCES_GONE_CODE = neutral(500)


# -- creation ------------------------------------------------------------------------------------------


def new_run(store: Store, cont: Container, flow: dict[str, Any], start: float, window_start: float | None,
            window_end: float, delta: str, trigger: str, client: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = client or {
        "createdAt": int(start * 1000), "updatedAt": int(start * 1000), "createdBy": "scheduler@AdobeID",
        "updatedBy": "scheduler@AdobeID", "createdClient": "scheduler", "updatedClient": "scheduler",
        "sandboxId": cont.sandbox, "sandboxName": cont.sandbox, "imsOrgId": cont.org_id, "etag": new_etag(),
    }
    run = {
        "id": new_uuid(),
        "flowId": flow["id"],
        **meta,
        "providerRefId": new_uuid().replace("-", "")[:24],
        # No ``params`` in the answers: flow-service.yaml FlowRunItemDTO has none and monitor.md's run has none.
        # The window a run used is shown where monitor.md shows it, the copy activity's
        # ``durationSummary.extensions.windowStart/windowEnd`` (milliseconds; see run_view).
        "__delta": delta,
        "__start": start,
        "__duration": float(store.config.run_duration_seconds),
        "__window": [window_start, window_end],
        "__trigger": trigger,
        "__result": None,
        "__order": len(cont.items["run"]),  # creation order: runs that start together end in it
    }
    cont.items["run"][run["id"]] = run
    return run


# -- progress ------------------------------------------------------------------------------------------------


def _fail(message: str) -> dict[str, Any]:
    return {"status": "failed", "input": 0, "output": 0, "failed": 0, "in_bytes": 0, "out_bytes": 0,
            "errors": [{"code": RESOURCES_GONE_CODE, "message": message}], "row_errors": []}


def _row_errors(result: IngestResult) -> list[dict[str, Any]]:
    """The promotion activity's ``statusSummary.extensions.errors``, shaped as in monitor.md."""
    if not result.failed_count:
        return []
    return [
        {"code": INGEST_SUMMARY_CODE,
         "message": f"Encountered {result.failed_count} errors in the data. Successfully ingested "
                    f"{len(result.records)} rows. Review the associated diagnostic files for additional details."},
        {"code": MAPPER_ERROR_CODE, "recordCount": result.failed_count, "message": "Mapper Transform Error"},
    ]


def judge(input_count: int, failed_count: int, written: int, partial_percent: float | None) -> str:
    """``success`` or ``failed`` from the record counts and the flow's ``partialIngestionPercent``.

    help/ingestion/batch-ingestion/partial.md: "Partial batch ingestion is the ability to ingest data containing
    errors, up to a certain threshold", and "By default, dataflows may not have partial ingestion or error
    diagnostics enabled": a flow without ``partialIngestionPercent`` has no tolerance, so one failed record fails
    the run (nothing is written). With it, the run fails when the share of failed records exceeds it.
    """
    if input_count and not written:
        return "failed"
    if failed_count and partial_percent is None:
        return "failed"
    if partial_percent is not None and input_count and failed_count * 100.0 / input_count > partial_percent:
        return "failed"
    return "success"


def _injected(result: IngestResult, rule: FaultRule) -> IngestResult:
    """A ``run_failed_records`` fault: ``failed_share`` of the input records fail their mapping (at least one)."""
    failing = min(len(result.records), max(1, math.ceil(result.input_count * rule.failed_share)))
    return IngestResult(input_count=result.input_count, records=result.records[failing:],
                        samples=[*result.samples, f"{failing} records failed by an injected fault (/_emulator/faults)"],
                        failed_count=result.failed_count + failing, input_bytes=result.input_bytes,
                        output_bytes=result.output_bytes)


def _execute(store: Store, cont: Container, run: dict[str, Any], fault: FaultRule | None = None) -> dict[str, Any]:
    if fault is not None and fault.kind == "run_failed":
        # Ours: Adobe documents no code for a run that fails this way (docs/architecture.md, "Error codes that are ours").
        return _fail("An injected fault of the emulator (/_emulator/faults): the run failed")
    flow = cont.items["flow"].get(run["flowId"])
    if flow is None:
        return _fail(f"The flow {run['flowId']} no longer exists")
    source = cont.items["sourceConnection"].get(flow["sourceConnectionIds"][0])
    target = cont.items["targetConnection"].get(flow["targetConnectionIds"][0])
    params: dict[str, Any] = next((t["params"] for t in flow["transformations"] if t["name"] == "Mapping"), {})
    mapping = cont.items["mappingSet"].get(params.get("mappingId") or "")
    # A run maps with the mapping-set version the flow names (data_prep.update_mapping_set).
    mapping = None if mapping is None else at_version(mapping, params.get("mappingVersion"))
    if source is None or target is None or mapping is None:
        return _fail("The source connection, target connection or mapping set of the flow no longer exists")
    dataset_id = (target.get("params") or {}).get("dataSetId", "")
    if dataset_id not in cont.items["dataset"]:
        return _fail(f"The target dataset {dataset_id} no longer exists")
    table = hubspot.table((source.get("params") or {}).get("path", ""))
    if table is None:
        return _fail("The source table does not exist")
    fields = schema_fields(cont, mapping["xdmSchema"]) or {}
    rows = hubspot.rows(table.name, store.config.seed, store.config.data_end)
    window_start, window_end = run["__window"]
    result: IngestResult = ingest(rows, run["__delta"], window_start, window_end,
                                  mapping["mappings"], fields)
    if fault is not None and fault.kind == "run_failed_records" and result.records:
        result = _injected(result, fault)
    percent = (flow.get("options") or {}).get("partialIngestionPercent")
    status = judge(result.input_count, result.failed_count, len(result.records),
                   float(percent) if percent is not None else None)
    if status == "success":
        cont.add_records(dataset_id, result.records)
    written = len(result.records) if status == "success" else 0
    return {"status": status, "input": result.input_count, "output": written,
            "failed": result.failed_count, "in_bytes": result.input_bytes,
            "out_bytes": result.output_bytes if written else 0,
            "errors": [dict(PROMOTION_ERROR)] if result.failed_count else [],
            "row_errors": _row_errors(result), "samples": result.samples, "dataSetId": dataset_id}


def _run_flow_schedule(store: Store, cont: Container, flow: dict[str, Any], now: float) -> bool:
    """Create the scheduled runs of ``flow`` due at ``now``; whether it made any."""
    timetable = flow.get("__timetable")
    if not timetable:
        return False
    if flow.get("state") != "enabled":
        schedule.mark_paused(timetable, now)
        return False
    made = False
    delay = float(store.config.scheduled_run_delay_seconds)
    while (due := schedule.due_window(timetable, now - delay)) is not None:
        at, w_start, w_end = due
        new_run(store, cont, flow, at + delay, w_start, w_end, flow_delta_column(flow) or "", "scheduled")
        schedule.mark_ran(timetable, w_end)
        made = True
    return made


def _end_run(store: Store, cont: Container, run: dict[str, Any], faults: FaultEngine | None) -> None:
    fault = faults.draw_run(run["flowId"]) if faults is not None else None
    run["__result"] = _execute(store, cont, run, fault)
    run["updatedAt"] = int((run["__start"] + run["__duration"]) * 1000)
    run["etag"] = new_etag()
    cont.touched("run", run["id"])


def _timeline(store: Store) -> Timeline:
    """The store's timeline, built from what it holds on the first tick after start, load or reset."""
    if store.timeline is None:
        store.timeline = Timeline(store.containers.values(),
                                  lambda: float(store.config.scheduled_run_delay_seconds))
        store.observer = store.timeline.observe
    timeline: Timeline = store.timeline
    return timeline


def tick_all(store: Store, faults: FaultEngine | None = None) -> None:
    """Start due scheduled runs and finish runs whose time has come (all orgs, all sandboxes); ``faults``' run
    rules decide which runs fail or lose records.

    Only what is due is looked at (:class:`aep_emulator.timeline.Timeline`), in the order a scan of everything
    would take it: per org+sandbox in creation order, flows in creation order, runs by start time."""
    with store.lock:
        timeline = _timeline(store)
        now = store.clock.now()
        if not timeline.any_due(now):
            return
        changed = False
        waiting: list[Event] = []
        flows: list[tuple[Event, Container, dict[str, Any]]] = []
        for event in timeline.pop_due(now, "flow"):
            cont = store.containers.get(event.container)
            flow = cont.items["flow"].get(event.ident) if cont is not None else None
            if cont is not None and flow is not None:
                flows.append((event, cont, flow))
        for event, cont, flow in sorted(flows, key=lambda ecf: (ecf[1].ordinal, ecf[2].get("createdAt", 0))):
            if _run_flow_schedule(store, cont, flow, now):
                changed = True
                cont.touched("flow", event.ident)  # its timetable moved on: the next due time is noted
            elif flow.get("state") == "enabled":
                waiting.append(event)  # woken a little early (rounding): looked at again on a later request
        runs: list[tuple[Container, dict[str, Any]]] = []
        for event in timeline.pop_due(now, "run"):
            cont = store.containers.get(event.container)
            run = cont.items["run"].get(event.ident) if cont is not None else None
            if cont is None or run is None or run["__result"] is not None:
                continue
            if now >= run["__start"] + run["__duration"]:
                runs.append((cont, run))
            else:
                waiting.append(event)
        for cont, run in sorted(runs, key=lambda cr: (cr[0].ordinal, cr[1]["__start"], cr[1].get("__order", 0))):
            _end_run(store, cont, run, faults)
            changed = True
        timeline.requeue(waiting)
        if changed:
            store.persist()


# -- views -----------------------------------------------------------------------------------------------


def run_status(run: dict[str, Any], now: float) -> str:
    if run["__result"] is not None:
        return str(run["__result"]["status"])
    return "scheduled" if now < run["__start"] + run["__duration"] / 3 else "inProgress"


def run_view(run: dict[str, Any], now: float) -> dict[str, Any]:
    """A run as monitor.md shows it: ``metrics`` and the copy and promotion ``activities``."""
    out = public(run)
    status = run_status(run, now)
    started_ms = int((run["__start"] + run["__duration"] / 3) * 1000)
    res = run["__result"] or {"input": 0, "output": 0, "failed": 0, "in_bytes": 0, "out_bytes": 0, "errors": [],
                              "row_errors": []}
    duration: dict[str, Any] = {}
    if status != "scheduled":
        duration["startedAtUTC"] = started_ms
    if status in FINAL:
        duration["completedAtUTC"] = int((run["__start"] + run["__duration"]) * 1000)
    size = {"inputBytes": res["in_bytes"], "outputBytes": res["out_bytes"]}
    records = {"inputRecordCount": res["input"], "outputRecordCount": res["output"],
               "failedRecordCount": res["failed"]}
    files: dict[str, Any] = {"inputFileCount": 1 if res["input"] else 0, "outputFileCount": 1 if res["output"] else 0,
                             "activityRefs": ["promotionActivity"]}
    status_summary: dict[str, Any] = {"status": status, "errors": res["errors"]}
    if status in FINAL:
        status_summary["activityRefs"] = ["promotionActivity"]
    out["metrics"] = {
        "durationSummary": duration,
        "sizeSummary": size,
        "recordSummary": records,
        "fileSummary": files,
        "statusSummary": status_summary,
    }
    window_start, window_end = run["__window"]
    # monitor.md: the copy activity's ``durationSummary.extensions`` carries the window the run read,
    # ``windowStart``/``windowEnd`` in epoch milliseconds. A first run with backfill reads from the beginning (0).
    copy_duration: dict[str, Any] = {**duration, "extensions": {
        "windowStart": int(window_start * 1000) if window_start is not None else 0,
        "windowEnd": int(window_end * 1000)}}
    copy_failed = bool(res["errors"]) and not res["input"] and not res.get("row_errors")
    copy_status = status if status in ("scheduled", "inProgress") else ("failed" if copy_failed else "success")
    copy_summary: dict[str, Any] = {"status": copy_status, "errors": res["errors"] if copy_failed else []}
    if run["__trigger"] == "onDemand":
        copy_summary["extensions"] = {"type": "one-time"}
    promotion_summary: dict[str, Any] = {"status": status, "errors": res["errors"]}
    if res.get("row_errors"):
        promotion_summary["extensions"] = {"errors": res["row_errors"]}
    out["activities"] = [
        {
            "id": "copyActivity",  # monitor.md: activities are identified by these ids
            "updatedAtUTC": run["updatedAt"],
            "durationSummary": copy_duration,
            "sizeSummary": {"inputBytes": res["in_bytes"], "outputBytes": res["in_bytes"]},
            "recordSummary": {},
            "fileSummary": {"inputFileCount": files["inputFileCount"], "outputFileCount": files["inputFileCount"]},
            "statusSummary": copy_summary,
        },
        {
            "id": "promotionActivity",
            "updatedAtUTC": run["updatedAt"],
            "durationSummary": duration,
            "sizeSummary": size,
            "recordSummary": records,
            "fileSummary": {"inputFileCount": files["inputFileCount"], "outputFileCount": files["outputFileCount"]},
            "statusSummary": promotion_summary,
        },
    ]
    return out


def last_run_details(cont: Container, flow_id: str, now: float) -> dict[str, Any] | None:
    runs = [r for r in cont.where("run", "flowId", [flow_id]) if r["flowId"] == flow_id]
    if not runs:
        return None
    latest = max(runs, key=lambda r: (r["__start"], r["createdAt"]))
    duration = run_view(latest, now)["metrics"]["durationSummary"]
    details: dict[str, Any] = {"id": latest["id"], "state": run_status(latest, now)}
    if "startedAtUTC" in duration:
        details["startedAtUTC"] = duration["startedAtUTC"]
    if "completedAtUTC" in duration:
        details["completedAtUTC"] = duration["completedAtUTC"]
    return details


# -- routes ------------------------------------------------------------------------------------------------


@router.post("/runs", status_code=201, summary="Start an on-demand run for a window (one-time flows only)")
def create_run(request: Request, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """``POST /runs``: flow-service.yaml says "In order to create a run against an existing flow, the flow must
    be scheduled for one-time ingestion" (also on-demand-ingestion.md), so a flow of any other frequency is
    refused. ``params`` are checked against the flow spec's ``runSpec`` (``flow_service_run_params``);
    ``startTime`` is when the run begins (now when past); the window is ``[windowStartTime, windowEndTime)``."""
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    with store.lock:
        flow = cont.items["flow"].get(str(body.get("flowId", "")))
        if flow is None:
            raise FLOW_SERVICE.bad_request(f"Flow not found with id {body.get('flowId')}.", FLOW_NOT_FOUND_CODE)  # flow-service-errors.md
        frequency = (flow.get("scheduleParams") or {}).get("frequency")
        if frequency != "once":
            raise FLOW_SERVICE.bad_request(
                f"The flow {flow['id']} is scheduled with frequency {frequency!r}; a run can only be created "
                "against a flow scheduled for one-time ingestion (frequency 'once')", NOT_ONE_TIME_CODE)
        params = run_params(flow, body.get("params"))
        start = epoch(params["windowStartTime"])
        end = epoch(params["windowEndTime"])
        if end < start:
            raise FLOW_SERVICE.bad_request("params.windowEndTime must not be before params.windowStartTime", neutral(400))
        now = store.clock.now()
        begin = max(now, epoch(params["startTime"]))
        delta = check_delta_column(cont, flow, params.get("deltaColumn"), ctx, int(now * 1000))
        run = new_run(store, cont, flow, begin, start, end, delta, "onDemand", metadata(ctx, int(now * 1000)))
        store.wrote()
        return {"id": run["id"], "etag": run["etag"]}


@router.get("/runs", summary="List runs (e.g. property=flowId==<id>)")
def list_runs(request: Request) -> dict[str, Any]:
    store, cont = store_of(request), container_of(request)
    with store.lock:
        now = store.clock.now()
        return list_page(request, lambda wanted: [run_view(r, now) for r in narrowed(cont, "run", wanted)], "runs")


@router.get("/runs/{run_id}", summary="Read a run with its metrics and activities")
def get_run(run_id: str, request: Request) -> dict[str, Any]:
    store, cont = store_of(request), container_of(request)
    with store.lock:
        run = cont.require("run", run_id, FLOW_SERVICE.not_found(f"run with id {run_id}"))
        return {"items": [run_view(run, store.clock.now())]}
