"""Catalog (``/data/foundation/catalog``): datasets.

Lists are maps keyed by id with offset paging (``limit`` default 20, 1..100; "Invalid limit
parameters (including limit=0) result in 400-level error responses" - help/catalog/api/filter-data.md,
so 101 is refused, not capped; ``start`` is a 0-based offset; no next link).

Every dataset carries ``classification: {dataBehavior, managedBy}`` (both required in catalog.yaml)
and ``tags`` (filter-data.md, "Filter by tag": ``{name: [value]}``). Deleting an unknown id answers
200 with an empty array (help/catalog/api/delete-object.md: "may still receive an HTTP Status Code 200,
but the response array will be empty"). Catalog documents no error codes: ours are ``EMU-<status>``.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from .common import new_hex, public
from .deps import container_of, ctx_of, store_of
from .property_filters import FilterError, equal_value, matches, parse_filters
from .schema_registry_resources import find_tenant
from .services import CATALOG

router = APIRouter(prefix=CATALOG.prefix, tags=["Catalog"])

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _limit_start(query: Any) -> tuple[int, int]:
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
        start = int(query.get("start", 0))
    except ValueError as exc:
        raise CATALOG.bad_request("limit and start must be integers") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise CATALOG.bad_request(f"limit must range from 1 to {MAX_LIMIT}, got {limit}")
    if start < 0:
        raise CATALOG.bad_request("start must not be negative")
    return limit, start


def _classification(raw: Any) -> dict[str, Any]:
    """catalog.yaml: ``classification.dataBehavior`` (e.g. ``record``, ``time-series``) and ``managedBy``
    (``CUSTOMER`` | ``SYSTEM``), both required. A dataset created without one is a customer's record
    dataset."""
    out = {"dataBehavior": "record", "managedBy": "CUSTOMER"}
    if isinstance(raw, dict):
        out.update({k: v for k, v in raw.items() if isinstance(v, str)})
    if out["managedBy"] not in ("CUSTOMER", "SYSTEM"):
        raise CATALOG.bad_request("classification.managedBy must be CUSTOMER or SYSTEM")
    return out


@router.post("/dataSets", status_code=201, summary="Create a dataset")
def create_dataset(request: Request, body: Annotated[dict[str, Any], Body()]) -> list[str]:
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CATALOG.bad_request("The field 'name' is required.")
    schema_ref = body.get("schemaRef")
    if schema_ref is not None and (not isinstance(schema_ref, dict) or not isinstance(schema_ref.get("id"), str)):
        raise CATALOG.bad_request("schemaRef must be an object with an 'id'.")
    tags = body.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(v, list) for v in tags.values()):
        raise CATALOG.bad_request("tags must be an object of arrays, e.g. {\"sampleTag\": [\"123456\"]}")
    classification = _classification(body.get("classification"))
    with store.lock:
        if schema_ref is not None and find_tenant(cont, "schema", schema_ref["id"]) is None:
            raise CATALOG.bad_request(f"The schema {schema_ref['id']} referenced by schemaRef does not exist.")
        dataset_id = new_hex(24)
        now_ms = store.clock.now_ms()
        obj: dict[str, Any] = {
            "name": name,
            "description": body.get("description", ""),
            "imsOrg": ctx.org_id,
            "sandboxId": ctx.sandbox,
            "tags": tags,
            "classification": classification,
            "version": "1.0.0",
            "created": now_ms,
            "updated": now_ms,
            "createdClient": ctx.client_id,
            "createdUser": f"{ctx.client_id}@techacct.adobe.com",
            "updatedUser": f"{ctx.client_id}@techacct.adobe.com",
            "files": f"@/dataSetFiles?dataSetId={dataset_id}",
            "fileDescription": body.get("fileDescription", {"persisted": True, "containerFormat": "parquet",
                                                              "format": "parquet"}),
        }
        if schema_ref is not None:
            obj["schemaRef"] = {
                "id": schema_ref["id"],
                "contentType": schema_ref.get("contentType", "application/vnd.adobe.xed-full-notext+json; version=1"),
            }
        if request.query_params.get("requestDataSource", "").lower() == "true":
            obj["dataSourceId"] = secrets.randbelow(10**9)  # catalog.yaml: an integer
        cont.items["dataset"][dataset_id] = obj
        cont.open_records(dataset_id)
        store.wrote()
    return [f"@/dataSets/{dataset_id}"]


def _order_key(order_by: str) -> tuple[str, bool]:
    direction, _, field = order_by.partition(":")
    if not field:
        return direction, False
    return field, direction.lower() == "desc"


def _simple_filter(expression: str, value: Any) -> bool:
    """A simple filter (help/catalog/api/filter-data.md, "Using simple filters"): ``name=a`` matches ``a``;
    "When multiple values are provided, the response returns objects whose property matches **any** of the
    values in the provided list" (``name=a,b``); a ``!`` before the list inverts it (``name=!a,b``)."""
    negate = expression.startswith("!")
    values = (expression[1:] if negate else expression).split(",")
    return (value in values) != negate


@router.get("/dataSets", summary="List datasets (map keyed by id, offset paging)")
def list_datasets(request: Request) -> dict[str, Any]:
    q = request.query_params
    store, cont = store_of(request), container_of(request)
    limit, start = _limit_start(q)
    filters = list(q.getlist("property"))
    try:
        predicates = parse_filters(filters, name_wildcards=True)  # filter-data.md: `*` in `name`
    except FilterError as exc:
        raise CATALOG.bad_request(str(exc)) from exc
    wanted = equal_value(filters, "name", name_wildcards=True)
    with store.lock:
        datasets = cont.items["dataset"]
        keys = list(datasets) if wanted is None else cont.ids_where("dataset", "name", [wanted])
        items = [(k, {**public(datasets[k]), "id": k}) for k in keys]
    if "name" in q:
        items = [(k, v) for k, v in items if _simple_filter(q["name"], v.get("name"))]
    items = [(k, v) for k, v in items if matches(v, predicates)]
    field, desc = _order_key(q.get("orderBy") or q.get("orderby") or "asc:created")
    items.sort(key=lambda kv: (str(kv[1].get(field, "")) if not isinstance(kv[1].get(field), (int, float))
                               else f"{kv[1].get(field):020.3f}", kv[0]), reverse=desc)
    page = items[start : start + limit]
    props = [p.strip() for p in q.get("properties", "").split(",") if p.strip()]
    out: dict[str, Any] = {}
    for key, value in page:
        value.pop("id", None)
        out[key] = {p: value[p] for p in props if p in value} if props else value
    return out


@router.get("/dataSets/{dataset_id}", summary="Read a dataset ({id: dataset})")
def get_dataset(dataset_id: str, request: Request) -> dict[str, Any]:
    store, cont = store_of(request), container_of(request)
    with store.lock:
        obj = cont.require("dataset", dataset_id, CATALOG.not_found(f"dataset {dataset_id}"))
        return {dataset_id: public(obj)}


@router.delete("/dataSets/{dataset_id}", summary="Delete a dataset")
def delete_dataset(dataset_id: str, request: Request) -> list[str]:
    store, cont = store_of(request), container_of(request)
    with store.lock:
        if dataset_id not in cont.items["dataset"]:
            return []
        del cont.items["dataset"][dataset_id]
        cont.drop_records(dataset_id)
        store.wrote()
    return [f"@/dataSets/{dataset_id}"]


