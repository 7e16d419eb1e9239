"""The records a dataset must hold after a flow ingested HubSpot rows through a mapping.

Computed from the emulator's deterministic HubSpot rows (``aep_emulator.hubspot.rows``: seed and data
end date) and the mapping rules, with the XDM type of each destination field written down here from
Adobe's XDM field dictionary, not read from the emulator's ingestion code. So a test comparing a
dataset with these records checks the emulator's mapping and type conversion, not itself.

The rules (Data Prep, ``help/data-prep/home.md``, and the XDM field types,
``help/xdm/schema/field-constraints.md`` and ``help/xdm/schema/field-dictionary.md`` of
AdobeDocs/experience-platform.en):

* a source column that is null or empty sets no field;
* a value goes to its destination's XDM type: ``string`` takes anything (booleans as ``true``/``false``),
  ``integer`` an integral number or a string of digits, ``number`` any number or numeric string,
  ``boolean`` a boolean or the strings ``true``/``false``;
* a row with one value that does not fit its type is not ingested (it counts as a failed record).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

# Destination path -> XDM type, for the non-string destinations the shipped specs and tests map to
# (XDM field dictionary: Person, Account, Opportunity). Every other destination is a string.
XDM_TYPES: dict[str, str] = {
    "person.birthYear": "integer",  # XDM Person: birthYear, integer 1..32767
    "accountOrganization.numberOfEmployees": "integer",  # XDM Organization: numberOfEmployees, integer
    "accountOrganization.annualRevenue.amount": "number",  # XDM Currency: amount, number
    "opportunityAmount.amount": "number",  # XDM Currency: amount, number
    "isClosed": "boolean",  # XDM Opportunity: isClosed, boolean
}
_INTEGER = re.compile(r"^\s*[-+]?\d+\s*$")


class Unfit(ValueError):
    """A source value that its destination's XDM type cannot hold."""


def fit(value: Any, xdm_type: str) -> Any:
    """``value`` as its destination XDM type holds it, or ``Unfit``."""
    if xdm_type == "string":
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    if isinstance(value, bool):
        if xdm_type == "boolean":
            return value
        raise Unfit(f"{value!r} is a boolean, not {xdm_type}")
    if xdm_type == "integer":
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return int(value)
        if isinstance(value, str) and _INTEGER.match(value):
            return int(value)
        raise Unfit(f"{value!r} is not an integer")
    if xdm_type == "number":
        if isinstance(value, (int, float)):
            return value
        try:
            return float(value)
        except (TypeError, ValueError):
            raise Unfit(f"{value!r} is not a number") from None
    if xdm_type == "boolean":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise Unfit(f"{value!r} is not a boolean")
    raise AssertionError(f"no rule for XDM type {xdm_type!r}")


def expected_record(row: dict[str, Any], mapping: Iterable[tuple[str, str]]) -> dict[str, Any] | None:
    """The XDM record one source row becomes, or None when a value does not fit its type."""
    record: dict[str, Any] = {}
    for source, destination in mapping:
        value = row.get(source)
        if value is None or value == "":
            continue
        try:
            fitted = fit(value, XDM_TYPES.get(destination, "string"))
        except Unfit:
            return None
        *parents, leaf = destination.split(".")
        node = record
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = fitted
    return record


def source_rows(table: str, seed: int | None = None, data_end: str | None = None) -> list[dict[str, Any]]:
    """The emulator's rows of ``table`` (``Hubspot.<Name>``) for a seed and data end (default: its defaults)."""
    from aep_emulator import hubspot
    from aep_emulator.state import Config

    config = Config()
    return hubspot.rows(table, config.seed if seed is None else seed, config.data_end if data_end is None else data_end)


def expected_records(
    table: str,
    mapping: Iterable[tuple[str, str]],
    *,
    seed: int | None = None,
    data_end: str | None = None,
    delta_column: str | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> dict[str, dict[str, Any]]:
    """``_id`` -> record for every row of ``table`` (in ``[start, end)`` of its delta column) that fits."""
    if window is not None and not delta_column:
        raise ValueError("a window needs the delta column it filters on (delta_column=...)")
    rules = list(mapping)
    out: dict[str, dict[str, Any]] = {}
    for row in source_rows(table, seed, data_end):
        if window is not None:
            when = datetime.fromisoformat(str(row[str(delta_column)]).replace("Z", "+00:00"))
            if not window[0] <= when < window[1]:
                continue
        record = expected_record(row, rules)
        if record is not None:
            out[str(record["_id"])] = record
    return out


def records_by_id(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A dataset's records keyed by ``_id``; fails if one ``_id`` is there twice."""
    out: dict[str, dict[str, Any]] = {}
    for record in records:
        key = str(record.get("_id"))
        assert key not in out, f"the record {key} was ingested twice"
        out[key] = record
    return out


def differences(expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]], limit: int = 5) -> str:
    """A short account of what differs between two ``_id`` -> record dicts (empty when equal)."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = [key for key in sorted(set(expected) & set(actual)) if expected[key] != actual[key]]
    if not (missing or extra or changed):
        return ""
    return (
        f"{len(missing)} missing {missing[:limit]}, {len(extra)} unexpected {extra[:limit]}, {len(changed)} with other "
        f"values {[(key, expected[key], actual[key]) for key in changed[:limit]]}"
    )
