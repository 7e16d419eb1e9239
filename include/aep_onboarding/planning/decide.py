"""Wanted against found: per planned resource of one object (the registry's, in chain order), ``create``, ``reuse
<id>`` or ``differs <id>``; names the sandbox holds more than once, refused; what ``on_drift: update`` applies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aep_onboarding.planning.models import Found, PlanRow
from aep_onboarding.planning.rules import PlanRule
from aep_provider.hooks.duplicates import Copies, copies_of, refuse_copies
from aep_provider.outcomes import Kind, resource_id
from aep_provider.planned import Decision, ResourcePlan

#: Schema Registry titles are unique (XDM-1521-400): a class or schema has no copies to refuse.
UNIQUE = frozenset({Kind.CLASS, Kind.SCHEMA})


def plan_object(row: PlanRow, found: Found, planned: Iterable[tuple[str, PlanRule]]) -> dict[str, ResourcePlan]:
    """The plan of one object's resources, in chain order. Duplicates were refused before
    (:func:`refuse_duplicates`): a name is found once at most."""
    plans: dict[str, ResourcePlan] = {}
    for step, rule in planned:
        name = row.name(step)
        candidates = found.of(rule.kind, name)
        if not candidates:
            plans[step] = ResourcePlan(resource=step, name=name, action=Decision.CREATE)
            continue
        have = candidates[0]
        diffs = [d for d in rule.compare(row, have, plans, found) if d]
        plans[step] = ResourcePlan(
            resource=step, name=name, action=Decision.DIFFERS if diffs else Decision.REUSE,
            id=resource_id(have), differences=diffs, found=have,
        )
    return plans


def refuse_duplicates(rows: list[PlanRow], found: Found, planned: Iterable[tuple[str, PlanRule]]) -> None:
    """Fail naming every copy of every dataset, connection, flow or mapping set the rows name that exists more than
    once (``hooks/duplicates.py``)."""
    entries: dict[tuple[Kind, str], Copies] = {}
    rules = [(step, rule) for step, rule in planned if rule.kind not in UNIQUE]
    for row in rows:
        for step, rule in rules:
            name = row.name(step)
            entries.setdefault((rule.kind, name), copies_of(rule.kind, name, found.of(rule.kind, name)))
    refuse_copies(entries.values())


def mark_updates(plan: Mapping[str, ResourcePlan], rules: Mapping[str, PlanRule]) -> list[str]:
    """Mark what ``on_drift: update`` applies to one object's resources (each rule's ``updatable`` differences);
    return a note for each difference it cannot apply."""
    notes = []
    for step, entry in plan.items():
        if entry.action is not Decision.DIFFERS:
            continue
        prefixes = rules[step].updatable
        if prefixes and all(d.startswith(prefixes) for d in entry.differences):
            entry.update = True
        else:
            notes.append(
                f"{step} {entry.id} ({entry.name!r}) cannot be updated in place ({'; '.join(entry.differences)}):"
                f" tear it down (delete {entry.id}, and what was built on it) or rename it in the spec to apply it"
            )
    for step, entry in plan.items():
        moves_with = rules[step].moves_with
        if moves_with is not None and plan[moves_with].update and entry.action is not Decision.CREATE:
            entry.update = True  # e.g. the flow moves to its mapping set's new version
    return notes
