"""Build an Airflow DAG from a validated onboarding spec.

The factory only wires operators; every Platform call, body and check lives
in the provider, and the chain of steps itself is data in ``chain.py``. Every ID travels between tasks as an XCom (XComArgs passed
as operator arguments, which also draws the edges), never through Variables
or files. Nothing here calls an API or reads a connection: it runs at parse
time.

Per DAG run, shared by every object:
``select_objects`` (which objects this run onboards), ``hubspot_base_connection``,
``dataset_base_connection`` and ``flow_spec``.

With ``layout: per_object`` (the default), per object, in a task group named after it::

    selected ─┬─ adhoc_class ── adhoc_schema ── source_connection ─────────────┐
              └─ target_schema ─┬─ dataset ──┬─ target_connection ─────────────┤
                                │            │  (+ dataset_base_connection)    ├─ dataflow ── wait_first_run
                                └─ mapping_set ────────────────────────────────┤  [── ingest_window ── wait_window]
                                                           flow_spec ──────────┘

The bracketed window steps exist only with ``ingestion: airflow`` (a one-time flow, one on-demand run per
data interval); with ``ingestion: aep`` the flow runs on AEP's schedule and the DAG watches its first run.

Last, ``run_summary`` (``report.py``) after every object: what the run created or reused, and the asset
events of the datasets that received records.

Every per-object task has rows in and returns ``{key: value}``: in a task group one row, the object's.
With ``layout: batched`` the same steps are single tasks that each make their call for every
selected object, concurrently (a row per object, each object's IDs joined by key
through ``{key: value}`` XComs, as in the per-object layout): about fifteen tasks whatever the number of objects, so Airflow's per-task cost
is paid once per step instead of once per step and object.
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import DAG, CronDataIntervalTimetable, TaskGroup, task, task_group

from aep_onboarding.chain import (
    DATASET_BASE,
    FLOW_SPEC,
    HUBSPOT,
    Subject,
    discovered_chain,
    listed_chain,
    out,
    wire,
)
from aep_onboarding.cron import NO_INTERVALS, TIMEZONE
from aep_onboarding.dag_docs import onboarding_doc
from aep_onboarding.names import dataset_base_connection_name, discovered_names, object_names
from aep_onboarding.params import chosen_slugs, objects_param
from aep_onboarding.plan_rows import PLAN, apply, plan_only_param, plan_task
from aep_onboarding.report import summary_task
from aep_onboarding.spec import Discovery, ObjectSpec, OnboardingSpec, templated_fields
from aep_provider.models.common import CRM_TO_AEP_FLOW_SPEC_NAME
from aep_provider.operators.base import AepBaseOperator
from aep_provider.operators.connections import (
    AepCreateDatasetBaseConnectionOperator,
    AepCreateHubSpotBaseConnectionOperator,
)
from aep_provider.operators.explore import AepExploreSourceOperator
from aep_provider.operators.flow import AepGetFlowSpecOperator
from aep_provider.operators.write_lease import AepReleaseWriteLeaseOperator
from aep_provider.planning.models import LEASE, xcom_key
from aep_provider.sensors.flow_run import AepFlowRunSensor

#: The step that gives the sandbox's write lease back once every step that may create is done.
RELEASE = "release_write_lease"


@task
def select_objects(available: list[dict[str, str]], **context: Any) -> list[str]:
    """The slugs this run onboards: all of them, or those named in the ``objects`` param (a wrong name fails
    the task at once, without retries)."""
    return chosen_slugs(context["params"].get("objects"), available)


# Not ignore_downstream_trigger_rules: the skip flows down the group through the default trigger rule,
# and `run_summary` (trigger rule none_failed) still runs for the objects that were selected.
@task.short_circuit(ignore_downstream_trigger_rules=False)
def selected(slug: str, chosen: list[str]) -> bool:
    """Skip this object's whole group when the run's ``objects`` param leaves it out."""
    return slug in chosen


def _timetable(schedule: str | None) -> CronDataIntervalTimetable | str | None:
    """Cron schedules get data intervals: each run ingests [previous tick, this tick), in UTC (``cron.TIMEZONE``).

    Airflow 3 maps a plain cron string to a trigger timetable whose runs have an
    empty data interval; the window steps need the interval itself.
    """
    if schedule is None or schedule in NO_INTERVALS:
        return schedule
    return CronDataIntervalTimetable(schedule, timezone=TIMEZONE)


@task
def pick_tables(found: dict[str, list[dict[str, Any]]], include: list[str], exclude: list[str], listed: list[str]) -> list[str]:
    """The discovered tables to onboard: matching ``include``, not ``exclude``, not already listed (``found``:
    the ``{key: tables}`` XCom of the explore task)."""
    tables = [table for listing in found.values() for table in listing]
    paths = sorted(str(table.get("path") or table["name"]) for table in tables if table.get("type", "table") == "table")
    chosen = [
        path for path in paths
        if any(fnmatch.fnmatch(path, pattern) for pattern in include)
        and not any(fnmatch.fnmatch(path, pattern) for pattern in exclude)
        and path not in listed
    ]
    if not chosen:
        raise ValueError(f"discover: no table of {paths} matches include={include} minus exclude={exclude}")
    return chosen


@task(multiple_outputs=True)
def names_for(spec_name: str, source: str) -> dict[str, str]:
    """Resource names of a discovered table (the same derivation as listed objects)."""
    return discovered_names(spec_name, source)


@task
def adhoc_mappings(fields: dict[str, dict[str, str]], namespace: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Map every source column onto its own field of the ad-hoc schema, per object (``{key: ...}`` XComs of
    the ad-hoc class): the data lands as-is."""
    return {
        key: [{"source": column, "destination": f"{namespace[key]}.{column}"} for column in sorted(columns)]
        for key, columns in fields.items()
    }


