"""The onboarding chain, laid out from the registry (``steps.py``): one wiring for every layout.

:func:`chain` picks the registry's steps a spec's objects (or its discovered tables) go through; :func:`wire`
lays them out for some subjects: the factory calls it once per object in a task group (the per-object layout) or
once for every object (batched). Either way every per-object task returns ``{key: value}`` and the next step joins
it into its rows by key, so the options of a step mean the same in both layouts. Every argument a step gets is the
registry's: its own (the object's row), its IDs, its fixed arguments, the plan's entry of its resource and the
run's write lease when it creates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from aep_onboarding.names import shared_name
from aep_onboarding.planning.models import LEASE, xcom_key
from aep_onboarding.steps import ID, PLAN, STEPS, Step, Subject, out, step
from aep_provider.operators.base import AepRowsOperator

if TYPE_CHECKING:
    from aep_onboarding.spec import OnboardingSpec

__all__ = ["ID", "PLAN", "Subject", "chain", "out", "roots", "shared_steps", "wire"]

#: The object-independent tasks, made once per DAG run.
SHARED = frozenset(s.id for s in STEPS if s.shared)
_UNSET = object()


def chain(spec: OnboardingSpec, *, discovered: bool = False) -> list[Step]:
    """The steps of a listed object (or, ``discovered``, of a table found at run time) in the registry's order.

    A discovered table lands as-is: its ad-hoc schema is also its target, so a step that stands for another in a
    discovered chain (``discovered_as``) is left out and every ID it would give comes from the other; an ID of a step
    the discovered chain does not have (``discovered=False``: ``check_source``'s explored columns) is not consumed.
    """
    picked = [s for s in STEPS if not s.shared and s.when(spec) and (s.discovered or not discovered)]
    if not discovered:
        return picked
    stands_for = {s.id: s.discovered_as for s in STEPS if s.discovered_as}
    absent = {s.id for s in STEPS if not s.discovered}
    return [
        replace(s, ids={arg: (stands_for.get(source, source), key) for arg, (source, key) in s.ids.items()
                        if source not in absent})
        for s in picked if s.id not in stands_for
    ]


def shared_steps(spec: OnboardingSpec, tasks: dict[str, Any], common: Mapping[str, Any]) -> dict[str, Any]:
    """The registry's shared steps, once per DAG run (their resource named as the spec says, ``names.shared_name``);
    ``tasks`` holds the plan, if any, and receives them."""
    for s in STEPS:
        if not s.shared:
            continue
        args = {**s.fixed(spec), **_lease(s, tasks)}
        if s.resource is not None:
            args.setdefault("name", shared_name(spec, s.id))
            if PLAN in tasks:  # the plan looked the shared resource up: the step takes its answer (planned)
                args["planned"] = out(tasks[PLAN], xcom_key(s.id))
        tasks[s.id] = s.operator(task_id=s.id, **args, **common)
    return tasks


def _lease(s: Step, tasks: Mapping[str, Any]) -> dict[str, Any]:
    """The run's write lease, if the plan took one, for a step that creates."""
    creates = getattr(s.operator, "creates", False)
    return {"write_lease": out(tasks[PLAN], xcom_key(LEASE))} if PLAN in tasks and creates else {}


def _rows(s: Step, subjects: Sequence[Subject]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What every row has alike becomes the operator's own argument (its rendered field in the UI); the rows keep
    the rest (in the per-object layout only their key)."""
    own = [s.own(subject) for subject in subjects]
    alike = {name: value for name, value in own[0].items() if all(o.get(name, _UNSET) == value for o in own[1:])}
    rows = [
        {"key": subject.key, **{name: value for name, value in values.items() if name not in alike}}
        for subject, values in zip(subjects, own, strict=True)
    ]
    return alike, rows


def wire(
    steps: Sequence[Step], subjects: Sequence[Subject], tasks: dict[str, Any], common: Mapping[str, Any],
    spec: OnboardingSpec | None = None,
) -> dict[str, Any]:
    """One task per step, a row per subject (one subject: the per-object layout's task group; all of them: the
    batched layout). A shared task's ID is a plain argument; a per-object step's ``{key: id}`` XCom is joined into
    the rows by key (``inputs``). ``tasks`` holds the shared tasks and receives the new ones. A flow-run sensor takes
    the ``{key: id}`` XComs as they are (it waits for every key they hold)."""
    planned = PLAN in tasks and all(subject.obj is not None for subject in subjects)
    gates: list[Any] = []
    for s in steps:
        step(s.id)  # only a registered step is wired
        args: dict[str, Any] = {**(s.fixed(spec) if spec is not None else {}), **_lease(s, tasks)}
        inputs: dict[str, Any] = {}
        consumed: list[str] = []
        for arg, (source, key) in s.ids.items():
            wanted = s.only_if.get(arg)
            if wanted is not None and not any(wanted(subject) for subject in subjects):
                continue  # no subject needs it: no edge either
            consumed.append(source)
            rows_operator = issubclass(s.operator, AepRowsOperator)
            (inputs if rows_operator and source not in SHARED else args)[arg] = out(tasks[source], key)
        if not issubclass(s.operator, AepRowsOperator):
            tasks[s.id] = s.operator(task_id=s.id, **args, **{k: v for k, v in common.items() if k != "keys"})
        else:
            if planned:
                from_plan = {**s.from_plan, **({"planned": s.id} if s.resource and s.resource.plan else {})}
                inputs.update({arg: out(tasks[PLAN], xcom_key(name)) for arg, name in from_plan.items()})
            if s.derived is not None and all(subject.obj is None for subject in subjects):
                inputs.update(s.derived(tasks))  # a discovered table's arguments, made at run time
            alike, rows = _rows(s, subjects)
            tasks[s.id] = s.operator(
                task_id=s.id, for_each=rows, inputs=inputs or None, **alike, **args, **common
            )
        for other in s.after:
            tasks[other] >> tasks[s.id]
        if not any(source not in SHARED for source in consumed):
            for gate in gates:
                gate >> tasks[s.id]  # every write of the object waits for its read-only check
        if s.gate:
            gates.append(tasks[s.id])
    return tasks


def roots(steps: Sequence[Step]) -> list[str]:
    """The steps a chain starts with: they consume no other step's ID, follow no other step and wait for no gate
    (the factory puts the object's ``selected`` gate before them)."""
    ids = {s.id for s in steps}
    found: list[str] = []
    gated = False
    for s in steps:
        if not gated and not any(source in ids for source, _ in s.ids.values()) and not set(s.after) & ids:
            found.append(s.id)
        gated = gated or s.gate
    return found
