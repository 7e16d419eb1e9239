"""Flow runs: progress, ingestion correctness, window partitioning, schedules, record errors, and the rules
AEP sets for on-demand runs (one-time flows only, deltaColumn on the first run only)."""

from __future__ import annotations

import itertools
import time
from typing import Any

from emulator_flows import build_connections, create_flow, flow_body
from emulator_helpers import FS, Api

from aep_emulator import hubspot
from aep_emulator.testing import EmulatorServer

END = hubspot.parse_time("2026-01-01T00:00:00Z") or 0.0
YEAR = 365 * 86400
DELTA = "Added_At"  # a HubSpot column Adobe documents (the seed tutorial's mapping)


def _rows() -> list[dict[str, Any]]:
    return hubspot.rows("Hubspot.Contacts", 42, "2026-01-01T00:00:00Z")


def _post_run(api: Api, flow_id: str, start: Any, end: Any, delta: str | None = DELTA, **params: Any) -> Any:
    body: dict[str, Any] = {"startTime": int(time.time()), "windowStartTime": start, "windowEndTime": end, **params}
    if delta is not None:
        body["deltaColumn"] = {"name": delta}
    return api.post(f"{FS}/runs", {"flowId": flow_id, "params": body})


def _run(api: Api, flow_id: str, start: float, end: float, delta: str | None = DELTA) -> str:
    resp = _post_run(api, flow_id, int(start), int(end), delta, startTime=int(time.time()))
    assert resp.status_code == 201, resp.text
    assert set(resp.json()) == {"id", "etag"}
    return str(resp.json()["id"])


def _get_run(api: Api, run_id: str) -> dict[str, Any]:
    [run] = api.get(f"{FS}/runs/{run_id}").json()["items"]
    return run  # type: ignore[no-any-return]


def _one_time_flow(api: Api, **kw: Any) -> tuple[Any, str]:
    """A one-time flow whose own run lies ten years ahead: every run in the test is on demand."""
    options = kw.pop("options", None)
    f = build_connections(api, **kw)
    flow_id = create_flow(api, f, {"startTime": int(time.time()) + 10 * YEAR, "frequency": "once"}, options=options)
    return f, flow_id


def _promotion(run: dict[str, Any]) -> dict[str, Any]:
    return next(a for a in run["activities"] if a["id"] == "promotionActivity")


def _window(run: dict[str, Any]) -> tuple[int, int]:
    """The window a run read, where monitor.md shows it: the copy activity's ``durationSummary.extensions``
    (epoch milliseconds), as seconds."""
    copy = next(a for a in run["activities"] if a["id"] == "copyActivity")
    ext = copy["durationSummary"]["extensions"]
    return ext["windowStart"] // 1000, ext["windowEnd"] // 1000


def test_on_demand_run_moves_scheduled_in_progress_success(emulator: EmulatorServer) -> None:
    """A run shows Adobe's metrics and activities while it progresses and when it ends."""
    emulator.admin.configure(run_duration_seconds=0.9)
    api = Api(emulator)
    _f, flow_id = _one_time_flow(api)
    run_id = _run(api, flow_id, END - 30 * 86400, END)
    run = _get_run(api, run_id)
    assert run["metrics"]["statusSummary"]["status"] == "scheduled"
    assert "params" not in run  # flow-service.yaml FlowRunItemDTO and monitor.md show none
    assert _window(run) == (int(END - 30 * 86400), int(END))
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
    assert [a["id"] for a in run["activities"]] == ["copyActivity", "promotionActivity"]  # monitor.md
    assert "extensions" not in m["statusSummary"]  # no invented manifest
    assert all(a["statusSummary"]["status"] == "success" for a in run["activities"])
    copy = run["activities"][0]
    assert copy["durationSummary"]["extensions"] == {"windowStart": int(END - 30 * 86400) * 1000,
                                                      "windowEnd": int(END) * 1000}
    [flow] = api.get(f"{FS}/flows/{flow_id}").json()["items"]
    assert flow["lastRunDetails"]["id"] == run_id and flow["lastRunDetails"]["state"] == "success"
    found = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert [r["id"] for r in found] == [run_id]


