"""The standard XDM library the emulator knows (classes, field groups, behaviors), and
field-tree helpers used by the Schema Registry full views and by mapping validation.

Shipped: the XDM Individual Profile class with the Demographic Details
(``profile-person-details``), Personal Contact Details (``profile-personal-details``)
and Work Contact Details (``profile-work-details``) field groups, for HubSpot Contacts;
the XDM Business Account class (``context/account``) for Companies; the XDM Business
Opportunity class (``context/opportunity``) for Deals. Any other field goes under the
tenant namespace (``_<tenant>``) as inline ``properties`` of a schema or class.
Field trees are a subset of the real ones, with the real names and types.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

ADHOC = "https://ns.adobe.com/xdm/data/adhoc"
RECORD = "https://ns.adobe.com/xdm/data/record"
PROFILE = "https://ns.adobe.com/xdm/context/profile"

Fields = dict[str, Any]


@lru_cache(maxsize=1)
def _library() -> dict[str, dict[str, Any]]:
    text = resources.files("aep_emulator.data").joinpath("xdm_standard.json").read_text()
    return {r["$id"]: r for r in json.loads(text)["resources"]}


def standard(ref: str) -> dict[str, Any] | None:
    found = _library().get(ref)
    return copy.deepcopy(found) if found else None


def standard_of_type(resource_type: str) -> list[dict[str, Any]]:
    return [copy.deepcopy(r) for r in _library().values() if r["meta:resourceType"] == resource_type]


def merge_fields(into: Fields, extra: Fields) -> Fields:
    """Deep-merge two ``properties`` trees (objects merge, leaves from ``extra`` win)."""
    for name, node in extra.items():
        if (
            name in into
            and isinstance(into[name], dict)
            and isinstance(node, dict)
            and "properties" in into[name]
            and "properties" in node
        ):
            merged = dict(into[name])
            merged["properties"] = merge_fields(dict(into[name]["properties"]), node["properties"])
            into[name] = merged
        else:
            into[name] = copy.deepcopy(node)
    return into


def field_at(fields: Fields, path: str) -> dict[str, Any] | None:
    """The field node at a dotted path (``person.name.firstName``) or None.

    Map fields (``additionalProperties``) accept any key; array segments may be written
    ``name[0]`` or skipped.
    """
    node: dict[str, Any] | None = {"type": "object", "properties": fields}
    for raw in path.split("."):
        part = raw.split("[", 1)[0]
        if node is None:
            return None
        while node.get("type") == "array" and isinstance(node.get("items"), dict):
            node = node["items"]
        if "properties" in node and part in node["properties"]:
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
    return node


def leaf_type(node: dict[str, Any]) -> str:
    """The XDM type a value must fit: string, date-time, date, integer, number, boolean,
    object, array or map."""
    xdm = node.get("meta:xdmType")
    t = node.get("type", "string")
    if t == "string":
        fmt = node.get("format")
        if fmt in ("date-time", "date"):
            return str(fmt)
        return "string"
    if t == "integer" or xdm in ("int", "long", "short", "byte"):
        return "integer"
    if xdm == "map":
        return "map"
    return str(t)


def strip_text(fields: Any) -> Any:
    """The ``notext`` variant: no ``title``/``description`` in field nodes."""
    if isinstance(fields, dict):
        return {
            k: strip_text(v)
            for k, v in fields.items()
            if not (k in ("title", "description") and isinstance(v, str))
        }
    if isinstance(fields, list):
        return [strip_text(v) for v in fields]
    return fields


def leaf_paths(fields: Fields, prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, node in fields.items():
        path = f"{prefix}{name}"
        if isinstance(node, dict) and "properties" in node:
            out.extend(leaf_paths(node["properties"], path + "."))
        else:
            out.append(path)
    return out
