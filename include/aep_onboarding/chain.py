"""The onboarding chain as data, and its one wiring.

Each :class:`Step` says which operator makes the call, which arguments come from the object itself
(:class:`Subject`, the object's row) and which IDs it consumes from an upstream step or a shared task.
:func:`wire` lays the steps out for some subjects: the factory calls it once per object in a task group
(the per-object layout) or once for every object (batched). Either way every per-object task returns
``{key: value}`` and the next step joins it into its rows by key, so the options of a step mean the same
in both layouts. A step added at the head of :func:`listed_chain` is wired like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import XComArg

from aep_onboarding.spec import ObjectSpec, OnboardingSpec
from aep_provider.operators.base import AepBaseOperator
from aep_provider.operators.connections import (
    AepCreateSourceConnectionOperator,
    AepCreateTargetConnectionOperator,
)
from aep_provider.operators.dataset import AepCreateDatasetOperator
from aep_provider.operators.explore import AepExploreSourceOperator
from aep_provider.operators.flow import AepCreateDataflowOperator, AepRunFlowOperator
from aep_provider.operators.mapping import AepCreateMappingSetOperator
from aep_provider.operators.schema import (
    AepCreateAdhocClassOperator,
    AepCreateAdhocSchemaOperator,
    AepCreateTargetSchemaOperator,
)
from aep_provider.planning.models import EXPLORED, LEASE, RESOURCES, xcom_key

# The object-independent tasks, made once per DAG run.
HUBSPOT = "hubspot_base_connection"
DATASET_BASE = "dataset_base_connection"
FLOW_SPEC = "flow_spec"
SHARED = frozenset({HUBSPOT, DATASET_BASE, FLOW_SPEC})
ID = "return_value"
#: The plan step (``plan_rows.py``): its answer per resource goes to the create steps as ``planned``.
PLAN = "plan"
_UNSET = object()

# Runs without a logical date (manual triggers in Airflow 3) have no data interval: the window is empty.
WINDOW_START = "{{ data_interval_start.isoformat() if data_interval_start is defined and data_interval_start else '' }}"
WINDOW_END = "{{ data_interval_end.isoformat() if data_interval_end is defined and data_interval_end else '' }}"


def out(task: Any, key: str = ID) -> Any:
    """A task's XCom as an operator argument: a templated value at run time, an edge at parse time."""
    return XComArg(task, key=key)


@dataclass(frozen=True)
class Subject:
    """What one chain is for: a listed object, or a table discovered at run time (then XComArgs)."""

    key: Any  # its rows' key: the object's slug, or the discovered table's path
    source: Any
    names: Any  # {resource: name}, or the XComArg of a task returning it
    obj: ObjectSpec | None = None


@dataclass(frozen=True)
class Step:
    task_id: str
    operator: type[AepBaseOperator]
    #: The object's own arguments (its row).
    own: Callable[[Subject], dict[str, Any]]
    #: argument -> (upstream step or shared task, XCom key).
    ids: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: Arguments that are the same for every object.
    fixed: Mapping[str, Any] = field(default_factory=dict)
    #: Arguments made from the tasks built so far: ``{argument: a {key: value} XCom}``, joined by key.
    derived: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    #: Arguments of ``ids`` an object needs only sometimes (no edge when no object of the task needs it).
    only_if: Mapping[str, Callable[[Subject], bool]] = field(default_factory=dict)


def delta_column(obj: ObjectSpec) -> str:
    """The object's delta column (the spec validator makes it required)."""
    assert obj.delta_column, f"{obj.source} has no delta_column"
    return obj.delta_column


def used_columns(obj: ObjectSpec) -> list[str]:
    """Every column the object's chain reads: checked against the explored table before any write."""
    listed = list(obj.fields) if isinstance(obj.fields, dict) else []
    return sorted({*listed, *(rule.source for rule in obj.mapping), delta_column(obj)})


def _adhoc_fields(s: Subject) -> dict[str, Any]:
    if s.obj is None or s.obj.fields == "discover":
        return {"source_path": s.source}
    return {"fields": dict(s.obj.fields)}


def _listed(s: Subject) -> ObjectSpec:
    assert s.obj is not None, "a listed-object step got a discovered table"
    return s.obj


def _source_steps() -> list[Step]:
    """Ad-hoc class and schema describing the raw columns, and the source connection on them."""
    return [
        Step("adhoc_class", AepCreateAdhocClassOperator,
             lambda s: {"title": s.names["adhoc_class"], **_adhoc_fields(s)}, {"base_connection_id": (HUBSPOT, ID)},
             only_if={"base_connection_id": lambda s: "source_path" in _adhoc_fields(s)}),
        Step("adhoc_schema", AepCreateAdhocSchemaOperator,
             lambda s: {"title": s.names["adhoc_schema"]}, {"class_id": ("adhoc_class", ID)}),
        Step("source_connection", AepCreateSourceConnectionOperator,
             lambda s: {"name": s.names["source_connection"], "path": s.source},
             {"schema_id": ("adhoc_schema", ID), "base_connection_id": (HUBSPOT, ID)}),
    ]


