"""``on_drift: update`` against the emulator: what the update calls do to a live flow and mapping set.

Protects: a flow moving to ``once`` loses its ``interval`` (JSON Patch ``remove``) and one moving back gets it again
(``add``); a disabled flow is enabled and the etag the enable answers is the one kept; a flow left on an old mapping
version is moved to the set's current one; a retried update makes no second mapping-set version; the set's earlier
rules stay readable by ``version``; the emulator refuses a flow naming a version its mapping set never had (1412-400); a
mapping-set update answered with its version takes it, one answered without a version, or not answered, is read back;
a flow made without ``options`` gets them as partial.md adds them. Every PATCH op carries a ``value``.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from aep_provider_chain import MAPPINGS, dataflow_op, hubspot_conn_env, onboard, only

from aep_emulator.testing import EmulatorServer
from aep_provider.hooks.aep import AepHook
from aep_provider.models.data_prep import Mapping, MappingSetCreate
from aep_provider.operators.updates import new_mapping_version, update_flow

LOG = logging.getLogger(__name__)
FLOWS = "/data/foundation/flowservice/flows"


@pytest.fixture
def chain(aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch, make_context: Any) -> dict[str, Any]:
    hubspot_conn_env(monkeypatch)
    return onboard(make_context, run=False)


def _flow(hook: AepHook, flow_id: str) -> dict[str, Any]:
    return hook.get_object("flows", flow_id) or {}


def _wanted(flow: dict[str, Any], schedule: dict[str, Any], version: Any = None) -> dict[str, Any]:
    transformations = [dict(t) for t in flow["transformations"]]
    if version is not None:
        transformations = [
            {**t, "params": {**t["params"], "mappingVersion": version}} if t["name"] == "Mapping" else t
            for t in transformations
        ]
    return {"transformations": transformations, "scheduleParams": schedule}


def _model(rules: list[dict[str, Any]], schema_id: str, name: str | None = None) -> MappingSetCreate:
    return MappingSetCreate(xdmSchema=schema_id, name=name, mappings=[Mapping(**r) for r in rules])


def _patches(hook: AepHook) -> list[list[dict[str, Any]]]:
    """Every PATCH body the hook sends from now on."""
    sent: list[list[dict[str, Any]]] = []
    real = hook.request

    def spy(method: str, path: str, **kw: Any) -> Any:
        if method == "PATCH":
            sent.append(kw["json"])
        return real(method, path, **kw)

    hook.request = spy  # type: ignore[method-assign]
    return sent


def test_a_flow_moving_to_once_loses_its_interval_and_moving_back_gets_it(chain: dict[str, Any], make_context) -> None:
    """The removes carry the value they remove: flow-service.yaml PatchInstruction requires ``value`` on every op
    and Adobe's one remove example (update-destination-dataflows.md) sends one; the emulator refuses an op without."""
    hook = AepHook()
    flow_id = only(dataflow_op(chain, {"frequency": "minute", "interval": 15, "start_time": "2024-01-01T00:00:00Z"},
                               name="scheduled flow").execute(make_context()))
    flow = _flow(hook, flow_id)
    start = flow["scheduleParams"]["startTime"]
    sent = _patches(hook)
    update_flow(hook, flow_id, _wanted(flow, {"frequency": "once", "startTime": start}), LOG)
    once = _flow(hook, flow_id)["scheduleParams"]
    assert once["frequency"] == "once" and "interval" not in once, once
    [ops] = sent
    assert all("value" in op for op in ops), ops
    removes = {op["path"]: op["value"] for op in ops if op["op"] == "remove"}
    assert removes == {"/scheduleParams/interval": flow["scheduleParams"]["interval"],
                       "/scheduleParams/backfill": flow["scheduleParams"]["backfill"]}
    update_flow(hook, flow_id, _wanted(flow, {"frequency": "minute", "interval": 30, "startTime": start}), LOG)
    again = _flow(hook, flow_id)["scheduleParams"]
    assert (again["frequency"], str(again["interval"])) == ("minute", "30")


