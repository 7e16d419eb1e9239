"""The onboarding's steps: the one registry, and the one place each step and each resource is spelled.

``STEPS`` lists every step in the order an object's chain makes them (as the emulator's ``services.py`` lists its
services). Per step: its id (the task id inside an object's group, the plan's name for its resource, the key of its
name), its operator, the object's own arguments, the IDs it consumes; per resource it makes (:class:`Resource`): its
kind, the name suffix and the spec field that overrides the name, how the plan reads and compares it, and its label
in the run summary. The rest is derived from it: the chain ``wire`` lays out (``chain.py``), the names
(``names.py``) and the spec's ``names:`` (``spec_parts.py``), which resources objects may share (``spec_limits.py``),
the plan's rows, reads and differences (``planning/``), the write lease (a step whose operator ``creates``), the run
summary's rows (``report.py``) and the DAG's task count (``dag_build.py``). A step that is not here is not wired:
:func:`step` raises for an unknown id, and the registry checks itself when it is imported.

How to add a step: docs/architecture.md, "How to add an onboarding step".
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.sdk import XComArg, task

from aep_onboarding.planning import rules
from aep_provider.models.common import CRM_TO_AEP_FLOW_SPEC_NAME
from aep_provider.operators import connections, dataset, explore, flow, flow_run, mapping, schema
from aep_provider.operators.base import AepBaseOperator
from aep_provider.outcomes import Kind
from aep_provider.sensors.flow_run import AepFlowRunSensor
from aep_provider.sensors.interval_runs import AepIntervalRunsSensor

if TYPE_CHECKING:
    from aep_onboarding.spec import ObjectSpec, OnboardingSpec

#: A task's return value (its ``{key: id}`` XCom).
ID = "return_value"
#: The plan task (``planning/task.py``): its answer per resource goes to the create steps as ``planned``.
PLAN = "plan"
#: The plan's XCom of each object's table columns as the plan read them.
EXPLORED = "explored"

# Runs without a logical date (manual triggers in Airflow 3) have no data interval: the window is empty.
WINDOW_START = "{{ data_interval_start.isoformat() if data_interval_start is defined and data_interval_start else '' }}"
WINDOW_END = "{{ data_interval_end.isoformat() if data_interval_end is defined and data_interval_end else '' }}"


def out(task_: Any, key: str = ID) -> Any:
    """A task's XCom as an operator argument: a templated value at run time, an edge at parse time."""
    return XComArg(task_, key=key)


@dataclass(frozen=True)
class Subject:
    """What one chain is for: a listed object, or a table discovered at run time (then XComArgs)."""

    key: Any  # its rows' key: the object's slug, or the discovered table's path
    source: Any
    names: Any  # {step id: name}, or the XComArg of a task returning it
    delta_column: str | None = None
    obj: ObjectSpec | None = None

    @property
    def listed(self) -> ObjectSpec:
        assert self.obj is not None, "a listed-object step got a discovered table"
        return self.obj


@dataclass(frozen=True)
class Resource:
    """What a step makes in AEP."""

    kind: Kind
    #: The derived name: ``<spec> <object> <suffix>`` (``<spec> <suffix>`` for a shared step).
    suffix: str
    #: The run summary's ``resource`` column.
    label: str
    #: How the plan reads and compares it (``planning/rules.py``); ``None``: not planned, the step looks it up.
    plan: rules.PlanRule | None = None
    #: The spec's ``objects[].names.<field>`` that overrides the name; default: the step id.
    name_field: str | None = None
    #: Another spec field that names it, given the object (the spec for a shared step): below ``names.<field>``,
    #: above the derived name.
    named_by: Callable[[Any], str | None] | None = None
    #: Objects may share it when this is equal for them (a shared one is made once, as the first describes it);
    #: ``None``: each object owns its own, and two objects naming one are refused.
    alike: Callable[[ObjectSpec], Hashable] | None = None
    #: The object's dataset: the one its records land in, the run summary's asset event.
    asset: bool = False

    def field_name(self, step_id: str) -> str:
        return self.name_field or step_id


