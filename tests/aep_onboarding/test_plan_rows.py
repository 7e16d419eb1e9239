"""Plan, then apply, on whole DAG runs against the emulator (``dag.test()``).

Protects what a user sees: a dry run (``plan_only``) writes nothing and plans every resource as ``create``; after
an onboarding the same dry run plans every resource as ``reuse``; a changed mapping shows as ``differs`` naming
the changed rules; a mapping typo fails the run at ``plan``, before the first write and without retries;
``on_drift: fail`` stops a drifted run before any write.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from aep_emulator.testing import EmulatorServer
from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import DEFAULT_SPECS_DIR, load_spec
from aep_onboarding.planning.table import render
from aep_onboarding.planning.task import plan_rows
from aep_onboarding.spec import OnboardingSpec
from aep_onboarding.steps import planned

HUBSPOT_CONN = {
    "conn_type": "generic", "login": "hubspot-client", "password": "hubspot-secret-value",
    "extra": {"access_token": "hubspot-access-value", "refresh_token": "hubspot-refresh-value"},
}
LAYOUTS = pytest.mark.parametrize("layout", ["per_object", "batched"])


@pytest.fixture
def platform(airflow_db, aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", json.dumps(HUBSPOT_CONN))
    return aep_conn_env


def _spec(layout: str = "per_object", **update: Any) -> OnboardingSpec:
    spec = load_spec(DEFAULT_SPECS_DIR / "hubspot_marketing.yaml")
    return spec.model_copy(update={"retries": 0, "sensor_poll_seconds": 0.2, "layout": layout, **update})


def _writes(emulator: EmulatorServer) -> int:
    return int(emulator.admin.state()["counters"]["writes"])


def _task_states(run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def _plan_of(run: Any, key: str = "return_value") -> Any:
    """The ``plan`` task's XCom (``key``) of a finished run."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=run.run_id, key=key, dag_ids=run.dag_id,
                                                  task_ids="plan")).all()
        assert rows, "the plan task pushed no plan"
        return XComModel.deserialize_value(rows[0])


def _actions(plan: dict[str, dict[str, dict[str, Any]]]) -> set[str]:
    return {entry["action"] for resources in plan.values() for entry in resources.values()}


@LAYOUTS
def test_a_dry_run_writes_nothing_and_plans_every_resource_as_create(platform: EmulatorServer, layout: str) -> None:
    spec = _spec(layout)
    before = _writes(platform)
    run = build_onboarding_dag(spec).test(logical_date=None, run_conf={"plan_only": True})
    assert _writes(platform) == before, "a dry run must write nothing"
    states = _task_states(run)
    assert states["plan"] == "success"
    assert states["hubspot_base_connection"] == "skipped", "every write is skipped after the gate"
    plan = _plan_of(run)
    assert sorted(plan) == sorted(obj.slug for obj in spec.objects)
    assert all(list(resources) == [step for step, _ in planned()] for resources in plan.values())
    assert _actions(plan) == {"create"}
    table = render(plan)
    assert f"Plan: {3 * len(planned())} to create, 0 to reuse, 0 differ." in table


def test_after_an_onboarding_the_dry_run_plans_every_resource_as_reuse_with_its_id(platform: EmulatorServer) -> None:
    spec = _spec("batched")
    assert build_onboarding_dag(spec).test(logical_date=None).state == "success"
    ids = {(r["kind"], r["name"]): r["id"] for r in platform.admin.state()["resources"]}
    before = _writes(platform)
    plan = _plan_of(build_onboarding_dag(spec).test(logical_date=None, run_conf={"plan_only": True}))
    assert _writes(platform) == before
    assert _actions(plan) == {"reuse"}
    flow = plan["contacts"]["dataflow"]
    assert ids[("flow", flow["name"])] == flow["id"]
    assert plan["contacts"]["dataset"]["id"] == ids[("dataset", plan["contacts"]["dataset"]["name"])]


