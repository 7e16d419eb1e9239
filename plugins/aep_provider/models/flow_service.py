"""Flow Service bodies: base/source/target connections, dataflows, schedules, runs."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import Field, field_validator, model_validator

from aep_provider.models.common import (
    DATA_LAKE_CONNECTION_SPEC_ID,
    HUBSPOT_CONNECTION_SPEC_ID,
    XED_FULL,
    XED_FULL_NOTEXT,
    Answer,
    Body,
)
from aep_provider.models.time import to_epoch_seconds


class SpecRef(Body):
    id: str
    version: str = "1.0"


class HubSpotAuthParams(Body):
    client_id: str = Field(alias="clientId")
    client_secret: str = Field(alias="clientSecret", repr=False)
    access_token: str = Field(alias="accessToken", repr=False)
    refresh_token: str | None = Field(default=None, alias="refreshToken", repr=False)


class HubSpotAuth(Body):
    spec_name: str = Field(default="Basic Authentication", alias="specName")
    params: HubSpotAuthParams


class HubSpotBaseConnectionCreate(Body):
    name: str
    description: str = ""
    auth: HubSpotAuth
    connection_spec: SpecRef = Field(default=SpecRef(id=HUBSPOT_CONNECTION_SPEC_ID), alias="connectionSpec")

    def to_body(self) -> dict[str, Any]:
        # refreshToken is optional: leave it out rather than send null, which the connection spec refuses.
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)


class DatasetBaseConnectionCreate(Body):
    name: str
    description: str = ""
    connection_spec: SpecRef = Field(default=SpecRef(id=DATA_LAKE_CONNECTION_SPEC_ID), alias="connectionSpec")


class SchemaVersionRef(Body):
    id: str
    version: str


class ConnectionData(Body):
    format: str
    schema_: SchemaVersionRef = Field(alias="schema")


class ConnectionCreate(Body):
    """A source or target connection: a base connection, the data's format and schema, and params."""

    name: str
    description: str = ""
    base_connection_id: str = Field(alias="baseConnectionId")
    data: ConnectionData
    params: dict[str, Any]

    @classmethod
    def _on(
        cls: type[ConnectionT], name: str, base_connection_id: str, data: tuple[str, str, str], params: dict[str, Any]
    ) -> ConnectionT:
        """``data``: (format, schema id, schema version)."""
        data_format, schema_id, version = data
        return cls(
            name=name,
            description=name,
            baseConnectionId=base_connection_id,
            data=ConnectionData(format=data_format, schema=SchemaVersionRef(id=schema_id, version=version)),
            params=params,
        )


ConnectionT = TypeVar("ConnectionT", bound=ConnectionCreate)


class SourceConnectionCreate(ConnectionCreate):
    connection_spec: SpecRef = Field(default=SpecRef(id=HUBSPOT_CONNECTION_SPEC_ID), alias="connectionSpec")

    @classmethod
    def build(
        cls, name: str, base_connection_id: str, schema_id: str, path: str, data_format: str = "tabular"
    ) -> SourceConnectionCreate:
        return cls._on(name, base_connection_id, (data_format, schema_id, XED_FULL_NOTEXT), {"path": path})


class TargetConnectionCreate(ConnectionCreate):
    connection_spec: SpecRef = Field(default=SpecRef(id=DATA_LAKE_CONNECTION_SPEC_ID), alias="connectionSpec")

    @classmethod
    def build(cls, name: str, base_connection_id: str, schema_id: str, dataset_id: str) -> TargetConnectionCreate:
        return cls._on(name, base_connection_id, ("parquet_xdm", schema_id, XED_FULL), {"dataSetId": dataset_id})


Frequency = Literal["once", "minute", "hour", "day", "week"]


