"""The plan's types: what one object wants (a plan row) and what the plan says per resource."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Action = Literal["create", "reuse", "differs"]
Drift = Literal["warn", "fail", "update"]

#: The resources of one listed object, in the order the chain makes them (the chain's step ids).
RESOURCES: tuple[str, ...] = (
    "adhoc_class", "adhoc_schema", "source_connection", "target_schema", "dataset", "mapping_set",
    "target_connection", "dataflow",
)
#: The plan's XCom (``plan.explored``) of each object's table columns as the plan read them (``None``: not read).
EXPLORED = "explored"
#: The plan's XCom (``plan.lease``) of the sandbox write lease it took for the run (``None``: it took none).
LEASE = "lease"
#: The resource names a row carries (``names.py``): the flow is named ``flow`` there.
NAME_OF = {resource: ("flow" if resource == "dataflow" else resource) for resource in RESOURCES}


class PlanRow(BaseModel):
    """What one object wants, as the onboarding spec says it (a ``for_each`` row of the plan step)."""

    model_config = ConfigDict(extra="forbid")

    key: str
    source: str
    names: dict[str, str]
    fields: dict[str, str] | None = None
    class_ref: str
    field_groups: list[str] = Field(default_factory=list)
    mappings: list[dict[str, Any]]
    delta_column: str
    schedule: dict[str, Any] = Field(default_factory=dict)
    options: dict[str, Any] | None = None

    def name(self, resource: str) -> str:
        return self.names[NAME_OF[resource]]


class ResourcePlan(BaseModel):
    """What the apply step does with one resource of one object."""

    resource: str
    name: str
    action: Action
    id: str | None = None
    #: ``["schedule.interval: 15 -> 60", ...]`` when ``action`` is ``differs``.
    differences: list[str] = Field(default_factory=list)
    #: The resource as the plan read it (what a create step returns when it reuses it).
    found: Any = None
    #: Another object of this run makes the same resource first: look it up before creating.
    shared_with: str | None = None
    #: ``on_drift: update``: the create step applies the differences in place (planning/update.py).
    update: bool = False

    @property
    def label(self) -> str:
        if self.action == "create":
            return "create"
        return f"{self.action} {self.id}"


#: ``{object key: {resource: ResourcePlan dump}}``: the plan step's XCom.
Plan = dict[str, dict[str, dict[str, Any]]]


def xcom_key(resource: str) -> str:
    """The plan step's extra XCom for one resource: ``{object key: entry}``, joined into the rows by key."""
    return f"plan.{resource}"