def test_a_window_run_against_a_scheduled_flow_is_refused(emulator: EmulatorServer) -> None:
    """flow-service.yaml POST /runs: "the flow must be scheduled for one-time ingestion" (also
    on-demand-ingestion.md): a day/hour/week flow gets no on-demand run. The code is ours (Adobe documents none)."""
    api = Api(emulator)
    f = build_connections(api)
    for schedule in ({"startTime": int(time.time()) + YEAR, "frequency": "day", "interval": 1},
                     {"startTime": int(time.time()) + YEAR, "frequency": "hour", "interval": 2, "backfill": False}):
        flow_id = create_flow(api, f, schedule)
        resp = _post_run(api, flow_id, int(END - 86400), int(END))
        assert resp.status_code == 400, resp.text
        assert "one-time" in resp.json()["detail"] and resp.json()["type"].endswith("EMU-400")
        assert api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"] == []


def test_run_params_are_taken_as_integers_or_strings_of_digits(emulator: EmulatorServer) -> None:
    """on-demand-ingestion.md sends the epoch times as strings, the RunSpecDTO types them integer: both work;
    a run whose startTime lies ahead stays scheduled until then."""
    emulator.admin.configure(run_duration_seconds=0)
    api = Api(emulator)
    _f, flow_id = _one_time_flow(api)
    later = int(time.time()) + 3600
    resp = _post_run(api, flow_id, str(int(END - 86400)), str(int(END)), startTime=str(later))
    assert resp.status_code == 201, resp.text
    run = _get_run(api, resp.json()["id"])
    assert _window(run) == (int(END - 86400), int(END))
    assert run["metrics"]["statusSummary"]["status"] == "scheduled"
    emulator.admin.advance(3601)
    api = Api(emulator)
    assert _get_run(api, resp.json()["id"])["metrics"]["statusSummary"]["status"] == "success"
    bad = _post_run(api, flow_id, "yesterday", int(END))
    assert bad.status_code == 400 and "windowStartTime" in bad.json()["detail"]


def test_delta_column_is_set_by_the_first_run_and_cannot_change_later(emulator: EmulatorServer) -> None:
    """on-demand-ingestion.md: the deltaColumn is only needed on the first run, then patched into the flow's
    Copy transformation; "any attempts to change the deltaColumn value through the flow run parameters will
    result in an error"."""
    api = Api(emulator)
    _f, flow_id = _one_time_flow(api)
    _run(api, flow_id, END - 2 * 86400, END - 86400, delta="Updated_At")  # the first run may name another column
    [flow] = api.get(f"{FS}/flows/{flow_id}").json()["items"]
    copy = next(t for t in flow["transformations"] if t["name"] == "Copy")
    assert copy["params"]["deltaColumn"]["name"] == "Updated_At"
    changed = _post_run(api, flow_id, int(END - 86400), int(END), delta=DELTA)
    assert changed.status_code == 400 and "deltaColumn" in changed.json()["detail"], changed.text
    _run(api, flow_id, END - 86400, END, delta=None)  # later runs need none
    _run(api, flow_id, END - 86400, END, delta="Updated_At")  # the same one again is no change


