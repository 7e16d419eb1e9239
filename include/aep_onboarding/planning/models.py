"""The plan's types: what one object wants (a plan row), what the sandbox holds (:class:`Found`), the plan itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aep_provider.outcomes import Kind

Drift = Literal["warn", "fail", "update"]

#: The plan's XCom (``plan.lease``) of the sandbox write lease it took for the run (``{}``: it took none).
LEASE = "lease"


class PlanRow(BaseModel):
    """What one object wants, as the onboarding spec says it (a ``for_each`` row of the plan step)."""

    model_config = ConfigDict(extra="forbid")

    key: str
    source: str
    #: ``{step id: name}`` of every resource the object's chain makes (``names.py``).
    names: dict[str, str]
    #: Every column the object's chain reads (``steps.used_columns``): each must be a column of ``source``.
    columns: list[str]
    class_ref: str
    field_groups: list[str] = Field(default_factory=list)
    mappings: list[dict[str, Any]]
    delta_column: str
    schedule: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] | None = None

    def name(self, step: str) -> str:
        return self.names[step]


@dataclass
class Found:
    """What the bulk reads found: ``{kind: {name or title: [resources, oldest first]}}``, and the base
    connections: their ids, and the base connection names any connection holds (whatever its spec)."""

    named: dict[Kind, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    hubspot_base_id: str | None = None
    dataset_base_id: str | None = None
    base_names_taken: frozenset[str] = frozenset()

    def of(self, kind: Kind, name: str) -> list[dict[str, Any]]:
        return self.named.get(kind, {}).get(name, [])


#: ``{object key: {resource: ResourcePlan dump}}``: the plan step's XCom.
Plan = dict[str, dict[str, dict[str, Any]]]


def xcom_key(name: str) -> str:
    """The plan step's extra XCom ``plan.<name>``: a resource's entries (``{object key: entry}``), the explored
    columns or the lease."""
    return f"plan.{name}"
