"""Schema Registry resources: look-ups of tenant and standard classes and schemas (also used by Catalog, Flow
Service and Data Prep), the full field set of a schema, and the checks and builders of tenant classes and
schemas (the routes are in :mod:`aep_emulator.schema_registry`)."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import unquote

from . import xdm_standard as std
from .common import new_hex
from .deps import RequestContext
from .services import SCHEMA_REGISTRY
from .state import Container

RESOURCE_TYPE = {"class": "classes", "schema": "schemas", "datatype": "datatypes"}
#: help/xdm/troubleshooting-guide.md, "Title not unique": "Titles must be unique across all resource types"
#: (schemas, field groups, data types, classes; the emulator stores no tenant field groups).
TITLED_KINDS = ("class", "schema", "datatype")
NAMESPACE_INVALID = "XDM-1021-400"  # help/xdm/troubleshooting.md, "Namespace validation error"


# -- lookups used by the other services ------------------------------------------------------------


def find_tenant(container: Container, kind: str, ident: str) -> dict[str, Any] | None:
    """A tenant class/schema by ``$id``, ``meta:altId`` or bare hex id."""
    ident = unquote(ident)
    items = container.items[kind]
    candidates = [*container.where(kind, "$id", [ident]), *container.where(kind, "meta:altId", [ident])]
    if ident in items:
        candidates.append(items[ident])
    return next((obj for obj in candidates if ident in (obj["$id"], obj["meta:altId"], obj["__hex"])), None)


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


def check_title(container: Container, title: Any, exclude: str | None = None) -> str:
    if not isinstance(title, str) or not title.strip():
        raise SCHEMA_REGISTRY.bad_request("The field 'title' is required.")
    for kind in TITLED_KINDS:
        for key in container.ids_where(kind, "title", [title]):
            obj = container.items[kind][key]
            if key != exclude and obj.get("title") == title:
                raise SCHEMA_REGISTRY.bad_request(
                    # help/xdm/troubleshooting-guide.md, "Title not unique", word for word but the id.
                    f"Object titles must be unique. An object {obj['$id']} already exists with the same title.",
                    "XDM-1521-400",
                    "Title not unique",
                )
    return title


def _ref_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    all_of = body.get("allOf")
    if not isinstance(all_of, list) or not all_of:
        raise SCHEMA_REGISTRY.bad_request("The field 'allOf' must be a non-empty array.")
    for item in all_of:
        if not isinstance(item, dict):
            raise SCHEMA_REGISTRY.bad_request("Every 'allOf' item must be an object.")
    return all_of


def _check_tenant_fields(ctx: RequestContext, items: list[dict[str, Any]], allowed_extra: set[str]) -> None:
    for item in items:
        if "$ref" in item:
            continue
        for name in (item.get("properties") or {}):
            if name != f"_{ctx.tenant_id}" and name not in allowed_extra:
                raise SCHEMA_REGISTRY.bad_request(
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
        raise SCHEMA_REGISTRY.bad_request("A class must extend exactly one behavior (record, time-series or adhoc).")
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
            raise SCHEMA_REGISTRY.bad_request(f"The referenced resource {ref} does not exist.")
        rtype = target["meta:resourceType"]
        if rtype == "classes":
            classes.append(target)
        elif rtype in ("mixins", "fieldgroups"):
            groups.append(target)
        else:
            raise SCHEMA_REGISTRY.bad_request(f"A schema cannot reference {ref} ({rtype}) directly.")
    declared = body.get("meta:class")
    if declared and declared not in [c["$id"] for c in classes]:
        target = find_any(container, declared)
        if target is None or target["meta:resourceType"] != "classes":
            raise SCHEMA_REGISTRY.bad_request(f"The class {declared} does not exist.")
        classes.append(target)
    if len(classes) != 1:
        raise SCHEMA_REGISTRY.bad_request("A schema must reference exactly one class.")
    cls = classes[0]
    for group in groups:
        intended = group.get("meta:intendedToExtend") or []
        if intended and cls["$id"] not in intended:
            raise SCHEMA_REGISTRY.bad_request(
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


def build_datatype(container: Container, ctx: RequestContext, body: dict[str, Any], now_ms: int,
                   hexid: str | None = None) -> dict[str, Any]:
    """A tenant data type (schema-registry.yaml ``createDataType``: ``required: [type, title]``, ``type`` "Must be
    set to ``object`` or ``array``"; help/xdm/api/data-types.md, "Create a data type": the fields sit in
    ``properties`` (or in ``definitions`` referenced from ``allOf``), the answer adds ``$id``, ``meta:altId`` and
    ``version``)."""
    if body.get("type") not in ("object", "array"):
        raise SCHEMA_REGISTRY.bad_request("The field 'type' of a data type must be 'object' or 'array'.")
    if body["type"] == "array" and "properties" in body:
        # schema-registry.yaml createDataType, ``properties``: "Not supported for array data types".
        raise SCHEMA_REGISTRY.bad_request("The field 'properties' is not supported for array data types.")
    hexid = hexid or new_hex(48)
    obj = _base_resource(ctx, "datatype", hexid, body, now_ms)
    obj["type"] = body["type"]
    obj["meta:xdmType"] = body["type"]
    obj["meta:extensible"] = True
    obj["meta:abstract"] = True
    obj["allOf"] = list(body.get("allOf") or [])
    obj["refs"] = []
    for key in ("properties", "definitions", "items"):
        if key in body:
            obj[key] = body[key]
    return obj


BUILDERS = {"class": build_class, "schema": build_schema, "datatype": build_datatype}