@dataclass(frozen=True)
class Step:
    """One step: a task per object (in its group), per batch, or once per DAG run (``shared``)."""

    id: str
    operator: type[AepBaseOperator] | type[AepFlowRunSensor] | type[AepIntervalRunsSensor]
    #: The object's own arguments (its row).
    own: Callable[[Subject], dict[str, Any]] = lambda subject: {}
    #: argument -> (upstream step or shared step, XCom key).
    ids: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: Arguments that are the same for every object, from the spec.
    fixed: Callable[[OnboardingSpec], dict[str, Any]] = lambda spec: {}
    #: Arguments made from the tasks built so far, for discovered tables: ``{argument: a {key: value} XCom}``.
    derived: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    #: Arguments of ``ids`` an object needs only sometimes (no edge when no object of the task needs it).
    only_if: Mapping[str, Callable[[Subject], bool]] = field(default_factory=dict)
    #: argument -> the plan's XCom (``plan.<name>``) joined into the rows; a planned resource gets ``planned``.
    from_plan: Mapping[str, str] = field(default_factory=dict)
    #: What it makes (``None``: a check, a run or a wait).
    resource: Resource | None = None
    #: Once per DAG run, shared by every object (arguments from the spec: ``fixed``).
    shared: bool = False
    #: Whether a discovered table's chain has it too.
    discovered: bool = True
    #: In a discovered table's chain, the step that stands for it (its ad-hoc schema is also its target).
    discovered_as: str | None = None
    #: Whether the spec has it (``ingestion: airflow``'s window steps).
    when: Callable[[OnboardingSpec], bool] = lambda spec: True
    #: Steps it comes after without consuming their IDs.
    after: tuple[str, ...] = ()
    #: Every write of the object waits for it (a read-only check made first).
    gate: bool = False


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


def _described(obj: ObjectSpec) -> Hashable:
    """An ad-hoc class or schema describes its table and fields."""
    return obj.source, obj.fields if isinstance(obj.fields, str) else tuple(sorted(obj.fields.items()))


