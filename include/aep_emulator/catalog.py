"""Catalog (``/data/foundation/catalog``): datasets.

Lists are maps keyed by id with offset paging (``limit`` default 20, at most 100,
``limit=0`` is an error; ``start`` is a 0-based offset; no next link).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from .common import FilterError, matches, new_hex, offset_page, parse_filters, public
from .deps import container_of, ctx_of, store_of
from .errors import ApiError
from .schema_registry import find_tenant

BASE = "/data/foundation/catalog"
router = APIRouter(prefix=BASE, tags=["Catalog"])

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _bad(detail: str, code: str = "CAT-1400-400") -> ApiError:
    return ApiError(400, code, "Bad Request", detail)


def _not_found(dataset_id: str) -> ApiError:
    return ApiError(404, "CAT-1404-404", "Not Found", f"The dataset {dataset_id} was not found.")


@router.post("/dataSets", status_code=201, summary="Create a dataset")
def create_dataset(request: Request, body: Annotated[dict[str, Any], Body()]) -> list[str]:
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _bad("The field 'name' is required.")
    schema_ref = body.get("schemaRef")
    if schema_ref is not None and (not isinstance(schema_ref, dict) or not isinstance(schema_ref.get("id"), str)):
        raise _bad("schemaRef must be an object with an 'id'.")
    with store.lock:
        if schema_ref is not None and find_tenant(cont, "schema", schema_ref["id"]) is None:
            raise _bad(f"The schema {schema_ref['id']} referenced by schemaRef does not exist.", "CAT-1422-400")
        dataset_id = new_hex(24)
        now_ms = store.clock.now_ms()
        obj: dict[str, Any] = {
            "name": name,
            "description": body.get("description", ""),
            "imsOrg": ctx.org_id,
            "sandboxId": ctx.sandbox,
            "tags": body.get("tags", {}),
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
            obj["dataSourceId"] = new_hex(24)
        cont.items["dataset"][dataset_id] = obj
        cont.records.setdefault(dataset_id, [])
        store.wrote()
    return [f"@/dataSets/{dataset_id}"]


def _order_key(order_by: str) -> tuple[str, bool]:
    direction, _, field = order_by.partition(":")
    if not field:
        return direction, False
    return field, direction.lower() == "desc"


@router.get("/dataSets", summary="List datasets (map keyed by id, offset paging)")
def list_datasets(request: Request) -> dict[str, Any]:
    q = request.query_params
    store, cont = store_of(request), container_of(request)
    limit, start = offset_page(q, DEFAULT_LIMIT, MAX_LIMIT, _bad)
    filters = list(q.getlist("property"))
    try:
        predicates = parse_filters(filters)
    except FilterError as exc:
        raise _bad(str(exc)) from exc
    with store.lock:
        items = [(k, {**public(v), "id": k}) for k, v in cont.items["dataset"].items()]
    if "name" in q:
        items = [(k, v) for k, v in items if v.get("name") == q["name"]]
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
        obj = cont.items["dataset"].get(dataset_id)
        if obj is None:
            raise _not_found(dataset_id)
        return {dataset_id: public(obj)}


@router.delete("/dataSets/{dataset_id}", summary="Delete a dataset")
def delete_dataset(dataset_id: str, request: Request) -> list[str]:
    store, cont = store_of(request), container_of(request)
    with store.lock:
        if dataset_id not in cont.items["dataset"]:
            raise _not_found(dataset_id)
        del cont.items["dataset"][dataset_id]
        cont.records.pop(dataset_id, None)
        store.wrote()
    return [f"@/dataSets/{dataset_id}"]


