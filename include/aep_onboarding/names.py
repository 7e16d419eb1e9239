"""The names of the AEP resources an onboarding creates, derived from the spec.

Names matter: the operators look resources up by name (or title) before
creating them, so a stable name is what makes a re-run reuse what exists.
"""

from __future__ import annotations

import urllib.parse
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


def _derived(stem: str) -> dict[str, str]:
    return {
        "adhoc_class": f"{stem} source class",
        "adhoc_schema": f"{stem} source schema",
        "source_connection": f"{stem} source connection",
        "target_schema": f"{stem} target schema",
        "dataset": f"{stem} dataset",
        "target_connection": f"{stem} target connection",
        "mapping_set": f"{stem} mapping",
        "flow": f"{stem} dataflow",
    }


def object_names(spec: OnboardingSpec, obj: ObjectSpec) -> ObjectNames:
    derived = _derived(f"{spec.name} {obj.table}" if obj.name is None else f"{spec.name} {obj.name}")
    if obj.target_schema.title:
        derived["target_schema"] = obj.target_schema.title
    given = {key: value for key, value in obj.names.model_dump().items() if value}
    return ObjectNames(**{**derived, **given})


def discovered_names(spec_name: str, source: str) -> dict[str, str]:
    """Names of a table found by ``discover``: the same derivation as a listed object without overrides."""
    return _derived(f"{spec_name} {source.split('.', 1)[-1]}")


def dataset_base_connection_name(spec: OnboardingSpec) -> str:
    return f"{spec.name} dataset base connection"


def asset_uri(spec: OnboardingSpec, obj: ObjectSpec, sandbox: str | None = None) -> str:
    """The Airflow Asset that stands for the object's AEP dataset in ``sandbox``.

    The sandbox is the spec's, else the one the connection names, which only a running task knows
    (``run_summary`` passes it); without either it is ``prod``, AEP's default sandbox. Spaces become ``_``;
    every other character outside letters, digits and ``_.-~`` is percent-encoded, so a ``#``, ``?`` or ``/``
    in a name cannot cut or reshape the URI (Airflow drops a URI's fragment and sorts its query).
    """
    sandbox = sandbox or spec.sandbox or "prod"
    dataset = object_names(spec, obj).dataset.replace(" ", "_")
    conn, box, name = (urllib.parse.quote(part, safe="") for part in (spec.aep_conn_id, sandbox, dataset))
    return f"aep://{conn}/{box}/datasets/{name}"


def asset_name(spec: OnboardingSpec, obj: ObjectSpec) -> str:
    """The asset alias of the object's dataset: ``<spec>.<object>``; schedule a DAG on it."""
    return f"{spec.name}.{obj.slug}"
