"""Build an Airflow DAG from a validated onboarding spec.

The factory only wires operators; every Platform call, body and check lives
in the provider, and the chain of steps itself is data in the registry (``steps.py``), laid out by ``chain.py``. Every ID travels between tasks as an XCom (XComArgs passed
as operator arguments, which also draws the edges), never through Variables
or files. Nothing here calls an API or reads a connection: it runs at parse
time.

Per DAG run, shared by every object:
``select_objects`` (which objects this run onboards), ``plan`` and its ``apply`` gate, the registry's shared steps
(``hubspot_base_connection``, ``dataset_base_connection``, ``flow_spec``) and ``release_write_lease``.

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
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import DAG, CronDataIntervalTimetable, TaskGroup, task, task_group

from aep_onboarding.chain import chain, roots, shared_steps, wire
from aep_onboarding.cron import NO_INTERVALS, TIMEZONE
from aep_onboarding.dag_docs import onboarding_doc
from aep_onboarding.names import discovered_names, object_names
from aep_onboarding.params import chosen_slugs, objects_param
from aep_onboarding.planning.models import LEASE, xcom_key
from aep_onboarding.planning.task import apply, plan_only_param, plan_task
from aep_onboarding.report import SELECT_TASK, summary_task
from aep_onboarding.spec import Discovery, ObjectSpec, OnboardingSpec, templated_fields
from aep_onboarding.steps import HUBSPOT, PLAN, STEP, Subject, delta_column, out
from aep_provider.operators.base import AepBaseOperator
from aep_provider.operators.explore import AepExploreSourceOperator
from aep_provider.operators.write_lease import AepReleaseWriteLeaseOperator

#: The step that gives the sandbox's write lease back once every step that may create is done.
RELEASE = "release_write_lease"


@task(task_id=SELECT_TASK)
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


def _subject(spec: OnboardingSpec, obj: ObjectSpec) -> Subject:
    return Subject(key=obj.slug, source=obj.source, names=object_names(spec, obj), delta_column=delta_column(obj), obj=obj)


def _steps_of(tasks: dict[str, Any]) -> dict[str, str]:
    """``{task id: step id}`` of the registry's tasks among ``tasks`` (for the run summary's rows)."""
    return {task_.task_id: step_id for step_id, task_ in tasks.items() if step_id in STEP}


def _object_group(spec: OnboardingSpec, obj: ObjectSpec, chosen: Any, shared: dict[str, Any]) -> dict[str, str]:
    """One object's chain in a task group named after it, behind a gate that skips it when not selected."""
    common: dict[str, Any] = {"aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox}
    steps = chain(spec)
    with TaskGroup(group_id=obj.slug, tooltip=f"Onboard {obj.source}"):
        gate = selected.override(task_id="selected")(obj.slug, chosen)
        tasks = wire(steps, [_subject(spec, obj)], dict(shared), common, spec)
        gate >> [tasks[root] for root in roots(steps)]
    return _steps_of(tasks)


def _batched_tasks(spec: OnboardingSpec, chosen: Any, shared: dict[str, Any]) -> dict[str, str]:
    """Every step once, for all selected objects (a row per object, keyed by its slug)."""
    common: dict[str, Any] = {
        "aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox, "max_concurrency": spec.max_concurrency,
    }
    subjects = [_subject(spec, obj) for obj in spec.objects]
    return _steps_of(wire(chain(spec), subjects, dict(shared), {**common, "keys": chosen}, spec))


def _discovery_group(spec: OnboardingSpec, discovery: Discovery, shared: dict[str, Any]) -> None:
    """One mapped task group per table the HubSpot connection exposes, landing each in an ad-hoc dataset."""
    common: dict[str, Any] = {"aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox}
    tables = AepExploreSourceOperator(task_id="discover_tables", base_connection_id=out(shared[HUBSPOT]), **common)
    chosen = pick_tables(
        out(tables), list(discovery.include), list(discovery.exclude), [obj.source for obj in spec.objects]
    )
    steps = chain(spec, discovered=True)

    @task_group(group_id="discovered")
    def onboard_table(source: str) -> None:
        subject = Subject(key=source, source=source, names=names_for(spec.name, source),
                          delta_column=str(discovery.delta_column))
        wire(steps, [subject], dict(shared), common, spec)

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
        shared = shared_steps(spec, {PLAN: plan} if plan is not None else {}, common)
        gate = apply()
        if plan is not None:
            plan >> gate
        gate >> [task_ for step_id, task_ in shared.items() if step_id != PLAN]
        steps_of = _steps_of(shared)
        if spec.layout == "batched":
            steps_of.update(_batched_tasks(spec, chosen, shared))
        else:
            for obj in spec.objects:
                steps_of.update(_object_group(spec, obj, chosen, shared))
            if spec.discover is not None:
                _discovery_group(spec, spec.discover, shared)
        if plan is not None:
            _release_write_lease(dag, plan, common)
        leaves = [t for t in dag.tasks if not t.downstream_list]
        summary_task(spec, steps_of).operator.set_upstream(leaves)
    return dag


def _release_write_lease(dag: DAG, plan: Any, common: dict[str, Any]) -> None:
    """``release_write_lease`` after every step that may create (whatever their outcome): the run gives the
    sandbox's write lease back as soon as its writes are done, not after its flow runs."""
    writers = [t for t in dag.tasks if isinstance(t, AepBaseOperator) and t.creates]
    release = AepReleaseWriteLeaseOperator(task_id=RELEASE, write_lease=out(plan, xcom_key(LEASE)), **common)
    release.set_upstream(writers)
