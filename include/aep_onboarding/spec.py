"""The onboarding spec: what a YAML file in ``include/onboarding/`` may say.

A spec names the Airflow connection and sandbox, the HubSpot base connection,
who owns the ingestion clock (``ingestion``), the Airflow schedule, the AEP flow
schedule and the objects to onboard. Every model forbids unknown keys, so a
misspelt key is an error, not a silent default.

``ingestion: aep`` (the default): the dataflow runs on AEP's own schedule
(``flow_schedule``); the DAG onboards it and watches its first run, and asks for
no window runs. ``ingestion: airflow``: the dataflow is a one-time flow
(``frequency: once``, the only kind AEP creates on-demand runs for) and every DAG
run with a data interval asks AEP for one run of that window.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

PROFILE_CLASS = "https://ns.adobe.com/xdm/context/profile"
DEFAULT_FIELD_GROUPS = (
    "https://ns.adobe.com/xdm/context/profile-person-details",
    "https://ns.adobe.com/xdm/context/profile-personal-details",
)
SOURCE_PATTERN = re.compile(r"^Hubspot\.[A-Za-z][A-Za-z0-9_]*$")
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
CRON_PRESETS = ("@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "@once", "@continuous")


# Jinja's statement, expression and comment openers (Airflow's template environment keeps the defaults).
JINJA_MARKERS = ("{{", "{%", "{#")


def jinja_marker(value: Any) -> str | None:
    """The first Jinja opener in a string, or in the strings (and keys) of a list, tuple or dict."""
    if isinstance(value, str):
        return next((marker for marker in JINJA_MARKERS if marker in value), None)
    if isinstance(value, dict):
        return next((m for item in value.items() for m in map(jinja_marker, item) if m), None)
    if isinstance(value, (list, tuple)):
        return next((m for m in map(jinja_marker, value) if m), None)
    return None


def templated_fields(value: Any, path: str = "") -> list[str]:
    """Field paths of a spec (or its ``model_dump()``) whose text holds a Jinja opener."""
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    if isinstance(value, dict):
        found: list[str] = []
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += [where] if jinja_marker(key) else templated_fields(item, where)
        return found
    if isinstance(value, (list, tuple)):
        return [p for index, item in enumerate(value) for p in templated_fields(item, f"{path}[{index}]")]
    return [path] if jinja_marker(value) else []


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("*", mode="after")
    @classmethod
    def _data_not_template(cls, value: Any, info: ValidationInfo) -> Any:
        """Spec strings become operator arguments, which Airflow renders with Jinja: refuse template syntax.

        Otherwise ``names: {dataset: "{{ conn.aep_default.password }}"}`` would copy the client secret
        into an AEP resource name.
        """
        marker = jinja_marker(value)
        if marker:
            raise ValueError(
                f"`{marker}` starts a Jinja template, and spec values are data, never templates: remove "
                f"`{marker}` from {info.field_name} (names, titles, mappings and columns are used as written)"
            )
        return value


class HubSpotSource(_Strict):
    """Where the HubSpot base connection comes from: an existing id, or an Airflow connection."""

    base_connection_id: str | None = None
    conn_id: str | None = None
    name: str = "HubSpot base connection"

    @model_validator(mode="after")
    def _one_origin(self) -> HubSpotSource:
        if bool(self.base_connection_id) == bool(self.conn_id):
            raise ValueError(
                "give exactly one of `base_connection_id` (an existing AEP base connection) "
                "or `conn_id` (an Airflow connection holding the HubSpot credentials)"
            )
        return self


class FlowSchedule(_Strict):
    """The AEP dataflow's own schedule (``scheduleParams``)."""

    frequency: Literal["once", "minute", "hour", "day", "week"] = "day"
    interval: int | None = 1
    start: str = "now"
    backfill: bool = True

    @field_validator("start")
    @classmethod
    def _start_is_time(cls, value: str) -> str:
        if value == "now":
            return value
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"`{value}` is not an ISO-8601 date-time; write e.g. 2026-01-01T00:00:00Z or `now`") from exc
        return value

    @model_validator(mode="after")
    def _fits_aep_schedule_rules(self) -> FlowSchedule:
        """AEP's schedule rules (minute >= 15, interval required, ...) live in the provider's model."""
        from aep_provider.models.flow_service import Schedule

        try:
            Schedule.model_validate(self.as_schedule_params())
        except ValidationError as exc:
            messages = (str(e["msg"]).removeprefix("Value error, ").replace("schedule.", "") for e in exc.errors())
            raise ValueError("; ".join(messages)) from None
        return self

    def as_schedule_params(self) -> dict[str, object]:
        """The ``schedule`` argument of the dataflow operator."""
        params: dict[str, object] = {"frequency": self.frequency, "start_time": self.start}
        if self.frequency != "once":
            params["interval"] = self.interval
            params["backfill"] = self.backfill
        return params


