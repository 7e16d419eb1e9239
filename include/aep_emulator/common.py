"""Small helpers shared by the services: ids, etags, public views of stored objects, sort keys, offset paging.

The ``property=`` filters of Catalog and the Schema Registry are in :mod:`aep_emulator.property_filters`, JSON
Patch in :mod:`aep_emulator.json_patch`."""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Callable
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


def unquote(value: str) -> str:
    """A filter value without the double or single quotes around it (``name=="CRMToAEP"``)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