def test_a_second_run_goes_by_the_plan_and_creates_nothing(platform: EmulatorServer) -> None:
    """The shared base connections too: planned ``create`` on the first run, ``reuse`` with their ids on the
    second (their steps then make no request)."""
    spec = _spec("per_object")
    first = build_onboarding_dag(spec).test(logical_date=None)
    assert first.state == "success"
    steps = ("hubspot_base_connection", "dataset_base_connection")
    assert [_plan_of(first, f"plan.{step}")["action"] for step in steps] == ["create", "create"]
    before = sorted((r["kind"], r["id"]) for r in platform.admin.state()["resources"] if r["kind"] != "run")
    second = build_onboarding_dag(spec).test(logical_date=None)
    assert second.state == "success"
    after = sorted((r["kind"], r["id"]) for r in platform.admin.state()["resources"] if r["kind"] != "run")
    assert after == before
    connections = {r["name"]: r["id"] for r in platform.admin.state()["resources"] if r["kind"] == "connection"}
    for step in steps:
        entry = _plan_of(second, f"plan.{step}")
        assert entry["action"] == "reuse" and entry["id"] == connections[entry["name"]]


def _with_mapping(spec: OnboardingSpec, slug: str, rules: list[dict[str, Any]]) -> OnboardingSpec:
    objects = []
    for obj in spec.objects:
        if obj.slug == slug:
            obj = obj.model_copy(update={"mapping": tuple(type(obj.mapping[0]).model_validate(r) for r in rules)})
        objects.append(obj)
    return spec.model_copy(update={"objects": tuple(objects)})


def test_a_changed_mapping_shows_as_differs_naming_the_changed_rules(platform: EmulatorServer) -> None:
    spec = _spec("batched")
    assert build_onboarding_dag(spec).test(logical_date=None).state == "success"
    contacts = next(obj for obj in spec.objects if obj.slug == "contacts")
    rules = [rule.model_dump() for rule in contacts.mapping if rule.destination != "homeAddress.country"]
    changed = _with_mapping(spec, "contacts", rules)
    plan = _plan_of(build_onboarding_dag(changed).test(logical_date=None, run_conf={"plan_only": True}))
    mapping = plan["contacts"]["mapping_set"]
    assert mapping["action"] == "differs"
    assert mapping["differences"] == ["mapping - Properties_Country_Value -> homeAddress.country"]
    assert plan["companies"]["mapping_set"]["action"] == "reuse"
    assert "~ mapping - Properties_Country_Value -> homeAddress.country" in render(plan)


def test_a_mapping_typo_fails_at_plan_before_any_write_and_without_retries(platform: EmulatorServer) -> None:
    spec = _spec("per_object", retries=3)
    contacts = next(obj for obj in spec.objects if obj.slug == "contacts")
    rules = [rule.model_dump() for rule in contacts.mapping]
    rules[1]["destination"] = "person.name."
    before = _writes(platform)
    run = build_onboarding_dag(_with_mapping(spec, "contacts", rules)).test(logical_date=None)
    assert run.state == "failed"
    plan_ti = next(ti for ti in run.get_task_instances() if ti.task_id == "plan")
    assert str(plan_ti.state) == "failed"
    assert plan_ti.try_number == 1, "a configuration error is not retried"
    assert _writes(platform) == before, "nothing is written before the plan passes"


def test_on_drift_fail_stops_a_drifted_run_before_any_write(platform: EmulatorServer) -> None:
    spec = _spec("batched")
    assert build_onboarding_dag(spec).test(logical_date=None).state == "success"
    changed = spec.model_copy(update={"on_drift": "fail", "flow_schedule": spec.flow_schedule.model_copy(
        update={"interval": 3})})
    before = _writes(platform)
    run = build_onboarding_dag(changed).test(logical_date=None)
    assert run.state == "failed"
    assert _task_states(run)["plan"] == "failed"
    assert _writes(platform) == before


def test_plan_rows_carry_each_objects_names_mapping_and_flow_settings() -> None:
    spec = _spec()
    rows = plan_rows(spec)
    assert [row["key"] for row in rows] == [obj.slug for obj in spec.objects]
    contacts = rows[0]
    assert contacts["names"]["dataflow"] == "hubspot_marketing Contacts dataflow"
    assert contacts["columns"] == sorted({rule.source for rule in spec.objects[0].mapping} | {"Added_At"})
    assert contacts["mappings"][0] == {"source": "Vid", "destination": "_id", "identity": False, "namespace": None}
    assert contacts["schedule"] == spec.flow_schedule_params()
