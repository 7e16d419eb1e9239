"""Build an Airflow DAG from a validated onboarding spec.

The factory only wires operators; every Platform call, body and check lives
in the provider. Every ID travels between tasks as an XCom (XComArgs passed
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
                                └─ mapping_set ────────────────────────────────┤   ── ingest_window ── wait_window
                                                           flow_spec ──────────┘

With ``layout: batched`` the same steps are single tasks that each make their call for every
selected object, concurrently (the operators' ``for_each`` mode, each object's IDs joined by key
through dict XComs): about fifteen tasks whatever the number of objects, so Airflow's per-task cost
is paid once per step instead of once per step and object.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import DAG, Asset, CronDataIntervalTimetable, TaskGroup, XComArg, task, task_group

from aep_onboarding.names import (
    ObjectNames,
    asset_uri,
    dataset_base_connection_name,
    discovered_names,
    object_names,
)
from aep_onboarding.spec import Discovery, ObjectSpec, OnboardingSpec
from aep_provider.operators.connections import (
    AepCreateDatasetBaseConnectionOperator,
    AepCreateHubSpotBaseConnectionOperator,
    AepCreateSourceConnectionOperator,
    AepCreateTargetConnectionOperator,
)
from aep_provider.operators.dataset import AepCreateDatasetOperator
from aep_provider.operators.explore import AepExploreSourceOperator
from aep_provider.operators.flow import AepCreateDataflowOperator, AepGetFlowSpecOperator, AepRunFlowOperator
from aep_provider.operators.mapping import AepCreateMappingSetOperator
from aep_provider.operators.schema import (
    AepCreateAdhocClassOperator,
    AepCreateAdhocSchemaOperator,
    AepCreateTargetSchemaOperator,
)
from aep_provider.sensors.flow_run import AepFlowRunSensor

# Runs without a logical date (manual triggers in Airflow 3) have no data interval: the window is empty.
WINDOW_START = "{{ data_interval_start.isoformat() if data_interval_start is defined and data_interval_start else '' }}"
WINDOW_END = "{{ data_interval_end.isoformat() if data_interval_end is defined and data_interval_end else '' }}"


def _out(task: Any, key: str = "return_value") -> Any:
    """A task's XCom as an operator argument: a templated string at run time, an edge at parse time."""
    return XComArg(task, key=key)


@task
def select_objects(available: list[dict[str, str]], **context: Any) -> list[str]:
    """The slugs this run onboards: all of them, or those named in the ``objects`` param."""
    wanted = context["params"].get("objects") or []
    if not isinstance(wanted, list) or not all(isinstance(name, str) for name in wanted):
        raise ValueError(
            f'param `objects` must be a list of object names such as ["Hubspot.All_Deals"], got {wanted!r}'
        )
    if not wanted:
        return [item["slug"] for item in available]
    by_key = {key: item["slug"] for item in available for key in (item["slug"], item["source"])}
    unknown = [name for name in wanted if name not in by_key]
    if unknown:
        known = ", ".join(item["source"] for item in available)
        raise ValueError(f"param `objects` names {unknown}, which this DAG does not onboard; use some of: {known}")
    return sorted({by_key[name] for name in wanted})


@task.short_circuit(ignore_downstream_trigger_rules=True)
def selected(slug: str, chosen: list[str]) -> bool:
    """Skip this object's whole group when the run's ``objects`` param leaves it out."""
    return slug in chosen


def _timetable(schedule: str | None) -> CronDataIntervalTimetable | str | None:
    """Cron schedules get data intervals: each run ingests [previous tick, this tick).

    Airflow 3 maps a plain cron string to a trigger timetable whose runs have an
    empty data interval; the window steps need the interval itself.
    """
    if schedule is None or schedule in {"@once", "@continuous"}:
        return schedule
    return CronDataIntervalTimetable(schedule, timezone="UTC")


@task
def pick_tables(tables: list[dict[str, Any]], include: list[str], exclude: list[str], listed: list[str]) -> list[str]:
    """The discovered tables to onboard: matching ``include``, not ``exclude``, not already listed."""
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
def adhoc_mappings(fields: dict[str, str], namespace: str) -> list[dict[str, Any]]:
    """Map every source column onto its own field of the ad-hoc schema: the data lands as-is."""
    return [{"source": column, "destination": f"{namespace}.{column}"} for column in sorted(fields)]


