"""The state file (``--state``) as a write leaves it: a snapshot and a journal of what changed since.

A write appends its change to ``<state file>.journal`` instead of rewriting everything (so a write costs the
same however much the emulator holds). An emulator killed without shutting down must still come back with every
write it answered, its runs and their records; a last line cut short by the kill is ignored; restarting again and
again never counts a record twice; the journal keeps no credential, as the state file keeps none.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from emulator_flows import build_connections, create_flow
from emulator_helpers import CAT, FS, Api

from aep_emulator.testing import EmulatorServer

HUBSPOT_SECRET = "hs-secret"  # the clientSecret emulator_flows' base connection sends


def _copy_while_running(state: Path, into: Path) -> Path:
    """The state file and its journal as a kill would leave them (the running emulator does not compact)."""
    into.mkdir(mode=0o700)
    copy = into / state.name
    shutil.copy(state, copy)
    shutil.copy(str(state) + ".journal", str(copy) + ".journal")
    return copy


def _what_it_holds(server: EmulatorServer, flow_id: str, dataset_id: str) -> dict[str, Any]:
    api = Api(server)
    flow = api.get(f"{FS}/flows/{flow_id}").json()["items"][0]
    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    return {
        "flow": {k: flow[k] for k in ("name", "state", "etag", "lastRunDetails")},
        "runs": sorted((r["id"], r["metrics"]["statusSummary"]["status"]) for r in runs),
        "dataset": api.get(f"{CAT}/dataSets/{dataset_id}").json(),
        "records": len(server.admin.records(dataset_id)),
    }


def test_an_emulator_killed_without_shutdown_comes_back_with_every_write_its_runs_and_records(tmp_path: Path) -> None:
    """The writes after the last full write are in the journal: a restart from the file and journal a kill left
    behind has the flow as last changed, its ended run and the records it ingested, and no credential."""
    state = tmp_path / "live" / "state.json"
    with EmulatorServer(state_file=str(state), run_duration_seconds=0) as server:
        api = Api(server)
        f = build_connections(api)
        flow_id = create_flow(api, f, {"startTime": int(time.time()) - 60, "frequency": "once"})
        flow = api.get(f"{FS}/flows/{flow_id}").json()["items"][0]  # this request's tick ends the first run
        disabled = api.post(f"{FS}/flows/{flow_id}/action?op=disable", {}, headers={"If-Match": flow["etag"]})
        assert disabled.status_code == 200, disabled.text
        before = _what_it_holds(server, flow_id, f.dataset_id)
        killed = _copy_while_running(state, tmp_path / "killed")
    assert before["records"] > 0 and before["flow"]["state"] == "disabled" and before["runs"][0][1] == "success"
    journal = Path(str(killed) + ".journal").read_text()
    assert flow_id in journal and HUBSPOT_SECRET not in journal, "the journal holds the writes, no credential"
    with EmulatorServer(state_file=str(killed)) as restarted:
        assert _what_it_holds(restarted, flow_id, f.dataset_id) == before


def test_a_last_journal_line_cut_short_by_a_kill_is_ignored(tmp_path: Path) -> None:
    """A kill in the middle of appending leaves half a line: the emulator starts with everything before it."""
    state = tmp_path / "live" / "state.json"
    with EmulatorServer(state_file=str(state)) as server:
        api = Api(server)
        f = build_connections(api)
        killed = _copy_while_running(state, tmp_path / "killed")
    with open(str(killed) + ".journal", "a") as journal:
        journal.write('{"op":"put","org":"DEMO')
    with EmulatorServer(state_file=str(killed)) as restarted:
        answer = Api(restarted).get(f"{CAT}/dataSets/{f.dataset_id}")
        assert answer.status_code == 200 and f.dataset_id in answer.json()


def test_restarting_again_and_again_counts_no_record_twice(tmp_path: Path) -> None:
    """Each start folds the journal into the file and starts an empty one: the records a run added are applied
    once, whatever the number of restarts."""
    state = tmp_path / "state.json"
    with EmulatorServer(state_file=str(state), run_duration_seconds=0) as server:
        api = Api(server)
        f = build_connections(api)
        flow_id = create_flow(api, f, {"startTime": int(time.time()) - 60, "frequency": "once"})
        api.get(f"{FS}/flows/{flow_id}")
        count = len(server.admin.records(f.dataset_id))
    for _ in range(2):
        with EmulatorServer(state_file=str(state)) as again:
            assert len(again.admin.records(f.dataset_id)) == count > 0
