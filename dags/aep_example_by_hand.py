"""Airflow DAG file: the AEP operators composed by hand, without a spec or the DAG factory.

One HubSpot table (contacts) into one AEP dataset, then every day's new rows as an on-demand run of that
day's window, waited for on the triggerer. Each operator makes one Platform call (the nine calls of a
HubSpot onboarding), looks up what it is about to create first, and reuses it: a retry, a cleared task or
the next day's run creates nothing twice. IDs travel through XCom: a shared step (the base connections,
the flow spec) returns a plain id, a per-object step returns ``{key: id}``, joined into the next step
with ``inputs``. Nothing is read at parse time: the connections are looked up when a task runs.

Copy it into a DAG of your own: change the connection ids, the table, the names and the mapping.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, CronDataIntervalTimetable

from aep_provider.operators.connections import (
    AepCreateDatasetBaseConnectionOperator,
    AepCreateHubSpotBaseConnectionOperator,
    AepCreateSourceConnectionOperator,
    AepCreateTargetConnectionOperator,
)
from aep_provider.operators.dataset import AepCreateDatasetOperator
from aep_provider.operators.flow import AepCreateDataflowOperator, AepGetFlowSpecOperator, AepRunFlowOperator
from aep_provider.operators.mapping import AepCreateMappingSetOperator
from aep_provider.operators.schema import (
    AepCreateAdhocClassOperator,
    AepCreateAdhocSchemaOperator,
    AepCreateTargetSchemaOperator,
)
from aep_provider.sensors.flow_run import AepFlowRunSensor

AEP = {"aep_conn_id": "aep_default"}  # the adobe_experience_platform connection (sandbox in its extra)
TABLE = "Hubspot.Contacts"
DELTA_COLUMN = "Added_At"  # the column whose time selects a window's rows
START = datetime(2025, 12, 1, tzinfo=timezone.utc)
MAPPING = [
    {"source": "Vid", "destination": "_id"},
    {"source": "Properties_Firstname_Value", "destination": "person.name.firstName"},
    {"source": "Properties_Lastname_Value", "destination": "person.name.lastName"},
    {"source": "Properties_Email_Value", "destination": "personalEmail.address"},
]

with DAG(
    dag_id="aep_example_by_hand",
    description="HubSpot contacts into AEP, composed from the aep_provider operators by hand",
    # Data intervals (a plain "@daily" has none in Airflow 3): each run's window is the day before it.
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(seconds=30), "retry_exponential_backoff": True},
    tags=["aep", "example"],
    doc_md=__doc__,
) as dag:
    hubspot = AepCreateHubSpotBaseConnectionOperator(
        task_id="hubspot_base_connection", name="HubSpot base connection", hubspot_conn_id="hubspot_default",
        **AEP,
    )
    source_class = AepCreateAdhocClassOperator(  # its fields are read from the table (explore)
        task_id="source_class", title="by_hand Contacts source class",
        base_connection_id=hubspot.output, source_path=TABLE, **AEP,
    )
    source_schema = AepCreateAdhocSchemaOperator(
        task_id="source_schema", title="by_hand Contacts source schema",
        inputs={"class_id": source_class.output}, **AEP,
    )
    source = AepCreateSourceConnectionOperator(
        task_id="source_connection", name="by_hand Contacts source", path=TABLE,
        base_connection_id=hubspot.output, inputs={"schema_id": source_schema.output}, **AEP,
    )
    target_schema = AepCreateTargetSchemaOperator(  # XDM Individual Profile with person and personal details
        task_id="target_schema", title="by_hand Contacts profile schema", **AEP,
    )
    dataset = AepCreateDatasetOperator(
        task_id="dataset", name="by_hand Contacts dataset",
        inputs={"schema_id": target_schema.output}, **AEP,
    )
    dataset_base = AepCreateDatasetBaseConnectionOperator(
        task_id="dataset_base_connection", name="by_hand dataset base connection", **AEP,
    )
    target = AepCreateTargetConnectionOperator(
        task_id="target_connection", name="by_hand Contacts target",
        base_connection_id=dataset_base.output,
        inputs={"schema_id": target_schema.output, "dataset_id": dataset.output}, **AEP,
    )
    mapping = AepCreateMappingSetOperator(
        task_id="mapping_set", name="by_hand Contacts mapping", mappings=MAPPING,
        inputs={"schema_id": target_schema.output}, **AEP,
    )
    flow_spec = AepGetFlowSpecOperator(task_id="flow_spec", **AEP)
    dataflow = AepCreateDataflowOperator(
        task_id="dataflow", name="by_hand Contacts dataflow", flow_spec_id=flow_spec.output,
        delta_column=DELTA_COLUMN,
        # A one-time flow: AEP starts on-demand runs only for those. Its own run takes the rows before START.
        schedule={"frequency": "once", "start_time": START.isoformat()},
        inputs={
            "source_connection_id": source.output, "target_connection_id": target.output,
            "mapping_id": mapping.output, "mapping_version": mapping.output["mapping_version"],
        },
        **AEP,
    )
    # Every DAG run asks AEP for one run of its data interval (a backfill: one run per day) ...
    ingest_window = AepRunFlowOperator(
        task_id="ingest_window",
        inputs={"flow_id": dataflow.output},
        window_start="{{ data_interval_start }}",
        window_end="{{ data_interval_end }}",
        delta_column=DELTA_COLUMN,
        **AEP,
    )
    # ... and waits for it on the triggerer (no worker slot), failing if any record failed.
    wait_window = AepFlowRunSensor(
        task_id="wait_window",
        flow_id=dataflow.output,
        run_id=ingest_window.output,
        deferrable=True,
        poll_interval=30,
        timeout=3600,
        failed_record_tolerance=0.0,
        **AEP,
    )
