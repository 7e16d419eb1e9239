"""Flow runs: scheduled and on-demand runs, their progress, and the ingestion they do.

A run is created ``scheduled`` at its start time, is ``inProgress`` from a third of the
configured run duration on, and ends when the duration has passed: ingestion is applied
then (records are committed to the target dataset) and the run becomes ``success``,
``partialSuccess`` (some records failed) or ``failed`` (all records failed, or the flow's
resources are gone). Progress is computed lazily: every Platform or admin request first
calls :func:`tick_all`, which also starts the scheduled runs that have come due.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from . import hubspot, schedule
from .common import new_etag, new_uuid, public
from .deps import container_of, ctx_of, store_of
from .fs_common import BASE, bad, list_page, metadata, not_found
from .ingestion import IngestResult, ingest
from .schema_registry import schema_fields
from .state import Container, Store

router = APIRouter(prefix=BASE, tags=["Flow Service runs"])

FINAL = ("success", "partialSuccess", "failed")


# -- creation ------------------------------------------------------------------------------------------


def _delta_column(cont: Container, flow: dict[str, Any], requested: str | None) -> str:
    if requested:
        return requested
    for t in flow.get("transformations", []):
        if t["name"] == "Copy":
            return str(t["params"]["deltaColumn"]["name"])
    source = cont.items["sourceConnection"].get(flow["sourceConnectionIds"][0], {})
    table = hubspot.table((source.get("params") or {}).get("path", ""))
    return table.delta_column if table else "Updated_At"


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
        "params": {
            "windowStartTime": int(window_start) if window_start is not None else 0,
            "windowEndTime": int(window_end),
            "deltaColumn": {"name": delta},
        },
        "__start": start,
        "__duration": float(store.config.run_duration_seconds),
        "__window": [window_start, window_end],
        "__trigger": trigger,
        "__result": None,
    }
    cont.items["run"][run["id"]] = run
    return run


# -- progress ------------------------------------------------------------------------------------------------


def _fail(message: str) -> dict[str, Any]:
    return {"status": "failed", "input": 0, "output": 0, "failed": 0, "in_bytes": 0, "out_bytes": 0,
            "errors": [{"code": "CONNECTOR-1001-500", "message": message}]}


def _execute(store: Store, cont: Container, run: dict[str, Any]) -> dict[str, Any]:
    flow = cont.items["flow"].get(run["flowId"])
    if flow is None:
        return _fail(f"The flow {run['flowId']} no longer exists")
    source = cont.items["sourceConnection"].get(flow["sourceConnectionIds"][0])
    target = cont.items["targetConnection"].get(flow["targetConnectionIds"][0])
    mapping_id = next((t["params"].get("mappingId") for t in flow["transformations"] if t["name"] == "Mapping"), None)
    mapping = cont.items["mappingSet"].get(mapping_id or "")
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
    result: IngestResult = ingest(rows, run["params"]["deltaColumn"]["name"], window_start, window_end,
                                  mapping["mappings"], fields)
    cont.records.setdefault(dataset_id, []).extend(result.records)
    if result.input_count and not result.records:
        status = "failed"
    elif result.failed_count:
        status = "partialSuccess"
    else:
        status = "success"
    return {"status": status, "input": result.input_count, "output": len(result.records),
            "failed": result.failed_count, "in_bytes": result.input_bytes, "out_bytes": result.output_bytes,
            "errors": result.errors, "dataSetId": dataset_id}


def tick_container(store: Store, cont: Container, now: float) -> bool:
    changed = False
    for flow in list(cont.items["flow"].values()):
        timetable = flow.get("__timetable")
        if flow.get("state") != "enabled" or not timetable:
            continue
        while (due := schedule.due_window(timetable, now)) is not None:
            at, w_start, w_end = due
            new_run(store, cont, flow, at, w_start, w_end, _delta_column(cont, flow, None), "scheduled")
            schedule.mark_ran(timetable, w_end)
            changed = True
    for run in sorted(cont.items["run"].values(), key=lambda r: r["__start"]):
        if run["__result"] is None and now >= run["__start"] + run["__duration"]:
            run["__result"] = _execute(store, cont, run)
            done_ms = int((run["__start"] + run["__duration"]) * 1000)
            run["updatedAt"] = done_ms
            run["etag"] = new_etag()
            changed = True
    return changed


def tick_all(store: Store) -> None:
    """Start due scheduled runs and finish runs whose time has come (all orgs, all sandboxes)."""
    with store.lock:
        now = store.clock.now()
        changed = False
        for cont in store.all_containers():
            changed = tick_container(store, cont, now) or changed
        if changed:
            store.save()


# -- views -----------------------------------------------------------------------------------------------


def run_status(run: dict[str, Any], now: float) -> str:
    if run["__result"] is not None:
        return str(run["__result"]["status"])
    return "scheduled" if now < run["__start"] + run["__duration"] / 3 else "inProgress"


def run_view(run: dict[str, Any], now: float) -> dict[str, Any]:
    out = public(run)
    status = run_status(run, now)
    started_ms = int((run["__start"] + run["__duration"] / 3) * 1000)
    res = run["__result"] or {"input": 0, "output": 0, "failed": 0, "in_bytes": 0, "out_bytes": 0, "errors": []}
    duration: dict[str, Any] = {}
    if status != "scheduled":
        duration["startedAtUTC"] = started_ms
    if status in FINAL:
        duration["completedAtUTC"] = int((run["__start"] + run["__duration"]) * 1000)
    size = {"inputBytes": res["in_bytes"], "outputBytes": res["out_bytes"]}
    records = {"inputRecordCount": res["input"], "outputRecordCount": res["output"],
               "failedRecordCount": res["failed"]}
    files: dict[str, Any] = {"inputFileCount": 1 if res["input"] else 0, "outputFileCount": 1 if res["output"] else 0,
             "activityRefs": []}
    status_summary: dict[str, Any] = {"status": status, "errors": res["errors"]}
    if status in FINAL:
        status_summary["extensions"] = {"manifest": {"dataSetId": res.get("dataSetId")}}
    out["metrics"] = {
        "durationSummary": duration,
        "sizeSummary": size,
        "recordSummary": records,
        "fileSummary": files,
        "statusSummary": status_summary,
    }
    copy_status = status if status in ("scheduled", "inProgress") else (
        "failed" if res["errors"] and not res["input"] else "success")
    out["activities"] = [
        {
            "id": f"{run['id']}-copy",
            "name": "copyActivity",
            "updatedAtUTC": run["updatedAt"],
            "durationSummary": duration,
            "sizeSummary": {"inputBytes": res["in_bytes"], "outputBytes": res["in_bytes"]},
            "recordSummary": {"inputRecordCount": res["input"], "outputRecordCount": res["input"],
                              "failedRecordCount": 0},
            "statusSummary": {"status": copy_status, "errors": [] if copy_status != "failed" else res["errors"]},
        },
        {
            "id": f"{run['id']}-promotion",
            "name": "promotionActivity",
            "updatedAtUTC": run["updatedAt"],
            "durationSummary": duration,
            "sizeSummary": size,
            "recordSummary": records,
            "statusSummary": {"status": status, "errors": res["errors"]},
        },
    ]
    return out


def last_run_details(cont: Container, flow_id: str, now: float) -> dict[str, Any] | None:
    runs = [r for r in cont.items["run"].values() if r["flowId"] == flow_id]
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


def _epoch(value: Any, name: str) -> float:
    if isinstance(value, str) and value.strip().isdigit():
        return float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise bad(f"params.{name} must be epoch seconds")


@router.post("/runs", status_code=201, summary="Start an on-demand run for a window")
def create_run(request: Request, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    params = body.get("params") or {}
    with store.lock:
        flow = cont.items["flow"].get(body.get("flowId", ""))
        if flow is None:
            raise bad(f"Flow not found with id {body.get('flowId')}.", "1430-400")  # flow-service-errors.md
        start = _epoch(params.get("windowStartTime"), "windowStartTime")
        end = _epoch(params.get("windowEndTime"), "windowEndTime")
        if end < start:
            raise bad("params.windowEndTime must not be before params.windowStartTime")
        delta = (params.get("deltaColumn") or {}).get("name")
        now = store.clock.now()
        run = new_run(store, cont, flow, now, start, end, _delta_column(cont, flow, delta), "onDemand",
                      metadata(ctx, int(now * 1000)))
        store.wrote()
        return {"id": run["id"], "etag": run["etag"]}


@router.get("/runs", summary="List runs (e.g. property=flowId==<id>)")
def list_runs(request: Request) -> dict[str, Any]:
    store, cont = store_of(request), container_of(request)
    with store.lock:
        now = store.clock.now()
        objects = [run_view(r, now) for r in cont.items["run"].values()]
    return list_page(request, objects, "runs")


@router.get("/runs/{run_id}", summary="Read a run with its metrics and activities")
def get_run(run_id: str, request: Request) -> dict[str, Any]:
    store, cont = store_of(request), container_of(request)
    with store.lock:
        run = cont.items["run"].get(run_id)
        if run is None:
            raise not_found("run", run_id)
        return {"items": [run_view(run, store.clock.now())]}
