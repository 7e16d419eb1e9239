"""The run summary and the asset events of whole DAG runs against the emulator (``dag.test()``): every resource
the registry lists is named with its id, created or reused and its link, from the tasks' recorded outcomes; the
object's dataset gets an asset event on its one identity - ``aep://<org>/<sandbox>/datasets/<id>`` - only when this
DAG run ingested records into it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aep_emulator.testing import DEMO_ORG_ID, EmulatorServer
from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import DEFAULT_SPECS_DIR, load_spec
from aep_onboarding.names import object_names
from aep_onboarding.steps import object_resources
from aep_provider.lineage import dataset_uri

HUBSPOT_CONN = {
    "conn_type": "generic", "login": "hubspot-client", "password": "hubspot-secret-value",
    "extra": {"access_token": "hubspot-access-value", "refresh_token": "hubspot-refresh-value"},
}


@pytest.fixture
def platform(airflow_db: Any, aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", json.dumps(HUBSPOT_CONN))
    return aep_conn_env


def _summary(run: Any) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=run.run_id, key="return_value", dag_ids=run.dag_id,
                                                  task_ids="run_summary")).all()
        assert rows, "run_summary pushed no summary"
        return XComModel.deserialize_value(rows[0])


def _asset_event_uris(dag_id: str, run_id: str) -> list[str]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(AssetEvent).filter(AssetEvent.source_dag_id == dag_id,
                                                  AssetEvent.source_run_id == run_id).all()
        return sorted(event.asset.uri for event in events)


def test_the_summary_names_every_resource_and_the_asset_event_is_on_the_datasets_identity(
    platform: EmulatorServer,
) -> None:
    spec = load_spec(DEFAULT_SPECS_DIR / "hubspot_marketing.yaml")
    spec = spec.model_copy(update={"retries": 0, "sensor_poll_seconds": 0.2})
    obj = spec.objects[0]
    names = object_names(spec, obj)
    run = build_onboarding_dag(spec).test(logical_date=None)
    assert run.state == "success"
    summary = _summary(run)

    rows = {row["step"]: row for row in summary["objects"][obj.slug]["resources"]}
    ids = {(r["kind"], r["name"]): r["id"] for r in platform.admin.state()["resources"]}
    for step, resource in object_resources():
        row = rows[step]
        assert (row["label"], row["name"], row["created"]) == (resource.label, names[step], True), row
        assert row["id"] and row["link"].startswith("https://experience.adobe.com/"), row
    assert rows["dataset"]["id"] == ids[("dataset", names.dataset)]
    assert {row["kind"] for row in summary["shared"]} == {"HubSpot base connection", "dataset base connection"}
    [first_run] = summary["objects"][obj.slug]["flow_runs"]
    assert first_run["first"] and first_run["output_records"] > 0

    uri = dataset_uri(DEMO_ORG_ID, "prod", rows["dataset"]["id"])
    event = summary["asset_events"][obj.slug]
    assert (event["uri"], event["dataset_id"], event["dataset_name"]) == (uri, rows["dataset"]["id"], names.dataset)
    assert uri in _asset_event_uris(spec.dag_id, run.run_id)

    # A second run, of the first object only, reuses everything and ingests nothing: every row reused, no asset
    # event; the objects its `objects` param left out are said to be left out, not to have had no run.
    again = build_onboarding_dag(spec).test(logical_date=None, run_conf={"objects": [obj.source]})
    assert again.state == "success"
    summary = _summary(again)
    assert not [r for r in summary["objects"][obj.slug]["resources"] if r["created"]]
    assert summary["asset_events"] == {} and _asset_event_uris(spec.dag_id, again.run_id) == []
    assert {slug: o["selected"] for slug, o in summary["objects"].items()} == {
        other.slug: other.slug == obj.slug for other in spec.objects}