class MappingRule(_Strict):
    source: str = Field(min_length=1)
    destination: str = Field(min_length=1)
    identity: bool = False
    namespace: str | None = None

    @model_validator(mode="after")
    def _identity_has_namespace(self) -> MappingRule:
        if self.identity and not self.namespace:
            raise ValueError("an identity mapping needs `namespace` (for example Email or ECID)")
        return self


class TargetSchema(_Strict):
    class_ref: str = Field(default=PROFILE_CLASS, alias="class")
    field_groups: tuple[str, ...] = DEFAULT_FIELD_GROUPS
    title: str | None = None


class ResourceNames(_Strict):
    """Optional overrides of the names the factory derives from the object."""

    adhoc_class: str | None = None
    adhoc_schema: str | None = None
    source_connection: str | None = None
    target_schema: str | None = None
    dataset: str | None = None
    target_connection: str | None = None
    mapping_set: str | None = None
    flow: str | None = None


FieldType = Literal["string", "integer", "number", "boolean", "date", "date-time"]


DELTA_COLUMN_NEEDED = (
    "`delta_column` is required: name the source column whose time selects new rows (e.g. `Added_At` for "
    "HubSpot contacts); AEP's CRM flows need it, and it is checked against the table's columns before anything "
    "is created"
)


class ObjectSpec(_Strict):
    source: str
    name: str | None = None
    fields: dict[str, FieldType] | Literal["discover"] = "discover"
    target_schema: TargetSchema = TargetSchema()
    mapping: Annotated[tuple[MappingRule, ...], Field(min_length=1)]
    #: No default: the column is the spec author's choice (AEP documents none for HubSpot).
    delta_column: str | None = Field(default=None, min_length=1)
    names: ResourceNames = ResourceNames()

    @field_validator("source")
    @classmethod
    def _source_is_hubspot_table(cls, value: str) -> str:
        if not SOURCE_PATTERN.match(value):
            raise ValueError(f"`{value}` is not a HubSpot table path; write it like `Hubspot.Contacts`")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, value: str | None) -> str | None:
        if value is not None and not SLUG_PATTERN.match(value):
            raise ValueError(f"`{value}` must be lower-case letters, digits and underscores, starting with a letter")
        return value

    @model_validator(mode="after")
    def _mapped_sources_exist(self) -> ObjectSpec:
        if self.delta_column is None:
            raise ValueError(DELTA_COLUMN_NEEDED)
        if isinstance(self.fields, dict):
            unknown = sorted({rule.source for rule in self.mapping} - set(self.fields))
            if unknown:
                raise ValueError(
                    f"mapping sources {unknown} are not among the listed `fields`; add them to `fields` "
                    "or use `fields: discover`"
                )
        return self

    @property
    def slug(self) -> str:
        """The task-group id and the stem of every derived resource name."""
        if self.name:
            return self.name
        return re.sub(r"[^a-z0-9]+", "_", self.source.split(".", 1)[1].lower()).strip("_")

    @property
    def table(self) -> str:
        return self.source.split(".", 1)[1]


class Discovery(_Strict):
    """Onboard every table the HubSpot connection exposes, as-is, into ad-hoc datasets."""

    include: tuple[str, ...] = ("Hubspot.*",)
    exclude: tuple[str, ...] = ()
    delta_column: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _has_delta_column(self) -> Discovery:
        if self.delta_column is None:
            raise ValueError(DELTA_COLUMN_NEEDED + " (every discovered table must have it)")
        return self


