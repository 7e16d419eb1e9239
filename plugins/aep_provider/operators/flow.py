"""Flow Service operators: find the flow spec, create the dataflow (the on-demand run: ``flow_run.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from aep_provider.hooks.errors import AepConfigError, AepNotFoundError
from aep_provider.lineage import FlowLineageMixin
from aep_provider.links import AepDataflowLink
from aep_provider.models.common import CRM_TO_AEP_FLOW_SPEC_NAME
from aep_provider.models.drift import flow_settings_diffs, transformation
from aep_provider.models.flow_service import (
    DeltaColumn,
    FlowCreate,
    FlowOptions,
    Schedule,
)
from aep_provider.operators._named import create_named
from aep_provider.operators.base import AepBaseOperator, AepRowsOperator
from aep_provider.operators.rows import Row
from aep_provider.operators.updates import update_flow
from aep_provider.operators.validation import build_model
from aep_provider.outcomes import Kind
from aep_provider.planned import Planned


class AepGetFlowSpecOperator(AepBaseOperator):
    """Find a flow spec by name (``GET /flowSpecs?property=name=="CRMToAEP"``).

    :return: the flow spec id; XCom key ``schedule_spec`` holds its ``scheduleSpec``.
    """

    creates = False  # no named resource: no write lease

    template_fields: Sequence[str] = (*AepBaseOperator.template_fields, "name")

    def __init__(self, *, name: str = CRM_TO_AEP_FLOW_SPEC_NAME, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = name

    def execute(self, context: Any) -> str:
        spec = self.hook.get_flow_spec(self.name)
        if spec is None:
            raise AepNotFoundError(
                f"No flow spec named {self.name!r}; for HubSpot use name='{CRM_TO_AEP_FLOW_SPEC_NAME}'."
            )
        self.push(context, "schedule_spec", spec.get("scheduleSpec"))
        return str(spec["id"])


def check_schedule(schedule: Schedule, flow_spec: dict[str, Any]) -> None:
    """Validate the wire ``scheduleParams`` against the flow spec's own ``scheduleSpec`` JSON Schema."""
    schedule_spec = (flow_spec.get("scheduleSpec") or {}).get("spec")
    if not schedule_spec:
        return
    body = schedule.to_body()
    errors = sorted(jsonschema.Draft7Validator(schedule_spec).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        parts = []
        for err in errors:
            field = ".".join(str(p) for p in err.path) or "schedule"
            parts.append(f"schedule.{field}: {err.message}")
        raise AepConfigError(
            f"schedule does not satisfy the scheduleSpec of flow spec {flow_spec.get('id')}: "
            + "; ".join(parts)
        )


@dataclass(frozen=True)
class DataflowFields:
    name: str = ""
    flow_spec_id: str = ""
    source_connection_id: str = ""
    target_connection_id: str = ""
    mapping_id: str = ""
    mapping_version: str = "0"
    delta_column: str | dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    description: str = ""
    options: dict[str, Any] | None = None
    #: The plan's entry for this dataflow (a :class:`~aep_provider.planned.ResourcePlan`); ``None``: not planned.
    planned: dict[str, Any] | None = None
    #: The flow spec's ``scheduleSpec`` as ``AepGetFlowSpecOperator`` pushed it (XCom ``schedule_spec``): the
    #: schedule is checked against it without reading the flow spec again. ``None``: read it.
    schedule_spec: dict[str, Any] | None = None


class AepCreateDataflowOperator(FlowLineageMixin, AepRowsOperator[DataflowFields]):
    """Create (or reuse by name) the dataflow joining source and target connection with the mapping.

    :param delta_column: the source column of incremental loads; a name or
        ``{"name", "dateFormat", "timezone"}``.
    :param schedule: ``{"frequency", "interval", "start_time", "backfill"}``; ``start_time`` is an ISO
        string, epoch seconds, a datetime or ``"now"``. Checked against the flow spec's ``scheduleSpec``
        before the call; ``interval`` is sent as an integer. On-demand runs (``AepRunFlowOperator``) need
        ``frequency: "once"``: AEP creates runs only against flows scheduled for one-time ingestion.
    :param options: the flow's ``options`` (the flow spec's ``optionSpec``), e.g.
        ``{"partialIngestionPercent": 5, "errorDiagnosticsEnabled": True}``: AEP marks a run failed when more
        than that percentage of its records failed.
    :return: the flow id; XCom key ``etag``.
    """

    operator_extra_links = (AepDataflowLink(),)

    Fields = DataflowFields
    required_fields: Sequence[str] = (
        "name", "flow_spec_id", "source_connection_id", "target_connection_id", "mapping_id", "delta_column",
        "schedule",
    )
    identity_fields: Sequence[str] = ("name",)

    def execute_row(self, context: Any, row: Row[DataflowFields]) -> str:
        schedule = build_model(f"{row.label}schedule", lambda: Schedule.model_validate(dict(row.fields.schedule or {})))
        delta = build_model(
            f"{row.label}delta_column",
            lambda: DeltaColumn.model_validate(
                {"name": row.fields.delta_column} if isinstance(row.fields.delta_column, str) else row.fields.delta_column
            ),
        )
        options = build_model(
            f"{row.label}options", lambda: FlowOptions.model_validate(dict(row.fields.options)) if row.fields.options else None
        )
        hook = self.hook
        flow_spec = (
            {"id": row.fields.flow_spec_id, "scheduleSpec": row.fields.schedule_spec}
            if row.fields.schedule_spec is not None else self._flow_spec(str(row.fields.flow_spec_id))
        )
        if flow_spec is None:
            raise AepConfigError(
                f"{row.label}flow_spec_id={row.fields.flow_spec_id!r} does not exist; pass the id returned by AepGetFlowSpecOperator."
            )
        check_schedule(schedule, flow_spec)
        model = FlowCreate.build(
            name=row.fields.name,
            description=row.fields.description or row.fields.name,
            flow_spec_id=row.fields.flow_spec_id,
            source_connection_id=row.fields.source_connection_id,
            target_connection_id=row.fields.target_connection_id,
            mapping_id=row.fields.mapping_id,
            mapping_version=str(row.fields.mapping_version),
            delta_column=delta,
            schedule=schedule,
            options=options,
        )

        def describe(o: dict[str, Any]) -> str:
            return f"source connections {o.get('sourceConnectionIds')}, target connections {o.get('targetConnectionIds')}"

        body = model.to_body()
        planned = Planned.of(row.fields.planned, context)
        flow, created = create_named(
            hook,
            collection="flows",
            kind=Kind.DATAFLOW,
            name=row.fields.name,
            body=body,
            matches=lambda o: (
                list(o.get("sourceConnectionIds") or []) == [row.fields.source_connection_id]
                and list(o.get("targetConnectionIds") or []) == [row.fields.target_connection_id]
            ),
            describe=describe,
            planned=planned,
        )
        flow_id = str(flow["id"])
        if not created and planned.update:
            flow = {**flow, "etag": update_flow(hook, flow_id, body, self.log)}
        elif not created and planned.look_up:
            self._warn_if_changed(flow, body, str(row.fields.name))
        row.output("etag", flow.get("etag"))
        self.record_flow_lineage(
            hook,
            {
                "id": flow_id,
                "sourceConnectionIds": [row.fields.source_connection_id],
                "targetConnectionIds": [row.fields.target_connection_id],
            },
        )
        self.persist_link(context, AepDataflowLink, row, id=flow_id)
        return flow_id

    def _flow_spec(self, flow_spec_id: str) -> dict[str, Any] | None:
        """The flow spec, read once per task however many dataflows it creates."""
        cache = self.__dict__.setdefault("_flow_specs", {})
        if flow_spec_id not in cache:
            cache[flow_spec_id] = self.hook.get_object("flowSpecs", flow_spec_id)
        return cache[flow_spec_id]

    def _warn_if_changed(self, flow: dict[str, Any], body: dict[str, Any], name: str) -> None:
        existing = self.hook.get_object("flows", str(flow["id"])) or flow
        wanted_mapping = transformation(body, "Mapping")
        have_mapping = transformation(existing, "Mapping")
        changed = []
        if have_mapping.get("mappingId") not in (None, wanted_mapping["mappingId"]):
            changed.append("mapping")
        elif have_mapping.get("mappingVersion") is not None and str(have_mapping["mappingVersion"]) != str(
            wanted_mapping.get("mappingVersion")
        ):
            # update-dataflows.md "Update mapping": the flow names mappingId and mappingVersion; a flow left on
            # an older version (a run that made the new one failed before the patch) maps with the old rules.
            changed.append(f"mapping version ({have_mapping['mappingVersion']} -> {wanted_mapping.get('mappingVersion')})")
        # The flow's Copy deltaColumn stays AEP's source of truth; partial.md: the flow's options decide whether a
        # run with failed records fails (the plan's differences, models/drift.py).
        changed += flow_settings_diffs(existing, body["scheduleParams"], body.get("options"),
                                       transformation(body, "Copy")["deltaColumn"]["name"])
        if changed:
            self.log.warning(
                "Dataflow %r (%s) exists with another %s; it is reused unchanged. Tear it down (or rename the "
                "task's dataflow) to apply the new settings.",
                name,
                flow["id"],
                ", ".join(changed),
            )


# The on-demand run operator lives in flow_run.py; imported here for `from ...operators.flow import` users.
from aep_provider.operators.flow_run import AepRunFlowOperator, iso  # noqa: E402

__all__ = ["AepCreateDataflowOperator", "AepGetFlowSpecOperator", "AepRunFlowOperator", "check_schedule", "iso"]