def _dag_kwargs(spec: OnboardingSpec, source_file: str | None) -> dict[str, Any]:
    default_args = {
        "retries": spec.retries,
        "retry_delay": timedelta(seconds=spec.retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=spec.max_retry_delay_seconds),
        "pool": spec.pool,
    }
    return {
        "dag_id": spec.dag_id,
        "description": (spec.description or f"Onboard HubSpot objects into AEP ({spec.name})")[:200],
        "doc_md": onboarding_doc(spec, source_file),
        "schedule": _timetable(spec.schedule),
        "start_date": datetime.combine(spec.start_date, datetime.min.time(), tzinfo=timezone.utc),
        "catchup": spec.catchup,
        "default_args": default_args,
        "tags": ["aep", "hubspot", *spec.tags],
        "max_active_runs": 1,
        # A multi-select of the spec's objects in the trigger form; other values are refused when the run
        # is created (select_objects checks again at run time).
        "params": {"objects": objects_param(spec), "plan_only": plan_only_param()},
    }


def _sensor_args(spec: OnboardingSpec) -> dict[str, Any]:
    """The sensors' arguments; they always defer (the triggerer waits, not a worker slot)."""
    return {
        "failed_record_tolerance": spec.failed_record_tolerance, "poll_interval": spec.sensor_poll_seconds,
        "aep_conn_id": spec.aep_conn_id, "hook_params": {"sandbox": spec.sandbox}, "deferrable": True,
    }


def _sensors(spec: OnboardingSpec, tasks: dict[str, Any], **extra: Any) -> None:
    """Wait for the flows' first runs, then (``ingestion: airflow``) for the window's on-demand runs."""
    judged = {**_sensor_args(spec), **extra}
    wait_first_run = AepFlowRunSensor(task_id="wait_first_run", flow_id=out(tasks["dataflow"]), which="first", **judged)
    if "ingest_window" not in tasks:
        return
    wait_window = AepFlowRunSensor(
        task_id="wait_window", flow_id=out(tasks["dataflow"]), run_id=out(tasks["ingest_window"]), **judged
    )
    wait_first_run >> tasks["ingest_window"] >> wait_window


