"""Schema Registry (``/data/foundation/schemaregistry``): stats, tenant classes and
schemas (ad-hoc and class-based), global classes/field groups, full (``xed-full``) views."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Body, Request, Response

from . import xdm_standard as std
from .common import FilterError, PatchError, apply_patch, matches, new_hex, parse_filters, public
from .deps import RequestContext, container_of, ctx_of, store_of
from .errors import ApiError, neutral
from .state import Container, Store

BASE = "/data/foundation/schemaregistry"
router = APIRouter(prefix=BASE, tags=["Schema Registry"])

PAGE_MAX = 300
ACCEPT_RE = re.compile(r"application/vnd\.adobe\.(xed(?:-[a-z]+)*)\+json\s*(?:;\s*version\s*=\s*([\d.]+))?", re.I)
KIND_OF = {"classes": "class", "schemas": "schema"}
RESOURCE_TYPE = {"class": "classes", "schema": "schemas"}


# -- errors ------------------------------------------------------------------------------------


def _err(status: int, code: str, title: str, detail: str) -> ApiError:
    return ApiError(status, code, title, detail)


def _not_found(what: str) -> ApiError:
    return _err(404, "XDM-1010-404", "Resource not found", f"The requested resource {what} was not found.")


def _bad(detail: str, code: str = neutral(400), title: str = "Bad request") -> ApiError:
    """A 400; Adobe documents XDM codes for a few cases only (help/xdm/troubleshooting.md), the rest are ours."""
    return _err(400, code, title, detail)


# -- lookups used by the other services ------------------------------------------------------------


def find_tenant(container: Container, kind: str, ident: str) -> dict[str, Any] | None:
    """A tenant class/schema by ``$id``, ``meta:altId`` or bare hex id."""
    ident = unquote(ident)
    for obj in container.items[kind].values():
        if ident in (obj["$id"], obj["meta:altId"], obj["__hex"]):
            return obj
    return None


def find_any(container: Container, ref: str) -> dict[str, Any] | None:
    """Resolve a ``$ref``: the standard library first, then tenant classes and schemas."""
    return std.standard(ref) or find_tenant(container, "class", ref) or find_tenant(container, "schema", ref)


def _own_fields(resource: dict[str, Any]) -> std.Fields:
    fields: std.Fields = {}
    if resource.get("meta:containerId") == "global":
        return std.merge_fields(fields, resource.get("properties", {}))
    for item in resource.get("allOf", []):
        if isinstance(item, dict) and "$ref" not in item and isinstance(item.get("properties"), dict):
            std.merge_fields(fields, item["properties"])
    return fields


def full_fields(container: Container, resource: dict[str, Any]) -> std.Fields:
    """Every field of a class or schema, including those of its class, behaviors and field groups."""
    fields: std.Fields = {}
    seen: set[str] = set()
    for ref in [*resource.get("meta:extends", [])]:
        if ref in seen:
            continue
        seen.add(ref)
        target = find_any(container, ref)
        if target is not None:
            std.merge_fields(fields, _own_fields(target))
    return std.merge_fields(fields, _own_fields(resource))


def schema_fields(container: Container, schema_id: str) -> std.Fields | None:
    schema = find_tenant(container, "schema", schema_id)
    return None if schema is None else full_fields(container, schema)


# -- views -----------------------------------------------------------------------------------------


def _parse_accept(request: Request) -> tuple[str | None, str | None]:
    m = ACCEPT_RE.search(request.headers.get("accept", ""))
    if not m:
        return None, None
    return m.group(1).lower(), m.group(2)


def _view(container: Container, obj: dict[str, Any], variant: str) -> dict[str, Any]:
    out = public(obj)
    if variant == "xed-id":
        return {k: out[k] for k in ("$id", "meta:altId", "version", "title") if k in out}
    if "full" in variant:
        fields = full_fields(container, obj)
        out["properties"] = std.strip_text(fields) if "notext" in variant else fields
    if "notext" in variant:
        out.pop("description", None)
    return out


# -- creation helpers --------------------------------------------------------------------------------


def _registry_metadata(ctx: RequestContext, now_ms: int, body: Any) -> dict[str, Any]:
    return {
        "repo:createdDate": now_ms,
        "repo:lastModifiedDate": now_ms,
        "xdm:createdClientId": ctx.client_id,
        "xdm:lastModifiedClientId": ctx.client_id,
        "xdm:createdUserId": f"{ctx.client_id}@techacct.adobe.com",
        "xdm:lastModifiedUserId": f"{ctx.client_id}@techacct.adobe.com",
        "eTag": hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest(),
        "meta:globalLibVersion": "1.9.2",
    }


def _check_title(container: Container, title: Any, exclude: str | None = None) -> str:
    if not isinstance(title, str) or not title.strip():
        raise _bad("The field 'title' is required.")
    for kind in ("class", "schema"):
        for key, obj in container.items[kind].items():
            if key != exclude and obj.get("title") == title:
                raise _bad(
                    f"Title not unique: the title '{title}' is already used by {obj['$id']}.",
                    "XDM-1521-400",
                    "Title not unique",
                )
    return title


def _ref_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    all_of = body.get("allOf")
    if not isinstance(all_of, list) or not all_of:
        raise _bad("The field 'allOf' must be a non-empty array.")
    for item in all_of:
        if not isinstance(item, dict):
            raise _bad("Every 'allOf' item must be an object.")
    return all_of


def _check_tenant_fields(ctx: RequestContext, items: list[dict[str, Any]], allowed_extra: set[str]) -> None:
    for item in items:
        if "$ref" in item:
            continue
        for name in (item.get("properties") or {}):
            if name != f"_{ctx.tenant_id}" and name not in allowed_extra:
                raise _bad(
                    f"Custom field '{name}' must be nested under the tenant namespace '_{ctx.tenant_id}'.",
                    NAMESPACE_INVALID,
                )


def _base_resource(ctx: RequestContext, kind: str, hexid: str, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    tenant = ctx.tenant_id
    rtype = RESOURCE_TYPE[kind]
    return {
        "$id": f"https://ns.adobe.com/{tenant}/{rtype}/{hexid}",
        "meta:altId": f"_{tenant}.{rtype}.{hexid}",
        "meta:resourceType": rtype,
        "version": "1.0",
        "title": body["title"],
        "type": "object",
        "description": body.get("description", ""),
        "allOf": [],
        "imsOrg": ctx.org_id,
        "meta:extensible": kind == "class",
        "meta:abstract": kind == "class",
        "meta:extends": [],
        "meta:xdmType": "object",
        "meta:registryMetadata": _registry_metadata(ctx, now_ms, body),
        "meta:containerId": "tenant",
        "meta:tenantNamespace": f"_{tenant}",
        "__hex": hexid,
    }


def build_class(container: Container, ctx: RequestContext, body: dict[str, Any], now_ms: int,
                hexid: str | None = None) -> dict[str, Any]:
    items = _ref_items(body)
    refs = [i["$ref"] for i in items if "$ref" in i]
    behaviors = [r for r in refs if (s := std.standard(r)) is not None and s["meta:resourceType"] == "behaviors"]
    if len(behaviors) != 1 or len(refs) != 1:
        raise _bad("A class must extend exactly one behavior (record, time-series or adhoc).")
    hexid = hexid or new_hex(48)
    obj = _base_resource(ctx, "class", hexid, body, now_ms)
    is_adhoc = behaviors[0] == std.ADHOC
    namespace = f"_{hexid[:32]}"
    new_items: list[dict[str, Any]] = []
    for item in items:
        if "$ref" in item:
            new_items.append({"$ref": item["$ref"], "type": "object", "meta:xdmType": "object"})
            continue
        props = dict(item.get("properties") or {})
        if is_adhoc and "_adhoc" in props:
            props[namespace] = props.pop("_adhoc")
        new_items.append({**item, "properties": props})
    if not is_adhoc:
        _check_tenant_fields(ctx, new_items, set())
    obj["allOf"] = new_items
    obj["meta:extends"] = [behaviors[0]]
    if is_adhoc:
        obj["meta:datasetNamespace"] = namespace
    return obj


def build_schema(container: Container, ctx: RequestContext, body: dict[str, Any], now_ms: int,
                 hexid: str | None = None) -> dict[str, Any]:
    items = _ref_items(body)
    refs: list[str] = []
    for item in items:
        ref = item.get("$ref")
        if ref is not None and ref not in refs:
            refs.append(ref)
    classes: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    for ref in refs:
        target = find_any(container, ref)
        if target is None:
            raise _bad(f"The referenced resource {ref} does not exist.")
        rtype = target["meta:resourceType"]
        if rtype == "classes":
            classes.append(target)
        elif rtype in ("mixins", "fieldgroups"):
            groups.append(target)
        else:
            raise _bad(f"A schema cannot reference {ref} ({rtype}) directly.")
    declared = body.get("meta:class")
    if declared and declared not in [c["$id"] for c in classes]:
        target = find_any(container, declared)
        if target is None or target["meta:resourceType"] != "classes":
            raise _bad(f"The class {declared} does not exist.")
        classes.append(target)
    if len(classes) != 1:
        raise _bad("A schema must reference exactly one class.")
    cls = classes[0]
    for group in groups:
        intended = group.get("meta:intendedToExtend") or []
        if intended and cls["$id"] not in intended:
            raise _bad(
                f"The field group {group['$id']} cannot be used with the class {cls['$id']}."
            )
    allowed = {cls.get("meta:datasetNamespace", "")} - {""}
    _check_tenant_fields(ctx, items, allowed)
    hexid = hexid or new_hex(48)
    obj = _base_resource(ctx, "schema", hexid, body, now_ms)
    obj["allOf"] = [
        {**item, "type": "object", "meta:xdmType": "object"} if "$ref" in item else item for item in items
    ]
    group_ids = [g["$id"] for g in groups]
    obj["refs"] = [*group_ids, cls["$id"]]
    if cls.get("meta:containerId") == "tenant":
        obj["meta:extends"] = [cls["$id"], *group_ids, *cls.get("meta:extends", [])]
    else:
        obj["meta:extends"] = [*group_ids, *cls.get("meta:extends", []), cls["$id"]]
    obj["meta:class"] = cls["$id"]
    if "meta:datasetNamespace" in cls:
        obj["meta:datasetNamespace"] = cls["meta:datasetNamespace"]
    obj["meta:extensible"] = False
    obj["meta:abstract"] = False
    return obj


BUILDERS = {"class": build_class, "schema": build_schema}


# -- lists -----------------------------------------------------------------------------------------------


ACCEPT_INVALID = "XDM-1006-400"  # help/xdm/troubleshooting.md, "Accept header invalid" (lists)
ACCEPT_NO_VERSION = "XDM-1007-400"  # same guide and schema-registry.yaml acceptErrorLookup (single reads)
NAMESPACE_INVALID = "XDM-1021-400"  # help/xdm/troubleshooting.md, "Namespace validation error"
LIST_VARIANTS = ("xed", "xed-id")


def _require_list_accept(request: Request) -> str:
    """Lists need ``Accept: application/vnd.adobe.xed-id+json`` or ``xed+json`` (appendix.md, list-resources.md:
    "All GET requests to the Schema Registry require an Accept header")."""
    variant, version = _parse_accept(request)
    # A version parameter is refused on lists: schema-registry.yaml, definition ``acceptErrorList``, refuses
    # ``application/vnd.adobe.xed+json;version=1`` with XDM-1006-400 ("A valid Accept value should look like
    # application/vnd.adobe.'{xed|xdm'}+json").
    if variant not in LIST_VARIANTS or version is not None:
        raise _bad(
            f"The supplied Accept header is not valid: {request.headers.get('accept', '')!r} - a valid Accept value "
            "should look like application/vnd.adobe.xed-id+json or application/vnd.adobe.xed+json",
            ACCEPT_INVALID,
            "Accept header invalid",
        )
    return str(variant)


def _page(request: Request, objects: list[dict[str, Any]], path: str, container: Container) -> dict[str, Any]:
    """One page of a list, as help/xdm/api/appendix.md ("Paging") describes it: ``limit`` and ``start`` only
    with ``orderby``; ``start`` returns the entries whose primary sort property is strictly greater (strictly
    less for ``-`` descending) than it; ``_page.next`` is the sort value of the page's last entry, the value
    to send as ``start``; ``limit`` is a hint between 0 and 500 (at most 300 are served)."""
    q = request.query_params
    variant = _require_list_accept(request)
    if ("limit" in q or "start" in q) and "orderby" not in q:
        raise _bad("The limit and start parameters cannot be used without an orderby parameter.")
    try:
        predicates = parse_filters(q.getlist("property"))
    except FilterError as exc:
        raise _bad(str(exc)) from exc
    objects = [o for o in objects if matches(public(o), predicates)]
    orderby = q.get("orderby") or "title"
    descending = orderby.startswith("-")
    key = orderby.lstrip("-+").split(",")[0]
    objects.sort(key=lambda o: (str(o.get(key, "")), o["$id"]), reverse=descending)
    start = q.get("start")
    if start is not None:
        objects = [o for o in objects if (str(o.get(key, "")) < start if descending else str(o.get(key, "")) > start)]
    try:
        limit = int(q.get("limit", PAGE_MAX))
    except ValueError as exc:
        raise _bad("limit must be an integer") from exc
    if limit < 0 or limit > 500:
        raise _bad("limit must be between 0 and 500")
    limit = min(limit or PAGE_MAX, PAGE_MAX)
    # appendix.md ("Paging"): the limit "is not strictly honored ... as constrained by the need to provide the
    # reliable operation of the start parameter". ``start`` is exclusive on the sort value, so a page ends only
    # between two different sort values: it is extended through the whole group tying with its last entry.
    cut = limit
    while 0 < cut < len(objects) and str(objects[cut].get(key, "")) == str(objects[cut - 1].get(key, "")):
        cut += 1
    page, rest = objects[:cut], objects[cut:]
    nxt = str(page[-1].get(key, "")) if rest and page else None
    links: dict[str, Any] = {}
    if nxt is not None:
        params = [f"orderby={quote(orderby)}", f"start={quote(nxt)}", f"limit={limit}"]
        params += [f"property={quote(p)}" for p in q.getlist("property")]
        links["next"] = {"href": f"https://platform.adobe.io{BASE}{path}?{'&'.join(params)}"}
    return {
        "results": [_view(container, o, variant) for o in page],
        "_page": {"orderby": orderby, "next": nxt, "count": len(page)},
        "_links": links,
    }


# -- routes ----------------------------------------------------------------------------------------------


@router.get("/stats", summary="Tenant id, org and resource counts")
def stats(request: Request) -> dict[str, Any]:
    _require_accept(request)
    ctx = ctx_of(request)
    cont = container_of(request)
    return {
        "imsOrg": ctx.org_id,
        "tenantId": ctx.tenant_id,
        "counts": {
            "schemas": len(cont.items["schema"]),
            "mixins": 0,
            "datatypes": 0,
            "classes": len(cont.items["class"]),
            "unions": 0,
        },
        "recentlyCreatedResources": [],
        "recentlyUpdatedResources": [],
        "classUsage": [],  # schema-registry.yaml: an array of {$id, title, numberOfSchemas, schemas}
    }


@router.get("/global/{resource_type}", summary="List standard classes or field groups")
def list_global(resource_type: str, request: Request) -> dict[str, Any]:
    rtype = {"fieldgroups": "mixins", "mixins": "mixins", "classes": "classes", "behaviors": "behaviors"}.get(
        resource_type
    )
    if rtype is None:
        raise _not_found(f"/global/{resource_type}")
    return _page(request, std.standard_of_type(rtype), f"/global/{resource_type}", container_of(request))


@router.get("/global/{resource_type}/{ident:path}", summary="Read a standard class or field group")
def get_global(resource_type: str, ident: str, request: Request) -> dict[str, Any]:
    variant, _version = _require_versioned_accept(request)
    ident = unquote(ident)
    found = std.standard(ident)
    if found is None:
        found = next(
            (r for r in std.standard_of_type("mixins") + std.standard_of_type("classes")
             if r["$id"].rsplit("/", 1)[-1] == ident or r["$id"].replace("https://ns.adobe.com/", "_").replace("/", ".") == ident),
            None,
        )
    if found is None:
        raise _not_found(ident)
    out = dict(found)
    if "full" not in variant:
        out.pop("properties", None)
        out["allOf"] = []
    elif "notext" in variant:
        out["properties"] = std.strip_text(out["properties"])
    return out


def _require_versioned_accept(request: Request) -> tuple[str, str]:
    """Single reads need a resource view with a version (schema-registry.yaml parameter ``accept``: "For
    lookup requests, a version parameter must be included"); without one: XDM-1007-400."""
    variant, version = _parse_accept(request)
    if variant is None or version is None or variant == "xed-id":
        raise _bad(
            f"The supplied Accept header is not valid: {request.headers.get('accept', '')!r} - a valid Accept "
            "value should look like application/vnd.adobe.xed-full+json; version=1 (Version should be specified)",
            ACCEPT_NO_VERSION,
            "Accept header invalid",
        )
    return variant, version


def _require_accept(request: Request) -> None:
    """Every Schema Registry GET needs an Accept header (help/xdm/api/getting-started.md)."""
    if not request.headers.get("accept", "").strip():
        raise _bad("All GET requests to the Schema Registry require an Accept header.", ACCEPT_INVALID,
                   "Accept header invalid")


def _kind(resource_type: str) -> str:
    kind = KIND_OF.get(resource_type)
    if kind is None:
        raise _not_found(f"/tenant/{resource_type}")
    return kind


# Clients such as aepp send a trailing slash on the collection paths; the real service accepts it.
@router.get("/tenant/{resource_type}/", summary="List tenant classes or schemas (trailing slash)")
@router.get("/tenant/{resource_type}", summary="List tenant classes or schemas")
def list_tenant(resource_type: str, request: Request) -> dict[str, Any]:
    kind = _kind(resource_type)
    cont = container_of(request)
    with store_of(request).lock:
        objects = list(cont.items[kind].values())
    return _page(request, objects, f"/tenant/{resource_type}", cont)


@router.post("/tenant/{resource_type}/", status_code=201, summary="Create a tenant class or schema (trailing slash)")
@router.post("/tenant/{resource_type}", status_code=201, summary="Create a tenant class or schema")
def create_tenant(resource_type: str, request: Request, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    kind = _kind(resource_type)
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    with store.lock:
        _check_title(cont, body.get("title"))
        obj = BUILDERS[kind](cont, ctx, body, store.clock.now_ms())
        cont.items[kind][obj["__hex"]] = obj
        store.wrote()
        return _view(cont, obj, "xed")


@router.get("/tenant/{resource_type}/{ident:path}", summary="Read a tenant class or schema by $id or meta:altId")
def get_tenant(resource_type: str, ident: str, request: Request) -> dict[str, Any]:
    kind = _kind(resource_type)
    variant, _ = _require_versioned_accept(request)
    cont = container_of(request)
    with store_of(request).lock:
        obj = find_tenant(cont, kind, ident)
        if obj is None:
            raise _not_found(ident)
        return _view(cont, obj, variant)


@router.patch("/tenant/{resource_type}/{ident:path}", summary="Update a tenant class or schema (JSON Patch)")
def patch_tenant(resource_type: str, ident: str, request: Request, body: Annotated[Any, Body()]) -> dict[str, Any]:
    kind = _kind(resource_type)
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    with store.lock:
        obj = find_tenant(cont, kind, ident)
        if obj is None:
            raise _not_found(ident)
        try:
            patched = apply_patch(public(obj), body)
        except PatchError as exc:
            raise _bad(str(exc)) from exc
        _check_title(cont, patched.get("title"), exclude=obj["__hex"])
        now_ms = store.clock.now_ms()
        if kind == "class":
            # keep the already renamed ad-hoc namespace
            rebuilt = build_class(cont, ctx, patched, now_ms, hexid=obj["__hex"])
        else:
            rebuilt = build_schema(cont, ctx, patched, now_ms, hexid=obj["__hex"])
        meta = rebuilt["meta:registryMetadata"]
        meta["repo:createdDate"] = obj["meta:registryMetadata"]["repo:createdDate"]
        for key, value in obj.items():
            if key == "meta:datasetNamespace":
                rebuilt[key] = value
        cont.items[kind][obj["__hex"]] = rebuilt
        store.wrote()
        return _view(cont, rebuilt, "xed")


@router.delete("/tenant/{resource_type}/{ident:path}", status_code=204, summary="Delete a tenant class or schema")
def delete_tenant(resource_type: str, ident: str, request: Request) -> Response:
    kind = _kind(resource_type)
    store, cont = store_of(request), container_of(request)
    with store.lock:
        obj = find_tenant(cont, kind, ident)
        if obj is None:
            raise _not_found(ident)
        del cont.items[kind][obj["__hex"]]
        store.wrote()
    return Response(status_code=204)


def tenant_schema_exists(store: Store, container: Container, schema_id: str) -> bool:
    with store.lock:
        return find_tenant(container, "schema", schema_id) is not None