def test_ingested_records_are_the_mapped_source_rows(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    f, flow_id = _one_time_flow(api)
    start, end = END - 60 * 86400, END - 20 * 86400
    run_id = _run(api, flow_id, start, end)
    expected = [r for r in _rows() if start <= (hubspot.parse_time(r[DELTA]) or 0) < end]
    assert _get_run(api, run_id)["metrics"]["recordSummary"]["outputRecordCount"] == len(expected) > 0
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
    f, flow_id = _one_time_flow(api)
    rows = _rows()
    # boundaries placed exactly on row timestamps to exercise half-open windows
    stamps = sorted(hubspot.parse_time(r[DELTA]) or 0 for r in rows)
    bounds = [END - 2 * YEAR, stamps[500], stamps[1500], stamps[1501], END + 1]
    for a, b in itertools.pairwise(bounds):
        _run(api, flow_id, a, b)
    ids = [r["_id"] for r in emulator.admin.records(f.dataset_id)]
    assert len(ids) == len(set(ids)) == 3000
    assert set(ids) == {str(r["Vid"]) for r in rows}


BIRTH_YEAR = [("Vid", "_id"), ("Properties_Birthyear_Value", "person.birthYear")]


def test_failed_records_leave_a_success_run_with_the_codes_adobe_shows(emulator: EmulatorServer) -> None:
    """monitor.md: a run with failed records ends ``success`` (on a flow with partial ingestion, partial.md); its
    counts tell, and the promotion activity's ``statusSummary.extensions.errors`` carry INGEST-1212-400 and
    MAPPER-3700-400 with the record count. No run is ever ``partialSuccess`` (a status in no Adobe page). Every
    record failed: ``failed``."""
    api = Api(emulator)
    f, flow_id = _one_time_flow(api, mappings=BIRTH_YEAR, options={"partialIngestionPercent": 50})
    run = _get_run(api, _run(api, flow_id, END - 2 * YEAR, END))
    summary = run["metrics"]["recordSummary"]
    bad = sum(1 for r in _rows() if r["Properties_Birthyear_Value"] == "unknown")
    assert run["metrics"]["statusSummary"]["status"] == "success"
    assert summary["failedRecordCount"] == bad > 0 and summary["outputRecordCount"] == 3000 - bad
    assert run["metrics"]["statusSummary"]["errors"] == [
        {"code": "CONNECTOR-2001-500", "message": "Error occurred at promotion activity."}]
    extensions = _promotion(run)["statusSummary"]["extensions"]["errors"]
    assert [e["code"] for e in extensions] == ["INGEST-1212-400", "MAPPER-3700-400"]
    assert extensions[1]["recordCount"] == bad and f"Encountered {bad} errors" in extensions[0]["message"]
    assert len(emulator.admin.records(f.dataset_id)) == 3000 - bad
    assert isinstance(emulator.admin.records(f.dataset_id)[0]["person"]["birthYear"], int)

    api2 = Api(emulator, sandbox="dev")
    f2, flow2 = _one_time_flow(api2, mappings=[("Properties_Email_Value", "person.birthDate")])
    run2 = _get_run(api2, _run(api2, flow2, END - 2 * YEAR, END))
    assert run2["metrics"]["statusSummary"]["status"] == "failed"
    assert run2["metrics"]["recordSummary"]["failedRecordCount"] == 3000
    assert emulator.admin.records(f2.dataset_id) == []
    statuses = {r["metrics"]["statusSummary"]["status"] for r in api.get(f"{FS}/runs").json()["items"]}
    assert "partialSuccess" not in statuses


def test_a_flow_without_partial_ingestion_fails_a_run_with_any_failed_record(emulator: EmulatorServer) -> None:
    """partial.md: partial ingestion ingests data with errors "up to a certain threshold", and "By default,
    dataflows may not have partial ingestion or error diagnostics enabled": without ``partialIngestionPercent`` a
    run with failed records fails and writes nothing; the codes still say why."""
    api = Api(emulator)
    f, flow_id = _one_time_flow(api, mappings=BIRTH_YEAR)
    run = _get_run(api, _run(api, flow_id, END - 2 * YEAR, END))
    assert run["metrics"]["statusSummary"]["status"] == "failed"
    assert run["metrics"]["recordSummary"]["failedRecordCount"] > 0
    assert run["metrics"]["recordSummary"]["outputRecordCount"] == 0
    assert _promotion(run)["statusSummary"]["extensions"]["errors"][1]["code"] == "MAPPER-3700-400"
    assert emulator.admin.records(f.dataset_id) == []
    clean_api = Api(emulator, sandbox="dev")
    f2, clean = _one_time_flow(clean_api)  # no failed record: success without the option
    run = _get_run(clean_api, _run(clean_api, clean, END - 2 * YEAR, END))
    assert run["metrics"]["statusSummary"]["status"] == "success"
    assert len(emulator.admin.records(f2.dataset_id)) == run["metrics"]["recordSummary"]["outputRecordCount"] > 0


def test_partial_ingestion_percent_fails_a_run_above_the_threshold(emulator: EmulatorServer) -> None:
    """CRMToAEP optionSpec ``partialIngestionPercent``: "threshold of errors allowed before the run is marked as
    failed". About one contact in ten has a non-numeric birth year: 5 % fails the run (nothing written), 50 %
    lets it succeed. Adobe's PATCH example sends the percent as a string, the optionSpec as a number: both work."""
    rows = _rows()
    share = 100.0 * sum(1 for r in rows if r["Properties_Birthyear_Value"] == "unknown") / len(rows)
    assert 5 < share < 50
    strict_api = Api(emulator)
    f, strict = _one_time_flow(strict_api, mappings=BIRTH_YEAR, options={"partialIngestionPercent": 5})
    run = _get_run(strict_api, _run(strict_api, strict, END - 2 * YEAR, END))
    assert run["metrics"]["statusSummary"]["status"] == "failed"
    assert run["metrics"]["recordSummary"]["outputRecordCount"] == 0
    assert _promotion(run)["statusSummary"]["extensions"]["errors"][1]["code"] == "MAPPER-3700-400"
    assert emulator.admin.records(f.dataset_id) == []

    lenient_api = Api(emulator, sandbox="dev")
    _f2, lenient = _one_time_flow(lenient_api, mappings=BIRTH_YEAR,
                                  options={"partialIngestionPercent": "50", "errorDiagnosticsEnabled": True})
    [flow] = lenient_api.get(f"{FS}/flows/{lenient}").json()["items"]
    assert flow["options"] == {"partialIngestionPercent": 50, "errorDiagnosticsEnabled": True}
    run = _get_run(lenient_api, _run(lenient_api, lenient, END - 2 * YEAR, END))
    assert run["metrics"]["statusSummary"]["status"] == "success"
    assert run["metrics"]["recordSummary"]["failedRecordCount"] > 0

    zero = flow_body(f, {"startTime": int(time.time()) + YEAR, "frequency": "once"}, name="x",
                     options={"partialIngestionPercent": 0})
    refused = strict_api.post(f"{FS}/flows", zero)
    assert refused.status_code == 400 and "partialIngestionPercent" in refused.json()["detail"]


def test_latest_run_is_one_sorted_small_page(emulator: EmulatorServer) -> None:
    """sort-and-filter.md: runs sort with ``orderby`` (``-`` descending); ``limit=1`` reads one run."""
    api = Api(emulator)
    _f, flow_id = _one_time_flow(api)
    ids = [_run(api, flow_id, END - (d + 1) * 86400, END - d * 86400) for d in range(3)]
    latest = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}", "orderby": "-createdAt", "limit": 1})
    first = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}", "orderby": "createdAt", "limit": 1})
    assert [r["id"] for r in latest.json()["items"]] == [ids[-1]]
    assert [r["id"] for r in first.json()["items"]] == [ids[0]]