class OnboardingSpec(_Strict):
    name: str
    description: str = ""
    aep_conn_id: str = "aep_default"
    sandbox: str | None = None
    hubspot: HubSpotSource
    schedule: str | None = None
    start_date: date = date(2025, 12, 1)
    catchup: bool = False
    ingestion: Literal["aep", "airflow"] = "aep"
    flow_schedule: FlowSchedule = FlowSchedule()
    partial_ingestion_percent: int | None = Field(default=None, gt=0, le=100)
    pool: str = "aep_api"
    pool_slots: int = Field(default=8, ge=1, le=256)
    retries: int = Field(default=3, ge=0, le=20)
    retry_delay_seconds: float = Field(default=30.0, gt=0)
    max_retry_delay_seconds: float = Field(default=600.0, gt=0)
    failed_record_tolerance: float = Field(default=0.0, ge=0.0, le=1.0)
    sensor_poll_seconds: float = Field(default=5.0, gt=0)
    tags: tuple[str, ...] = ()
    layout: Literal["per_object", "batched"] = "per_object"
    max_concurrency: int = Field(default=8, ge=1, le=64)
    objects: tuple[ObjectSpec, ...] = ()
    discover: Discovery | None = None
    #: What the plan does with a resource that exists with other settings (plugins/aep_provider/planning).
    on_drift: Literal["warn", "fail", "update"] = "warn"

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, value: str) -> str:
        if not SLUG_PATTERN.match(value):
            raise ValueError(f"`{value}` must be lower-case letters, digits and underscores, starting with a letter")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule_is_cron(cls, value: str | None) -> str | None:
        if value is None or value in {"@once", "@continuous"}:
            return value
        from croniter import croniter

        if value not in CRON_PRESETS and not croniter.is_valid(value):
            presets = ", ".join(CRON_PRESETS)
            raise ValueError(f"`{value}` is not a cron expression; write e.g. `0 3 * * *` or one of {presets}")
        return value

    @field_validator("objects")
    @classmethod
    def _objects_are_distinct(cls, objects: tuple[ObjectSpec, ...]) -> tuple[ObjectSpec, ...]:
        """Group ids and resource names derive from the object's name, so names must differ.

        The same table may be onboarded twice (say, into two datasets) under two names.
        """
        seen: dict[str, int] = {}
        for index, obj in enumerate(objects):
            if obj.slug in seen:
                raise ValueError(
                    f"objects[{seen[obj.slug]}] and objects[{index}] have the same name `{obj.slug}`; "
                    "give one of them a distinct `name`"
                )
            seen[obj.slug] = index
        return objects

    @model_validator(mode="after")
    def _has_something_to_onboard(self) -> OnboardingSpec:
        if not self.objects and self.discover is None:
            raise ValueError("list at least one entry under `objects`, or add `discover: {}` to onboard every table")
        if self.layout == "batched" and self.discover is not None:
            raise ValueError(
                "`discover` onboards tables found at run time, one task group each: it needs `layout: per_object`; "
                "list the tables under `objects` to use `layout: batched`"
            )
        return self

    @model_validator(mode="after")
    def _clock_has_one_owner(self) -> OnboardingSpec:
        """Refuse the combinations AEP refuses (or that would never ingest), naming the field and the fix."""
        if self.ingestion != "airflow":
            return self
        schedule_set = "flow_schedule" in self.model_fields_set
        if schedule_set and self.flow_schedule.frequency != "once":
            raise ValueError(
                f"flow_schedule.frequency: `{self.flow_schedule.frequency}` cannot go with `ingestion: airflow`: "
                "Airflow asks AEP for one run per data interval, and AEP creates such runs only for a flow scheduled "
                "for one-time ingestion. Remove `flow_schedule` (or write `frequency: once`), or use "
                "`ingestion: aep` to let AEP's own schedule ingest"
            )
        if self.schedule in (None, "@once", "@continuous"):
            raise ValueError(
                f"schedule: `ingestion: airflow` ingests one window per data interval, so it needs a `schedule` "
                f"with data intervals such as `@daily` or `0 3 * * *` (got {self.schedule!r}); or use `ingestion: aep`"
            )
        if self.discover is not None:
            raise ValueError(
                "discover: tables found at run time are onboarded on AEP's own schedule; with `ingestion: airflow` "
                "list the tables under `objects`, or use `ingestion: aep`"
            )
        return self

    def flow_schedule_params(self) -> dict[str, object]:
        """The dataflow's ``schedule`` argument.

        ``ingestion: aep``: ``flow_schedule`` as written. ``ingestion: airflow``: a one-time flow starting at
        ``start_date`` (or ``flow_schedule.start`` when given). Its own run takes the rows before that time (our
        model of a first run, see README "Windows and backfill"); every data interval after it is one window run.
        """
        if self.ingestion == "aep":
            return self.flow_schedule.as_schedule_params()
        start = self.flow_schedule.start if "start" in self.flow_schedule.model_fields_set else (
            f"{self.start_date.isoformat()}T00:00:00Z"
        )
        return {"frequency": "once", "start_time": start}

    def flow_options(self) -> dict[str, object] | None:
        """The flow's ``options`` (CRMToAEP ``optionSpec``): AEP's own failed-record threshold.

        ``partial_ingestion_percent`` when set; else, when ``failed_record_tolerance`` > 0, that share as a
        percentage rounded up to an integer (0.05 -> 5, 0.021 -> 3). Without the option AEP tolerates no failed
        record (help/ingestion/batch-ingestion/partial.md: "By default, dataflows may not have partial ingestion
        or error diagnostics enabled"), so the tolerance the sensor accepts would never be reached: the run
        would fail first. An integer, as flow-service.yaml OptionSpecDTO types it (crm.md's optionSpec says
        ``number``: an integer satisfies both; docs/adobe-contract.md).
        """
        percent = self.partial_ingestion_percent
        if percent is None and self.failed_record_tolerance > 0:
            percent = min(100, math.ceil(round(self.failed_record_tolerance * 100, 6)))
        if percent is None:
            return None
        return {"partialIngestionPercent": percent, "errorDiagnosticsEnabled": True}

    @property
    def windows(self) -> bool:
        """Whether each DAG run asks AEP for a run of its data interval."""
        return self.ingestion == "airflow"

    @property
    def dag_id(self) -> str:
        return f"aep_onboard_{self.name}"
