"""What a create step does with the plan's answer for its resource."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aep_provider.hooks.aep import LOOK_UP, Planned
from aep_provider.planning.models import ResourcePlan

__all__ = ["LOOK_UP", "is_planned", "is_retry", "planned_answer"]


def planned_answer(
    entry: Mapping[str, Any] | None, context: Any, shape: Callable[[Any], Any] = lambda found: found
) -> Any:
    """``create_idempotent``'s ``planned``: ``None`` (create, no look-up), the resource the plan found (reuse, no
    request; ``shape`` turns it into what the step's look-up returns), or ``LOOK_UP`` (look up as without a plan).

    Looked up as before: no plan, a resource that ``differs`` (the step's own rules decide), a resource another
    object of the run makes first (``shared_with``), and every retry of the task (its first try may have written).
    """
    if not entry:
        return LOOK_UP
    plan = ResourcePlan.model_validate(entry)
    if is_retry(context) or plan.shared_with or plan.action == "differs":
        return LOOK_UP
    return None if plan.action == "create" else shape(plan.found)


def is_retry(context: Any) -> bool:
    """A task retry: its first try may have written."""
    ti = context.get("ti") if isinstance(context, Mapping) else None
    return int(getattr(ti, "try_number", 1) or 1) > 1


def is_planned(answer: Any) -> bool:
    """True when the step goes by the plan (its checks ran in the plan: the step skips them)."""
    return not isinstance(answer, Planned)