def test_backfill_first_run_then_scheduled_runs_on_clock_advance(emulator: EmulatorServer) -> None:
    """AEP's own schedule. The first run's window - everything before startTime - is OUR model: Adobe only
    says "all current files in the specified path will be ingested during the first scheduled ingestion"."""
    api = Api(emulator)
    f = build_connections(api)
    now = int(time.time())
    flow_id = create_flow(api, f, {"startTime": now + 3600, "frequency": "hour", "interval": 1, "backfill": True})
    assert api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"] == []
    emulator.admin.advance(3600)
    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert len(runs) == 1 and _window(runs[0])[1] == now + 3600
    assert runs[0]["metrics"]["recordSummary"]["outputRecordCount"] == 3000  # all history
    emulator.admin.advance(3 * 3600)  # three slots pass: a run each, created at its due time, windows end to end
    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}", "orderby": "createdAt"}).json()["items"]
    assert len(runs) == 4
    assert [_window(run) for run in runs[1:]] == [(now + k * 3600, now + (k + 1) * 3600) for k in (1, 2, 3)]
    assert [run["createdAt"] for run in runs[1:]] == [(now + k * 3600) * 1000 for k in (2, 3, 4)]
    emulator.admin.advance(3600)
    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert len(runs) == 5
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


def test_a_flow_enabled_again_runs_at_its_next_due_time_covering_the_time_it_was_off(emulator: EmulatorServer) -> None:
    """No run is made for the due times of a disabled flow, also not when it is enabled again: its next run, at
    its next due time, covers the window since its last run."""
    api = Api(emulator)
    f = build_connections(api)
    now = int(time.time())
    flow_id = create_flow(api, f, {"startTime": now + 60, "frequency": "hour", "interval": 1})
    emulator.admin.advance(120)  # the first run
    api.post(f"{FS}/flows/{flow_id}/action?op=disable")
    emulator.admin.advance(3 * 3600)
    api.post(f"{FS}/flows/{flow_id}/action?op=enable")
    emulator.admin.advance(3600)
    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}", "orderby": "createdAt"}).json()["items"]
    assert len(runs) == 2 and _window(runs[1]) == (now + 60, now + 60 + 4 * 3600)