def _dag_kwargs(spec: OnboardingSpec, source_file: str | None) -> dict[str, Any]:
    default_args = {
        "retries": spec.retries,
        "retry_delay": timedelta(seconds=spec.retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=spec.max_retry_delay_seconds),
        "pool": spec.pool,
    }
    doc = spec.description or f"Onboard {len(spec.objects)} HubSpot object(s) into AEP."
    if source_file:
        doc += f"\n\nBuilt from `{source_file}`."
    return {
        "dag_id": spec.dag_id,
        "description": (spec.description or f"Onboard HubSpot objects into AEP ({spec.name})")[:200],
        "doc_md": doc,
        "schedule": _timetable(spec.schedule),
        "start_date": datetime.combine(spec.start_date, datetime.min.time(), tzinfo=timezone.utc),
        "catchup": spec.catchup,
        "default_args": default_args,
        "tags": ["aep", "hubspot", *spec.tags],
        "max_active_runs": 1,
        # A plain default, validated by select_objects: a typed Param would have its JSON schema
        # checked again for every task when the DAG is serialized.
        "params": {"objects": []},
    }


def _used_columns(obj: ObjectSpec) -> list[str]:
    listed = list(obj.fields) if isinstance(obj.fields, dict) else []
    return sorted({*listed, *(rule.source for rule in obj.mapping), obj.delta_column})


