"""Small helpers shared by the services: ids, public views, property filters, JSON Patch."""

from __future__ import annotations

import copy
import re
import secrets
import uuid
from collections.abc import Callable, Iterable
from typing import Any

INTERNAL_PREFIX = "__"


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_hex(n: int) -> str:
    return secrets.token_hex(n // 2)


def new_etag() -> str:
    """Flow Service style etag: an opaque value wrapped in literal double quotes."""
    return f'"{uuid.uuid4()}"'


def offset_page(
    query: Any, default: int, maximum: int, bad: Callable[[str], Exception]
) -> tuple[int, int]:
    """``(limit, start)`` of an offset-paged list (Catalog, Data Prep): checked, limit capped at ``maximum``."""
    try:
        limit = int(query.get("limit", default))
        start = int(query.get("start", 0))
    except ValueError as exc:
        raise bad("limit and start must be integers") from exc
    if limit <= 0:
        raise bad(f"limit must be a positive number (at most {maximum})")
    if start < 0:
        raise bad("start must not be negative")
    return min(limit, maximum), start


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored object without its internal (``__``-prefixed) keys."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith(INTERNAL_PREFIX)}


def get_path(obj: Any, dotted: str) -> Any:
    """Value at a dotted path; lists fan out (returns a list of values then)."""
    current: Any = obj
    for part in dotted.split("."):
        if isinstance(current, list):
            current = [c.get(part) if isinstance(c, dict) else None for c in current]
        elif isinstance(current, dict):
            current = current.get(part)
        else:
            return None
    return current


def sort_value(value: Any) -> tuple[int, float, str]:
    """A sort key that orders numbers numerically and everything else as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, "" if value is None else str(value))


# -- property filters ------------------------------------------------------------------

_FILTER_RE = re.compile(r"^\s*([A-Za-z0-9_:.@$-]+?)\s*(==|!=|>=|<=|>|<|~|=)\s*(.*?)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)([A-Za-z0-9_:.@$-]+)\s*$")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def _compare(actual: Any, op: str, expected: str) -> bool:
    if isinstance(actual, list):
        if op == "!=":
            return all(_compare(a, op, expected) for a in actual)
        return any(_compare(a, op, expected) for a in actual)
    if op == "~":
        return actual is not None and re.search(expected, str(actual)) is not None
    if op in ("==", "="):
        return _eq(actual, expected)
    if op == "!=":
        return not _eq(actual, expected)
    a, e = _as_number(actual), _as_number(expected)
    if a is not None and e is not None:
        left: Any
        right: Any
        left, right = a, e
    else:
        if actual is None:
            return False
        left, right = str(actual), expected
    return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]


def _eq(actual: Any, expected: str) -> bool:
    if isinstance(actual, bool):
        return str(actual).lower() == expected.lower()
    if actual is None:
        return expected in ("null", "")
    if isinstance(actual, (int, float)):
        num = _as_number(expected)
        return num is not None and float(actual) == num
    return str(actual) == expected


class FilterError(ValueError):
    pass


def name_pattern(value: str) -> re.Pattern[str]:
    """A Catalog ``name`` filter value as a pattern. help/catalog/api/filter-data.md: "The `name` property supports
    the use of a wildcard `*`, either as the entire search string or as a part of it. Wildcards match empty
    characters ... Asterisks are escaped by doubling them (`**`). A double-asterisk in a search string represents a
    single asterisk as a literal string." """
    parts: list[str] = []
    i = 0
    while i < len(value):
        if value.startswith("**", i):
            parts.append(re.escape("*"))
            i += 2
        elif value[i] == "*":
            parts.append(".*")
            i += 1
        else:
            parts.append(re.escape(value[i]))
            i += 1
    return re.compile("".join(parts), re.S)


def _name_comparison(op: str, value: str) -> Callable[[dict[str, Any]], bool]:
    pattern = name_pattern(value)

    def predicate(obj: dict[str, Any]) -> bool:
        name = obj.get("name")
        found = isinstance(name, str) and pattern.fullmatch(name) is not None
        return found if op in ("==", "=") else not found

    return predicate


def parse_filters(values: Iterable[str], *, name_wildcards: bool = False) -> list[Callable[[dict[str, Any]], bool]]:
    """Parse ``property=`` query values (``name==X``, ``state==enabled``, ``createdAt>=1``,
    ``name~regex``, ``!field``); quoted values are unquoted. Filters are ANDed. ``name_wildcards`` (Catalog):
    ``name==``/``name!=`` honour ``*`` wildcards and ``**`` escapes (:func:`name_pattern`)."""
    predicates: list[Callable[[dict[str, Any]], bool]] = []
    for raw in values:
        for expr in _split_and(raw):
            m = _FILTER_RE.match(expr)
            if m:
                field, op, value = m.group(1), m.group(2), _unquote(m.group(3))
                if name_wildcards and field == "name" and op in ("==", "=", "!="):
                    predicates.append(_name_comparison(op, value))
                else:
                    predicates.append(_comparison(field, op, value))
                continue
            m2 = _EXISTS_RE.match(expr)
            if m2:
                predicates.append(_existence(m2.group(2), m2.group(1) == "!"))
                continue
            raise FilterError(f"invalid property filter {expr!r}")
    return predicates


def _comparison(field: str, op: str, value: str) -> Callable[[dict[str, Any]], bool]:
    def predicate(obj: dict[str, Any]) -> bool:
        return _compare(get_path(obj, field), op, value)

    return predicate


def _existence(field: str, negate: bool) -> Callable[[dict[str, Any]], bool]:
    def predicate(obj: dict[str, Any]) -> bool:
        return (get_path(obj, field) is None) == negate

    return predicate


def _split_and(raw: str) -> list[str]:
    # Adobe allows several filters in one value separated by '&&' (rare); keep it simple
    return [p for p in raw.split("&&") if p.strip()]


def matches(obj: dict[str, Any], predicates: list[Callable[[dict[str, Any]], bool]]) -> bool:
    return all(p(obj) for p in predicates)


# -- JSON Patch (RFC 6902: add, remove, replace, test, copy, move) -------------------------


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
    kind = op["op"]
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
