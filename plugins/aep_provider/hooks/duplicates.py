"""Several resources of one name: never pick one of them silently.

AEP keeps no name unique outside the Schema Registry (Flow Service: "names are not unique", Catalog documents no
uniqueness), so an earlier race, a hand-made copy or another tool can leave two datasets, flows, connections or
mapping sets with the name this onboarding uses. Reusing "the oldest" would send this run's records to a copy other
runs may not use; so a look-up that finds several fails, before any write, naming every copy with its creation time
and how to delete the ones not kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aep_provider.hooks.errors import AepConfigError
from aep_provider.outcomes import Kind
from aep_provider.printable import printable

_BASE_CONNECTION = ("DELETE /data/foundation/flowservice/connections/<id>, after the flows that use it (1418-400 while "
                    "any does)")
#: How to delete a copy, per kind (the Platform APIs' DELETE endpoints; Data Prep has none for mapping sets). Schema
#: Registry titles are unique (XDM-1521-400): a class or schema has no copies.
HOW_TO_DELETE: dict[Kind, str] = {
    Kind.DATASET: "DELETE /data/foundation/catalog/dataSets/<id> (catalog.yaml deleteDataset), or Datasets in the AEP "
    "UI",
    Kind.DATAFLOW: "DELETE /data/foundation/flowservice/flows/<id> (flow-service.yaml deleteByFlow), or Dataflows in "
    "the AEP UI",
    Kind.SOURCE_CONNECTION: "DELETE /data/foundation/flowservice/sourceConnections/<id>, after the flows that use it",
    Kind.TARGET_CONNECTION: "DELETE /data/foundation/flowservice/targetConnections/<id>, after the flows that use it",
    Kind.HUBSPOT_BASE_CONNECTION: _BASE_CONNECTION,
    Kind.DATASET_BASE_CONNECTION: _BASE_CONNECTION,
    Kind.MAPPING_SET: "Data Prep documents no DELETE for mapping sets (data-prep.yaml): give this onboarding's mapping "
    "set another name instead (the spec's names: {mapping_set: ...})",
}
#: Where each kind's listing says when a copy was made (Flow Service ``createdAt`` otherwise).
CREATED_AT: dict[Kind, str] = {Kind.DATASET: "created", Kind.MAPPING_SET: "createdDate"}


@dataclass(frozen=True)
class Copy:
    """One of several resources of one name."""

    id: str
    created: Any = None  # epoch milliseconds (Flow Service createdAt, Catalog created, Data Prep createdDate) or text

    def describe(self) -> str:
        return printable(f"{self.id} (created {created_text(self.created)})")  # sandbox values: escaped


def created_text(value: Any) -> str:
    """An API creation time as ISO text (epoch milliseconds or seconds, or a date-time string as given)."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        seconds = number / 1000 if number > 1e11 else number
        return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value) if value else "at an unknown time"


@dataclass(frozen=True)
class Copies:
    """Every resource of one kind found under one name."""

    kind: Kind
    name: str
    copies: Sequence[Copy]

    def describe(self) -> str:
        ordered = sorted(self.copies, key=lambda c: (created_text(c.created), c.id))
        listed = ", ".join(copy.describe() for copy in ordered)
        how = HOW_TO_DELETE.get(self.kind, "delete it in the AEP UI")
        return f"{self.kind.value} {printable(self.name)!r}: {len(ordered)} copies - {listed}; to delete one: {how}"


class AepDuplicateResourcesError(AepConfigError):
    """Several resources carry a name this onboarding uses: it cannot tell which one holds the data."""

    def __init__(self, found: Sequence[Copies]) -> None:
        self.found = list(found)
        lines = "\n".join(f"  - {entry.describe()}" for entry in self.found)
        super().__init__(
            "The sandbox holds several resources of one name, and nothing tells which one holds your data, so "
            f"nothing is written:\n{lines}\nKeep one of each (the oldest is the one earlier runs reused) and delete "
            "the others, or rename this onboarding's resource in the spec; then run again."
        )


def refuse_copies(found: Iterable[Copies]) -> None:
    """Raise :class:`AepDuplicateResourcesError` for every name found more than once."""
    several = [entry for entry in found if len(entry.copies) > 1]
    if several:
        raise AepDuplicateResourcesError(several)


def copies_of(kind: Kind, name: str, objects: Iterable[dict[str, Any]]) -> Copies:
    """The resources of ``kind`` found under ``name`` (each with its ``id`` and its creation time)."""
    created = CREATED_AT.get(kind, "createdAt")
    return Copies(kind, name, [Copy(str(o.get("id")), o.get(created)) for o in objects])
