"""``POST /runs`` against the CRMToAEP ``runSpec`` and the flow's ``deltaColumn``.

Protects: the flow spec carries the ``runSpec`` crm.md shows, and a run's params are held to it (``startTime``
required; epoch times as integers or strings of digits, as on-demand-ingestion.md sends them); a first run's
``deltaColumn`` is kept in the flow's Copy transformation even when the flow was made without one, so the same
value is taken again on every later run (the runSpec requires it) while another one is refused.
"""

from __future__ import annotations

import time
from typing import Any

from emulator_flows import build_connections, create_flow, flow_body
from emulator_helpers import FLOW_SPEC_ID, FS, Api

from aep_emulator import hubspot
from aep_emulator.testing import EmulatorServer

END = int(hubspot.parse_time("2026-01-01T00:00:00Z") or 0)
DAY = 86400
YEAR = 365 * DAY


def _params(start: int, end: int, **extra: Any) -> dict[str, Any]:
    return {"startTime": int(time.time()), "windowStartTime": start, "windowEndTime": end, **extra}


def _flow(api: Api) -> str:
    return create_flow(api, build_connections(api), {"startTime": int(time.time()) + 10 * YEAR, "frequency": "once"})


def _flow_without_copy(api: Api) -> str:
    """A one-time flow with no Copy transformation, as the seed tutorial's and collect/crm.md's older flows."""
    body = flow_body(build_connections(api), {"startTime": int(time.time()) + 10 * YEAR, "frequency": "once"})
    body["transformations"] = [t for t in body["transformations"] if t["name"] != "Copy"]
    resp = api.post(f"{FS}/flows", body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def _get_flow(api: Api, flow_id: str) -> dict[str, Any]:
    [flow] = api.get(f"{FS}/flows/{flow_id}").json()["items"]
    return flow  # type: ignore[no-any-return]


def test_the_crm_flow_spec_serves_the_run_spec_crm_md_shows(emulator: EmulatorServer) -> None:
    """crm.md, "Retrieve dataflow specifications": the CRMToAEP flow spec's ``runSpec`` ("ProviderParams")
    requires ``startTime``, ``windowStartTime``, ``windowEndTime`` and ``deltaColumn``."""
    api = Api(emulator)
    [spec] = api.get(f"{FS}/flowSpecs", params={"property": 'name=="CRMToAEP"'}).json()["items"]
    assert spec["id"] == FLOW_SPEC_ID
    run_spec = spec["runSpec"]
    assert run_spec["name"] == "ProviderParams"
    assert run_spec["spec"]["required"] == ["startTime", "windowStartTime", "windowEndTime", "deltaColumn"]
    assert {k: v["type"] for k, v in run_spec["spec"]["properties"].items()} == {
        "startTime": "integer", "windowStartTime": "integer", "windowEndTime": "integer", "deltaColumn": "object"}
    assert run_spec["spec"]["properties"]["deltaColumn"]["required"] == ["name"]
    assert api.get(f"{FS}/flowSpecs/{FLOW_SPEC_ID}").json()["items"][0]["runSpec"] == run_spec


def test_run_params_are_held_to_the_run_spec(emulator: EmulatorServer) -> None:
    """The runSpec requires ``startTime`` (CreateFlowRunRequest alone requires nothing): a run without it is
    refused naming it, as are a window time that is no integer and a ``deltaColumn`` without ``name``; strings of
    digits pass (on-demand-ingestion.md sends them). The codes are ours: Adobe documents none."""
    api = Api(emulator)
    flow_id = _flow(api)
    cases = [
        ({"windowStartTime": END - DAY, "windowEndTime": END, "deltaColumn": {"name": "Added_At"}}, "startTime"),
        (_params(END - DAY, "tomorrow", deltaColumn={"name": "Added_At"}), "windowEndTime"),
        (_params(END - DAY, END, deltaColumn={"dateFormat": "YYYY-MM-DD"}), "deltaColumn"),
        ({"startTime": int(time.time()), "windowEndTime": END}, "windowStartTime"),
    ]
    for params, field in cases:
        resp = api.post(f"{FS}/runs", {"flowId": flow_id, "params": params})
        assert resp.status_code == 400, (params, resp.text)
        assert field in resp.json()["detail"] and resp.json()["type"].endswith("EMU-400"), resp.text
    assert api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"] == []
    digits = {"startTime": str(int(time.time())), "windowStartTime": str(END - DAY), "windowEndTime": str(END),
              "deltaColumn": {"name": "Added_At"}}
    assert api.post(f"{FS}/runs", {"flowId": flow_id, "params": digits}).status_code == 201


def test_a_flow_made_without_copy_keeps_its_first_runs_delta_column(emulator: EmulatorServer) -> None:
    """on-demand-ingestion.md: after the first run the ``deltaColumn`` "will be patched as part of copy
    transformation in the flow and will be treated as the source of truth": a flow made without a Copy
    transformation gets one (a new etag: the flow was patched); every later run may send the same column again or
    none, and another column is refused."""
    api = Api(emulator)
    flow_id = _flow_without_copy(api)
    before = _get_flow(api, flow_id)
    assert [t["name"] for t in before["transformations"]] == ["Mapping"]
    no_column = api.post(f"{FS}/runs", {"flowId": flow_id, "params": _params(END - 2 * DAY, END - DAY)})
    assert no_column.status_code == 400 and "deltaColumn" in no_column.json()["detail"], no_column.text

    first = api.post(f"{FS}/runs", {"flowId": flow_id,
                                    "params": _params(END - 2 * DAY, END - DAY, deltaColumn={"name": "Added_At"})})
    assert first.status_code == 201, first.text
    after = _get_flow(api, flow_id)
    assert [t["name"] for t in after["transformations"]] == ["Copy", "Mapping"]
    assert after["transformations"][0]["params"]["deltaColumn"] == {"name": "Added_At"}
    assert after["etag"] != before["etag"]

    same = api.post(f"{FS}/runs", {"flowId": flow_id, "params": _params(END - DAY, END, deltaColumn={"name": "Added_At"})})
    assert same.status_code == 201, same.text
    assert api.post(f"{FS}/runs", {"flowId": flow_id, "params": _params(END - DAY, END)}).status_code == 201
    other = api.post(f"{FS}/runs", {"flowId": flow_id,
                                    "params": _params(END - DAY, END, deltaColumn={"name": "Updated_At"})})
    assert other.status_code == 400 and "cannot be changed" in other.json()["detail"], other.text
    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert len(runs) == 3


def test_a_first_run_naming_no_column_of_the_table_is_refused(emulator: EmulatorServer) -> None:
    """The column is patched into the flow, whose Copy ``deltaColumn`` must be a column of its source table (the
    emulator's flow check): a run naming another is refused before anything is kept."""
    api = Api(emulator)
    flow_id = _flow_without_copy(api)
    resp = api.post(f"{FS}/runs", {"flowId": flow_id,
                                   "params": _params(END - DAY, END, deltaColumn={"name": "no_such_column"})})
    assert resp.status_code == 400 and "no_such_column" in resp.json()["detail"], resp.text
    assert [t["name"] for t in _get_flow(api, flow_id)["transformations"]] == ["Mapping"]
