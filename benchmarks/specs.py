"""Generated benchmark inputs: an onboarding spec with N objects, and the dag-factory YAML of the same DAG.

The dag-factory YAML is written by hand from the same spec, mirroring
``aep_onboarding.factory`` task by task: the same ``aep_provider`` operator
classes with the same arguments, one task group per object and the same
dependencies. Two things differ because dag-factory cannot express them:

* classic operators get upstream IDs as Jinja ``xcom_pull`` templates plus an
  explicit ``dependencies`` list (dag-factory passes ``+task`` XComArgs only to
  TaskFlow tasks), where our factory passes ``XComArg`` objects;
* the per-object ``selected`` gate is the classic ``ShortCircuitOperator``
  (the class our ``@task.short_circuit`` builds on), because dag-factory 1.1
  cannot name a TaskFlow task inside a group in ``dependencies``;
* task keys must be unique across the whole file, so a grouped task is keyed
  ``<group>__<task>`` and its id is ``<group>.<group>__<task>`` instead of
  ``<group>.<task>``.

``shape()`` (used by the parse benchmark's child) reduces a DAG to its
operator classes, groups and edges with those names normalised, so the
benchmark can check that both sides built the same graph.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

# The emulator's simulated HubSpot tables: (source, id column, a string column).
REAL_TABLES: tuple[tuple[str, str, str], ...] = (
    ("Hubspot.Contacts", "Vid", "Properties_Firstname_Value"),
    ("Hubspot.Companies", "Company_Id", "Properties_Name_Value"),
    ("Hubspot.All_Deals", "Deal_Id", "Properties_Dealname_Value"),
    ("Hubspot.Tickets", "Ticket_Id", "Properties_Subject_Value"),
    ("Hubspot.Owners", "Owner_Id", "First_Name"),
    ("Hubspot.Blog_Comments", "Id", "User_Name"),
    ("Hubspot.Blog_Authors", "Id", "Full_Name"),
)
CALLABLES = "benchmarks._dagfactory_callables"


def bench_objects(n: int) -> list[dict[str, Any]]:
    """N distinct objects with explicit fields (no explore call), one identity-free mapping each.

    The first seven are the emulator's real tables; beyond them the sources are
    ``Hubspot.Contacts_<i>`` (same columns as Contacts).
    """
    objects: list[dict[str, Any]] = []
    for i in range(n):
        if i < len(REAL_TABLES):
            source, id_col, name_col = REAL_TABLES[i]
        else:
            source, id_col, name_col = f"Hubspot.Contacts_{i:03d}", "Vid", "Properties_Firstname_Value"
        objects.append({
            "source": source,
            "fields": {id_col: "integer", name_col: "string", "Added_At": "date-time"},
            "delta_column": "Added_At",
            "mapping": [
                {"source": id_col, "destination": "_id"},
                {"source": name_col, "destination": "person.name.fullName"},
            ],
        })
    return objects


def spec_dict(name: str, n: int, sensor_poll_seconds: float = 1.0, layout: str = "per_object",
              ingestion: str = "airflow") -> dict[str, Any]:
    """``ingestion: airflow`` (the default): one-time flows, one on-demand run per data interval, scheduled so every
    run has a data interval for `ingest_window`. ``ingestion: aep``: flows on AEP's own schedule (day, interval 1,
    backfill: the flow the aepp script creates), no window run - the like-for-like request comparison."""
    extra: dict[str, Any] = {"layout": layout} if layout != "per_object" else {}
    return {
        "name": name,
        "description": f"benchmark spec with {n} objects",
        "hubspot": {"conn_id": "hubspot_default"},
        "ingestion": ingestion,
        "schedule": "@daily",
        "sensor_poll_seconds": sensor_poll_seconds,
        **extra,
        "objects": bench_objects(n),
    }


def write_spec(folder: Path, name: str, n: int, layout: str = "per_object", ingestion: str = "airflow") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec_dict(name, n, layout=layout, ingestion=ingestion), sort_keys=False))
    return path


def _xcom(task_id: str, key: str | None = None) -> str:
    extra = f", key='{key}'" if key else ""
    return "{{ ti.xcom_pull(task_ids='" + task_id + "'" + extra + ") }}"


def dagfactory_config(spec_path: Path) -> dict[str, Any]:
    """The dag-factory configuration of the DAG our factory builds from ``spec_path``."""
    from aep_onboarding.loader import load_spec
    from aep_onboarding.names import object_names, shared_name
    from aep_onboarding.steps import DATASET_BASE

    spec = load_spec(spec_path)
    ops = "aep_provider.operators."
    common = {"aep_conn_id": spec.aep_conn_id, **({"sandbox": spec.sandbox} if spec.sandbox else {})}
    tasks: dict[str, dict[str, Any]] = {
        "select_objects": {
            "decorator": "airflow.sdk.task",
            "python_callable": f"{CALLABLES}.select_objects",
            "available": [{"slug": o.slug, "source": o.source} for o in spec.objects],
        },
        "hubspot_base_connection": {
            "operator": ops + "connections.AepCreateHubSpotBaseConnectionOperator",
            "name": spec.hubspot.name, "hubspot_conn_id": spec.hubspot.conn_id,
            "base_connection_id": spec.hubspot.base_connection_id, **common,
        },
        "dataset_base_connection": {
            "operator": ops + "connections.AepCreateDatasetBaseConnectionOperator",
            "name": shared_name(spec, DATASET_BASE), **common,
        },
        "flow_spec": {"operator": ops + "flow.AepGetFlowSpecOperator", "name": "CRMToAEP", **common},
    }
    groups: dict[str, dict[str, Any]] = {}
    for obj in spec.objects:
        g = obj.slug
        names = object_names(spec, obj)
        groups[g] = {"tooltip": f"Onboard {obj.source}"}

        def key(local: str, g: str = g) -> str:
            return f"{g}__{local}"

        def tid(local: str, g: str = g) -> str:
            return f"{g}.{g}__{local}"

        grouped = {"task_group_name": g}
        # A TaskFlow task inside a group cannot be named in `dependencies` (dag-factory 1.1 keys it by
        # its bare name but looks it up as <group>.<name>), so the gate is the classic operator.
        tasks[key("selected")] = {
            "operator": "airflow.providers.standard.operators.python.ShortCircuitOperator",
            "python_callable": f"{CALLABLES}.selected", "ignore_downstream_trigger_rules": True,
            "op_kwargs": {"slug": g, "chosen": _xcom("select_objects")}, **grouped,
            "dependencies": ["select_objects"],
        }
        # Read-only check of the table and the columns the object uses, before any write for it.
        used = sorted({*(obj.fields if isinstance(obj.fields, dict) else []), *(r.source for r in obj.mapping),
                       obj.delta_column})
        tasks[key("check_source")] = {
            "operator": ops + "explore.AepExploreSourceOperator",
            "base_connection_id": _xcom("hubspot_base_connection"), "object_path": obj.source,
            "required_columns": used, **common, **grouped,
            "dependencies": [key("selected"), "hubspot_base_connection"],
        }
        adhoc_class: dict[str, Any] = {
            "operator": ops + "schema.AepCreateAdhocClassOperator", "title": names.adhoc_class, **common, **grouped,
            "dependencies": [key("check_source")],
        }
        if obj.fields == "discover":
            adhoc_class.update(base_connection_id=_xcom("hubspot_base_connection"), source_path=obj.source)
            adhoc_class["dependencies"] = [key("check_source"), "hubspot_base_connection"]
        else:
            adhoc_class["fields"] = dict(obj.fields)
        tasks[key("adhoc_class")] = adhoc_class
        tasks[key("adhoc_schema")] = {
            "operator": ops + "schema.AepCreateAdhocSchemaOperator", "title": names.adhoc_schema,
            "class_id": _xcom(tid("adhoc_class")), **common, **grouped, "dependencies": [key("adhoc_class")],
        }
        tasks[key("source_connection")] = {
            "operator": ops + "connections.AepCreateSourceConnectionOperator", "name": names.source_connection,
            "base_connection_id": _xcom("hubspot_base_connection"), "schema_id": _xcom(tid("adhoc_schema")),
            "path": obj.source, **common, **grouped,
            "dependencies": ["hubspot_base_connection", key("adhoc_schema")],
        }
        tasks[key("target_schema")] = {
            "operator": ops + "schema.AepCreateTargetSchemaOperator", "title": names.target_schema,
            "class_ref": obj.target_schema.class_ref, "field_groups": list(obj.target_schema.field_groups),
            **common, **grouped, "dependencies": [key("check_source")],
        }
        tasks[key("dataset")] = {
            "operator": ops + "dataset.AepCreateDatasetOperator", "name": names.dataset,
            "schema_id": _xcom(tid("target_schema")), **common, **grouped, "dependencies": [key("target_schema")],
        }
        tasks[key("mapping_set")] = {
            "operator": ops + "mapping.AepCreateMappingSetOperator", "name": names.mapping_set,
            "schema_id": _xcom(tid("target_schema")), "mappings": [r.model_dump() for r in obj.mapping],
            **common, **grouped, "dependencies": [key("target_schema")],
        }
        tasks[key("target_connection")] = {
            "operator": ops + "connections.AepCreateTargetConnectionOperator", "name": names.target_connection,
            "base_connection_id": _xcom("dataset_base_connection"), "schema_id": _xcom(tid("target_schema")),
            "dataset_id": _xcom(tid("dataset")), **common, **grouped,
            "dependencies": ["dataset_base_connection", key("target_schema"), key("dataset")],
        }
        tasks[key("dataflow")] = {
            "operator": ops + "flow.AepCreateDataflowOperator", "name": names.dataflow,
            "flow_spec_id": _xcom("flow_spec"), "source_connection_id": _xcom(tid("source_connection")),
            "target_connection_id": _xcom(tid("target_connection")), "mapping_id": _xcom(tid("mapping_set")),
            "mapping_version": _xcom(tid("mapping_set"), "mapping_version"), "delta_column": obj.delta_column,
            "schedule": spec.flow_schedule_params(), "options": spec.flow_options(), **common, **grouped,
            "dependencies": ["flow_spec", key("source_connection"), key("target_connection"), key("mapping_set")],
        }
        # Our DAGs name a dataset's asset by its id, known at run time (run_summary emits through an alias); a
        # static outlet stands for it here.
        uri = f"aep://{spec.name}/{obj.slug}"
        sensor = {
            "operator": "aep_provider.sensors.flow_run.AepFlowRunSensor", "flow_id": _xcom(tid("dataflow")),
            "failed_record_tolerance": spec.failed_record_tolerance, "poll_interval": spec.sensor_poll_seconds,
            "outlets": [uri], **common, **grouped,
        }
        tasks[key("wait_first_run")] = {**sensor, "which": "first", "dependencies": [key("dataflow")]}
        tasks[key("ingest_window")] = {
            "operator": ops + "flow.AepRunFlowOperator", "flow_id": _xcom(tid("dataflow")),
            "window_start": "{{ data_interval_start.isoformat() if data_interval_start else '' }}",
            "window_end": "{{ data_interval_end.isoformat() if data_interval_end else '' }}",
            "delta_column": obj.delta_column, **common, **grouped,
            "dependencies": [key("dataflow"), key("wait_first_run")],
        }
        tasks[key("wait_window")] = {
            **sensor, "run_id": _xcom(tid("ingest_window")),
            "dependencies": [key("dataflow"), key("ingest_window")],
        }
    dag: dict[str, Any] = {
        "description": (spec.description or f"Onboard HubSpot objects into AEP ({spec.name})")[:200],
        "schedule": spec.schedule,
        "catchup": spec.catchup,
        "max_active_runs": 1,
        "tags": ["aep", "hubspot", *spec.tags],
        "params": {"objects": []},
        "default_args": {
            "start_date": spec.start_date.isoformat(),
            "retries": spec.retries,
            "retry_delay": spec.retry_delay_seconds,
            "retry_exponential_backoff": True,
            "max_retry_delay": spec.max_retry_delay_seconds,
            "pool": spec.pool,
        },
        "task_groups": groups,
        "tasks": tasks,
    }
    return {spec.dag_id: dag}


def write_dagfactory_yaml(spec_path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec_path.stem}.dagfactory.yml"
    path.write_text(yaml.safe_dump(dagfactory_config(spec_path), sort_keys=False, width=200))
    return path


OURS_DAG_FILE = '''"""Airflow DAG file: our factory, one DAG per spec in $AEP_SPECS_DIR (copy of dags/aep_onboarding_dags.py)."""
from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import iter_specs

for loaded in iter_specs():
    if loaded.spec is not None:
        globals()[loaded.spec.dag_id] = build_onboarding_dag(loaded.spec, source_file=loaded.path.name)
'''

DAGFACTORY_DAG_FILE = '''"""Airflow DAG file: dag-factory loading {config}."""
from dagfactory import load_yaml_dags

load_yaml_dags(globals_dict=globals(), config_filepath={config!r})
'''


def shape(dag: Any) -> dict[str, Any]:
    """Operator classes, task groups and edges of a DAG, with dag-factory's ``<g>.<g>__x`` read as ``<g>.x``."""

    def norm(task_id: str) -> str:
        if "." in task_id:
            group, local = task_id.split(".", 1)
            return f"{group}.{local.removeprefix(group + '__')}"
        return task_id

    aliases = {"_ShortCircuitDecoratedOperator": "ShortCircuitOperator"}
    tasks = {norm(t.task_id): aliases.get(type(t).__name__, type(t).__name__) for t in dag.tasks}
    edges = sorted((norm(up), norm(t.task_id)) for t in dag.tasks for up in t.upstream_task_ids)
    groups = sorted(k for k in dag.task_group_dict if k)
    canonical = json.dumps([sorted(tasks.items()), edges, groups])
    return {"tasks": len(tasks), "edges": len(edges), "groups": len(groups),
            "signature": hashlib.sha256(canonical.encode()).hexdigest()[:16]}