class Schedule(Body):
    """A dataflow schedule as people write it; ``to_body`` gives the wire ``scheduleParams``."""

    frequency: Frequency
    interval: int | None = None
    start_time: int = Field(alias="startTime")
    backfill: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _accept_snake_case(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if "start_time" in data and "startTime" not in data:
                data["startTime"] = data.pop("start_time")
            if "startTime" not in data:
                data["startTime"] = "now"
        return data

    @field_validator("start_time", mode="before")
    @classmethod
    def _parse_start(cls, value: Any) -> int:
        return to_epoch_seconds(value, field="schedule.start_time")

    @field_validator("interval", mode="before")
    @classmethod
    def _parse_interval(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        return value

    @model_validator(mode="after")
    def _rules(self) -> Schedule:
        if self.frequency == "once":
            if self.interval is not None or self.backfill is not None:
                raise ValueError("schedule.frequency='once' takes no interval and no backfill: remove them")
            return self
        if self.interval is None:
            raise ValueError(f"schedule.interval is required for frequency '{self.frequency}'")
        minimum = 15 if self.frequency == "minute" else 1
        if self.interval < minimum:
            raise ValueError(
                f"schedule.interval={self.interval} is too small for frequency '{self.frequency}': "
                f"use at least {minimum}" + (" (or frequency 'hour')" if self.frequency == "minute" else "")
            )
        return self

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"startTime": self.start_time, "frequency": self.frequency}
        if self.frequency != "once":
            body["interval"] = self.interval
            body["backfill"] = True if self.backfill is None else self.backfill
        return body


class DeltaColumn(Body):
    name: str
    date_format: str | None = Field(default=None, alias="dateFormat")
    timezone: str | None = None

    def to_body(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class FlowOptions(Body):
    """A flow's ``options``, as the CRMToAEP flow spec's ``optionSpec`` defines them (crm.md, "Retrieve dataflow
    specifications"); help/ingestion/batch-ingestion/partial.md shows them on a flow as
    ``"options": {"partialIngestionPercent": 10, "errorDiagnosticsEnabled": true}``.

    ``partialIngestionPercent``: "Percentage which defines the threshold of errors allowed before the run is
    marked as failed" (a number above 0).
    """

    #: An integer (flow-service.yaml OptionSpecDTO ``type: integer``, example 5; crm.md's optionSpec says ``number``,
    #: which an integer also satisfies). A fractional value is refused, naming the field.
    partial_ingestion_percent: int | None = Field(default=None, alias="partialIngestionPercent", gt=0, le=100)
    error_diagnostics_enabled: bool | None = Field(default=None, alias="errorDiagnosticsEnabled")

    def to_body(self) -> dict[str, Any]:
        body = self.model_dump(by_alias=True, exclude_none=True)
        percent = body.get("partialIngestionPercent")
        if isinstance(percent, float) and percent.is_integer():
            body["partialIngestionPercent"] = int(percent)
        return body


class FlowCreate(Body):
    name: str
    description: str = ""
    flow_spec: SpecRef = Field(alias="flowSpec")
    source_connection_ids: list[str] = Field(alias="sourceConnectionIds")
    target_connection_ids: list[str] = Field(alias="targetConnectionIds")
    transformations: list[dict[str, Any]]
    schedule_params: dict[str, Any] = Field(alias="scheduleParams")
    options: dict[str, Any] | None = None

    def to_body(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)

    @classmethod
    def build(
        cls,
        *,
        name: str,
        description: str,
        flow_spec_id: str,
        source_connection_id: str,
        target_connection_id: str,
        mapping_id: str,
        mapping_version: str,
        delta_column: DeltaColumn,
        schedule: Schedule,
        options: FlowOptions | None = None,
    ) -> FlowCreate:
        return cls(
            name=name,
            description=description,
            flowSpec=SpecRef(id=flow_spec_id),
            sourceConnectionIds=[source_connection_id],
            targetConnectionIds=[target_connection_id],
            transformations=[
                {"name": "Copy", "params": {"deltaColumn": delta_column.to_body()}},
                {
                    "name": "Mapping",
                    "params": {"mappingId": mapping_id, "mappingVersion": str(mapping_version)},
                },
            ],
            scheduleParams=schedule.to_body(),
            options=(options.to_body() or None) if options is not None else None,
        )


class RunCreate(Body):
    """``POST /runs`` (on-demand-ingestion.md): ``params`` = ``startTime``, ``windowStartTime``, ``windowEndTime``
    (epoch seconds, sent as integers as the RunSpecDTO types them) and ``deltaColumn`` on every run - crm.md's
    CRMToAEP ``runSpec`` requires it - which after the first run is the flow's own Copy ``deltaColumn`` object as the
    flow holds it (name, and ``dateFormat``/``timezone`` when it has them), unchanged: "Any attempts to change the
    deltaColumn value through the flow run parameters will result in an error" (on-demand-ingestion.md)."""

    flow_id: str = Field(alias="flowId")
    params: dict[str, Any]

    @classmethod
    def build(
        cls, flow_id: str, window_start: int, window_end: int, *, start_time: int,
        delta_column: str | dict[str, Any] | None = None,
    ) -> RunCreate:
        params: dict[str, Any] = {
            "startTime": int(start_time),
            "windowStartTime": int(window_start),
            "windowEndTime": int(window_end),
        }
        if isinstance(delta_column, dict):
            params["deltaColumn"] = dict(delta_column)
        elif delta_column:
            params["deltaColumn"] = {"name": delta_column}
        return cls(flowId=flow_id, params=params)


class Created(Answer):
    id: str
    etag: str | None = None

    @classmethod
    def from_answer(cls, answer: Any) -> Created:
        """A create answer in either documented shape: ``{id, etag}`` (flow-service.yaml CreateFlowRunResponse)
        or ``{"items": [{id, etag}]}`` (on-demand-ingestion.md)."""
        if isinstance(answer, dict) and "id" not in answer and isinstance(answer.get("items"), list) and answer["items"]:
            answer = answer["items"][0]
        return cls.model_validate(answer)
