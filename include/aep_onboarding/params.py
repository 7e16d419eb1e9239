"""The ``objects`` param of an onboarding DAG: what the trigger form shows and what a run accepts.

The trigger form renders an ``array`` param with ``examples`` as a multi-select of those values; the
``enum`` of its items makes Airflow reject any other value when the run is created (REST API or UI),
before a task starts. ``select_objects`` checks again at run time and fails without retries, since a
retry cannot make a wrong name right.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowFailException

from aep_onboarding.spec import OnboardingSpec


def object_choices(spec: OnboardingSpec) -> list[str]:
    """The names the form offers: each object's HubSpot table, or its ``name`` when a table is listed twice."""
    tables = Counter(obj.source for obj in spec.objects)
    return [obj.source if tables[obj.source] == 1 else obj.slug for obj in spec.objects]


def accepted_names(spec: OnboardingSpec) -> list[str]:
    """Every name ``objects`` accepts: the tables and the objects' slugs (task-group ids)."""
    names: list[str] = []
    for obj in spec.objects:
        for name in (obj.source, obj.slug):
            if name not in names:
                names.append(name)
    return names


def objects_param(spec: OnboardingSpec) -> Param:
    choices = object_choices(spec)
    example = choices[0] if choices else "Hubspot.Contacts"
    return Param(
        [],
        type=["array", "null"],  # the form sends null when every choice is removed: all objects
        title="Objects to onboard",
        description=(
            f"Leave empty to onboard every object of the spec ({', '.join(choices) or 'none listed'}); pick "
            f'some to onboard only those. From the API or CLI: {{"objects": ["{example}"]}}.'
        ),
        items={"type": "string", "enum": accepted_names(spec)},
        examples=choices,
        uniqueItems=True,
    )


def chosen_slugs(wanted: Any, available: list[dict[str, str]]) -> list[str]:
    """The slugs a run onboards: all of them when ``wanted`` is empty, else the named ones.

    :raises AirflowFailException: ``wanted`` is not a list of names of this DAG's objects.
    """
    wanted = wanted or []
    if not isinstance(wanted, list) or not all(isinstance(name, str) for name in wanted):
        raise AirflowFailException(
            f'param `objects` must be a list of object names such as ["Hubspot.All_Deals"], got {wanted!r}'
        )
    if not wanted:
        return [item["slug"] for item in available]
    by_key = {key: item["slug"] for item in available for key in (item["slug"], item["source"])}
    unknown = [name for name in wanted if name not in by_key]
    if unknown:
        known = ", ".join(item["source"] for item in available)
        raise AirflowFailException(
            f"param `objects` names {unknown}, which this DAG does not onboard; use some of: {known}"
        )
    return sorted({by_key[name] for name in wanted})
