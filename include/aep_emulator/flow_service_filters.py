"""Flow Service ``property=`` filters, as Adobe documents them.

Source: ``help/dataflows/api/sort-and-filter.md`` (AdobeDocs/experience-platform.en) and the Flow
Service error table (``help/sources/errors/flow-service-errors.md``).

* ``property=<path><op><value>``; several ``property`` parameters are ANDed.
* A comma in the value is OR: ``property=id==736873,9485095`` matches either id.
* A field inside an array needs ``[]`` on the array: ``property=sourceConnectionIds[]==<id>``,
  ``transformations[].params.mappingId==<id>``. A path that walks into an array without ``[]``
  matches nothing (the docs: "you must append square brackets").
* Operators: ``==``, ``!=``, ``>``, ``<``, ``>=``, ``<=`` and ``=`` (the docs' own
  ``attributes.sampleAttribute="abc"`` example). ``~`` is refused with ``1440-400`` ("Operator '~' not
  implemented"); a comparison with several values with ``1443-400``; an unparsable expression with
  ``1453-400``.
* Status values (a path ending in ``status`` or ``state``) match case-insensitively: sort-and-filter.md
  filters with ``property=metrics.statusSummary.status==Failed``, monitor.md answers ``"status": "success"``.
* A value may be double-quoted (``name=="CRMToAEP"``, the CRM tutorial's flow spec look-up); the
  quotes are not part of the value.

Where the OpenAPI spec (flow-service.yaml, parameter ``property``: "A comma-separated list of
top-level object properties") and sort-and-filter.md disagree on what a comma means, the emulator
follows sort-and-filter.md, whose examples show a comma as OR between values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .common import sort_value, unquote

Predicate = Callable[[dict[str, Any]], bool]

_EXPR = re.compile(r"^\s*([A-Za-z0-9_:.@$\[\]-]+?)\s*(==|!=|>=|<=|>|<|~|=)\s*(.*?)\s*$")
_ABSENT = object()


class FlowFilterError(ValueError):
    """A ``property`` expression Flow Service refuses; ``code`` is Adobe's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def values_at(obj: Any, path: str) -> list[Any]:
    """Every value at ``path``; ``name[]`` fans out over the array ``name``, a bare name does not."""
    current: list[Any] = [obj]
    for part in path.split("."):
        fan_out = part.endswith("[]")
        key = part[:-2] if fan_out else part
        nxt: list[Any] = []
        for node in current:
            if not isinstance(node, dict) or key not in node:
                continue
            value = node[key]
            if fan_out:
                if isinstance(value, list):
                    nxt.extend(value)
            elif isinstance(value, list):
                nxt.append(_ABSENT)  # an array walked into without [] matches nothing
            else:
                nxt.append(value)
        current = nxt
    return [v for v in current if v is not _ABSENT]


def _is_status(path: str) -> bool:
    """A run status path (``metrics.statusSummary.status``, ``activities[].statusSummary.status``, ``state``)."""
    return path.rsplit(".", 1)[-1] in ("status", "state")


def _equal(actual: Any, expected: str, fold: bool = False) -> bool:
    """``fold``: compare strings case-insensitively. Status values are: sort-and-filter.md filters runs with
    ``property=metrics.statusSummary.status==Failed`` while monitor.md shows runs with ``"status": "success"``."""
    if fold and isinstance(actual, str):
        return actual.casefold() == expected.casefold()
    if isinstance(actual, bool):
        return str(actual).lower() == expected.lower()
    if actual is None:
        return expected == "null"
    if isinstance(actual, (int, float)):
        try:
            return float(actual) == float(expected)
        except ValueError:
            return False
    return isinstance(actual, str) and actual == expected


def _ordered(actual: Any, op: str, expected: str) -> bool:
    if actual is None or isinstance(actual, (dict, list, bool)):
        return False
    left: Any = actual
    right: Any = expected
    if isinstance(actual, (int, float)):
        try:
            right = float(expected)
        except ValueError:
            return False
        left = float(actual)
    else:
        left = str(actual)
    return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]


def parse(expressions: Iterable[str]) -> list[Predicate]:
    predicates: list[Predicate] = []
    for raw in expressions:
        m = _EXPR.match(raw)
        if not m or not m.group(3):
            raise FlowFilterError("1453-400", f"Invalid query value {raw} provided in query param.")
        path, op, value = m.group(1), m.group(2), m.group(3)
        if op == "~":
            raise FlowFilterError("1440-400", "Operator '~' not implemented.")
        values = [unquote(v.strip()) for v in value.split(",")]
        if len(values) > 1 and op not in ("==", "=", "!="):
            raise FlowFilterError("1443-400", f"Operator '{op}' is not allowed for multiple values.")
        predicates.append(_predicate(path, op, values))
    return predicates


def equalities(expressions: Iterable[str]) -> dict[str, list[str]]:
    """The ``path==value[,value]`` (or ``=``) expressions among ``expressions``: ``{path: values}``, for a
    listing to start from the objects an index has for them (the predicates still decide)."""
    found: dict[str, list[str]] = {}
    for raw in expressions:
        m = _EXPR.match(raw)
        if m and m.group(3) and m.group(2) in ("==", "="):
            found.setdefault(m.group(1), [unquote(v.strip()) for v in m.group(3).split(",")])
    return found


def _predicate(path: str, op: str, values: list[str]) -> Predicate:
    def predicate(obj: dict[str, Any]) -> bool:
        found = values_at(obj, path)
        fold = _is_status(path)
        if op in ("==", "="):
            return any(_equal(a, v, fold) for a in found for v in values)
        if op == "!=":
            return not any(_equal(a, v, fold) for a in found for v in values)
        return any(_ordered(a, op, values[0]) for a in found)

    return predicate


def sort_key(field: str) -> Callable[[dict[str, Any]], tuple[tuple[int, float, str], str]]:
    def key(obj: dict[str, Any]) -> tuple[tuple[int, float, str], str]:
        found = values_at(obj, field)
        return sort_value(found[0] if found else None), str(obj.get("id", ""))

    return key
