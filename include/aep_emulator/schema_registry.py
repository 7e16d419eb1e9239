"""Schema Registry (``/data/foundation/schemaregistry``): stats, tenant classes and
schemas (ad-hoc and class-based), global classes/field groups, full (``xed-full``) views, and the
Accept rules and paging of its reads. The resources themselves: :mod:`aep_emulator.schema_registry_resources`."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Body, Request, Response

from . import xdm_standard as std
from .common import public
from .deps import container_of, ctx_of, store_of
from .json_patch import PatchError, apply_patch
from .property_filters import FilterError, equal_value, matches, parse_filters
from .schema_registry_resources import BUILDERS, check_title, find_tenant, full_fields
from .services import SCHEMA_REGISTRY
from .state import Container

router = APIRouter(prefix=SCHEMA_REGISTRY.prefix, tags=["Schema Registry"])

PAGE_MAX = 300
ACCEPT_RE = re.compile(r"application/vnd\.adobe\.(xed(?:-[a-z]+)*)\+json\s*(?:;\s*version\s*=\s*([\d.]+))?", re.I)
KIND_OF = {"classes": "class", "schemas": "schema", "datatypes": "datatype"}


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
    if "full" in variant and obj.get("meta:resourceType") != "datatypes":  # a data type's fields are its own
        fields = full_fields(container, obj)
        out["properties"] = std.strip_text(fields) if "notext" in variant else fields
    if "notext" in variant:
        out.pop("description", None)
    return out



# -- lists -----------------------------------------------------------------------------------------------


ACCEPT_INVALID = "XDM-1006-400"  # help/xdm/troubleshooting.md, "Accept header invalid" (lists)
ACCEPT_NO_VERSION = "XDM-1007-400"  # same guide and schema-registry.yaml acceptErrorLookup (single reads)
LIST_VARIANTS = ("xed", "xed-id")


def _require_list_accept(request: Request) -> str:
    """Lists need ``Accept: application/vnd.adobe.xed-id+json`` or ``xed+json`` (appendix.md, list-resources.md:
    "All GET requests to the Schema Registry require an Accept header")."""
    variant, version = _parse_accept(request)
    # A version parameter is refused on lists: schema-registry.yaml, definition ``acceptErrorList``, refuses
    # ``application/vnd.adobe.xed+json;version=1`` with XDM-1006-400 ("A valid Accept value should look like
    # application/vnd.adobe.'{xed|xdm'}+json").
    if variant not in LIST_VARIANTS or version is not None:
        raise SCHEMA_REGISTRY.bad_request(
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
        raise SCHEMA_REGISTRY.bad_request("The limit and start parameters cannot be used without an orderby parameter.")
    try:
        predicates = parse_filters(q.getlist("property"))
    except FilterError as exc:
        raise SCHEMA_REGISTRY.bad_request(str(exc)) from exc
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
        raise SCHEMA_REGISTRY.bad_request("limit must be an integer") from exc
    if limit < 0 or limit > 500:
        raise SCHEMA_REGISTRY.bad_request("limit must be between 0 and 500")
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
        links["next"] = {"href": f"https://platform.adobe.io{SCHEMA_REGISTRY.prefix}{path}?{'&'.join(params)}"}
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
            "datatypes": len(cont.items["datatype"]),
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
        raise SCHEMA_REGISTRY.not_found(f"/global/{resource_type}")
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
        raise SCHEMA_REGISTRY.not_found(ident)
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
        raise SCHEMA_REGISTRY.bad_request(
            f"The supplied Accept header is not valid: {request.headers.get('accept', '')!r} - a valid Accept "
            "value should look like application/vnd.adobe.xed-full+json; version=1 (Version should be specified)",
            ACCEPT_NO_VERSION,
            "Accept header invalid",
        )
    return variant, version


def _require_accept(request: Request) -> None:
    """Every Schema Registry GET needs an Accept header (help/xdm/api/getting-started.md)."""
    if not request.headers.get("accept", "").strip():
        raise SCHEMA_REGISTRY.bad_request("All GET requests to the Schema Registry require an Accept header.", ACCEPT_INVALID,
                   "Accept header invalid")


def _kind(resource_type: str) -> str:
    kind = KIND_OF.get(resource_type)
    if kind is None:
        raise SCHEMA_REGISTRY.not_found(f"/tenant/{resource_type}")
    return kind


# Clients such as aepp send a trailing slash on the collection paths; the real service accepts it.
@router.get("/tenant/{resource_type}/", summary="List tenant classes, schemas or data types (trailing slash)")
@router.get("/tenant/{resource_type}", summary="List tenant classes, schemas or data types")
def list_tenant(resource_type: str, request: Request) -> dict[str, Any]:
    kind = _kind(resource_type)
    cont = container_of(request)
    title = equal_value(request.query_params.getlist("property"), "title")
    with store_of(request).lock:
        objects = list(cont.items[kind].values()) if title is None else cont.where(kind, "title", [title])
    return _page(request, objects, f"/tenant/{resource_type}", cont)


@router.post("/tenant/{resource_type}/", status_code=201, summary="Create a tenant class, schema or data type (trailing slash)")
@router.post("/tenant/{resource_type}", status_code=201, summary="Create a tenant class, schema or data type")
def create_tenant(resource_type: str, request: Request, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    kind = _kind(resource_type)
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    with store.lock:
        check_title(cont, body.get("title"))
        obj = BUILDERS[kind](cont, ctx, body, store.clock.now_ms())
        cont.items[kind][obj["__hex"]] = obj
        store.wrote()
        return _view(cont, obj, "xed")


@router.get("/tenant/{resource_type}/{ident:path}", summary="Read a tenant class, schema or data type by $id or meta:altId")
def get_tenant(resource_type: str, ident: str, request: Request) -> dict[str, Any]:
    kind = _kind(resource_type)
    variant, _ = _require_versioned_accept(request)
    cont = container_of(request)
    with store_of(request).lock:
        obj = find_tenant(cont, kind, ident)
        if obj is None:
            raise SCHEMA_REGISTRY.not_found(ident)
        return _view(cont, obj, variant)


@router.patch("/tenant/{resource_type}/{ident:path}", summary="Update a tenant class, schema or data type (JSON Patch)")
def patch_tenant(resource_type: str, ident: str, request: Request, body: Annotated[Any, Body()]) -> dict[str, Any]:
    kind = _kind(resource_type)
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    with store.lock:
        obj = find_tenant(cont, kind, ident)
        if obj is None:
            raise SCHEMA_REGISTRY.not_found(ident)
        try:
            patched = apply_patch(public(obj), body)
        except PatchError as exc:
            raise SCHEMA_REGISTRY.bad_request(str(exc)) from exc
        check_title(cont, patched.get("title"), exclude=obj["__hex"])
        now_ms = store.clock.now_ms()
        # the same hex id: a class keeps its already renamed ad-hoc namespace
        rebuilt = BUILDERS[kind](cont, ctx, patched, now_ms, hexid=obj["__hex"])
        meta = rebuilt["meta:registryMetadata"]
        meta["repo:createdDate"] = obj["meta:registryMetadata"]["repo:createdDate"]
        for key, value in obj.items():
            if key == "meta:datasetNamespace":
                rebuilt[key] = value
        if kind == "datatype":
            # A patched data type answers its next minor version (data-types.md's PATCH answer: "1.2";
            # schema-registry.yaml patchDataTypeResponse: "1.1").
            major, _, minor = str(obj.get("version", "1.0")).partition(".")
            rebuilt["version"] = f"{major}.{int(minor or 0) + 1}"
        cont.items[kind][obj["__hex"]] = rebuilt
        store.wrote()
        return _view(cont, rebuilt, "xed")


@router.delete("/tenant/{resource_type}/{ident:path}", status_code=204, summary="Delete a tenant class, schema or data type")
def delete_tenant(resource_type: str, ident: str, request: Request) -> Response:
    kind = _kind(resource_type)
    store, cont = store_of(request), container_of(request)
    with store.lock:
        obj = find_tenant(cont, kind, ident)
        if obj is None:
            raise SCHEMA_REGISTRY.not_found(ident)
        del cont.items[kind][obj["__hex"]]
        store.wrote()
    return Response(status_code=204)
