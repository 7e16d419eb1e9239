"""Flow runs: progress, ingestion correctness, window partitioning, schedules, record errors."""

from __future__ import annotations

import itertools
import time

from emulator_flows import build_connections, create_flow
from emulator_helpers import FS, Api

from aep_emulator import hubspot
from aep_emulator.testing import EmulatorServer

END = hubspot.parse_time("2026-01-01T00:00:00Z") or 0.0
YEAR = 365 * 86400


def _rows() -> list[dict]:  # type: ignore[type-arg]
    return hubspot.rows("Hubspot.Contacts", 42, "2026-01-01T00:00:00Z")


def _run(api: Api, flow_id: str, start: float, end: float) -> str:
    resp = api.post(f"{FS}/runs", {"flowId": flow_id, "params": {
        "windowStartTime": int(start), "windowEndTime": int(end), "deltaColumn": {"name": "Updated_At"}}})
    assert resp.status_code == 201, resp.text
    assert set(resp.json()) == {"id", "etag"}
    return str(resp.json()["id"])


def _get_run(api: Api, run_id: str) -> dict:  # type: ignore[type-arg]
    [run] = api.get(f"{FS}/runs/{run_id}").json()["items"]
    return run  # type: ignore[no-any-return]


def _future_flow(api: Api, **kw) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    f = build_connections(api, **kw)
    flow_id = create_flow(api, f, {"startTime": int(time.time()) + 10 * YEAR, "frequency": "day", "interval": 1})
    return f, flow_id


def test_on_demand_run_moves_scheduled_in_progress_success(emulator: EmulatorServer) -> None:
    emulator.admin.configure(run_duration_seconds=0.9)
    api = Api(emulator)
    _f, flow_id = _future_flow(api)
    run_id = _run(api, flow_id, END - 30 * 86400, END)
    run = _get_run(api, run_id)
    assert run["metrics"]["statusSummary"]["status"] == "scheduled"
    assert run["params"]["windowStartTime"] == int(END - 30 * 86400)
    time.sleep(0.35)
    assert _get_run(api, run_id)["metrics"]["statusSummary"]["status"] == "inProgress"
    time.sleep(0.6)
    run = _get_run(api, run_id)
    m = run["metrics"]
    assert m["statusSummary"]["status"] == "success"
    assert m["durationSummary"]["completedAtUTC"] >= m["durationSummary"]["startedAtUTC"]
    assert m["recordSummary"]["failedRecordCount"] == 0
    assert m["recordSummary"]["inputRecordCount"] == m["recordSummary"]["outputRecordCount"] > 0
    assert m["sizeSummary"]["inputBytes"] > 0 and "fileSummary" in m
    assert [a["name"] for a in run["activities"]] == ["copyActivity", "promotionActivity"]
    assert all(a["statusSummary"]["status"] == "success" for a in run["activities"])
    [flow] = api.get(f"{FS}/flows/{flow_id}").json()["items"]
    assert flow["lastRunDetails"]["id"] == run_id and flow["lastRunDetails"]["state"] == "success"
    found = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert [r["id"] for r in found] == [run_id]