def _object_group(
    spec: OnboardingSpec,
    obj: ObjectSpec,
    chosen: Any,
    hubspot: AepCreateHubSpotBaseConnectionOperator,
    dataset_base: AepCreateDatasetBaseConnectionOperator,
    flow_spec: AepGetFlowSpecOperator,
) -> None:
    names = object_names(spec, obj)
    common: dict[str, Any] = {"aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox}
    asset = Asset(uri=asset_uri(spec, obj), name=f"{spec.name}.{obj.slug}")

    with TaskGroup(group_id=obj.slug, tooltip=f"Onboard {obj.source}"):
        gate = selected.override(task_id="selected")(obj.slug, chosen)
        # Read-only: the table and every column the object uses exist, before anything is written for it.
        check_source = AepExploreSourceOperator(
            task_id="check_source", base_connection_id=_out(hubspot), object_path=obj.source,
            required_columns=_used_columns(obj), **common,
        )

        if obj.fields == "discover":
            adhoc_class = AepCreateAdhocClassOperator(
                task_id="adhoc_class", title=names.adhoc_class, base_connection_id=_out(hubspot),
                source_path=obj.source, **common,
            )
        else:
            adhoc_class = AepCreateAdhocClassOperator(
                task_id="adhoc_class", title=names.adhoc_class, fields=dict(obj.fields), **common
            )
        adhoc_schema = AepCreateAdhocSchemaOperator(
            task_id="adhoc_schema", title=names.adhoc_schema, class_id=_out(adhoc_class), **common
        )
        source_connection = AepCreateSourceConnectionOperator(
            task_id="source_connection", name=names.source_connection, base_connection_id=_out(hubspot),
            schema_id=_out(adhoc_schema), path=obj.source, **common,
        )
        target_schema = AepCreateTargetSchemaOperator(
            task_id="target_schema", title=names.target_schema, class_ref=obj.target_schema.class_ref,
            field_groups=list(obj.target_schema.field_groups), **common,
        )
        dataset = AepCreateDatasetOperator(
            task_id="dataset", name=names.dataset, schema_id=_out(target_schema), **common
        )
        mapping_set = AepCreateMappingSetOperator(
            task_id="mapping_set", name=names.mapping_set, schema_id=_out(target_schema),
            mappings=[rule.model_dump() for rule in obj.mapping], **common,
        )
        target_connection = AepCreateTargetConnectionOperator(
            task_id="target_connection", name=names.target_connection, base_connection_id=_out(dataset_base),
            schema_id=_out(target_schema), dataset_id=_out(dataset), **common,
        )
        dataflow = AepCreateDataflowOperator(
            task_id="dataflow", name=names.flow, flow_spec_id=_out(flow_spec),
            source_connection_id=_out(source_connection), target_connection_id=_out(target_connection),
            mapping_id=_out(mapping_set), mapping_version=_out(mapping_set, "mapping_version"),
            delta_column=obj.delta_column, schedule=spec.flow_schedule.as_schedule_params(), **common,
        )
        wait_first_run = AepFlowRunSensor(
            task_id="wait_first_run", flow_id=_out(dataflow), which="first",
            failed_record_tolerance=spec.failed_record_tolerance, poll_interval=spec.sensor_poll_seconds,
            outlets=[asset], **common,
        )
        ingest_window = AepRunFlowOperator(
            task_id="ingest_window", flow_id=_out(dataflow), window_start=WINDOW_START, window_end=WINDOW_END,
            delta_column=obj.delta_column, **common,
        )
        wait_window = AepFlowRunSensor(
            task_id="wait_window", flow_id=_out(dataflow), run_id=_out(ingest_window),
            failed_record_tolerance=spec.failed_record_tolerance, poll_interval=spec.sensor_poll_seconds,
            outlets=[asset], **common,
        )

        gate >> check_source >> [adhoc_class, target_schema]
        wait_first_run >> ingest_window >> wait_window


def _discovery_group(
    spec: OnboardingSpec,
    discovery: Discovery,
    hubspot: AepCreateHubSpotBaseConnectionOperator,
    dataset_base: AepCreateDatasetBaseConnectionOperator,
    flow_spec: AepGetFlowSpecOperator,
) -> None:
    """One mapped task group per table the HubSpot connection exposes, landing each in an ad-hoc dataset."""
    common: dict[str, Any] = {"aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox}
    tables = AepExploreSourceOperator(task_id="discover_tables", base_connection_id=_out(hubspot), **common)
    chosen = pick_tables(
        _out(tables), list(discovery.include), list(discovery.exclude), [obj.source for obj in spec.objects]
    )

    @task_group(group_id="discovered")
    def onboard_table(source: str) -> None:
        names: Any = names_for(spec.name, source)
        adhoc_class = AepCreateAdhocClassOperator(
            task_id="adhoc_class", title=names["adhoc_class"], base_connection_id=_out(hubspot),
            source_path=source, **common,
        )
        adhoc_schema = AepCreateAdhocSchemaOperator(
            task_id="adhoc_schema", title=names["adhoc_schema"], class_id=_out(adhoc_class), **common
        )
        source_connection = AepCreateSourceConnectionOperator(
            task_id="source_connection", name=names["source_connection"], base_connection_id=_out(hubspot),
            schema_id=_out(adhoc_schema), path=source, **common,
        )
        dataset = AepCreateDatasetOperator(
            task_id="dataset", name=names["dataset"], schema_id=_out(adhoc_schema), **common
        )
        mappings: Any = adhoc_mappings(_out(adhoc_class, "fields"), _out(adhoc_class, "dataset_namespace"))
        mapping_set = AepCreateMappingSetOperator(
            task_id="mapping_set", name=names["mapping_set"], schema_id=_out(adhoc_schema), mappings=mappings,
            **common,
        )
        target_connection = AepCreateTargetConnectionOperator(
            task_id="target_connection", name=names["target_connection"], base_connection_id=_out(dataset_base),
            schema_id=_out(adhoc_schema), dataset_id=_out(dataset), **common,
        )
        dataflow = AepCreateDataflowOperator(
            task_id="dataflow", name=names["flow"], flow_spec_id=_out(flow_spec),
            source_connection_id=_out(source_connection), target_connection_id=_out(target_connection),
            mapping_id=_out(mapping_set), mapping_version=_out(mapping_set, "mapping_version"),
            delta_column=discovery.delta_column, schedule=spec.flow_schedule.as_schedule_params(), **common,
        )
        AepFlowRunSensor(
            task_id="wait_first_run", flow_id=_out(dataflow), which="first",
            failed_record_tolerance=spec.failed_record_tolerance, poll_interval=spec.sensor_poll_seconds, **common,
        )

    onboard_table.expand(source=chosen)


def _batched_tasks(
    spec: OnboardingSpec,
    chosen: Any,
    hubspot: AepCreateHubSpotBaseConnectionOperator,
    dataset_base: AepCreateDatasetBaseConnectionOperator,
    flow_spec: AepGetFlowSpecOperator,
) -> None:
    """Every step once, for all selected objects (``for_each`` rows keyed by object slug)."""
    objects = [(obj, object_names(spec, obj)) for obj in spec.objects]
    common: dict[str, Any] = {
        "aep_conn_id": spec.aep_conn_id,
        "sandbox": spec.sandbox,
        "keys": chosen,
        "max_concurrency": spec.max_concurrency,
    }

    def rows(fields: Callable[[ObjectSpec, ObjectNames], dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"key": obj.slug, **fields(obj, names)} for obj, names in objects]

    check_source = AepExploreSourceOperator(
        task_id="check_source", base_connection_id=_out(hubspot),
        for_each=rows(lambda o, n: {"object_path": o.source, "required_columns": _used_columns(o)}), **common,
    )
    adhoc_class = AepCreateAdhocClassOperator(
        task_id="adhoc_class", base_connection_id=_out(hubspot),
        for_each=rows(lambda o, n: {
            "title": n.adhoc_class,
            **({"source_path": o.source} if o.fields == "discover" else {"fields": dict(o.fields)}),
        }),
        **common,
    )
    adhoc_schema = AepCreateAdhocSchemaOperator(
        task_id="adhoc_schema", for_each=rows(lambda o, n: {"title": n.adhoc_schema}),
        inputs={"class_id": _out(adhoc_class)}, **common,
    )
    source_connection = AepCreateSourceConnectionOperator(
        task_id="source_connection", base_connection_id=_out(hubspot),
        for_each=rows(lambda o, n: {"name": n.source_connection, "path": o.source}),
        inputs={"schema_id": _out(adhoc_schema)}, **common,
    )
    target_schema = AepCreateTargetSchemaOperator(
        task_id="target_schema",
        for_each=rows(lambda o, n: {
            "title": n.target_schema, "class_ref": o.target_schema.class_ref,
            "field_groups": list(o.target_schema.field_groups),
        }),
        **common,
    )
    dataset = AepCreateDatasetOperator(
        task_id="dataset", for_each=rows(lambda o, n: {"name": n.dataset}),
        inputs={"schema_id": _out(target_schema)}, **common,
    )
    mapping_set = AepCreateMappingSetOperator(
        task_id="mapping_set",
        for_each=rows(lambda o, n: {"name": n.mapping_set, "mappings": [rule.model_dump() for rule in o.mapping]}),
        inputs={"schema_id": _out(target_schema)}, **common,
    )
    target_connection = AepCreateTargetConnectionOperator(
        task_id="target_connection", base_connection_id=_out(dataset_base),
        for_each=rows(lambda o, n: {"name": n.target_connection}),
        inputs={"schema_id": _out(target_schema), "dataset_id": _out(dataset)}, **common,
    )
    dataflow = AepCreateDataflowOperator(
        task_id="dataflow", flow_spec_id=_out(flow_spec), schedule=spec.flow_schedule.as_schedule_params(),
        for_each=rows(lambda o, n: {"name": n.flow, "delta_column": o.delta_column}),
        inputs={
            "source_connection_id": _out(source_connection),
            "target_connection_id": _out(target_connection),
            "mapping_id": _out(mapping_set),
            "mapping_version": _out(mapping_set, "mapping_version"),
        },
        **common,
    )
    assets = [Asset(uri=asset_uri(spec, obj), name=f"{spec.name}.{obj.slug}") for obj, _ in objects]
    sensor_common: dict[str, Any] = {
        "aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox, "max_concurrency": spec.max_concurrency,
        "failed_record_tolerance": spec.failed_record_tolerance, "poll_interval": spec.sensor_poll_seconds,
        "outlets": assets,
    }
    wait_first_run = AepFlowRunSensor(task_id="wait_first_run", flow_id=_out(dataflow), which="first", **sensor_common)
    ingest_window = AepRunFlowOperator(
        task_id="ingest_window", window_start=WINDOW_START, window_end=WINDOW_END,
        for_each=rows(lambda o, n: {"delta_column": o.delta_column}), inputs={"flow_id": _out(dataflow)}, **common,
    )
    wait_window = AepFlowRunSensor(
        task_id="wait_window", flow_id=_out(dataflow), run_id=_out(ingest_window), **sensor_common
    )
    check_source >> [adhoc_class, target_schema]
    wait_first_run >> ingest_window >> wait_window


def build_onboarding_dag(spec: OnboardingSpec, source_file: str | None = None) -> DAG:
    """The onboarding DAG of one spec: shared steps once, then one task group per object."""
    common: dict[str, Any] = {"aep_conn_id": spec.aep_conn_id, "sandbox": spec.sandbox}
    with DAG(**_dag_kwargs(spec, source_file)) as dag:
        chosen = select_objects([{"slug": obj.slug, "source": obj.source} for obj in spec.objects])
        hubspot = AepCreateHubSpotBaseConnectionOperator(
            task_id="hubspot_base_connection", name=spec.hubspot.name,
            hubspot_conn_id=spec.hubspot.conn_id, base_connection_id=spec.hubspot.base_connection_id, **common,
        )
        dataset_base = AepCreateDatasetBaseConnectionOperator(
            task_id="dataset_base_connection", name=dataset_base_connection_name(spec), **common
        )
        flow_spec = AepGetFlowSpecOperator(task_id="flow_spec", name="CRMToAEP", **common)
        if spec.layout == "batched":
            _batched_tasks(spec, chosen, hubspot, dataset_base, flow_spec)
            return dag
        for obj in spec.objects:
            _object_group(spec, obj, chosen, hubspot, dataset_base, flow_spec)
        if spec.discover is not None:
            _discovery_group(spec, spec.discover, hubspot, dataset_base, flow_spec)
    return dag
