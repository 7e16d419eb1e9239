"""The plan as a table people read in the task log.

Names, ids and differences come from the sandbox (and the spec): each is escaped where it is printed
(:func:`~aep_provider.printable.printable`), so no value can forge a row or the summary line of the dry run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aep_provider.printable import printable


def render(plan: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """One line per object and resource: object, resource, name, action (``create``, ``reuse <id>``,
    ``differs <id>``); each difference on its own indented line below."""
    rows = [("object", "resource", "name", "plan")]
    notes: dict[int, list[str]] = {}
    for key, resources in plan.items():
        for resource, entry in resources.items():
            action = entry["action"] if entry["action"] == "create" else f"{entry['action']} {entry.get('id')}"
            if entry.get("update"):
                action += " (update)"
            if entry.get("shared_with"):
                action += f" (with {entry['shared_with']})"
            rows.append((printable(key), printable(resource), printable(entry.get("name", "")), printable(action)))
            if entry.get("differences"):
                notes[len(rows) - 1] = [printable(note) for note in entry["differences"]]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3])
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  " + "-" * 4)
        lines.extend(f"{' ' * (widths[0] + 2)}  ~ {note}" for note in notes.get(index, []))
    counts: dict[str, int] = {}
    for resources in plan.values():
        for entry in resources.values():
            counts[entry["action"]] = counts.get(entry["action"], 0) + 1
    summary = ", ".join(f"{counts.get(a, 0)} to {a}" for a in ("create", "reuse")) + f", {counts.get('differs', 0)} differ"
    return "\n".join([*lines, "", f"Plan: {summary}."])