def test_a_disabled_flow_is_enabled_and_the_enable_etag_is_kept(
    chain: dict[str, Any], aep_conn_env: EmulatorServer
) -> None:
    hook = AepHook()
    flow_id = chain["flow"]
    # flow-service.yaml writes the op in upper case: the emulator takes it as the docs' lower case.
    answer = requests.post(f"{aep_conn_env.base_url}{FLOWS}/{flow_id}/action", params={"op": "DISABLE"},
                           headers=aep_conn_env.headers(), timeout=10)
    assert answer.status_code == 200, answer.text
    flow = _flow(hook, flow_id)
    assert flow["state"] == "disabled"
    etag = update_flow(hook, flow_id, _wanted(flow, flow["scheduleParams"]), LOG)
    after = _flow(hook, flow_id)
    assert after["state"] == "enabled"
    assert etag == after["etag"] != flow["etag"], "the etag returned is the enabled flow's"


def test_a_flow_on_an_old_mapping_version_moves_to_the_current_one_and_a_retry_makes_no_new_version(
    chain: dict[str, Any], aep_conn_env: EmulatorServer
) -> None:
    hook = AepHook()
    mapping_id, flow_id = chain["mapping"], chain["flow"]
    rules = [*MAPPINGS[:3]]  # one rule fewer: a new version
    model = _model(rules, chain["target_schema"])
    first = new_mapping_version(hook, mapping_id, model, retry=False)
    assert first["version"] == 1
    again = new_mapping_version(hook, mapping_id, model, retry=True)
    assert again["version"] == 1, "a retry finds its first try's version and sends no second PUT"
    assert len((hook.get_mapping_set(mapping_id, 0) or {})["mappings"]) == len(MAPPINGS), "version 0 stays readable"
    assert len((hook.get_mapping_set(mapping_id, 1) or {})["mappings"]) == len(rules)

    flow = _flow(hook, flow_id)
    update_flow(hook, flow_id, _wanted(flow, flow["scheduleParams"], version=1), LOG)
    params = next(t["params"] for t in _flow(hook, flow_id)["transformations"] if t["name"] == "Mapping")
    assert str(params["mappingVersion"]) == "1"

    # A version the set never had is refused (flow-service-errors.md's 1412-400), an upper-case op path to it too.
    moved = _flow(hook, flow_id)
    index = next(i for i, t in enumerate(moved["transformations"]) if t["name"] == "Mapping")
    bad = {**moved["transformations"][index]}
    bad["params"] = {**bad["params"], "mappingVersion": 7}
    answer = requests.patch(f"{aep_conn_env.base_url}{FLOWS}/{flow_id}",
                            json=[{"op": "REPLACE", "path": f"/transformations/{index}", "value": bad}],
                            headers={**aep_conn_env.headers(), "If-Match": moved["etag"]}, timeout=10)
    assert answer.status_code == 400 and answer.json()["type"].endswith("1412-400"), answer.text


def test_a_mapping_set_update_takes_the_version_its_answer_shows(
    chain: dict[str, Any], aep_conn_env: EmulatorServer
) -> None:
    """mapping-set.md's "Update a mapping set" (the current page) answers the set with its new ``"version": 1``, as
    data-prep.yaml's MappingSet: the version is taken from the answer, with no read-back."""
    hook = AepHook()
    aep_conn_env.store.config.mapping_put_answer = "docs"
    reads: list[str] = []
    real = hook.request

    def spy(method: str, path: str, **kw: Any) -> Any:
        reads.append(method)
        return real(method, path, **kw)

    hook.request = spy  # type: ignore[method-assign]
    try:
        updated = new_mapping_version(hook, chain["mapping"], _model([*MAPPINGS[:2]], chain["target_schema"]),
                                      retry=False)
    finally:
        aep_conn_env.store.config.mapping_put_answer = "spec"
    assert updated["version"] == 1 and len(updated["mappings"]) == 2
    assert reads == ["PUT"], "the answer's version is enough"


def test_a_mapping_set_update_answered_without_a_version_reads_it_back(
    chain: dict[str, Any], aep_conn_env: EmulatorServer
) -> None:
    """data-prep.yaml's MappingSet makes ``version`` optional: an answer without one (here the emulator's answer
    with the version cut out) is read back, and the set's real version is taken, never 0."""
    hook = AepHook()
    real = hook.request

    def without_version(method: str, path: str, **kw: Any) -> Any:
        answer = real(method, path, **kw)
        return {k: v for k, v in answer.items() if k != "version"} if method == "PUT" else answer

    hook.request = without_version  # type: ignore[method-assign]
    updated = new_mapping_version(hook, chain["mapping"], _model([*MAPPINGS[:2]], chain["target_schema"]),
                                  retry=False)
    assert updated["version"] == 1
    assert len(updated["mappings"]) == 2


