"""JSON Patch (RFC 6902: add, remove, replace, test, copy, move), as the Schema Registry and Flow Service take
it on PATCH."""

from __future__ import annotations

import copy
from typing import Any


class PatchError(ValueError):
    pass


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, list):
            doc = doc[int(part)]
        elif isinstance(doc, dict):
            doc = doc[part]
        else:
            raise PatchError(f"cannot walk into {part!r}")
    return doc


def apply_patch(doc: dict[str, Any], ops: Any) -> dict[str, Any]:
    if not isinstance(ops, list):
        raise PatchError("the body must be a JSON Patch array")
    result = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid patch operation {op!r}")
        try:
            _apply_one(result, op)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise PatchError(f"cannot apply {op.get('op')} at {op.get('path')}: {exc}") from exc
    return result


def _apply_one(doc: dict[str, Any], op: dict[str, Any]) -> None:
    # flow-service.yaml's PatchInstruction.op enum is ADD, REPLACE, REMOVE while its request text and
    # help/sources/tutorials/api/update-dataflows.md send "add", "replace", "remove" (RFC 6902's lowercase):
    # Adobe writes both, so both are accepted (tests/contract/adobe_contract_notes.yaml).
    kind = str(op["op"]).lower()
    parts = _pointer(op["path"])
    if not parts:
        raise PatchError("patching the whole document is not supported")
    parent = _walk(doc, parts[:-1])
    key = parts[-1]
    if kind in ("add", "replace"):
        value = copy.deepcopy(op.get("value"))
        if isinstance(parent, list):
            if key == "-":
                parent.append(value)
            elif kind == "add":
                parent.insert(int(key), value)
            else:
                parent[int(key)] = value
        else:
            if kind == "replace" and key not in parent:
                raise PatchError(f"no value at {op['path']}")
            parent[key] = value
    elif kind == "remove":
        if isinstance(parent, list):
            del parent[int(key)]
        else:
            del parent[key]
    elif kind == "test":
        if _walk(doc, parts) != op.get("value"):
            raise PatchError(f"test failed at {op['path']}")
    elif kind in ("copy", "move"):
        src_parts = _pointer(op["from"])
        value = copy.deepcopy(_walk(doc, src_parts))
        if kind == "move":
            src_parent = _walk(doc, src_parts[:-1])
            if isinstance(src_parent, list):
                del src_parent[int(src_parts[-1])]
            else:
                del src_parent[src_parts[-1]]
        _apply_one(doc, {"op": "add", "path": op["path"], "value": value})
    else:
        raise PatchError(f"unsupported patch op {kind!r}")
