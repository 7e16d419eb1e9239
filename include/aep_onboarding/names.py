"""The names of the AEP resources an onboarding creates, derived from the spec.

Names matter: the operators look resources up by name (or title) before
creating them, so a stable name is what makes a re-run reuse what exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from aep_onboarding.spec import ObjectSpec, OnboardingSpec


@dataclass(frozen=True)
class ObjectNames:
    adhoc_class: str
    adhoc_schema: str
    source_connection: str
    target_schema: str
    dataset: str
    target_connection: str
    mapping_set: str
    flow: str


def object_names(spec: OnboardingSpec, obj: ObjectSpec) -> ObjectNames:
    stem = f"{spec.name} {obj.table}" if obj.name is None else f"{spec.name} {obj.name}"
    given = obj.names
    return ObjectNames(
        adhoc_class=given.adhoc_class or f"{stem} source class",
        adhoc_schema=given.adhoc_schema or f"{stem} source schema",
        source_connection=given.source_connection or f"{stem} source connection",
        target_schema=given.target_schema or obj.target_schema.title or f"{stem} target schema",
        dataset=given.dataset or f"{stem} dataset",
        target_connection=given.target_connection or f"{stem} target connection",
        mapping_set=given.mapping_set or f"{stem} mapping",
        flow=given.flow or f"{stem} dataflow",
    )


def dataset_base_connection_name(spec: OnboardingSpec) -> str:
    return f"{spec.name} dataset base connection"


def asset_uri(spec: OnboardingSpec, obj: ObjectSpec) -> str:
    """The Airflow Asset that stands for the object's AEP dataset."""
    sandbox = spec.sandbox or "default-sandbox"
    dataset = object_names(spec, obj).dataset.replace(" ", "_")
    return f"aep://{spec.aep_conn_id}/{sandbox}/datasets/{dataset}"
