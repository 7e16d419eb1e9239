"""Wanted against found: per resource of one object, ``create``, ``reuse <id>`` or ``differs <id>``.

Reuse follows the create steps' own rules (tenant classes and schemas by title, datasets and Flow Service
objects by name, mapping sets by name); a resource that exists but would not be reused as it is (another
schema, other mapping rules, another schedule...) ``differs``, listing each field as ``field: have -> want``.
A resource whose upstream is still to be created cannot match: it differs on that reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aep_provider.models.data_prep import Mapping, mapping_key
from aep_provider.models.flow_service import FlowOptions, Schedule
from aep_provider.operators._validation import build_model
from aep_provider.operators.connections import _schema_id
from aep_provider.operators.schema import expand_ref
from aep_provider.planning.models import RESOURCES, PlanRow, ResourcePlan


@dataclass
class Found:
    """What the bulk reads found, by name or title."""

    classes: dict[str, dict[str, Any]] = field(default_factory=dict)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasets: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    source_connections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    target_connections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    flows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    mapping_sets: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    #: Every mapping set found under each name (Data Prep names are not unique either).
    mapping_set_copies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    hubspot_base_id: str | None = None
    dataset_base_id: str | None = None


def _ref(label: str, have: Any, upstream: ResourcePlan | None, want: str | None = None) -> str | None:
    """The difference of one reference field, or ``None`` when it points where the plan points."""
    if upstream is not None and upstream.action == "create":
        return f"{label}: {have} -> the new {upstream.resource}"
    wanted = want if upstream is None else upstream.id
    if have is not None and wanted is not None and str(have) != str(wanted):
        return f"{label}: {have} -> {wanted}"
    return None


def _base_ref(have: Any, wanted: str | None) -> str | None:
    """The base connection a source or target connection is on, against the one the plan found: a base still to
    be created, or a connection naming none, differs too (the create step then looks the name up itself)."""
    if wanted is None:
        return f"base connection: {have} -> the new base connection"
    if have is None or str(have) != str(wanted):
        return f"base connection: {have} -> {wanted}"
    return None


def _plan(resource: str, name: str, found: Any, rid: str | None, differences: list[str | None]) -> ResourcePlan:
    if found is None:
        return ResourcePlan(resource=resource, name=name, action="create")
    diffs = [d for d in differences if d]
    return ResourcePlan(resource=resource, name=name, action="differs" if diffs else "reuse", id=rid,
                        differences=diffs, found=found)


def _first_matching(candidates: list[dict[str, Any]], diff: Any) -> tuple[dict[str, Any] | None, list[str | None]]:
    """The oldest candidate without differences, else the oldest with its differences (create_named's rule)."""
    for obj in candidates:
        if not [d for d in diff(obj) if d]:
            return obj, []
    return (candidates[0], diff(candidates[0])) if candidates else (None, [])


def mapping_changes(have: list[dict[str, Any]], want: list[dict[str, Any]]) -> list[str]:
    """``["+ source -> destination", "- source -> destination"]``: the rules added and removed."""
    old, new = set(mapping_key(have)), set(mapping_key(want))

    def text(rule: tuple[str, str, bool, str | None]) -> str:
        return f"{rule[0]} -> {rule[1]}" + (" (identity)" if rule[2] else "")

    return [f"- {text(r)}" for r in sorted(old - new)] + [f"+ {text(r)}" for r in sorted(new - old)]


#: The schedule keys compared (``startTime`` is not: ``now`` is another time on every run).
SCHEDULE_KEYS = ("frequency", "interval", "backfill")


def _schedule_diffs(flow: dict[str, Any], schedule: dict[str, Any]) -> list[str | None]:
    """Every compared key the flow has otherwise, lacks or has beyond the wanted schedule (``interval`` and
    ``backfill`` going when a flow moves to ``once``): each is one ``add``, ``replace`` or ``remove``."""
    have = flow.get("scheduleParams") or {}
    return [
        f"schedule.{key}: {have.get(key)} -> {schedule.get(key)}"
        for key in SCHEDULE_KEYS
        if (have.get(key) is not None or schedule.get(key) is not None) and not same(have.get(key), schedule.get(key))
    ]


def _percent(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def option_diffs(flow: dict[str, Any], options: dict[str, Any] | None) -> list[str]:
    """The flow's ``options`` against the spec's (CRMToAEP ``optionSpec``; partial.md), each difference saying what
    the flow's runs do until it is applied. ``partialIngestionPercent`` is always the spec's to decide (none: AEP
    tolerates no failed record); ``errorDiagnosticsEnabled`` only when the spec sets it."""
    have, want = flow.get("options") or {}, options or {}
    diffs = []
    h, w = have.get("partialIngestionPercent"), want.get("partialIngestionPercent")
    if (h is not None or w is not None) and _percent(h) != _percent(w):
        now = (f"AEP fails a run above {h}% failed records" if h is not None
               else "AEP fails every run with a failed record and writes none of its records")
        diffs.append(f"options.partialIngestionPercent: {h} -> {w} (until this is applied, {now})")
    if "errorDiagnosticsEnabled" in want and not same(have.get("errorDiagnosticsEnabled", False),
                                                        want["errorDiagnosticsEnabled"]):
        diffs.append(f"options.errorDiagnosticsEnabled: {have.get('errorDiagnosticsEnabled')} -> "
                     f"{want['errorDiagnosticsEnabled']}")
    return diffs


def same(have: Any, want: Any) -> bool:
    """Equal as the API writes them (``15`` and ``"15"``, ``true`` and ``True``)."""
    return str(have).lower() == str(want).lower()


def _delta_column(flow: dict[str, Any]) -> Any:
    """The flow's Copy ``deltaColumn`` name: after a run, AEP's source of truth (on-demand-ingestion.md)."""
    return next((((t.get("params") or {}).get("deltaColumn") or {}).get("name")
                 for t in flow.get("transformations") or [] if t.get("name") == "Copy"), None)


def _mapping_params(flow: dict[str, Any]) -> dict[str, Any]:
    return next((t.get("params") or {} for t in flow.get("transformations") or [] if t.get("name") == "Mapping"), {})


def _mapping_version(have: dict[str, Any], mapping: ResourcePlan, mset: dict[str, Any] | None) -> str | None:
    """The flow names another version of its (reused) mapping set than the set's current one, e.g. after a run
    that made the new version failed before patching the flow (update-dataflows.md, "Update mapping": the
    flow's ``mappingId`` and ``mappingVersion``)."""
    if mapping.action == "create" or mset is None or str(have.get("mappingId")) != str(mapping.id):
        return None
    version = mset.get("version")
    if version is None or str(have.get("mappingVersion")) == str(version):
        return None
    return f"mapping version: {have.get('mappingVersion')} -> {version}"


def plan_object(row: PlanRow, found: Found) -> dict[str, ResourcePlan]:
    """The plan of one object's resources, in chain order."""
    plan: dict[str, ResourcePlan] = {}
    name = row.name

    cls = found.classes.get(name("adhoc_class"))
    plan["adhoc_class"] = _plan("adhoc_class", name("adhoc_class"), cls, (cls or {}).get("$id"), [])
    schema = found.schemas.get(name("adhoc_schema"))
    plan["adhoc_schema"] = _plan("adhoc_schema", name("adhoc_schema"), schema, (schema or {}).get("$id"),
                                 [_ref("class", (schema or {}).get("meta:class"), plan["adhoc_class"])])

    def source_diff(o: dict[str, Any]) -> list[str | None]:
        return [
            _base_ref(o.get("baseConnectionId"), found.hubspot_base_id),
            _ref("path", (o.get("params") or {}).get("path"), None, row.source),
            _ref("schema", _schema_id(o), plan["adhoc_schema"]),
        ]

    source, diffs = _first_matching(found.source_connections.get(name("source_connection"), []), source_diff)
    plan["source_connection"] = _plan("source_connection", name("source_connection"), source,
                                      (source or {}).get("id"), diffs)

    target = found.schemas.get(name("target_schema"))
    groups = sorted(expand_ref(g) for g in row.field_groups)
    # An allOf entry without $ref (an inline part) names no field group: no false "None" difference.
    have_groups = sorted({str(p["$ref"]) for p in (target or {}).get("allOf") or [] if isinstance(p, dict)
                          and p.get("$ref")} - {expand_ref(row.class_ref)})
    plan["target_schema"] = _plan("target_schema", name("target_schema"), target, (target or {}).get("$id"), [
        _ref("class", (target or {}).get("meta:class"), None, expand_ref(row.class_ref)),
        f"field groups: {have_groups} -> {groups}" if target and have_groups and have_groups != groups else None,
    ])

    datasets = found.datasets.get(name("dataset"), [])
    dataset_id, dataset = datasets[0] if datasets else (None, None)
    plan["dataset"] = _plan("dataset", name("dataset"), dataset_id and {"id": dataset_id, **(dataset or {})},
                            dataset_id, [_ref("schema", ((dataset or {}).get("schemaRef") or {}).get("id"),
                                              plan["target_schema"])])

    mset = found.mapping_sets.get(name("mapping_set"))
    wanted_rules = [Mapping(**rule).to_body() for rule in row.mappings]
    plan["mapping_set"] = _plan("mapping_set", name("mapping_set"), mset, (mset or {}).get("id"), [
        _ref("schema", (mset or {}).get("xdmSchema"), plan["target_schema"]),
        *(f"mapping {change}" for change in (mapping_changes((mset or {}).get("mappings") or [], wanted_rules)
                                             if mset else [])),
    ])

    def target_diff(o: dict[str, Any]) -> list[str | None]:
        return [
            _base_ref(o.get("baseConnectionId"), found.dataset_base_id),
            _ref("dataset", (o.get("params") or {}).get("dataSetId"), plan["dataset"]),
        ]

    tconn, diffs = _first_matching(found.target_connections.get(name("target_connection"), []), target_diff)
    plan["target_connection"] = _plan("target_connection", name("target_connection"), tconn,
                                      (tconn or {}).get("id"), diffs)

    # The schedule as the create step sends it (Schedule.to_body(): backfill defaults to true, interval as an int).
    wanted_schedule = build_model(f"[{row.key}] schedule",
                                  lambda: Schedule.model_validate(dict(row.schedule))).to_body()

    # The options as the create step sends them (FlowOptions.to_body(); none when the spec sets none).
    wanted_options = build_model(f"[{row.key}] options", lambda: FlowOptions.model_validate(dict(row.options or {}))
                                 ).to_body() if row.options else None

    def flow_diff(o: dict[str, Any]) -> list[str | None]:
        mapping = _mapping_params(o)
        return [
            _ref("source connection", (o.get("sourceConnectionIds") or [None])[0], plan["source_connection"]),
            _ref("target connection", (o.get("targetConnectionIds") or [None])[0], plan["target_connection"]),
            _ref("mapping", mapping.get("mappingId"), plan["mapping_set"]),
            _mapping_version(mapping, plan["mapping_set"], mset),
            *_schedule_diffs(o, wanted_schedule),
            *option_diffs(o, wanted_options),
            _ref("delta column", _delta_column(o), None, row.delta_column),
            f"state: {o.get('state')} -> enabled" if str(o.get("state") or "enabled").lower() == "disabled" else None,
        ]

    flow, diffs = _first_matching(found.flows.get(name("dataflow"), []), flow_diff)
    plan["dataflow"] = _plan("dataflow", name("dataflow"), flow, (flow or {}).get("id"), diffs)
    assert list(plan) == list(RESOURCES)
    return plan
