"""The ``property=`` filters of Catalog and the Schema Registry (``name==X``, ``createdAt>=1``, ``name~regex``,
``!field``; Catalog's ``*`` wildcards in ``name``). Flow Service's own dialect is in
:mod:`aep_emulator.flow_service_filters`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .common import get_path, unquote

_FILTER_RE = re.compile(r"^\s*([A-Za-z0-9_:.@$-]+?)\s*(==|!=|>=|<=|>|<|~|=)\s*(.*?)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)([A-Za-z0-9_:.@$-]+)\s*$")


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
                field, op, value = m.group(1), m.group(2), unquote(m.group(3))
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


def equal_value(values: Iterable[str], field: str, *, name_wildcards: bool = False) -> str | None:
    """The value a ``field==value`` (or ``=``) filter among ``values`` wants exactly, if there is one: a listing
    starts from the objects an index has for it (the filters still decide). A Catalog ``name`` with a wildcard
    has no one value; its ``**`` stands for ``*``."""
    for raw in values:
        for expr in _split_and(raw):
            m = _FILTER_RE.match(expr)
            if not m or m.group(1) != field or m.group(2) not in ("==", "="):
                continue
            value = unquote(m.group(3))
            if not (name_wildcards and field == "name"):
                return value
            if "*" not in value.replace("**", ""):
                return value.replace("**", "*")
    return None


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
