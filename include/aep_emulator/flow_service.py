"""Flow Service (``/data/foundation/flowservice``): connection and flow specs, base
connections (with HubSpot explore), source and target connections, flows.

Reads answer ``{"items": [...]}``; lists page with continuation tokens
(``_links.next.href``); creates answer 201 ``{"id", "etag"}``; PATCH takes JSON Patch and
needs ``If-Match`` (missing: 400 ``1403-400``; stale: 412 ``1404-412``); DELETE answers 204.
Runs live in :mod:`aep_emulator.runs`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request, Response

from . import hubspot, schedule
from .common import public
from .deps import container_of, ctx_of, store_of
from .errors import neutral
from .flow_service_common import BAD_PATCH, list_page, narrowed, touch
from .flow_service_resources import BUILDERS, build_flow, check_flow, masked_auth, validate_auth
from .json_patch import PatchError, apply_patch
from .services import FLOW_SERVICE
from .specs import CONNECTION_SPECS, FLOW_SPECS, HUBSPOT_SPEC_ID, connection_spec, flow_spec
from .state import Container

router = APIRouter(prefix=FLOW_SERVICE.prefix, tags=["Flow Service"])

COLLECTIONS = {
    "connections": "connection",
    "sourceConnections": "sourceConnection",
    "targetConnections": "targetConnection",
    "flows": "flow",
}


# -- specs ---------------------------------------------------------------------------------------------


def _spec_routes(
    collection: str, specs: dict[str, dict[str, Any]], read: Callable[[str], dict[str, Any] | None], label: str,
    list_hint: str = "",
) -> None:
    """``GET /<collection>`` (a paged list) and ``GET /<collection>/{spec_id}`` (``{"items": [spec]}``)."""
    name = label.replace(" ", "_")

    @router.get(f"/{collection}", summary=f"List {label}s{list_hint}", name=f"list_{name}s")
    def list_specs(request: Request) -> dict[str, Any]:
        return list_page(request, [copy.deepcopy(s) for s in specs.values()], collection)

    @router.get(f"/{collection}/{{spec_id}}", summary=f"Read a {label}", name=f"get_{name}")
    def get_spec(spec_id: str) -> dict[str, Any]:
        spec = read(spec_id)
        if spec is None:
            raise FLOW_SERVICE.not_found(f"{label} with id {spec_id}")
        return {"items": [spec]}


_spec_routes("connectionSpecs", CONNECTION_SPECS, connection_spec, "connection spec")
_spec_routes("flowSpecs", FLOW_SPECS, flow_spec, "flow spec", ' (e.g. property=name=="CRMToAEP")')


def _get(cont: Container, kind: str, ident: str, label: str) -> dict[str, Any]:
    return cont.require(kind, ident, FLOW_SERVICE.not_found(f"{label} with id {ident}"))




# -- views -----------------------------------------------------------------------------------------------------


def flow_view(cont: Container, flow: dict[str, Any], now: float) -> dict[str, Any]:
    from .runs import last_run_details

    out = public(flow)
    out["runs"] = f"/runs?property=flowId=={flow['id']}"
    details = last_run_details(cont, flow["id"], now)
    if details is not None:
        out["lastRunDetails"] = details
    return out


def view(cont: Container, kind: str, obj: dict[str, Any], now: float) -> dict[str, Any]:
    return flow_view(cont, obj, now) if kind == "flow" else public(obj)


# -- generic routes ----------------------------------------------------------------------------------------------


def _collection(name: str) -> str:
    kind = COLLECTIONS.get(name)
    if kind is None:
        raise FLOW_SERVICE.not_found(f"collection with id {name}")
    return kind


@router.post("/{collection}", status_code=201, summary="Create a base connection, source/target connection or flow")
def create(collection: str, request: Request, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    kind = _collection(collection)
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    with store.lock:
        now_ms = store.clock.now_ms()
        if kind == "flow":
            obj = build_flow(cont, ctx, body, now_ms, store.clock.now())
        else:
            obj = BUILDERS[kind](cont, ctx, body, now_ms)
        cont.items[kind][obj["id"]] = obj
        store.wrote()
        return {"id": obj["id"], "etag": obj["etag"]}


@router.get("/{collection}", summary="List (property filters, orderby, limit, continuationToken, count)")
def list_collection(collection: str, request: Request) -> dict[str, Any]:
    kind = _collection(collection)
    store, cont = store_of(request), container_of(request)
    with store.lock:
        now = store.clock.now()
        return list_page(request, lambda wanted: [view(cont, kind, o, now) for o in narrowed(cont, kind, wanted)],
                         collection)


@router.get("/{collection}/{ident}", summary="Read one resource ({items: [...]})")
def get_one(collection: str, ident: str, request: Request) -> dict[str, Any]:
    kind = _collection(collection)
    store, cont = store_of(request), container_of(request)
    with store.lock:
        return {"items": [view(cont, kind, _get(cont, kind, ident, kind), store.clock.now())]}


PATCHABLE = {
    "connection": {"name", "description", "auth", "params"},
    "sourceConnection": {"name", "description", "params", "data"},
    "targetConnection": {"name", "description", "params", "data"},
    "flow": {"name", "description", "scheduleParams", "transformations", "sourceConnectionIds",
             "targetConnectionIds", "options"},
}


#: The PATCH ops Flow Service takes: flow-service.yaml PatchInstruction.op (ADD, REPLACE, REMOVE) and
#: help/sources/tutorials/api/update-dataflows.md ("Operations include: add, replace, and remove"), in any case.
PATCH_OPS = {"add", "replace", "remove"}


def _check_op(op: Any) -> None:
    """json_patch.py (shared with the Schema Registry) also applies test/copy/move: Flow Service refuses them with
    help/sources/errors/flow-service-errors.md's 1434-400 ("Unsupported operation 'move' received. Please use one
    of the supported operation types and try again.").

    Every op carries a ``value``, ``remove`` too: flow-service.yaml ``PatchInstruction`` has ``required: [op, path,
    value]``, every PATCH operation's text says "value - (Required)", and Adobe's one Flow Service ``remove``
    example (help/destinations/api/update-destination-dataflows.md, "Remove an audience from a dataflow") sends
    one. An op without it is refused with 1455-400 ("An error has occurred while validating patch instructions:
    Missing field ..."); a ``remove`` ignores its value (RFC 6902: members an op does not define are ignored)."""
    name = op.get("op") if isinstance(op, dict) else None
    if isinstance(name, str) and name.lower() not in PATCH_OPS:
        raise FLOW_SERVICE.bad_request(
            f"Unsupported operation '{name}' received. Please use one of the supported operation types "
            "(add, replace, remove) and try again.",
            "1434-400",
        )
    if isinstance(op, dict) and "value" not in op:
        raise FLOW_SERVICE.bad_request(
            f'An error has occurred while validating patch instructions: Missing field "value" in the {name} of '
            f"{op.get('path')} (flow-service.yaml PatchInstruction requires op, path and value).", BAD_PATCH)


def _check_start_time(flow: dict[str, Any], wanted: dict[str, Any], now: float) -> None:
    """help/sources/tutorials/api/update-dataflows.md ("Update dataflow"): "You cannot update the startTime of a
    dataflow if the initially scheduled startTime has already occurred." Adobe documents no code: ours, EMU-400
    (docs/architecture.md)."""
    have = schedule.normalize(flow.get("scheduleParams") or {}).get("startTime")
    want = wanted.get("startTime")
    if isinstance(have, int) and want is not None and str(want) != str(have) and have <= now:
        raise FLOW_SERVICE.bad_request(
            f"scheduleParams.startTime cannot change: the flow's scheduled startTime {have} has already occurred "
            "(update-dataflows.md); keep it, or create a new dataflow to start at another time.",
            neutral(400),
        )


@router.patch("/{collection}/{ident}", summary="Update with JSON Patch (needs If-Match)")
def patch(
    collection: str,
    ident: str,
    request: Request,
    body: Annotated[Any, Body()],
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> dict[str, Any]:
    kind = _collection(collection)
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    if not if_match:
        # flow-service-errors.md: 1403-400 "Header is missing", 1404-412 "Version not matching" (the titles).
        raise FLOW_SERVICE.bad_request("The header 'If-Match' is missing in the request. Please provide the header "
                                       "and try again.", "1403-400", "Header is missing")
    with store.lock:
        obj = _get(cont, kind, ident, kind)
        if if_match.strip() != obj["etag"] and f'"{if_match.strip()}"' != obj["etag"]:
            raise FLOW_SERVICE.error(412, "1404-412", f"The etag {if_match} is stale; the current one is {obj['etag']}",
                                     "Version not matching")
        if not isinstance(body, list):
            raise FLOW_SERVICE.bad_request("The body must be a JSON Patch array")
        for op in body:
            _check_op(op)
            top = str(op.get("path", "")).lstrip("/").split("/")[0] if isinstance(op, dict) else ""
            if top not in PATCHABLE[kind]:
                raise FLOW_SERVICE.bad_request(f"The path /{top} cannot be patched on a {kind}")
        try:
            patched = apply_patch(public(obj), body)
        except PatchError as exc:
            raise FLOW_SERVICE.bad_request(str(exc), BAD_PATCH) from exc
        now = store.clock.now()
        if kind == "flow":
            parts = check_flow(cont, {**patched, "flowSpec": obj["flowSpec"]})
            patched["scheduleParams"] = parts.schedule_params
            patched["transformations"] = parts.transformations
            if parts.options is not None:
                patched["options"] = parts.options
            _check_start_time(obj, parts.schedule_params or {}, now)
            if patched.get("scheduleParams") != obj.get("scheduleParams"):
                patched["__timetable"] = schedule.reschedule(obj.get("__timetable"), parts.schedule_params, now)
        elif kind == "connection" and "auth" in patched and patched["auth"] != obj.get("auth"):
            auth = validate_auth(CONNECTION_SPECS[obj["connectionSpec"]["id"]], patched["auth"])
            if auth is not None:
                patched["auth"] = masked_auth(auth)
                patched["__auth"] = auth
        elif kind in ("sourceConnection", "targetConnection"):
            builder = BUILDERS[kind]
            builder(cont, ctx, {**patched, "connectionSpec": obj["connectionSpec"]}, 0)  # validate only
        for key, value in obj.items():
            if key.startswith("__"):
                patched.setdefault(key, value)
        touch(patched, ctx, int(now * 1000))
        cont.items[kind][ident] = patched
        store.wrote()
        return {"id": ident, "etag": patched["etag"]}


@router.delete("/{collection}/{ident}", status_code=204, summary="Delete a resource")
def delete(collection: str, ident: str, request: Request) -> Response:
    kind = _collection(collection)
    store, cont = store_of(request), container_of(request)
    with store.lock:
        _get(cont, kind, ident, kind)
        if kind == "connection":
            users = {
                c["id"] for k in ("sourceConnection", "targetConnection") for c in cont.items[k].values()
                if c.get("baseConnectionId") == ident
            }
            flows = [
                f["id"] for f in cont.items["flow"].values()
                if users & set(f["sourceConnectionIds"] + f["targetConnectionIds"])
            ]
            if flows:
                raise FLOW_SERVICE.bad_request(
                    f"The base connection {ident} is used by flows {', '.join(flows)}; delete them first",
                    "1418-400",
                )
        del cont.items[kind][ident]
        store.wrote()
    return Response(status_code=204)


@router.get("/connections/{ident}/explore", summary="Explore a source: objectType=root | table")
def explore(ident: str, request: Request) -> Any:
    store, cont = store_of(request), container_of(request)
    q = request.query_params
    with store.lock:
        conn = _get(cont, "connection", ident, "connection")
        config = store.config
    if conn["connectionSpec"]["id"] != HUBSPOT_SPEC_ID:
        raise FLOW_SERVICE.bad_request(f"The connection {ident} cannot be explored")
    # flow-service.yaml: objectType enum ROOT, TABLE, FILE, FOLDER, REST; the tutorials send lowercase
    # (collect/crm.md: objectType=root, objectType=table): both are accepted.
    object_type = q.get("objectType", "root").lower()
    if object_type == "root":
        return hubspot.root_listing()
    if object_type == "table":
        name = q.get("object")
        if not name or hubspot.table(name) is None:
            raise FLOW_SERVICE.error(404, FLOW_SERVICE.not_found_code, f"The table {name!r} does not exist in HubSpot",
                                 FLOW_SERVICE.not_found_title)
        preview = q.get("preview", "").lower() == "true"
        return hubspot.describe_table(name, config.seed, config.data_end, preview)
    raise FLOW_SERVICE.bad_request(f"objectType {object_type!r} is not supported (root or table)")


@router.post("/flows/{ident}/action", summary="Enable or disable a flow (op=enable|disable)")
def flow_action(ident: str, request: Request) -> dict[str, Any]:
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    # flow-service.yaml ``/flows/{FLOW_ID}/action``: ``op`` enum ENABLE, DISABLE (and FINALIZE...); the docs'
    # request (help/destinations/api/update-destination-dataflows.md, "Enable or disable dataflow") sends
    # ``op=enable``. Adobe writes both cases: both are accepted. The spec also marks ``subOp`` required, which
    # the docs' request does not send: it is not required here (tests/contract/adobe_contract_notes.yaml).
    op = str(request.query_params.get("op") or "").lower()
    if op not in ("enable", "disable"):
        raise FLOW_SERVICE.bad_request("op must be 'enable' or 'disable' (ENABLE, DISABLE)")
    with store.lock:
        flow = _get(cont, "flow", ident, "flow")
        now = store.clock.now()
        if op == "enable" and flow.get("state") != "enabled" and flow.get("__timetable"):
            # no run for the time it was disabled: the next due time after now covers it (schedule.py)
            schedule.mark_paused(flow["__timetable"], now)
        flow["state"] = "enabled" if op == "enable" else "disabled"
        touch(flow, ctx, int(now * 1000))
        cont.touched("flow", ident)
        store.wrote()
        return {"id": ident, "etag": flow["etag"]}