@task
def adhoc_mappings(fields: dict[str, dict[str, str]], namespace: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Map every source column onto its own field of the ad-hoc schema, per object (``{key: ...}`` XComs of
    the ad-hoc class): the data lands as-is."""
    return {
        key: [{"source": column, "destination": f"{namespace[key]}.{column}"} for column in sorted(columns)]
        for key, columns in fields.items()
    }


def _sensor(spec: OnboardingSpec) -> dict[str, Any]:
    """The flow-run sensors always defer (the triggerer waits, not a worker slot)."""
    return {"failed_record_tolerance": spec.failed_record_tolerance, "poll_interval": spec.sensor_poll_seconds,
            "deferrable": True}


HUBSPOT, DATASET_BASE, FLOW_SPEC = "hubspot_base_connection", "dataset_base_connection", "flow_spec"

STEPS: tuple[Step, ...] = (
    # -- once per DAG run, shared by every object ------------------------------------------------------------------
    Step(HUBSPOT, connections.AepCreateHubSpotBaseConnectionOperator, shared=True,
         fixed=lambda spec: {"hubspot_conn_id": spec.hubspot.conn_id, "base_connection_id": spec.hubspot.base_connection_id},
         resource=Resource(Kind.HUBSPOT_BASE_CONNECTION, "HubSpot base connection", "HubSpot base connection",
                           named_by=lambda spec: spec.hubspot.name)),
    Step(DATASET_BASE, connections.AepCreateDatasetBaseConnectionOperator, shared=True,
         resource=Resource(Kind.DATASET_BASE_CONNECTION, "dataset base connection", "dataset base connection")),
    Step(FLOW_SPEC, flow.AepGetFlowSpecOperator, shared=True, fixed=lambda spec: {"name": CRM_TO_AEP_FLOW_SPEC_NAME}),
    # -- per object, in the order they are made ------------------------------------------------------------------
    Step("check_source", explore.AepExploreSourceOperator, gate=True, discovered=False,
         own=lambda s: {"object_path": s.source, "required_columns": used_columns(s.listed)},
         ids={"base_connection_id": (HUBSPOT, ID)},
         from_plan={"explored": EXPLORED}),  # the plan explored the table already (on a re-run)
    Step("adhoc_class", schema.AepCreateAdhocClassOperator,
         own=lambda s: {"title": s.names["adhoc_class"], **_adhoc_fields(s)},
         # The columns check_source explored (a listed object's), so the class is made without exploring again.
         ids={"base_connection_id": (HUBSPOT, ID), "columns": ("check_source", ID)},
         only_if={"base_connection_id": lambda s: "source_path" in _adhoc_fields(s),
                  "columns": lambda s: s.obj is not None and "source_path" in _adhoc_fields(s)},
         resource=Resource(Kind.CLASS, "source class", "ad-hoc class", plan=rules.titled(Kind.CLASS),
                           alike=_described)),
    Step("adhoc_schema", schema.AepCreateAdhocSchemaOperator,
         own=lambda s: {"title": s.names["adhoc_schema"]}, ids={"class_id": ("adhoc_class", ID)},
         resource=Resource(Kind.SCHEMA, "source schema", "ad-hoc schema", plan=rules.schema_on("adhoc_class"),
                           alike=_described)),
    Step("source_connection", connections.AepCreateSourceConnectionOperator,
         own=lambda s: {"name": s.names["source_connection"], "path": s.source},
         ids={"schema_id": ("adhoc_schema", ID), "base_connection_id": (HUBSPOT, ID)},
         resource=Resource(Kind.SOURCE_CONNECTION, "source connection", "source connection",
                           plan=rules.source_connection(schema="adhoc_schema"))),
    Step("target_schema", schema.AepCreateTargetSchemaOperator, discovered_as="adhoc_schema",
         own=lambda s: {"title": s.names["target_schema"], "class_ref": s.listed.target_schema.class_ref,
                        "field_groups": list(s.listed.target_schema.field_groups)},
         resource=Resource(Kind.SCHEMA, "target schema", "target schema", plan=rules.target_schema(),
                           named_by=lambda obj: obj.target_schema.title,
                           alike=lambda obj: (obj.target_schema.class_ref, tuple(obj.target_schema.field_groups)))),
    Step("dataset", dataset.AepCreateDatasetOperator,
         own=lambda s: {"name": s.names["dataset"]}, ids={"schema_id": ("target_schema", ID)},
         resource=Resource(Kind.DATASET, "dataset", "dataset", plan=rules.dataset(schema="target_schema"), asset=True)),
    Step("mapping_set", mapping.AepCreateMappingSetOperator,
         own=lambda s: {"name": s.names["mapping_set"],
                        **({"mappings": [rule.model_dump() for rule in s.obj.mapping]} if s.obj else {})},
         ids={"schema_id": ("target_schema", ID)},
         derived=lambda tasks: {"mappings": adhoc_mappings(out(tasks["adhoc_class"], "fields"),
                                                           out(tasks["adhoc_class"], "dataset_namespace"))},
         resource=Resource(Kind.MAPPING_SET, "mapping", "mapping set", plan=rules.mapping_set(schema="target_schema"))),
    Step("target_connection", connections.AepCreateTargetConnectionOperator,
         own=lambda s: {"name": s.names["target_connection"]},
         ids={"schema_id": ("target_schema", ID), "dataset_id": ("dataset", ID), "base_connection_id": (DATASET_BASE, ID)},
         resource=Resource(Kind.TARGET_CONNECTION, "target connection", "target connection",
                           plan=rules.target_connection(dataset="dataset"))),
    Step("dataflow", flow.AepCreateDataflowOperator,
         own=lambda s: {"name": s.names["dataflow"], "delta_column": s.delta_column},
         ids={"flow_spec_id": (FLOW_SPEC, ID), "schedule_spec": (FLOW_SPEC, "schedule_spec"),
              "source_connection_id": ("source_connection", ID), "target_connection_id": ("target_connection", ID),
              "mapping_id": ("mapping_set", ID), "mapping_version": ("mapping_set", "mapping_version")},
         fixed=lambda spec: {"schedule": spec.flow_schedule_params(), "options": spec.flow_options()},
         resource=Resource(Kind.DATAFLOW, "dataflow", "dataflow", name_field="flow",
                           plan=rules.dataflow(source="source_connection", target="target_connection",
                                               mapping="mapping_set"))),
    Step("wait_first_run", AepFlowRunSensor, ids={"flow_id": ("dataflow", ID)},
         fixed=lambda spec: {"which": "first", **_sensor(spec)}),
    # ``ingestion: aep``: every run AEP made on its own schedule in the DAG run's data interval, judged (none on the
    # run that onboards: the flow did not exist in its interval; a run without a data interval skips it).
    Step("judge_interval", AepIntervalRunsSensor, when=lambda spec: not spec.windows,
         ids={"flow_id": ("dataflow", ID)}, after=("wait_first_run",),
         fixed=lambda spec: {"data_interval_start": WINDOW_START, "data_interval_end": WINDOW_END,
                             "missing_run_grace": spec.missing_run_grace_minutes * 60,
                             "on_missing_run": spec.on_missing_run, **_sensor(spec)}),
    # ``ingestion: airflow``: the window's on-demand run, after the flow's own first run.
    Step("ingest_window", flow_run.AepRunFlowOperator, when=lambda spec: spec.windows, discovered=False,
         own=lambda s: {"delta_column": s.delta_column}, ids={"flow_id": ("dataflow", ID)}, after=("wait_first_run",),
         # One window task of the DAG starts its run at a time, so the count of the flow's runs in flight it checks
         # first is exact across the DAG's runs (a backfill's windows start side by side).
         fixed=lambda spec: {"window_start": WINDOW_START, "window_end": WINDOW_END,
                             "max_runs_in_flight": spec.window_runs_in_flight, "max_active_tis_per_dag": 1}),
    Step("wait_window", AepFlowRunSensor, when=lambda spec: spec.windows, discovered=False,
         ids={"flow_id": ("dataflow", ID), "run_id": ("ingest_window", ID)}, fixed=_sensor),
)

#: Every step by id.
STEP: dict[str, Step] = {s.id: s for s in STEPS}


def step(step_id: str) -> Step:
    """The registered step ``step_id``; anything else is refused (an unregistered step is never wired)."""
    if step_id not in STEP:
        raise KeyError(f"{step_id!r} is not an onboarding step; register it in aep_onboarding/steps.py ({sorted(STEP)})")
    return STEP[step_id]


def object_resources() -> list[tuple[str, Resource]]:
    """``(step id, resource)`` of every per-object resource, in chain order."""
    return [(s.id, s.resource) for s in STEPS if s.resource is not None and not s.shared]


def planned() -> list[tuple[str, rules.PlanRule]]:
    """``(step id, plan rule)`` of every resource the plan reads and compares, in chain order."""
    return [(s.id, s.resource.plan) for s in STEPS if s.resource is not None and s.resource.plan is not None]


def _check(steps: tuple[Step, ...]) -> None:
    """The registry's own rules, at import: unique ids and name fields; every ID consumed, every plan reference and
    every ``after`` made before; one asset dataset; a planned resource's operator takes the plan's ``planned``."""
    seen: set[str] = set()
    planned_before: set[str] = set()
    fields: set[str] = set()
    for s in steps:
        problems = [f"duplicate step id {s.id!r}"] if s.id in seen else []
        problems += [f"{s.id}.{arg} consumes {source!r}, not made before it"
                     for arg, (source, _) in s.ids.items() if source not in seen]
        problems += [f"{s.id} comes after {other!r}, not made before it" for other in s.after if other not in seen]
        resource = s.resource
        if resource is not None and not s.shared:
            if resource.field_name(s.id) in fields:
                problems.append(f"{s.id}: the name field {resource.field_name(s.id)!r} is another step's")
            fields.add(resource.field_name(s.id))
        if resource is not None and resource.plan is not None:
            problems += [f"{s.id}'s plan refers to {ref!r}, not a planned step before it"
                         for ref in resource.plan.refs.values() if ref not in planned_before]
            if "planned" not in getattr(s.operator, "template_fields", ()):
                problems.append(f"{s.id}: {s.operator.__name__} takes no `planned` (the plan's entry)")
            planned_before.add(s.id)
        if problems:
            raise TypeError("aep_onboarding/steps.py: " + "; ".join(problems))
        seen.add(s.id)
    assets = [s.id for s in steps if s.resource is not None and s.resource.asset]
    if len(assets) != 1:
        raise TypeError(f"aep_onboarding/steps.py: exactly one step makes the object's asset dataset, not {assets}")


_check(STEPS)
#: The step whose dataset is the object's asset (the registry marks it).
ASSET_STEP = next(s.id for s in STEPS if s.resource is not None and s.resource.asset)
