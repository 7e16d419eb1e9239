"""``AepPlanOperator``: one read of the sandbox for every object, before any write.

Rows in (one per object: what the spec wants), ``{key: {resource: plan}}`` out. For every resource the plan says
``create``, ``reuse <id>`` or ``differs <id>`` with the fields that differ; it logs the plan as a table and pushes
each resource's answers as the XCom ``plan.<resource>`` (``{key: entry}``), which the create steps join into their
rows by key (``inputs``, the field ``planned``) and take instead of looking up again. A configuration error (a mapping
destination the target schema lacks, a column the table lacks) fails the task at once, without retries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from pydantic import ValidationError

from aep_provider.hooks.errors import AepConfigError
from aep_provider.models.common import (
    CRM_TO_AEP_FLOW_SPEC_NAME,
    DATA_LAKE_CONNECTION_SPEC_ID,
    HUBSPOT_CONNECTION_SPEC_ID,
)
from aep_provider.operators.base import AepRowsOperator
from aep_provider.planning import readers
from aep_provider.planning.checks import GlobalPaths, check_columns, check_mappings, check_rows
from aep_provider.planning.differ import Found, plan_object
from aep_provider.planning.models import EXPLORED, RESOURCES, Drift, Plan, PlanRow, ResourcePlan, xcom_key
from aep_provider.planning.table import render
from aep_provider.planning.update import mark_updates

_T = TypeVar("_T")

#: What a create step reads from a reused class or schema (the plan's XCom carries no field definitions).
TITLED_KEYS = ("$id", "title", "version", "meta:altId", "meta:class", "meta:datasetNamespace")


@dataclass(frozen=True)
class PlanFields:
    """One object as the plan reads it (checked as a :class:`PlanRow`)."""

    source: str = ""
    names: dict[str, str] | None = None
    fields: dict[str, str] | None = None
    class_ref: str = ""
    field_groups: list[str] | None = None
    mappings: list[dict[str, Any]] | None = None
    delta_column: str = ""
    schedule: dict[str, Any] | None = None
    options: dict[str, Any] | None = None


class AepPlanOperator(AepRowsOperator[PlanFields]):
    """Plan an onboarding: what exists, what will be created, what differs; checks that need no write.

    :param for_each: one row per object: ``{"key", "source", "names": {resource: name}, "fields", "class_ref",
        "field_groups", "mappings", "delta_column", "schedule", "options"}`` (templated).
    :param hubspot_base_connection_id: the HubSpot base connection, when the spec names one.
    :param hubspot_base_connection_name: else the name the onboarding gives it (looked up, never created).
    :param dataset_base_connection_name: the name of the dataset base connection.
    :param on_drift: ``warn`` (log the differences), ``fail`` (fail the run before any write) or ``update``
        (the create steps apply the differences they can).
    :return: ``{object key: {resource: {"action", "id", "name", "differences", "found", "shared_with"}}}``.
    """

    Fields = PlanFields
    template_fields: Sequence[str] = (*AepRowsOperator.template_fields, "hubspot_base_connection_id")
    ui_color = "#2d9d78"

    def __init__(
        self,
        *,
        hubspot_base_connection_id: str | None = None,
        hubspot_base_connection_name: str | None = None,
        dataset_base_connection_name: str | None = None,
        on_drift: Drift = "warn",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if self.for_each is None:
            raise AepConfigError(f"{type(self).__name__} ({self.task_id}) plans objects: pass for_each rows.")
        if on_drift not in ("warn", "fail", "update"):
            raise AepConfigError(f"on_drift={on_drift!r}: use warn, fail or update.")
        self.hubspot_base_connection_id = hubspot_base_connection_id
        self.hubspot_base_connection_name = hubspot_base_connection_name
        self.dataset_base_connection_name = dataset_base_connection_name
        self.on_drift = on_drift

    def execute(self, context: Any) -> Plan:
        try:
            return self._plan(context)
        except AepConfigError as exc:
            # No retry can fix a wrong spec: fail at once, before the first write.
            raise AirflowFailException(f"The plan found a configuration error: {exc}") from exc

    def _rows(self) -> list[PlanRow]:
        rows = self.rows()
        if not rows:
            raise AirflowSkipException(f"{self.task_id}: no object to plan (keys={self.keys}).")
        try:
            return [
                PlanRow(key=row.key, **{name: value for name, value in vars(row.fields).items() if value is not None})
                for row in rows
            ]
        except ValidationError as exc:
            raise AepConfigError(f"{self.task_id}: a plan row is not valid: {exc}") from None

    def _base_connections(self) -> tuple[str | None, str | None]:
        """The HubSpot and dataset base connections, from one listing of the connections of their two specs
        (``connectionSpec.id`` takes a comma-OR, sort-and-filter.md), matched by exact name and by the role's
        spec (a same-named connection of the other spec is not the one wanted, as create_named's ``matches``)."""
        names = [n for n in (self.hubspot_base_connection_name, self.dataset_base_connection_name) if n]
        specs = (HUBSPOT_CONNECTION_SPEC_ID, DATA_LAKE_CONNECTION_SPEC_ID)
        found = readers.flow_objects_by_name(self.hook, "connections", names, "connectionSpec.id", specs) if names else {}

        def first(name: str | None, spec_id: str) -> str | None:
            objects = [o for o in found.get(name or "") or [] if (o.get("connectionSpec") or {}).get("id") == spec_id]
            return str(objects[0]["id"]) if objects else None

        return self.hubspot_base_connection_id or first(self.hubspot_base_connection_name, HUBSPOT_CONNECTION_SPEC_ID), \
            first(self.dataset_base_connection_name, DATA_LAKE_CONNECTION_SPEC_ID)

    def _read(self, rows: list[PlanRow]) -> Found:
        """Every read of the plan, the independent ones at once (up to ``max_concurrency`` in flight, as the
        create steps call): on a slow link the plan costs the longest chain of reads, not their sum."""
        hook = self.hook

        def names(resource: str) -> list[str]:
            return [row.name(resource) for row in rows]

        with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix=f"{self.task_id}-read") as pool:
            def read(call: Callable[..., _T], *args: Any) -> Future[_T]:
                return pool.submit(call, *args)

            bases = read(self._base_connections)
            flow_spec = read(hook.get_flow_spec, CRM_TO_AEP_FLOW_SPEC_NAME)
            classes = read(readers.tenant_by_title, hook, "classes")
            schemas = read(readers.tenant_by_title, hook, "schemas")
            datasets = read(readers.datasets_by_name, hook, names("dataset"))
            # Every source/target connection of the role's spec (sort-and-filter.md, "Filterable properties by
            # resource": /sourceConnections?property=connectionSpec.id==..., /targetConnections?...), read even when
            # the base connection does not exist yet: a same-named one on another base connection is seen (it
            # differs, and the create step's name look-up decides) instead of planned "create" a second time.
            sources = read(readers.flow_objects_by_name, hook, "sourceConnections", names("source_connection"),
                           "connectionSpec.id", [HUBSPOT_CONNECTION_SPEC_ID])
            targets = read(readers.flow_objects_by_name, hook, "targetConnections", names("target_connection"),
                           "connectionSpec.id", [DATA_LAKE_CONNECTION_SPEC_ID])
            mapping_sets = {name: read(readers.mapping_set_by_name, hook, name)
                            for name in sorted(set(names("mapping_set")))}
            # The flows are listed by their flow spec's id: that read waits for the flow spec (submitted first).
            flows = read(readers.flow_objects_by_name, hook, "flows", names("dataflow"), "flowSpec.id",
                         [(flow_spec.result() or {}).get("id")])
            hubspot_id, dataset_base_id = bases.result()
            return Found(
                classes=classes.result(),
                schemas=schemas.result(),
                datasets=datasets.result(),
                source_connections=sources.result(),
                target_connections=targets.result(),
                flows=flows.result(),
                mapping_sets={name: future.result() for name, future in mapping_sets.items()},
                hubspot_base_id=hubspot_id,
                dataset_base_id=dataset_base_id,
            )

    def _check(self, rows: list[PlanRow], found: Found) -> dict[str, list[str] | None]:
        """The checks that need no write; returns each object's explored columns (``None``: not explored)."""
        check_rows(self.hook, rows)
        paths = GlobalPaths(self.hook)
        for row in rows:
            # A target schema that exists is reused with the field groups it has: check against those.
            check_mappings(row, paths.schema_paths(row, found.schemas.get(row.name("target_schema"))))
        if found.hubspot_base_id is None:
            self.log.info("The HubSpot base connection does not exist yet: the source columns are checked by "
                          "check_source once it is created.")
            return {row.key: None for row in rows}
        base_id = found.hubspot_base_id
        with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix=f"{self.task_id}-explore") as pool:
            columns = list(pool.map(lambda row: check_columns(self.hook, row, base_id), rows))
        return {row.key: explored for row, explored in zip(rows, columns, strict=True)}

    def _plan(self, context: Any) -> Plan:
        rows = self._rows()
        self.hook.get_token()
        found = self._read(rows)
        explored = self._check(rows, found)
        plans: dict[str, dict[str, ResourcePlan]] = {}
        first_of: dict[tuple[str, str], str] = {}
        notes: list[str] = []
        for row in rows:
            plans[row.key] = plan_object(row, found)
            if self.on_drift == "update":
                notes += [f"[{row.key}] {note}" for note in mark_updates(plans[row.key])]
            for resource, entry in plans[row.key].items():
                owner = first_of.setdefault((resource, entry.name), row.key)
                if owner != row.key and entry.action == "create":
                    entry.shared_with = owner
        for resources in plans.values():
            for resource in ("adhoc_class", "adhoc_schema", "target_schema"):
                found = resources[resource].found
                if isinstance(found, dict):
                    resources[resource].found = {k: found[k] for k in TITLED_KEYS if k in found}
        plan: Plan = {key: {r: e.model_dump() for r, e in resources.items()} for key, resources in plans.items()}
        self.log.info("Plan of %d objects (on_drift: %s):\n%s", len(rows), self.on_drift, render(plan))
        for resource in RESOURCES:
            self.push(context, xcom_key(resource), {key: plan[key][resource] for key in plan})
        # The columns the plan read: check_source checks against them instead of exploring the table again.
        self.push(context, xcom_key(EXPLORED), explored)
        drifted = [f"{key}.{r}: {'; '.join(e['differences'])}" for key, rs in plan.items()
                   for r, e in rs.items() if e["action"] == "differs"]
        if drifted and self.on_drift == "fail":
            raise AepConfigError(
                "on_drift: fail, and resources exist with other settings - " + " | ".join(drifted)
                + ". Tear those resources down (or rename them in the spec), or set on_drift: warn or update."
            )
        for note in notes:
            self.log.warning("on_drift update: %s", note)
        if drifted:
            self.log.warning("%d resources exist with other settings (on_drift: %s)", len(drifted), self.on_drift)
        # The task's own XCom is the readable plan; what the create steps reuse travels in plan.<resource>.
        return {key: {r: {k: v for k, v in e.items() if k != "found"} for r, e in rs.items()} for key, rs in plan.items()}
