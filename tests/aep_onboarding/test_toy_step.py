"""A toy step added by following docs/architecture.md, "How to add an onboarding step": one entry in
aep_onboarding/steps.py, and the step is wired in both layouts with its plan entry and the write lease, named (and
renamable in the spec), planned, created, reused and reported - with no other edit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aep_emulator.testing import EmulatorServer
from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import DEFAULT_SPECS_DIR, load_spec, parse_spec
from aep_onboarding.names import object_names

HUBSPOT_CONN = {
    "conn_type": "generic", "login": "hubspot-client", "password": "hubspot-secret-value",
    "extra": {"access_token": "hubspot-access-value", "refresh_token": "hubspot-refresh-value"},
}


def _xcom(run: Any, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=run.run_id, key="return_value", dag_ids=run.dag_id,
                                                  task_ids=task_id)).all()
        return XComModel.deserialize_value(rows[0])


@pytest.mark.parametrize("layout", ["per_object", "batched"])
def test_the_toy_step_is_wired_with_its_plan_entry_and_the_write_lease(layout: str) -> None:
    spec = load_spec(DEFAULT_SPECS_DIR / "hubspot_marketing.yaml").model_copy(update={"layout": layout})
    dag = build_onboarding_dag(spec)
    toy = dag.get_task("contacts.toy_dataset" if layout == "per_object" else "toy_dataset")
    target = "contacts.target_schema" if layout == "per_object" else "target_schema"
    assert {target, "plan"} <= toy.upstream_task_ids
    assert toy.inputs["planned"].key == "plan.toy_dataset" and toy.write_lease.key == "plan.lease"
    assert "release_write_lease" in toy.downstream_task_ids


def test_the_toy_resource_is_named_and_renamable_in_the_spec() -> None:
    spec = parse_spec("name: toy\nhubspot: {conn_id: h}\nobjects:\n  - source: Hubspot.Contacts\n"
                      "    delta_column: Added_At\n    mapping: [{source: Vid, destination: _id}]\n"
                      "  - source: Hubspot.Companies\n    delta_column: Added_At\n"
                      "    mapping: [{source: Company_Id, destination: _id}]\n    names: {toy_dataset: my toys}\n")
    assert [object_names(spec, obj)["toy_dataset"] for obj in spec.objects] == ["toy Contacts toy dataset", "my toys"]


def test_the_toy_dataset_is_planned_created_reused_and_reported(
    airflow_db: Any, aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", json.dumps(HUBSPOT_CONN))
    spec = load_spec(DEFAULT_SPECS_DIR / "hubspot_marketing.yaml")
    spec = spec.model_copy(update={"retries": 0, "sensor_poll_seconds": 0.2})
    name = object_names(spec, spec.objects[0])["toy_dataset"]
    dry = build_onboarding_dag(spec).test(logical_date=None, run_conf={"plan_only": True})
    assert _xcom(dry, "plan")["contacts"]["toy_dataset"]["action"] == "create"

    run = build_onboarding_dag(spec).test(logical_date=None)
    assert run.state == "success"
    made = {r["name"]: r["id"] for r in aep_conn_env.admin.state()["resources"] if r["kind"] == "dataset"}
    rows = {r["step"]: r for r in _xcom(run, "run_summary")["objects"]["contacts"]["resources"]}
    assert (rows["toy_dataset"]["label"], rows["toy_dataset"]["id"], rows["toy_dataset"]["created"]) == (
        "toy dataset", made[name], True)

    dry = build_onboarding_dag(spec).test(logical_date=None, run_conf={"plan_only": True})
    entry = _xcom(dry, "plan")["contacts"]["toy_dataset"]
    assert (entry["action"], entry["id"]) == ("reuse", made[name])