def test_a_run_fault_makes_a_scheduled_run_fail_or_lose_records(emulator: EmulatorServer) -> None:
    """Fault rules for runs (``/_emulator/faults``): ``run_failed`` ends the flow's next run failed with nothing
    written; ``run_failed_records`` fails a share of its records (the run is judged by its counts as any run is)."""
    api = Api(emulator)
    f = build_connections(api)
    now = int(time.time())
    flow_id = create_flow(api, f, {"startTime": now + 60, "frequency": "hour", "interval": 1})
    emulator.admin.set_faults([{"kind": "run_failed", "flow_id": flow_id, "max_hits": 1}])
    emulator.admin.advance(120)
    [run] = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert run["metrics"]["statusSummary"]["status"] == "failed"
    assert run["metrics"]["statusSummary"]["errors"][0]["code"] == "EMU-500"
    assert emulator.admin.records(f.dataset_id) == []

    dev = Api(emulator, sandbox="dev")
    f2 = build_connections(dev)
    flow2 = create_flow(dev, f2, {"startTime": now + 200, "frequency": "hour", "interval": 1},
                        options={"partialIngestionPercent": 50})
    emulator.admin.set_faults([{"kind": "run_failed_records", "failed_share": 0.25, "flow_id": flow2}])
    emulator.admin.advance(200)
    [run] = dev.get(f"{FS}/runs", params={"property": f"flowId=={flow2}"}).json()["items"]
    records = run["metrics"]["recordSummary"]
    assert run["metrics"]["statusSummary"]["status"] == "success"
    assert records["failedRecordCount"] == 750 and records["outputRecordCount"] == 2250
    assert emulator.admin.faults()["rules"][0]["hits"] == 1
    assert api.get("/data/foundation/flowservice/flows").status_code == 200  # a run rule faults no request


def test_on_demand_run_for_unknown_flow_is_400(emulator: EmulatorServer) -> None:
    """The Flow Service error table: ``1430-400`` "The flow with ID {id} was not found"."""
    resp = Api(emulator).post(f"{FS}/runs", {"flowId": "nope", "params": {"windowStartTime": 0,
                                                                           "windowEndTime": 1}})
    assert resp.status_code == 400 and resp.json()["type"].endswith("1430-400")
    assert Api(emulator).get(f"{FS}/runs/nope").status_code == 404


def test_run_status_filters_match_in_any_case(emulator: EmulatorServer) -> None:
    """sort-and-filter.md filters runs with ``property=metrics.statusSummary.status==Failed`` while monitor.md
    answers ``"status": "success"``: a status filter finds the runs whatever the case of either side."""
    api = Api(emulator)
    _f, flow_id = _one_time_flow(api, mappings=[("Properties_Email_Value", "person.birthDate")])
    failed = _run(api, flow_id, END - 2 * YEAR, END)
    assert _get_run(api, failed)["metrics"]["statusSummary"]["status"] == "failed"
    for value in ("Failed", "failed", "FAILED"):
        found = api.get(f"{FS}/runs", params={"property": [f"flowId=={flow_id}",
                                                           f"metrics.statusSummary.status=={value}"]}).json()
        assert [r["id"] for r in found["items"]] == [failed], value
    other = api.get(f"{FS}/runs", params={"property": [f"flowId=={flow_id}",
                                                       "metrics.statusSummary.status==Success"]}).json()
    assert other["items"] == []


def test_partial_ingestion_percent_is_taken_as_an_integer_or_a_number(emulator: EmulatorServer) -> None:
    """flow-service.yaml OptionSpecDTO types ``partialIngestionPercent`` integer (example 5), crm.md's optionSpec
    number (exclusiveMinimum 0): a flow takes both, and reads them back as sent."""
    api = Api(emulator)
    f = build_connections(api)
    for i, percent in enumerate((5, 7.5)):
        body = flow_body(f, {"startTime": int(time.time()) + YEAR, "frequency": "once"}, name=f"p{i}",
                         options={"partialIngestionPercent": percent})
        resp = api.post(f"{FS}/flows", body)
        assert resp.status_code == 201, resp.text
        [flow] = api.get(f"{FS}/flows/{resp.json()['id']}").json()["items"]
        assert flow["options"]["partialIngestionPercent"] == percent