def _target_steps(schema_step: str, mappings: Step | None = None) -> list[Step]:
    """Dataset, mapping set and target connection on the target schema made by ``schema_step``."""
    return [
        Step("dataset", AepCreateDatasetOperator, lambda s: {"name": s.names["dataset"]},
             {"schema_id": (schema_step, ID)}),
        mappings or Step(
            "mapping_set", AepCreateMappingSetOperator,
            lambda s: {"name": s.names["mapping_set"], "mappings": [r.model_dump() for r in _listed(s).mapping]},
            {"schema_id": (schema_step, ID)},
        ),
        Step("target_connection", AepCreateTargetConnectionOperator, lambda s: {"name": s.names["target_connection"]},
             {"schema_id": (schema_step, ID), "dataset_id": ("dataset", ID), "base_connection_id": (DATASET_BASE, ID)}),
    ]


def _dataflow_step(spec: OnboardingSpec, delta_column: Callable[[Subject], str]) -> Step:
    return Step(
        "dataflow", AepCreateDataflowOperator,
        lambda s: {"name": s.names["flow"], "delta_column": delta_column(s)},
        {
            "flow_spec_id": (FLOW_SPEC, ID),
            "schedule_spec": (FLOW_SPEC, "schedule_spec"),
            "source_connection_id": ("source_connection", ID),
            "target_connection_id": ("target_connection", ID),
            "mapping_id": ("mapping_set", ID),
            "mapping_version": ("mapping_set", "mapping_version"),
        },
        fixed={"schedule": spec.flow_schedule_params(), "options": spec.flow_options()},
    )


def listed_chain(spec: OnboardingSpec) -> list[Step]:
    """Every step of a listed object, from the read-only source check to the dataflow, and with
    ``ingestion: airflow`` the window's on-demand run (AEP-scheduled flows get no window run)."""
    steps = [
        Step("check_source", AepExploreSourceOperator,
             lambda s: {"object_path": s.source, "required_columns": used_columns(_listed(s))},
             {"base_connection_id": (HUBSPOT, ID)}),
        *_source_steps(),
        Step("target_schema", AepCreateTargetSchemaOperator,
             lambda s: {"title": s.names["target_schema"], "class_ref": _listed(s).target_schema.class_ref,
                        "field_groups": list(_listed(s).target_schema.field_groups)}),
        *_target_steps("target_schema"),
        _dataflow_step(spec, lambda s: delta_column(_listed(s))),
    ]
    if spec.windows:
        steps.append(
            Step("ingest_window", AepRunFlowOperator, lambda s: {"delta_column": delta_column(_listed(s))},
                 {"flow_id": ("dataflow", ID)},
                 # One window task of the DAG starts its run at a time, so the count of the flow's runs in flight
                 # it checks first is exact across the DAG's runs (a backfill's windows start side by side).
                 fixed={"window_start": WINDOW_START, "window_end": WINDOW_END,
                        "max_runs_in_flight": spec.window_runs_in_flight, "max_active_tis_per_dag": 1})
        )
    return steps


def discovered_chain(spec: OnboardingSpec, delta_column: str, adhoc_mappings: Callable[..., Any]) -> list[Step]:
    """A discovered table lands as-is: its ad-hoc schema is also the target, each column mapped onto itself."""
    mappings = Step(
        "mapping_set", AepCreateMappingSetOperator, lambda s: {"name": s.names["mapping_set"]},
        {"schema_id": ("adhoc_schema", ID)},
        derived=lambda tasks: {"mappings": adhoc_mappings(
            out(tasks["adhoc_class"], "fields"), out(tasks["adhoc_class"], "dataset_namespace"))},
    )
    return [*_source_steps(), *_target_steps("adhoc_schema", mappings), _dataflow_step(spec, lambda s: delta_column)]


def wire(
    steps: Sequence[Step], subjects: Sequence[Subject], tasks: dict[str, Any], common: Mapping[str, Any]
) -> dict[str, Any]:
    """One task per step, a row per subject (one subject: the per-object layout's task group; all of them:
    the batched layout). A shared task's ID is a plain argument; a per-object step's ``{key: id}`` XCom is
    joined into the rows by key (``inputs``). ``tasks`` holds the shared tasks and receives the new ones."""
    for step in steps:
        args: dict[str, Any] = dict(step.fixed)
        inputs: dict[str, Any] = {}
        for arg, (source, key) in step.ids.items():
            wanted = step.only_if.get(arg)
            if wanted is not None and not any(wanted(subject) for subject in subjects):
                continue  # no subject needs it: no edge either
            (args if source in SHARED else inputs)[arg] = out(tasks[source], key)
        if PLAN in tasks and step.operator.creates:  # the run's write lease, if the plan took one
            args["write_lease"] = out(tasks[PLAN], xcom_key(LEASE))
        if PLAN in tasks and all(subject.obj is not None for subject in subjects):
            if step.task_id in RESOURCES:
                inputs["planned"] = out(tasks[PLAN], xcom_key(step.task_id))
            elif step.task_id == "check_source":  # the plan explored the table already (on a re-run)
                inputs["explored"] = out(tasks[PLAN], xcom_key(EXPLORED))
        if step.derived is not None:
            inputs.update(step.derived(tasks))
        own = [step.own(subject) for subject in subjects]
        # What every row has alike is the operator's own argument (its rendered field in the UI): in the
        # per-object layout the row keeps only its key.
        alike = {name: value for name, value in own[0].items() if all(o.get(name, _UNSET) == value for o in own[1:])}
        rows = [
            {"key": subject.key, **{name: value for name, value in values.items() if name not in alike}}
            for subject, values in zip(subjects, own, strict=True)
        ]
        tasks[step.task_id] = step.operator(
            task_id=step.task_id, for_each=rows, inputs=inputs or None, **alike, **args, **common
        )
    return tasks
