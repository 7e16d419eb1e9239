"""Ingestion: apply a mapping set to the source rows of a window and build XDM records."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import hubspot
from . import xdm_standard as std

INT_RE = re.compile(r"^\s*[-+]?\d+\s*$")
MAX_SAMPLES = 50


class ConversionError(ValueError):
    pass


@dataclass
class IngestResult:
    input_count: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    #: The first rows that did not fit their destination (our diagnostics; Adobe keeps row errors in
    #: downloadable diagnostic files, not in the run).
    samples: list[str] = field(default_factory=list)
    failed_count: int = 0
    input_bytes: int = 0
    output_bytes: int = 0


def convert(value: Any, xdm_type: str) -> Any:
    """Fit a source value into a destination XDM type or raise ConversionError."""
    if xdm_type == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)
    if xdm_type == "integer":
        if isinstance(value, bool):
            raise ConversionError("a boolean is not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and INT_RE.match(value):
            return int(value)
        raise ConversionError(f"{value!r} is not an integer")
    if xdm_type == "number":
        if isinstance(value, bool):
            raise ConversionError("a boolean is not a number")
        if isinstance(value, (int, float)):
            return value
        try:
            return float(str(value))
        except ValueError as exc:
            raise ConversionError(f"{value!r} is not a number") from exc
    if xdm_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ConversionError(f"{value!r} is not a boolean")
    if xdm_type == "date-time":
        if not isinstance(value, str) or hubspot.parse_time(value) is None:
            raise ConversionError(f"{value!r} is not an ISO-8601 date-time")
        return value
    if xdm_type == "date":
        try:
            return dt.date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError as exc:
            raise ConversionError(f"{value!r} is not a date") from exc
    if xdm_type in ("object", "map"):
        if isinstance(value, dict):
            return value
        raise ConversionError(f"{value!r} is not an object")
    if xdm_type == "array":
        if isinstance(value, list):
            return value
        raise ConversionError(f"{value!r} is not an array")
    return value


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    parts = [p.split("[", 1)[0] for p in path.split(".")]
    node = record
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def map_row(row: dict[str, Any], mappings: list[dict[str, Any]], fields: std.Fields) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for m in mappings:
        value = row.get(m["source"])
        if value is None or value == "":
            continue
        node = std.field_at(fields, m["destination"])
        xdm_type = std.leaf_type(node) if node else "string"
        try:
            converted = convert(value, xdm_type)
        except ConversionError as exc:
            raise ConversionError(f"{m['source']} -> {m['destination']} ({xdm_type}): {exc}") from exc
        set_path(record, m["destination"], converted)
    return record


def in_window(row: dict[str, Any], column: str, start: float | None, end: float) -> bool:
    """Whether the row's delta column lies in ``[start, end)``. A flow without a delta column (the seed
    tutorial's has no Copy transformation) can only take everything, on its first run (our model)."""
    if not column:
        return start is None
    ts = hubspot.parse_time(row.get(column))
    if ts is None:
        return False
    return (start is None or ts >= start) and ts < end


def ingest(
    rows: list[dict[str, Any]],
    delta_column: str,
    window_start: float | None,
    window_end: float,
    mappings: list[dict[str, Any]],
    fields: std.Fields,
) -> IngestResult:
    """Map every row whose delta column lies in ``[window_start, window_end)``."""
    result = IngestResult()
    for index, row in enumerate(rows):
        if not in_window(row, delta_column, window_start, window_end):
            continue
        result.input_count += 1
        result.input_bytes += len(json.dumps(row, default=str))
        try:
            record = map_row(row, mappings, fields)
        except ConversionError as exc:
            result.failed_count += 1
            if len(result.samples) < MAX_SAMPLES:
                result.samples.append(f"row {index}: {exc}")
            continue
        result.records.append(record)
        result.output_bytes += len(json.dumps(record, default=str))
    return result
