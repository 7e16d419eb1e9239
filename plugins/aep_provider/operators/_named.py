"""Create-or-reuse for Flow Service objects, whose names are not unique."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.duplicates import copies_of, refuse_copies
from aep_provider.hooks.errors import AepConflictError
from aep_provider.outcomes import Kind
from aep_provider.planned import NOT_PLANNED, Planned


def create_named(
    hook: AepHook,
    *,
    collection: Any,
    kind: Kind,
    name: str,
    body: dict[str, Any],
    matches: Callable[[dict[str, Any]], bool],
    describe: Callable[[dict[str, Any]], str],
    planned: Planned[Any] = NOT_PLANNED,
) -> tuple[dict[str, Any], bool]:
    """Reuse the object named ``name`` that ``matches``; fail if the name is taken by a different one, or by several
    (``hooks/duplicates.py``: which one holds the data is not for this task to guess).

    :return: ``({"id", "etag", ...}, created)``.
    """

    def lookup() -> dict[str, Any] | None:
        same_name = hook.find_by_name(collection, name)
        refuse_copies([copies_of(kind, name, same_name)])
        for obj in same_name:
            if matches(obj):
                return obj
        if same_name:
            other = same_name[0]
            raise AepConflictError(
                f"A {kind.value} named {name!r} already exists ({other.get('id')}) with {describe(other)}, which "
                f"differs from this task's {describe(body)}; rename the task's {kind.value} or delete "
                f"{other.get('id')}."
            )
        return None

    return hook.create_idempotent(
        kind=kind, name=name, lookup=lookup, create=lambda: hook.create_object(collection, body), planned=planned
    )
