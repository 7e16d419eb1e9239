"""The AEP resources one onboarding of a spec makes, read from the registry (``aep_onboarding/steps.py``), as the
emulator's state names them: ``(kind, name)``. Tests count what the sandbox holds against it, so a step added to
the registry is expected without another edit."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aep_onboarding.demo import EMULATOR_KIND
from aep_onboarding.names import object_names, shared_name
from aep_onboarding.steps import STEPS, object_resources


def expected_resources(spec: Any) -> Counter[tuple[str, str]]:
    """``(emulator kind, name) -> 1`` for every resource one onboarding of ``spec`` creates (runs excluded; the
    HubSpot base connection only when the spec makes it)."""
    expected: Counter[tuple[str, str]] = Counter()
    for step in STEPS:
        if step.shared and step.resource is not None and (step.id != "hubspot_base_connection" or spec.hubspot.conn_id):
            expected[(EMULATOR_KIND[step.resource.kind], shared_name(spec, step.id))] += 1
    for obj in spec.objects:
        names = object_names(spec, obj)
        for step_id, resource in object_resources():
            expected[(EMULATOR_KIND[resource.kind], names[step_id])] += 1
    return expected


def expected_kinds(spec: Any) -> Counter[str]:
    """How many resources of each emulator kind one onboarding of ``spec`` creates."""
    kinds: Counter[str] = Counter()
    for (kind, _), count in expected_resources(spec).items():
        kinds[kind] += count
    return kinds
