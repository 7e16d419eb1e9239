"""Data Prep (``/data/foundation/conversion``): mapping sets.

Both request forms are accepted: the old one (``xdmSchema``, ``mappings[].destinationXdmPath``
/ ``sourceAttribute``) and the newer one (``outputSchema.schemaRef.id``, ``sourceType`` /
``source`` / ``destination``). Every destination path must exist in the full view of the
target schema. A mapping set may carry an optional ``name`` (stored, filterable with
``name=``) so clients have something to look up before creating. Lists use ``limit``
(default 10, at most 100) and ``start`` (0-based offset); ``_page.count`` is the number of
items on the page, so a page shorter than ``limit`` is the last one. Lists are sorted by
``orderBy`` (data-prep.yaml: ``createdDate`` or ``updatedDate``, ``+``/``-``; default
``lastUpdateDate``), newest change first by default (mapping-set.md's list example).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from . import xdm_standard as std
from .common import new_hex, offset_page, public, sort_value
from .deps import container_of, ctx_of, store_of
from .schema_registry_resources import find_tenant, schema_fields
from .services import DATA_PREP

router = APIRouter(prefix=DATA_PREP.prefix, tags=["Data Prep"])

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
SOURCE_TYPES = {"ATTRIBUTE"}


def normalize_mapping(raw: Any, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise DATA_PREP.bad_request(f"mappings[{index}] must be an object")
    destination = raw.get("destination", raw.get("destinationXdmPath"))
    source = raw.get("source", raw.get("sourceAttribute"))
    source_type = raw.get("sourceType", "ATTRIBUTE")
    if not isinstance(destination, str) or not destination:
        raise DATA_PREP.bad_request(f"mappings[{index}] has no destination (destination / destinationXdmPath)")
    if not isinstance(source, str) or not source:
        raise DATA_PREP.bad_request(f"mappings[{index}] has no source (source / sourceAttribute)")
    if source_type not in SOURCE_TYPES:
        raise DATA_PREP.bad_request(f"mappings[{index}]: sourceType {source_type!r} is not supported (use ATTRIBUTE)")
    return {
        "sourceType": source_type,
        "source": source,
        "destination": destination,
        "sourceAttribute": source,
        "destinationXdmPath": destination,
        "identity": bool(raw.get("identity", False)),
        "identityGroup": raw.get("identityGroup"),
        "namespaceCode": raw.get("namespaceCode"),
        "version": raw.get("version", 0),
    }


def target_schema_id(body: dict[str, Any]) -> str | None:
    out = body.get("outputSchema")
    if isinstance(out, dict):
        ref = out.get("schemaRef")
        if isinstance(ref, dict) and isinstance(ref.get("id"), str):
            return str(ref["id"])
    xdm = body.get("xdmSchema")
    return xdm if isinstance(xdm, str) else None


def _validated(cont: Any, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    """The target schema, the normalized mappings and the name of a create or update body (store lock held)."""
    schema_id = target_schema_id(body)
    if schema_id is None:
        raise DATA_PREP.bad_request("The target schema is missing (xdmSchema or outputSchema.schemaRef.id)")
    raw_mappings = body.get("mappings")
    if not isinstance(raw_mappings, list) or not raw_mappings:
        raise DATA_PREP.bad_request("mappings must be a non-empty array")
    mappings = [normalize_mapping(m, i) for i, m in enumerate(raw_mappings)]
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise DATA_PREP.bad_request("name must be a string")
    schema = find_tenant(cont, "schema", schema_id)
    fields = schema_fields(cont, schema_id)
    if schema is None or fields is None:
        raise DATA_PREP.bad_request(f"The target schema {schema_id} does not exist")
    for m in mappings:
        node = std.field_at(fields, m["destination"])
        if node is None:
            raise DATA_PREP.bad_request(f"The destination path '{m['destination']}' does not exist in schema {schema_id}")
        if std.leaf_type(node) == "object":
            raise DATA_PREP.bad_request(f"The destination path '{m['destination']}' is an object, not a field")
    return schema, mappings, name


def _schema_fields(schema: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    return {
        "xdmSchema": schema["$id"],
        "xdmVersion": body.get("xdmVersion", "1.0"),
        "outputSchema": {"schemaRef": {"id": schema["$id"],
                                       "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        **({"inputSchema": body["inputSchema"]} if isinstance(body.get("inputSchema"), dict) else {}),
    }


@router.post("/mappingSets", summary="Create a mapping set (200 with id and version)")
def create_mapping_set(request: Request, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    with store.lock:
        schema, mappings, name = _validated(cont, body)
        mapping_id = new_hex(32)
        now_ms = store.clock.now_ms()
        user = f"{ctx.client_id}@AdobeID"
        obj: dict[str, Any] = {
            "id": mapping_id,
            "version": 0,
            **({"name": name} if name is not None else {}),
            **_schema_fields(schema, body),
            "mappings": mappings,
            "createdDate": now_ms,
            "modifiedDate": now_ms,
            "createdBy": user,
            "modifiedBy": user,
        }
        cont.items["mappingSet"][mapping_id] = obj
        store.wrote()
    return {k: obj[k] for k in ("id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy")}


#: Where a mapping set keeps its earlier versions (internal: ``public`` leaves it out).
VERSIONS = "__versions"


@router.put("/mappingSets/{mapping_id}", summary="Update a mapping set (a new version)")
def update_mapping_set(mapping_id: str, request: Request, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """data-prep.yaml ``putMappingSet`` ("Update a mapping set"; the body and the answer are a ``MappingSet``) and
    help/data-prep/api/mapping-set.md ("Update a mapping set"). An update makes a new version: the
    mapping set's ``version`` goes up by one and the earlier one stays readable, as ``GET /mappingSets/{id}``
    takes ``version`` ("Determines which version of the mapping set to retrieve", data-prep.yaml) and the list
    example of mapping-set.md shows a modified set at ``"version": 1``. A flow keeps the version its
    ``Mapping`` transformation names (``mappingVersion``), so its runs map with that version until the flow is
    patched to the new one."""
    store, ctx, cont = store_of(request), ctx_of(request), container_of(request)
    with store.lock:
        obj = cont.items["mappingSet"].get(mapping_id)
        if obj is None:
            raise DATA_PREP.not_found(f"mapping set {mapping_id}")
        schema, mappings, name = _validated(cont, body)
        earlier = {k: v for k, v in public(obj).items()}
        obj.setdefault(VERSIONS, {})[str(obj["version"])] = earlier
        obj.update({
            **_schema_fields(schema, body),
            **({"name": name} if name is not None else {}),
            "mappings": mappings,
            "version": int(obj["version"]) + 1,
            "modifiedDate": store.clock.now_ms(),
            "modifiedBy": f"{ctx.client_id}@AdobeID",
        })
        cont.touched("mappingSet", mapping_id)
        store.wrote()
        if store.config.mapping_put_answer == "docs":
            # help/data-prep/api/mapping-set.md, "Update a mapping set" (the current page): the updated set with
            # its new "version": 1, "truncated for space" - the fields that example shows.
            return {k: v for k, v in public(obj).items() if k in DOCS_PUT_ANSWER}
        return public(obj)


#: The fields of mapping-set.md's "Update a mapping set" example answer (the current page, with ``version``).
DOCS_PUT_ANSWER = ("id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy", "outputSchema",
                   "mappings", "xdmVersion", "xdmSchema")


def has_version(mapping: dict[str, Any], version: Any) -> bool:
    """Whether the mapping set has (or had) ``version``: its current one or a kept earlier one."""
    return str(version) == str(mapping["version"]) or str(version) in (mapping.get(VERSIONS) or {})


def at_version(mapping: dict[str, Any], version: Any) -> dict[str, Any]:
    """The mapping set as it was at ``version`` (the current one when ``version`` is it, absent or unknown)."""
    return (mapping.get(VERSIONS) or {}).get(str(version), mapping) if version is not None else mapping


#: data-prep.yaml ``listMappingSets`` ``orderBy``: "Supported fields are: ``createdDate`` and ``updatedDate``",
#: ``default: lastUpdateDate``; a set's update time is its ``modifiedDate`` (the answers' field).
ORDER_FIELDS = {"createdDate": "createdDate", "updatedDate": "modifiedDate", "lastUpdateDate": "modifiedDate"}


def _order(value: str | None) -> tuple[str, bool]:
    """The field and direction of ``orderBy``. Without one: the last update date (data-prep.yaml's default),
    newest first, as mapping-set.md's list example answers "the last two mapping sets" (the spec names no
    direction for its default). ``+``/no sign ascending, ``-`` descending. Another field: ``EMU-400``."""
    if not value:
        return "modifiedDate", True
    field = value.lstrip("+-")
    if field not in ORDER_FIELDS:
        raise DATA_PREP.bad_request(
            f"orderBy={value!r}: the supported fields are createdDate and updatedDate, with + (ascending) or - "
            "(descending) before the field")
    return ORDER_FIELDS[field], value.startswith("-")


@router.get("/mappingSets", summary="List mapping sets (limit/start paging, name filter)")
def list_mapping_sets(request: Request) -> dict[str, Any]:
    q = request.query_params
    store, cont = store_of(request), container_of(request)
    limit, start = offset_page(q, DEFAULT_LIMIT, MAX_LIMIT, DATA_PREP.bad_request)
    with store.lock:
        items = [public(o) for o in cont.items["mappingSet"].values()]
    if "name" in q:
        items = [o for o in items if o.get("name") == q["name"]]
    key, desc = _order(q.get("orderBy") or q.get("orderby"))
    items.sort(key=lambda o: (sort_value(o.get(key)), sort_value(o.get("createdDate")), o["id"]), reverse=desc)
    page = items[start : start + limit]
    return {"data": page, "_page": {"count": len(page), "limit": limit}, "_links": {}}


@router.get("/mappingSets/{mapping_id}", summary="Read a mapping set")
def get_mapping_set(mapping_id: str, request: Request) -> dict[str, Any]:
    store, cont = store_of(request), container_of(request)
    with store.lock:
        obj = cont.items["mappingSet"].get(mapping_id)
        if obj is None:
            raise DATA_PREP.not_found(f"mapping set {mapping_id}")
        version = request.query_params.get("version")
        if version is not None and not has_version(obj, version):
            raise DATA_PREP.not_found(f"version {version} of mapping set {mapping_id}")
        return public(at_version(obj, version))