def test_ingested_records_are_the_mapped_source_rows(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    f, flow_id = _future_flow(api)
    start, end = END - 60 * 86400, END - 20 * 86400
    run_id = _run(api, flow_id, start, end)
    expected = [r for r in _rows() if start <= (hubspot.parse_time(r["Updated_At"]) or 0) < end]
    assert _get_run(api, run_id)["metrics"]["recordSummary"]["outputRecordCount"] == len(expected)
    records = sorted(emulator.admin.records(f.dataset_id), key=lambda r: r["_id"])
    assert records == sorted(
        ({"person": {"name": {"firstName": r["Properties_Firstname_Value"], "lastName": r["Properties_Lastname_Value"]}},
          "personalEmail": {"address": r["Properties_Email_Value"]},
          "mobilePhone": {"number": r["Properties_Mobilephone_Value"]},
          "homeAddress": {"city": r["Properties_City_Value"]},
          "_id": str(r["Vid"])} for r in expected), key=lambda r: r["_id"])


def test_consecutive_windows_partition_the_rows(emulator: EmulatorServer) -> None:
    """Half-open windows: every row lands exactly once, none is lost at the boundaries."""
    api = Api(emulator)
    f, flow_id = _future_flow(api)
    rows = _rows()
    # boundaries placed exactly on row timestamps to exercise half-open windows
    stamps = sorted(hubspot.parse_time(r["Updated_At"]) or 0 for r in rows)
    bounds = [END - 2 * YEAR, stamps[500], stamps[1500], stamps[1501], END + 1]
    for a, b in itertools.pairwise(bounds):
        _run(api, flow_id, a, b)
    ids = [r["_id"] for r in emulator.admin.records(f.dataset_id)]
    assert len(ids) == len(set(ids)) == 3000
    assert set(ids) == {str(r["Vid"]) for r in rows}


def test_type_errors_make_partial_success_and_all_failed_makes_failed(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    f, flow_id = _future_flow(api, mappings=[("Vid", "_id"), ("Properties_Birthyear_Value", "person.birthYear")])
    run = _get_run(api, _run(api, flow_id, END - YEAR, END))
    summary = run["metrics"]["recordSummary"]
    assert run["metrics"]["statusSummary"]["status"] == "partialSuccess"
    bad = sum(1 for r in _rows() if r["Properties_Birthyear_Value"] == "unknown")
    assert summary["failedRecordCount"] == bad > 0
    assert summary["outputRecordCount"] == 3000 - bad
    assert run["metrics"]["statusSummary"]["errors"][0]["code"]
    record = emulator.admin.records(f.dataset_id)[0]
    assert isinstance(record["person"]["birthYear"], int)

    api2 = Api(emulator, sandbox="dev")
    f2, flow2 = _future_flow(api2, mappings=[("Properties_Email_Value", "person.birthDate")])
    run2 = _get_run(api2, _run(api2, flow2, END - YEAR, END))
    assert run2["metrics"]["statusSummary"]["status"] == "failed"
    assert run2["metrics"]["recordSummary"]["failedRecordCount"] == 3000
    assert emulator.admin.records(f2.dataset_id) == []


def test_backfill_first_run_then_scheduled_runs_on_clock_advance(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    f = build_connections(api)
    now = int(time.time())
    flow_id = create_flow(api, f, {"startTime": now + 3600, "frequency": "hour", "interval": 1, "backfill": True})
    assert api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"] == []
    emulator.admin.advance(3600)
    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert len(runs) == 1 and runs[0]["params"]["windowEndTime"] == now + 3600
    assert runs[0]["metrics"]["recordSummary"]["outputRecordCount"] == 3000  # all history
    emulator.admin.advance(3 * 3600)  # three slots pass: one catch-up run covers them
    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}", "orderby": "createdAt"}).json()["items"]
    assert len(runs) == 2
    assert runs[1]["params"]["windowStartTime"] == now + 3600
    assert runs[1]["params"]["windowEndTime"] == now + 4 * 3600
    emulator.admin.advance(3600)
    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert len(runs) == 3
    assert len(emulator.admin.records(f.dataset_id)) == 3000


def test_no_backfill_first_run_is_empty_and_once_runs_once(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    f = build_connections(api)
    flow_id = create_flow(api, f, {"startTime": int(time.time()) - 10, "frequency": "once"})
    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert len(runs) == 1
    emulator.admin.advance(30 * 86400)
    api = Api(emulator)  # the old token expired with the clock jump
    assert len(api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]) == 1

    api2 = Api(emulator, sandbox="dev")
    f2 = build_connections(api2)
    start = int(time.time()) + 30 * 86400 - 100
    flow2 = create_flow(api2, f2, {"startTime": start, "frequency": "day", "interval": 1, "backfill": False})
    [run] = api2.get(f"{FS}/runs", params={"property": f"flowId=={flow2}"}).json()["items"]
    assert run["metrics"]["recordSummary"]["inputRecordCount"] == 0
    assert run["metrics"]["statusSummary"]["status"] == "success"


def test_disabled_flow_gets_no_scheduled_runs(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    f = build_connections(api)
    flow_id = create_flow(api, f, {"startTime": int(time.time()) + 60, "frequency": "hour", "interval": 1})
    api.post(f"{FS}/flows/{flow_id}/action?op=disable")
    emulator.admin.advance(7200)
    assert api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"] == []


def test_on_demand_run_for_unknown_flow_is_400(emulator: EmulatorServer) -> None:
    resp = Api(emulator).post(f"{FS}/runs", {"flowId": "nope", "params": {"windowStartTime": 0,
                                                                           "windowEndTime": 1}})
    assert resp.status_code == 400
    assert Api(emulator).get(f"{FS}/runs/nope").status_code == 404
