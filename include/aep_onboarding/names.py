"""The names of the AEP resources an onboarding creates, derived from the spec and the registry
(``steps.py``: each resource's suffix and the spec field that overrides it).

Names matter: the operators look resources up by name (or title) before creating them, so a stable name is what
makes a re-run reuse what exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aep_onboarding.steps import object_resources, step

if TYPE_CHECKING:
    from aep_onboarding.spec import ObjectSpec, OnboardingSpec


class ObjectNames(dict[str, str]):
    """``{step id: name}`` of an object's resources; ``names.dataset`` reads ``names["dataset"]``."""

    def __getattr__(self, step_id: str) -> str:
        try:
            return self[step_id]
        except KeyError:
            raise AttributeError(step_id) from None


def _derived(stem: str) -> ObjectNames:
    return ObjectNames({step_id: f"{stem} {resource.suffix}" for step_id, resource in object_resources()})


def object_names(spec: OnboardingSpec, obj: ObjectSpec) -> ObjectNames:
    """Each resource's name: the spec's ``names.<field>``, else another field that names it (``target_schema.title``),
    else ``<spec> <object> <suffix>``."""
    names = _derived(f"{spec.name} {obj.table}" if obj.name is None else f"{spec.name} {obj.name}")
    for step_id, resource in object_resources():
        given = getattr(obj.names, resource.field_name(step_id), None)
        other = resource.named_by(obj) if resource.named_by is not None else None
        names[step_id] = given or other or names[step_id]
    return names


def discovered_names(spec_name: str, source: str) -> ObjectNames:
    """Names of a table found by ``discover``: the same derivation as a listed object without overrides."""
    return _derived(f"{spec_name} {source.split('.', 1)[-1]}")


def shared_name(spec: OnboardingSpec, step_id: str) -> str:
    """The name of a shared step's resource: the one the spec gives it, else ``<spec> <suffix>``."""
    resource = step(step_id).resource
    assert resource is not None, f"{step_id} makes no resource"
    given = resource.named_by(spec) if resource.named_by is not None else None
    return given or f"{spec.name} {resource.suffix}"


def asset_name(spec: OnboardingSpec, obj: ObjectSpec) -> str:
    """The asset alias of the object's dataset: ``<spec>.<object>``; schedule a DAG on it."""
    return f"{spec.name}.{obj.slug}"


def dataset_base_connection_name(spec: OnboardingSpec) -> str:
    """The name of the spec's dataset base connection."""
    return shared_name(spec, "dataset_base_connection")
