"""``on_drift: update`` against the emulator: what the update calls do to a live flow and mapping set.

Protects: a flow moving to ``once`` loses its ``interval`` (JSON Patch ``remove``) and one moving back gets it again
(``add``); a disabled flow is enabled and the etag the enable answers is the one kept; a flow left on an old mapping
version is moved to the set's current one; a retried update makes no second mapping-set version; the set's earlier
rules stay readable by ``version``; the emulator refuses a flow naming a version its mapping set never had (1412-400); a
mapping-set update answered without a version, or not answered, is read back.
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
from aep_provider.planning.update import new_mapping_version, update_flow

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


def test_a_flow_moving_to_once_loses_its_interval_and_moving_back_gets_it(chain: dict[str, Any], make_context) -> None:
    hook = AepHook()
    flow_id = only(dataflow_op(chain, {"frequency": "minute", "interval": 15, "start_time": "2024-01-01T00:00:00Z"},
                               name="scheduled flow").execute(make_context()))
    flow = _flow(hook, flow_id)
    start = flow["scheduleParams"]["startTime"]
    update_flow(hook, flow_id, _wanted(flow, {"frequency": "once", "startTime": start}), LOG)
    once = _flow(hook, flow_id)["scheduleParams"]
    assert once["frequency"] == "once" and "interval" not in once, once
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


def test_a_mapping_set_update_answered_without_a_version_reads_the_version_back(
    chain: dict[str, Any], aep_conn_env: EmulatorServer
) -> None:
    """mapping-set.md's "Update a mapping set" example answers no ``version``: the new one is read back, never 0."""
    hook = AepHook()
    aep_conn_env.store.config.mapping_put_answer = "docs"
    try:
        updated = new_mapping_version(hook, chain["mapping"], _model([*MAPPINGS[:2]], chain["target_schema"]),
                                      retry=False)
    finally:
        aep_conn_env.store.config.mapping_put_answer = "spec"
    assert updated["version"] == 1
    assert len(updated["mappings"]) == 2


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