def _object_group(spec: OnboardingSpec, obj: ObjectSpec, chosen: Any, shared: dict[str, Any]) -> None:
    """One object's chain in a task group named after it, behind a gate that skips it when not selected."""
    common: dict[str, Any] = {"aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox}
    subject = Subject(key=obj.slug, source=obj.source, names=asdict(object_names(spec, obj)), obj=obj)
    with TaskGroup(group_id=obj.slug, tooltip=f"Onboard {obj.source}"):
        gate = selected.override(task_id="selected")(obj.slug, chosen)
        tasks = wire(listed_chain(spec), [subject], dict(shared), common)
        gate >> tasks["check_source"] >> [tasks["adhoc_class"], tasks["target_schema"]]
        _sensors(spec, tasks)


def _batched_tasks(spec: OnboardingSpec, chosen: Any, shared: dict[str, Any]) -> None:
    """Every step once, for all selected objects (a row per object, keyed by its slug)."""
    subjects = [
        Subject(key=obj.slug, source=obj.source, names=asdict(object_names(spec, obj)), obj=obj) for obj in spec.objects
    ]
    common: dict[str, Any] = {
        "aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox, "max_concurrency": spec.max_concurrency,
    }
    tasks = wire(listed_chain(spec), subjects, dict(shared), {**common, "keys": chosen})
    tasks["check_source"] >> [tasks["adhoc_class"], tasks["target_schema"]]
    _sensors(spec, tasks, max_concurrency=spec.max_concurrency)


def _discovery_group(spec: OnboardingSpec, discovery: Discovery, shared: dict[str, Any]) -> None:
    """One mapped task group per table the HubSpot connection exposes, landing each in an ad-hoc dataset."""
    common: dict[str, Any] = {"aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox}
    tables = AepExploreSourceOperator(task_id="discover_tables", base_connection_id=out(shared[HUBSPOT]), **common)
    chosen = pick_tables(
        out(tables), list(discovery.include), list(discovery.exclude), [obj.source for obj in spec.objects]
    )
    steps = discovered_chain(spec, str(discovery.delta_column), adhoc_mappings)

    @task_group(group_id="discovered")
    def onboard_table(source: str) -> None:
        subject = Subject(key=source, source=source, names=names_for(spec.name, source))
        tasks = wire(steps, [subject], dict(shared), common)
        AepFlowRunSensor(task_id="wait_first_run", flow_id=out(tasks["dataflow"]), which="first", **_sensor_args(spec))

    onboard_table.expand(source=chosen)


def _refuse_templates(spec: OnboardingSpec) -> None:
    """Spec text becomes templated operator fields: a spec made without validation must not smuggle Jinja in."""
    templated = templated_fields(spec)
    if templated:
        raise ValueError(
            f"onboarding spec {spec.name!r}: {', '.join(templated)} hold Jinja template syntax ({{{{, {{% or {{#); "
            "spec values are data, never templates: remove it"
        )


def build_onboarding_dag(spec: OnboardingSpec, source_file: str | None = None) -> DAG:
    """The onboarding DAG of one spec: shared steps once, then one task group per object."""
    _refuse_templates(spec)
    common: dict[str, Any] = {"aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox}
    with DAG(**_dag_kwargs(spec, source_file)) as dag:
        chosen = select_objects([{"slug": obj.slug, "source": obj.source} for obj in spec.objects])
        # Plan, then apply: one read of the sandbox before any write (taking the sandbox's write lease when the run
        # has anything to create); a dry run (plan_only) stops at the gate.
        plan = plan_task(spec, chosen, common) if spec.objects else None
        leased = {"write_lease": out(plan, xcom_key(LEASE))} if plan is not None else {}
        hubspot = AepCreateHubSpotBaseConnectionOperator(
            task_id=HUBSPOT, name=spec.hubspot.name,
            hubspot_conn_id=spec.hubspot.conn_id, base_connection_id=spec.hubspot.base_connection_id,
            **common, **leased,
        )
        dataset_base = AepCreateDatasetBaseConnectionOperator(
            task_id=DATASET_BASE, name=dataset_base_connection_name(spec), **common, **leased
        )
        flow_spec = AepGetFlowSpecOperator(task_id=FLOW_SPEC, name=CRM_TO_AEP_FLOW_SPEC_NAME, **common)
        shared = {HUBSPOT: hubspot, DATASET_BASE: dataset_base, FLOW_SPEC: flow_spec}
        gate = apply()
        if plan is not None:
            shared[PLAN] = plan
            plan >> gate
        gate >> [hubspot, dataset_base, flow_spec]
        if spec.layout == "batched":
            _batched_tasks(spec, chosen, shared)
        else:
            for obj in spec.objects:
                _object_group(spec, obj, chosen, shared)
            if spec.discover is not None:
                _discovery_group(spec, spec.discover, shared)
        if plan is not None:
            _release_write_lease(dag, plan, common)
        _run_summary(spec, dag)
    return dag


def _release_write_lease(dag: DAG, plan: Any, common: dict[str, Any]) -> None:
    """``release_write_lease`` after every step that may create (whatever their outcome): the run gives the
    sandbox's write lease back as soon as its writes are done, not after its flow runs."""
    writers = [t for t in dag.tasks if isinstance(t, AepBaseOperator) and t.creates]
    release = AepReleaseWriteLeaseOperator(task_id=RELEASE, write_lease=out(plan, xcom_key(LEASE)), **common)
    release.set_upstream(writers)


def _run_summary(spec: OnboardingSpec, dag: DAG) -> None:
    """``run_summary`` after every last step: what the run did, and the asset events of the datasets it fed."""
    listed = [t for t in dag.tasks if not t.task_id.startswith("discovered.")]
    platform = [t.task_id for t in listed if isinstance(t, AepBaseOperator)]
    sensors = {
        t.task_id: "first" if t.task_id.endswith("wait_first_run") else "window"
        for t in listed if isinstance(t, AepFlowRunSensor)
    }
    leaves = [t for t in dag.tasks if not t.downstream_list]
    summary_task(spec, platform, sensors).operator.set_upstream(leaves)
