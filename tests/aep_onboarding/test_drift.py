"""``on_drift``: what a run does with resources that exist with other settings (``warn``, ``fail``, ``update``).

Protects: with ``update``, a changed mapping becomes a new mapping-set version and the flow moves to it, so the
next window's records are mapped the new way while the earlier window's stay as they were; a changed schedule is
patched onto the live flow; with ``warn`` (the default) nothing changes and the run still succeeds; a flow made
without ``options`` (as the release of 2026-12-01 made flows) is named by the plan with what its runs do meanwhile,
and ``update`` patches ``/options`` so its runs tolerate the spec's share of failed records.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from expected_records import expected_records, records_by_id

from aep_emulator.testing import EmulatorServer
from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import DEFAULT_SPECS_DIR, load_spec, parse_spec
from aep_onboarding.names import object_names

HUBSPOT_CONN = {
    "conn_type": "generic", "login": "hubspot-client", "password": "hubspot-secret-value",
    "extra": {"access_token": "hubspot-access-value", "refresh_token": "hubspot-refresh-value"},
}
WINDOWS_SPEC = """
name: contacts_drift
hubspot: {{conn_id: hubspot_default}}
ingestion: airflow
schedule: "@daily"
start_date: 2025-12-01
retries: 0
sensor_poll_seconds: 0.2
layout: {layout}
on_drift: {on_drift}
objects:
  - source: Hubspot.Contacts
    delta_column: Added_At
    mapping:
{rules}
"""
OLD_RULES = [("Vid", "_id"), ("Properties_Firstname_Value", "person.name.firstName")]
NEW_RULES = [*OLD_RULES, ("Properties_Lastname_Value", "person.name.lastName")]


@pytest.fixture
def platform(airflow_db, aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", json.dumps(HUBSPOT_CONN))
    return aep_conn_env


def _text(rules: list[tuple[str, str]], on_drift: str, layout: str) -> str:
    lines = "\n".join(f"      - {{source: {s}, destination: {d}}}" for s, d in rules)
    return WINDOWS_SPEC.format(rules=lines, on_drift=on_drift, layout=layout)


def _day(day: int) -> datetime:
    return datetime(2025, 12, day, tzinfo=timezone.utc)


def _resource(emulator: EmulatorServer, kind: str, name: str) -> str:
    return next(r["id"] for r in emulator.admin.state()["resources"] if r["kind"] == kind and r["name"] == name)


def _get(emulator: EmulatorServer, path: str) -> Any:
    import requests

    answer = requests.get(f"{emulator.base_url}{path}", headers=emulator.headers(), timeout=10)
    answer.raise_for_status()
    return answer.json()


def _window(records: dict[str, dict[str, Any]], rules: list[tuple[str, str]], start: int, end: int) -> tuple:
    expected = expected_records("Hubspot.Contacts", rules, delta_column="Added_At", window=(_day(start), _day(end)))
    return {key: records.get(key) for key in expected}, expected


@pytest.mark.parametrize("layout", ["per_object", "batched"])
def test_update_moves_the_flow_to_a_new_mapping_version_and_maps_the_next_window_the_new_way(
    platform: EmulatorServer, tmp_path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    spec_file = tmp_path / "contacts_drift.yaml"
    monkeypatch.setenv("AEP_SPECS_DIR", str(tmp_path))
    spec_file.write_text(_text(OLD_RULES, "update", layout))
    spec = parse_spec(spec_file.read_text())
    assert build_onboarding_dag(spec).test(logical_date=_day(2)).state == "success"  # window Dec 1
    names = object_names(spec, spec.objects[0])
    mapping_id = _resource(platform, "mappingSet", names.mapping_set)
    flow_id = _resource(platform, "flow", names.dataflow)

    spec_file.write_text(_text(NEW_RULES, "update", layout))
    changed = parse_spec(spec_file.read_text())
    assert build_onboarding_dag(changed).test(logical_date=_day(3)).state == "success"  # window Dec 2

    mapping = _get(platform, f"/data/foundation/conversion/mappingSets/{mapping_id}")
    assert mapping["version"] == 1, "the changed mapping is a new version of the same mapping set"
    flow = _get(platform, f"/data/foundation/flowservice/flows/{flow_id}")["items"][0]
    params = next(t["params"] for t in flow["transformations"] if t["name"] == "Mapping")
    assert (params["mappingId"], str(params["mappingVersion"])) == (mapping_id, "1")

    records = records_by_id(platform.admin.records(_resource(platform, "dataset", names.dataset)))
    first, first_expected = _window(records, OLD_RULES, 1, 2)
    second, second_expected = _window(records, NEW_RULES, 2, 3)
    assert first_expected and second_expected
    assert first == first_expected, "the earlier window keeps the old mapping"
    assert second == second_expected, "the next window is mapped the new way"
    assert any("lastName" in str(record) for record in second.values())


def test_warn_keeps_the_live_mapping_and_the_run_succeeds(
    platform: EmulatorServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec_file = tmp_path / "contacts_drift.yaml"
    monkeypatch.setenv("AEP_SPECS_DIR", str(tmp_path))
    spec_file.write_text(_text(OLD_RULES, "warn", "batched"))
    spec = parse_spec(spec_file.read_text())
    assert build_onboarding_dag(spec).test(logical_date=_day(2)).state == "success"
    spec_file.write_text(_text(NEW_RULES, "warn", "batched"))
    assert build_onboarding_dag(parse_spec(spec_file.read_text())).test(logical_date=_day(3)).state == "success"
    names = object_names(spec, spec.objects[0])
    mapping = _get(platform, f"/data/foundation/conversion/mappingSets/{_resource(platform, 'mappingSet', names.mapping_set)}")
    assert mapping["version"] == 0
    records = records_by_id(platform.admin.records(_resource(platform, "dataset", names.dataset)))
    second, second_expected = _window(records, OLD_RULES, 2, 3)
    assert second == second_expected, "warn: the live mapping still maps the next window"


def test_update_patches_a_changed_schedule_onto_the_live_flow_and_enables_it(platform: EmulatorServer) -> None:
    spec = load_spec(DEFAULT_SPECS_DIR / "hubspot_marketing.yaml").model_copy(
        update={"retries": 0, "sensor_poll_seconds": 0.2, "layout": "batched"})
    spec = spec.model_copy(update={"objects": spec.objects[:1]})
    assert build_onboarding_dag(spec).test(logical_date=None).state == "success"
    flow_id = _resource(platform, "flow", object_names(spec, spec.objects[0]).dataflow)
    import requests

    # A disabled flow (help/destinations/api/update-destination-dataflows.md, op=disable) is enabled again too.
    requests.post(f"{platform.base_url}/data/foundation/flowservice/flows/{flow_id}/action", params={"op": "disable"},
                  headers=platform.headers(), timeout=10).raise_for_status()
    before = _get(platform, f"/data/foundation/flowservice/flows/{flow_id}")["items"][0]
    assert before["state"] == "disabled"
    changed = spec.model_copy(update={"on_drift": "update",
                                      "flow_schedule": spec.flow_schedule.model_copy(update={"interval": 3})})
    assert build_onboarding_dag(changed).test(logical_date=None).state == "success"
    after = _get(platform, f"/data/foundation/flowservice/flows/{flow_id}")["items"][0]
    assert str(before["scheduleParams"]["interval"]) == "1"
    assert str(after["scheduleParams"]["interval"]) == "3"
    assert after["etag"] != before["etag"]
    assert after["state"] == "enabled"


OPTIONS_SPEC = """
name: contacts_options
hubspot: {{conn_id: hubspot_default}}
ingestion: airflow
schedule: "@monthly"
start_date: 2025-01-01
retries: 0
sensor_poll_seconds: 0.2
layout: batched
on_drift: {on_drift}
{tolerance}
objects:
  - source: Hubspot.Contacts
    delta_column: Updated_At
    mapping:
      - {{source: Vid, destination: _id}}
      - {{source: Properties_Birthyear_Value, destination: person.birthYear}}
