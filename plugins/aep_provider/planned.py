"""The plan's decision for one resource, and what a create step does with it.

A plan (the onboarding's ``plan`` task) reads the sandbox before any write and decides, per resource, one
:class:`Decision`: ``create``, ``reuse`` or ``differs``. It hands each create step its :class:`ResourcePlan` (the
step's ``planned`` argument); a step without one is ``not planned``. :meth:`Planned.of` turns that entry into what
``AepHook.create_idempotent`` does: look the resource up first, create it without a look-up, or reuse what the
plan found without a request. One word, one meaning, everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Decision(str, Enum):
    """What the plan decided for a resource."""

    #: Nothing of that name exists: create it.
    CREATE = "create"
    #: It exists as wanted: reuse it.
    REUSE = "reuse"
    #: It exists with other settings (``ResourcePlan.differences``): the step's own rules decide.
    DIFFERS = "differs"
    #: No plan ran for it (a hand-written DAG, a discovered table).
    NOT_PLANNED = "not planned"


class ResourcePlan(BaseModel):
    """The plan's entry for one resource of one object (the plan task's XCom ``plan.<resource>``, by key)."""

    resource: str
    name: str
    action: Decision
    id: str | None = None
    #: ``["schedule.interval: 15 -> 60", ...]`` when ``action`` is ``differs``.
    differences: list[str] = Field(default_factory=list)
    #: The resource as the plan read it (what a create step returns when it reuses it).
    found: Any = None
    #: Another object of this run makes the same resource first: look it up before creating.
    shared_with: str | None = None
    #: ``on_drift: update``: the create step applies the differences in place.
    update: bool = False

    @property
    def label(self) -> str:
        return "create" if self.action is Decision.CREATE else f"{self.action.value} {self.id}"


def is_retry(context: Any) -> bool:
    """A task retry: its first try may have written."""
    ti = context.get("ti") if isinstance(context, Mapping) else None
    return int(getattr(ti, "try_number", 1) or 1) > 1


@dataclass(frozen=True)
class Planned(Generic[T]):
    """What a create step does with the plan's entry for its resource.

    ``look_up``: look the resource up before creating, as without a plan - when nothing was planned, when it
    ``differs`` (the step's own rules decide), when another object of the run makes it first, and on every retry of
    the task (its first try may have written). Otherwise the step goes by the plan: ``create`` creates without a
    look-up, ``reuse`` returns ``found`` without a request, and the checks the plan made are not made again.
    """

    decision: Decision
    look_up: bool = True
    #: ``reuse``: the resource the plan found, shaped as the step's look-up returns it.
    found: T | None = None
    #: ``on_drift: update``: apply the differences in place.
    update: bool = False

    @classmethod
    def of(
        cls, entry: Mapping[str, Any] | None, context: Any, shape: Callable[[Any], Any] = lambda found: found
    ) -> Planned[Any]:
        if not entry:
            return NOT_PLANNED
        plan = ResourcePlan.model_validate(entry)
        if is_retry(context) or plan.shared_with or plan.action is Decision.DIFFERS:
            return cls(plan.action, look_up=True, update=plan.update)
        if plan.action is Decision.REUSE:
            return cls(plan.action, look_up=False, found=shape(plan.found), update=plan.update)
        return cls(plan.action, look_up=False, update=plan.update)


NOT_PLANNED: Planned[Any] = Planned(Decision.NOT_PLANNED)
