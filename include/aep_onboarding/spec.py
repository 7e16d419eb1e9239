"""The onboarding spec: what a YAML file in ``include/onboarding/`` may say.

A spec names the Airflow connection and sandbox, the HubSpot base connection,
who owns the ingestion clock (``ingestion``), the Airflow schedule, the AEP flow
schedule and the objects to onboard. Every model forbids unknown keys, so a
misspelt key is an error, not a silent default. The parts are in ``spec_parts.py``,
what every model shares in ``spec_base.py``, the schedule rules in ``cron.py`` and
Airflow's limits and the names that must be unique in ``spec_limits.py``.

``ingestion: aep`` (the default): the dataflow runs on AEP's own schedule
(``flow_schedule``); the DAG onboards it and watches its first run, and asks for
no window runs. ``ingestion: airflow``: the dataflow is a one-time flow
(``frequency: once``, the only kind AEP creates on-demand runs for) and every DAG
run with a data interval asks AEP for one run of that window.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from aep_onboarding import spec_limits
from aep_onboarding.cron import NO_INTERVALS, check_schedule
from aep_onboarding.spec_base import Strict, check_slug, jinja_marker, templated_fields
from aep_onboarding.spec_parts import (
    Discovery,
    FlowSchedule,
    HubSpotSource,
    MappingRule,
    ObjectSpec,
    ResourceNames,
    TargetSchema,
)

__all__ = [
    "Discovery", "FlowSchedule", "HubSpotSource", "MappingRule", "ObjectSpec", "OnboardingSpec", "ResourceNames",
    "TargetSchema", "jinja_marker", "templated_fields",
]

DAY = 86400.0


class OnboardingSpec(Strict):
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
    # Bounded so that Airflow's timedeltas hold them (a day, a week, an hour).
    retry_delay_seconds: float = Field(default=30.0, gt=0, le=DAY)
    max_retry_delay_seconds: float = Field(default=600.0, gt=0, le=7 * DAY)
    failed_record_tolerance: float = Field(default=0.0, ge=0.0, le=1.0)
    #: Required to accept a tolerance (or partial_ingestion_percent) above one half: most records may then fail.
    allow_most_records_to_fail: bool = False
    sensor_poll_seconds: float = Field(default=5.0, gt=0, le=DAY / 24)
    #: ``ingestion: aep``: how long after a DAG run's interval a run AEP had due in it may still be recorded before
    #: the DAG run calls it missing (Adobe documents no bound: docs/adobe-contract.md), and what a missing run does.
    missing_run_grace_minutes: float = Field(default=30.0, ge=0, le=7 * 24 * 60)
    on_missing_run: Literal["fail", "warn"] = "fail"
    #: ``ingestion: airflow``: at most this many on-demand runs of one flow going at once (a backfill's windows).
    #: Adobe documents no limit (docs/concurrency.md): ours, to keep a backfill from piling runs onto one flow.
    window_runs_in_flight: int = Field(default=4, ge=1, le=64)
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
        problem = spec_limits.spec_name_problem(check_slug(value))
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule_is_cron(cls, value: str | None) -> str | None:
        return check_schedule(value)

    @field_validator("tags")
    @classmethod
    def _tags_fit_airflow(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        problems = spec_limits.tag_problems(tags)
        if problems:
            raise ValueError("\n".join(problems))
        return tags

    @field_validator("objects")
    @classmethod
    def _objects_are_distinct(cls, objects: tuple[ObjectSpec, ...]) -> tuple[ObjectSpec, ...]:
        """Group ids and resource names derive from the object's name, so names must differ.

        The same table may be onboarded twice (say, into two datasets) under two names.
        """
        seen: dict[str, int] = {}
        for index, obj in enumerate(objects):
            problem = spec_limits.object_name_problem(obj.slug, obj.name is not None)
            if problem:
                raise ValueError(f"objects[{index}].name: {problem}")
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
    def _names_do_not_collide(self) -> OnboardingSpec:
        problems = spec_limits.resource_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _verdict_means_something(self) -> OnboardingSpec:
        """A tolerance above one half passes a run where most records failed: only when the spec says so."""
        if self.allow_most_records_to_fail:
            return self
        high = spec_limits.HIGH_TOLERANCE
        if self.failed_record_tolerance > high:
            raise ValueError(
                f"failed_record_tolerance: {self.failed_record_tolerance} passes a run where more than half of the "
                f"records failed, so the verdict would mean nothing; lower it (e.g. 0.05), or add "
                "`allow_most_records_to_fail: true` to say that is what you want"
            )
        if self.partial_ingestion_percent is not None and self.partial_ingestion_percent > high * 100:
            raise ValueError(
                f"partial_ingestion_percent: {self.partial_ingestion_percent} lets AEP write a run where more than "
                "half of the records failed; lower it (e.g. 5), or add `allow_most_records_to_fail: true` to say "
                "that is what you want"
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
        if self.schedule is None or self.schedule in NO_INTERVALS:
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
        model of a first run, see docs/windows-and-backfill.md); every data interval after it is one window run.
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
        return f"{spec_limits.DAG_ID_PREFIX}{self.name}"
