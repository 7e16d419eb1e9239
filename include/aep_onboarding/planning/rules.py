"""How the plan compares each kind of resource with what the sandbox holds: one :class:`PlanRule` per resource of
the registry (``aep_onboarding/steps.py``), built here, naming the steps its references point at.

Reuse follows the create steps' own rules (tenant classes and schemas by title, datasets and Flow Service objects by
name, mapping sets by name); a resource that exists but would not be reused as it is (another schema, other mapping
rules, another schedule...) ``differs``, listing each field as ``field: have -> want``. A resource whose upstream
is still to be created cannot match: it differs on that reference (``the new <step>``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aep_onboarding.planning.models import Found, PlanRow
from aep_provider.models.data_prep import Mapping as Rule
from aep_provider.models.drift import (
    flow_settings_diffs,
    mapping_changes,
    mapping_version_diff,
    transformation,
)
from aep_provider.models.flow_service import FlowOptions, Schedule
from aep_provider.operators.schema import expand_ref
from aep_provider.operators.validation import build_model
from aep_provider.outcomes import Kind
from aep_provider.planned import Decision, ResourcePlan

#: ``compare(row, have, plans, found)``: each difference of the resource ``have`` from what ``row`` wants, ``None``
#: where a field matches; ``plans`` holds the object's resources planned so far, by step id.
Compare = Callable[[PlanRow, dict[str, Any], Mapping[str, ResourcePlan], Found], list[str | None]]


@dataclass(frozen=True)
class PlanRule:
    """How the plan reads (by ``kind``, ``planning/reading.py``) and compares one resource."""

    kind: Kind
    compare: Compare = lambda row, have, plans, found: []
    #: The steps its references point at, by role (checked against the registry when it is imported).
    refs: Mapping[str, str] = field(default_factory=dict)
    #: The differences ``on_drift: update`` applies in place (by their prefix); others stay a warning.
    updatable: tuple[str, ...] = ()
    #: An update of this referenced resource updates this one too (the flow moves to its mapping set's new version).
    moves_with: str | None = None


def ref_diff(label: str, have: Any, upstream: ResourcePlan | None, want: str | None = None) -> str | None:
    """The difference of one reference field, or ``None`` when it points where the plan points (``upstream``, else
    the literal ``want``)."""
    if upstream is not None and upstream.action is Decision.CREATE:
        return f"{label}: {have} -> the new {upstream.resource}"
    wanted = want if upstream is None else upstream.id
    if have is not None and wanted is not None and str(have) != str(wanted):
        return f"{label}: {have} -> {wanted}"
    return None


def base_diff(have: Any, wanted: str | None) -> str | None:
    """The base connection a source or target connection is on, against the one the plan found: a base still to
    be created, or a connection naming none, differs too (the create step then looks the name up itself)."""
    if wanted is None:
        return f"base connection: {have} -> the new base connection"
    if have is None or str(have) != str(wanted):
        return f"base connection: {have} -> {wanted}"
    return None


def titled(kind: Kind) -> PlanRule:
    """A tenant class (or schema) reused by its title, whatever it holds."""
    return PlanRule(kind)


def schema_on(class_step: str) -> PlanRule:
    """A schema on the class another step makes (the ad-hoc schema)."""
    return PlanRule(Kind.SCHEMA, lambda row, have, plans, found: [
        ref_diff("class", have.get("meta:class"), plans[class_step])
    ], refs={"class": class_step})


def target_schema() -> PlanRule:
    """A schema on the object's standard class and field groups."""

    def compare(row: PlanRow, have: dict[str, Any], plans: Mapping[str, ResourcePlan], found: Found) -> list[str | None]:
        groups = sorted(expand_ref(g) for g in row.field_groups)
        # An allOf entry without $ref (an inline part) names no field group: no false "None" difference.
        have_groups = sorted({str(p["$ref"]) for p in have.get("allOf") or [] if isinstance(p, dict)
                              and p.get("$ref")} - {expand_ref(row.class_ref)})
        return [
            ref_diff("class", have.get("meta:class"), None, expand_ref(row.class_ref)),
            f"field groups: {have_groups} -> {groups}" if have_groups and have_groups != groups else None,
        ]

    return PlanRule(Kind.SCHEMA, compare)