def test_update_adds_the_options_a_flow_was_made_without_and_drops_a_threshold_the_spec_drops(
    chain: dict[str, Any],
) -> None:
    """partial.md ("Enable partial ingestion and error diagnostics for an existing dataflow"): ``add /options`` with
    ``partialIngestionPercent``, then ``add /options/errorDiagnosticsEnabled``, with If-Match. A spec that asks for
    no threshold any more has it removed (with the value it removes)."""
    hook = AepHook()
    flow_id = chain["flow"]
    flow = _flow(hook, flow_id)
    assert "options" not in flow, "made without options, as the release of 2026-12-01 made flows"
    sent = _patches(hook)
    wanted = {**_wanted(flow, flow["scheduleParams"]),
              "options": {"partialIngestionPercent": 15, "errorDiagnosticsEnabled": True}}
    update_flow(hook, flow_id, wanted, LOG)
    assert _flow(hook, flow_id)["options"] == {"partialIngestionPercent": 15, "errorDiagnosticsEnabled": True}
    assert sent == [[{"op": "add", "path": "/options", "value": {"partialIngestionPercent": 15}},
                     {"op": "add", "path": "/options/errorDiagnosticsEnabled", "value": True}]]
    update_flow(hook, flow_id, wanted, LOG)
    assert len(sent) == 1, "options as wanted: nothing to patch"
    update_flow(hook, flow_id, _wanted(flow, flow["scheduleParams"]), LOG)
    assert sent[1] == [{"op": "remove", "path": "/options/partialIngestionPercent", "value": 15}]
    assert _flow(hook, flow_id)["options"] == {"errorDiagnosticsEnabled": True}


def test_a_mapping_set_update_without_an_answer_is_sent_once_and_read_back(
    chain: dict[str, Any], aep_conn_env: EmulatorServer
) -> None:
    """Every PUT makes a version: one applied but unanswered is not repeated by the transport; the set read back
    with the wanted rules is taken (one new version, not two)."""
    hook = AepHook()
    aep_conn_env.admin.set_faults(
        [{"kind": "commit_then_drop", "method": "PUT", "path_regex": "/mappingSets/", "max_hits": 1}]
    )
    try:
        updated = new_mapping_version(hook, chain["mapping"], _model([*MAPPINGS[:3]], chain["target_schema"]),
                                      retry=False)
    finally:
        aep_conn_env.admin.clear_faults()
    assert updated["version"] == 1, "the PUT was sent once: version 1, no version 2"
    assert (hook.get_mapping_set(chain["mapping"]) or {})["version"] == 1


def test_updating_a_flow_deleted_meanwhile_names_the_flow_and_the_fix(chain: dict[str, Any]) -> None:
    from aep_provider.hooks.errors import AepError

    hook = AepHook()
    flow = _flow(hook, chain["flow"])
    hook.request("DELETE", f"{FLOWS}/{chain['flow']}")
    with pytest.raises(AepError, match=f"dataflow {chain['flow']} is gone.*run the DAG again"):
        update_flow(hook, chain["flow"], _wanted(flow, flow["scheduleParams"]), LOG)


def test_reusing_a_flow_without_a_plan_warns_of_its_delta_column_and_options(
    chain: dict[str, Any], make_context: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a plan the dataflow step reuses a same-named flow as it is and says what differs: another delta
    column (AEP keeps the flow's Copy ``deltaColumn``, on-demand-ingestion.md) and missing options (partial.md:
    without them AEP fails every run with a failed record)."""
    from aep_provider.operators.flow import AepCreateDataflowOperator

    caplog.set_level(logging.WARNING)
    op = AepCreateDataflowOperator(
        task_id="flow", name="HubSpot contacts dataflow", flow_spec_id=chain["flow_spec"],
        source_connection_id=chain["source"], target_connection_id=chain["target"], mapping_id=chain["mapping"],
        delta_column="Updated_At", schedule={"frequency": "once", "start_time": "2024-01-01T00:00:00Z"},
        options={"partialIngestionPercent": 15})
    assert only(op.execute(make_context())) == chain["flow"]
    out = capsys.readouterr()
    logged = caplog.text + out.out + out.err
    assert "delta column: Added_At -> Updated_At" in logged  # as the plan words it (models/drift.py)
    assert "options.partialIngestionPercent: None -> 15 (until this is applied, AEP fails every run" in logged
    assert "options" not in _flow(AepHook(), chain["flow"]), "reused unchanged"
