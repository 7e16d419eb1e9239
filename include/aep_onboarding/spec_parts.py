"""The parts of an onboarding spec: the HubSpot origin, the AEP flow schedule, the objects and discovery.

The whole spec (``OnboardingSpec``) is in ``spec.py``; what every model shares in ``spec_base.py``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, ValidationError, create_model, field_validator, model_validator

from aep_onboarding.spec_base import Strict, check_slug
from aep_onboarding.steps import object_resources
from aep_provider.models.common import PROFILE_CLASS_REF, PROFILE_PERSON_DETAILS, PROFILE_PERSONAL_DETAILS
from aep_provider.models.data_prep import identity_problem, repeated_destinations

DEFAULT_FIELD_GROUPS = (PROFILE_PERSON_DETAILS, PROFILE_PERSONAL_DETAILS)
SOURCE_PATTERN = re.compile(r"Hubspot\.[A-Za-z][A-Za-z0-9_]*")


class HubSpotSource(Strict):
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


class FlowSchedule(Strict):
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


class MappingRule(Strict):
    source: str = Field(min_length=1)
    destination: str = Field(min_length=1)
    identity: bool = False
    namespace: str | None = None

    @model_validator(mode="after")
    def _identity_goes_with_namespace(self) -> MappingRule:
        problem = identity_problem(self.identity, self.namespace)
        if problem:
            raise ValueError(problem)
        return self


class TargetSchema(Strict):
    class_ref: str = Field(default=PROFILE_CLASS_REF, alias="class")
    field_groups: tuple[str, ...] = DEFAULT_FIELD_GROUPS
    title: str | None = None


if TYPE_CHECKING:
    ResourceNames = Strict
else:
    #: ``objects[].names``: optional overrides of the names the factory derives from the object, one field per
    #: resource of the registry (``steps.py``: the step id, or the resource's ``name_field``, e.g. ``flow``).
    ResourceNames = create_model(
        "ResourceNames", __base__=Strict,
        **{resource.field_name(step_id): (str | None, None) for step_id, resource in object_resources()},
    )
    ResourceNames.__doc__ = "Optional overrides of the names the factory derives from the object."


FieldType = Literal["string", "integer", "number", "boolean", "date", "date-time"]


DELTA_COLUMN_NEEDED = (
    "`delta_column` is required: name the source column whose time selects new rows (e.g. `Added_At` for "
    "HubSpot contacts); AEP's CRM flows need it, and it is checked against the table's columns before anything "
    "is created"
)


class ObjectSpec(Strict):
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
        if not SOURCE_PATTERN.fullmatch(value):
            raise ValueError(f"`{value}` is not a HubSpot table path; write it like `Hubspot.Contacts`")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, value: str | None) -> str | None:
        return value if value is None else check_slug(value)

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

    @field_validator("mapping")
    @classmethod
    def _each_destination_once(cls, mapping: tuple[MappingRule, ...]) -> tuple[MappingRule, ...]:
        repeated = repeated_destinations(rule.model_dump() for rule in mapping)
        if repeated:
            raise ValueError("\n".join(repeated))
        return mapping

    @property
    def slug(self) -> str:
        """The task-group id and the stem of every derived resource name."""
        if self.name:
            return self.name
        return re.sub(r"[^a-z0-9]+", "_", self.source.split(".", 1)[1].lower()).strip("_")

    @property
    def table(self) -> str:
        return self.source.split(".", 1)[1]


class Discovery(Strict):
    """Onboard every table the HubSpot connection exposes, as-is, into ad-hoc datasets."""

    include: tuple[str, ...] = ("Hubspot.*",)
    exclude: tuple[str, ...] = ()
    delta_column: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _has_delta_column(self) -> Discovery:
        if self.delta_column is None:
            raise ValueError(DELTA_COLUMN_NEEDED + " (every discovered table must have it)")
        return self