def dataset(schema: str) -> PlanRule:
    """A dataset on the schema another step makes."""
    return PlanRule(Kind.DATASET, lambda row, have, plans, found: [
        ref_diff("schema", (have.get("schemaRef") or {}).get("id"), plans[schema])
    ], refs={"schema": schema})


def source_connection(schema: str) -> PlanRule:
    """A source connection on the HubSpot base connection, reading the object's table with the schema another step
    makes."""
    return PlanRule(Kind.SOURCE_CONNECTION, lambda row, have, plans, found: [
        base_diff(have.get("baseConnectionId"), found.hubspot_base_id),
        ref_diff("path", (have.get("params") or {}).get("path"), None, row.source),
        ref_diff("schema", ((have.get("data") or {}).get("schema") or {}).get("id"), plans[schema]),
    ], refs={"schema": schema})


def target_connection(dataset: str) -> PlanRule:
    """A target connection on the dataset base connection, writing to the dataset another step makes."""
    return PlanRule(Kind.TARGET_CONNECTION, lambda row, have, plans, found: [
        base_diff(have.get("baseConnectionId"), found.dataset_base_id),
        ref_diff("dataset", (have.get("params") or {}).get("dataSetId"), plans[dataset]),
    ], refs={"dataset": dataset})


def mapping_set(schema: str) -> PlanRule:
    """A mapping set of the object's rules onto the schema another step makes; a change of rules is updatable."""

    def compare(row: PlanRow, have: dict[str, Any], plans: Mapping[str, ResourcePlan], found: Found) -> list[str | None]:
        wanted = [Rule(**rule).to_body() for rule in row.mappings]
        return [
            ref_diff("schema", have.get("xdmSchema"), plans[schema]),
            *(f"mapping {change}" for change in mapping_changes(have.get("mappings") or [], wanted)),
        ]

    return PlanRule(Kind.MAPPING_SET, compare, refs={"schema": schema}, updatable=("mapping ",))


def dataflow(source: str, target: str, mapping: str) -> PlanRule:
    """A dataflow from the source connection through the mapping set to the target connection other steps make,
    with the spec's schedule, options and delta column; schedule, options, state and mapping version are
    updatable, and the flow moves with its mapping set's update."""

    def compare(row: PlanRow, have: dict[str, Any], plans: Mapping[str, ResourcePlan], found: Found) -> list[str | None]:
        # The schedule and options as the create step sends them (Schedule.to_body(): backfill defaults to true,
        # interval as an int; FlowOptions.to_body(), none when the spec sets none).
        schedule = build_model(f"[{row.key}] schedule", lambda: Schedule.model_validate(dict(row.schedule))).to_body()
        options = build_model(f"[{row.key}] options", lambda: FlowOptions.model_validate(dict(row.options or {}))
                              ).to_body() if row.options else None
        linked = transformation(have, "Mapping")
        mset = plans[mapping].found if plans[mapping].action is not Decision.CREATE else None
        return [
            ref_diff("source connection", (have.get("sourceConnectionIds") or [None])[0], plans[source]),
            ref_diff("target connection", (have.get("targetConnectionIds") or [None])[0], plans[target]),
            ref_diff("mapping", linked.get("mappingId"), plans[mapping]),
            mapping_version_diff(have, mset if isinstance(mset, dict) else None),
            *flow_settings_diffs(have, schedule, options, row.delta_column),
        ]

    return PlanRule(Kind.DATAFLOW, compare, refs={"source": source, "target": target, "mapping": mapping},
                    updatable=("schedule.", "state:", "mapping version:", "options."), moves_with=mapping)