"""


def _plan_of(run: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """The ``plan`` task's XCom of a finished run."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=run.run_id, key="return_value", dag_ids=run.dag_id,
                                                  task_ids="plan")).all()
        return XComModel.deserialize_value(rows[0])


def _failed(run: Any) -> list[str]:
    return sorted(ti.task_id for ti in run.get_task_instances() if str(ti.state) == "failed")


def test_a_flow_made_without_options_is_named_by_the_plan_warned_about_and_fixed_by_update(
    platform: EmulatorServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flow made by the release of 2026-12-01 had no ``options``. Adopted by a spec that asks for
    ``partialIngestionPercent`` 15 (a failed-record tolerance of 0.15), the plan names the difference and what the
    flow's runs do meanwhile; ``warn`` leaves the flow as it is, so November's run, one birth year in ten not a
    number, fails (partial.md: no tolerance without the option); ``update`` patches ``/options`` as partial.md shows
    and the same window then ingests every good record."""
    monkeypatch.setenv("AEP_SPECS_DIR", str(tmp_path))
    spec_file = tmp_path / "contacts_options.yaml"
    december = datetime(2025, 12, 1, tzinfo=timezone.utc)  # the window of November

    spec_file.write_text(OPTIONS_SPEC.format(on_drift="warn", tolerance=""))
    old = parse_spec(spec_file.read_text())
    first = build_onboarding_dag(old).test(logical_date=december)
    assert _failed(first) == ["wait_window"], "no tolerance: November's run fails"
    names = object_names(old, old.objects[0])
    flow_id = _resource(platform, "flow", names.dataflow)
    assert "options" not in _get(platform, f"/data/foundation/flowservice/flows/{flow_id}")["items"][0]

    spec_file.write_text(OPTIONS_SPEC.format(on_drift="warn", tolerance="failed_record_tolerance: 0.15"))
    warned = build_onboarding_dag(parse_spec(spec_file.read_text())).test(logical_date=december)
    [entry] = [resources["dataflow"] for resources in _plan_of(warned).values()]
    assert (entry["action"], entry["id"], entry["update"]) == ("differs", flow_id, False)
    assert entry["differences"] == [
        "options.partialIngestionPercent: None -> 15 (until this is applied, AEP fails every run with a failed "
        "record and writes none of its records)",
        "options.errorDiagnosticsEnabled: None -> True"]
    assert _failed(warned) == ["wait_window"], "warn: the flow keeps no options; AEP fails the run, as the plan said"
    assert "options" not in _get(platform, f"/data/foundation/flowservice/flows/{flow_id}")["items"][0]

    spec_file.write_text(OPTIONS_SPEC.format(on_drift="update", tolerance="failed_record_tolerance: 0.15"))
    updated = build_onboarding_dag(parse_spec(spec_file.read_text())).test(logical_date=december)
    [entry] = [resources["dataflow"] for resources in _plan_of(updated).values()]
    assert entry["update"] is True
    assert updated.state == "success"
    flow = _get(platform, f"/data/foundation/flowservice/flows/{flow_id}")["items"][0]
    assert flow["options"] == {"partialIngestionPercent": 15, "errorDiagnosticsEnabled": True}
    records = platform.admin.records(_resource(platform, "dataset", names.dataset))
    assert records and all(isinstance(r["person"]["birthYear"], int) for r in records if "person" in r)
