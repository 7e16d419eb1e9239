"""Flow Service: specs, connections, explore, validation rules, paging, PATCH/If-Match, delete."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from emulator_flows import (
    build_connections,
    create_dataset,
    create_dataset_base,
    create_flow,
    create_hubspot_base,
    create_mapping,
    create_profile_schema,
    flow_body,
)
from emulator_helpers import DATA_LAKE_SPEC, FLOW_SPEC_ID, FS, HUBSPOT_SPEC, Api

from aep_emulator.testing import EmulatorServer

SIX_TABLES = {"Hubspot.Contacts", "Hubspot.Companies", "Hubspot.All_Deals", "Hubspot.Tickets", "Hubspot.Owners",
              "Hubspot.Blog_Comments"}


def test_connection_specs_are_known(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    for spec_id, name in ((HUBSPOT_SPEC, "hubspot"), (DATA_LAKE_SPEC, "Data Lake")):
        [item] = api.get(f"{FS}/connectionSpecs/{spec_id}").json()["items"]
        assert item["name"] == name and item["version"] == "1.0"
    assert api.get(f"{FS}/connectionSpecs/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.mark.parametrize("value", ['"CRMToAEP"', "CRMToAEP", "'CRMToAEP'"])
def test_flow_spec_lookup_accepts_quoted_or_bare_name(emulator: EmulatorServer, value: str) -> None:
    items = Api(emulator).get(f"{FS}/flowSpecs", params={"property": f"name=={value}"}).json()["items"]
    assert [i["id"] for i in items] == [FLOW_SPEC_ID]


def test_base_connection_create_get_and_secret_masking(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    conn_id = create_hubspot_base(api)
    [conn] = api.get(f"{FS}/connections/{conn_id}").json()["items"]
    assert conn["connectionSpec"]["id"] == HUBSPOT_SPEC
    assert conn["auth"]["params"]["clientId"] == "hs-id"
    assert conn["auth"]["params"]["clientSecret"] != "hs-secret"
    assert re.fullmatch(r'"[^"]+"', conn["etag"])


def test_base_connection_validates_spec_and_auth(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    unknown = api.post(f"{FS}/connections", {"name": "x", "connectionSpec": {"id": "nope", "version": "1.0"}})
    assert unknown.status_code == 400
    no_token = api.post(f"{FS}/connections", {
        "name": "x", "auth": {"specName": "Basic Authentication", "params": {"clientId": "a", "clientSecret": "b"}},
        "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"}})
    assert no_token.status_code == 400 and "accessToken" in no_token.json()["detail"]


def test_explore_lists_tables_columns_and_preview(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    conn_id = create_hubspot_base(api)
    root = api.get(f"{FS}/connections/{conn_id}/explore", params={"objectType": "root"}).json()
    assert {t["name"] for t in root} >= SIX_TABLES
    assert root[0]["type"] == "table" and root[0]["canPreview"] is True
    table = api.get(f"{FS}/connections/{conn_id}/explore",
                    params={"objectType": "table", "object": "Hubspot.Contacts"}).json()
    assert table["format"] == "flat"
    cols = {c["name"]: c for c in table["schema"]["columns"]}
    assert {"Vid", "Properties_Firstname_Value", "Properties_Lastname_Value", "Added_At", "Portal_Id",
            "Properties_Email_Value", "Updated_At"} <= set(cols)
    assert cols["Added_At"]["xdm"] == {"type": "string", "format": "date-time"}
    assert "data" not in table
    preview = api.get(f"{FS}/connections/{conn_id}/explore",
                      params={"objectType": "table", "object": "Hubspot.Contacts", "preview": "true"}).json()
    assert preview["data"] and set(preview["data"][0]) == set(cols)
    missing = api.get(f"{FS}/connections/{conn_id}/explore",
                      params={"objectType": "table", "object": "Hubspot.Nope"})
    assert missing.status_code == 404 and "Hubspot.Nope" in missing.json()["detail"]


def test_source_connection_rejects_unknown_table(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    resp = api.post(f"{FS}/sourceConnections", {
        "name": "s", "baseConnectionId": create_hubspot_base(api), "params": {"path": "Hubspot.Nope"},
        "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"}})
    assert resp.status_code == 400 and "Hubspot.Nope" in resp.json()["detail"]


def test_target_connection_needs_data_lake_base_and_matching_schema(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    other_schema = create_profile_schema(api, "Other")
    dataset_id = create_dataset(api, schema_id)
    body = {"name": "t", "data": {"format": "parquet_xdm", "schema": {"id": schema_id, "version": "x"}},
            "params": {"dataSetId": dataset_id}, "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"}}
    wrong_base = api.post(f"{FS}/targetConnections", {**body, "baseConnectionId": create_hubspot_base(api)})
    assert wrong_base.status_code == 400
    ds_base = create_dataset_base(api)
    mismatch = api.post(f"{FS}/targetConnections", {
        **body, "baseConnectionId": ds_base,
        "data": {"format": "parquet_xdm", "schema": {"id": other_schema, "version": "x"}}})
    # 1425-400 is Adobe's code for a flow's mapping against its dataset; here the code is the neutral EMU-400.
    assert mismatch.status_code == 400 and mismatch.json()["type"].endswith("EMU-400")
    missing_ds = api.post(f"{FS}/targetConnections", {**body, "baseConnectionId": ds_base,
                                                       "params": {"dataSetId": "0" * 24}})
    assert missing_ds.status_code == 400
    assert api.post(f"{FS}/targetConnections", {**body, "baseConnectionId": ds_base}).status_code == 201


def test_flow_create_get_shape(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    f = build_connections(api)
    resp = api.post(f"{FS}/flows", flow_body(f))
    assert resp.status_code == 201 and set(resp.json()) == {"id", "etag"}
    [flow] = api.get(f"{FS}/flows/{resp.json()['id']}").json()["items"]
    assert flow["state"] == "enabled"
    assert flow["sourceConnectionIds"] == [f.source_id] and flow["targetConnectionIds"] == [f.target_id]
    assert flow["flowSpec"]["id"] == FLOW_SPEC_ID
    assert flow["sandboxName"] == "prod" and flow["imsOrgId"].endswith("@AdobeOrg")
    assert flow["inheritedAttributes"]["sourceConnections"][0]["baseConnection"]["id"] == f.base_id
    assert isinstance(flow["createdAt"], int) and flow["etag"] == resp.json()["etag"]
    assert flow["lastRunDetails"]["state"] in ("scheduled", "inProgress", "success")


def test_flow_create_rejects_state(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    resp = api.post(f"{FS}/flows", {**flow_body(build_connections(api)), "state": "enabled"})
    assert resp.status_code == 400 and resp.json()["type"].endswith("1410-400")


@pytest.mark.parametrize(
    ("schedule", "ok", "field"),
    [
        ({"startTime": 1767225600, "frequency": "minute", "interval": 10}, False, "scheduleParams.interval"),
        ({"startTime": 1767225600, "frequency": "minute", "interval": 15}, True, None),
        ({"startTime": 1767225600, "frequency": "minute", "interval": "30"}, True, None),
        ({"startTime": "1767225600", "frequency": "hour", "interval": 1}, True, None),
        ({"startTime": 1767225600, "frequency": "hour", "interval": 0}, False, "scheduleParams.interval"),
        ({"startTime": 1767225600, "frequency": "once"}, True, None),
        ({"startTime": 1767225600, "frequency": "once", "interval": 1}, False, "scheduleParams.interval"),
        ({"startTime": 1767225600, "frequency": "day"}, False, "scheduleParams.interval"),
        ({"startTime": 1767225600, "frequency": "month", "interval": 1}, False, "scheduleParams.frequency"),
        ({"frequency": "day", "interval": 1}, False, "scheduleParams.startTime"),
        ({"startTime": 1767225600, "frequency": "week", "interval": 2, "backfill": True}, True, None),
    ],
)
def test_schedule_params_validated_against_flow_spec(emulator: EmulatorServer, schedule, ok, field) -> None:  # type: ignore[no-untyped-def]
    api = Api(emulator)
    resp = api.post(f"{FS}/flows", flow_body(build_connections(api), schedule))
    if ok:
        assert resp.status_code == 201, resp.text
    else:
        assert resp.status_code == 400
        assert field in resp.json()["detail"]


def test_flow_needs_existing_connections_and_mapping(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    f = build_connections(api)
    body = flow_body(f)
    assert api.post(f"{FS}/flows", {**body, "sourceConnectionIds": ["nope"]}).status_code == 400
    assert api.post(f"{FS}/flows", {**body, "targetConnectionIds": ["nope"]}).status_code == 400
    body["transformations"][1]["params"]["mappingId"] = "0" * 32
    assert api.post(f"{FS}/flows", body).status_code == 400
    assert api.post(f"{FS}/flows", {**flow_body(f), "flowSpec": {"id": "nope", "version": "1.0"}}).status_code == 400


def test_flow_mapping_for_other_schema_is_1425(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    f = build_connections(api)
    f.mapping_id = create_mapping(api, create_profile_schema(api, "Another schema"))
    resp = api.post(f"{FS}/flows", flow_body(f))
    assert resp.status_code == 400 and resp.json()["type"].endswith("1425-400")


def test_continuation_token_paging_filters_and_count(emulator: EmulatorServer) -> None:
    """A client paging a filtered list sees every match once: the next link carries only the
    continuation token (flow-service.yaml's example ``/connections?continuationToken=...``), and the
    client sends its own query again with it."""
    api = Api(emulator)
    for i in range(7):
        create_hubspot_base(api, f"conn {i}")
    create_dataset_base(api, "lake")
    seen: list[str] = []
    query = {"limit": "3", "property": f"connectionSpec.id=={HUBSPOT_SPEC}"}
    url: str | None = f"{FS}/connections"
    params: dict[str, str] = dict(query)
    pages = 0
    while url:
        body = api.get(url, params=params).json()
        pages += 1
        seen += [c["name"] for c in body["items"]]
        nxt = body["_links"].get("next")
        url = None
        if nxt:
            assert nxt["href"].startswith("/connections?continuationToken=")
            assert "property" not in nxt["href"] and "limit" not in nxt["href"]
            token = nxt["href"].split("continuationToken=", 1)[1]
            url, params = f"{FS}/connections", {**query, "continuationToken": unquote(token)}
    assert pages == 3 and seen == [f"conn {i}" for i in range(7)]
    assert api.get(f"{FS}/connections", params={"count": "true"}).json() == {"count": 8}
    both = api.get(f"{FS}/connections", params={"count": "true", "limit": 2})
    assert both.status_code == 400 and both.json()["type"].endswith("1401-400")
    named = api.get(f"{FS}/connections", params={"property": 'name=="conn 3"'}).json()["items"]
    assert [c["name"] for c in named] == ["conn 3"]
    desc = api.get(f"{FS}/connections", params={"orderby": "-createdAt", "limit": 1}).json()["items"]
    assert desc[0]["name"] == "lake"
    created = api.get(f"{FS}/connections", params={"property": "createdAt>=0"}).json()["items"]
    assert len(created) == 8


def test_flows_filter_by_state_and_runs_by_flow_id(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    flow_id = create_flow(api, build_connections(api))
    assert [f["id"] for f in api.get(f"{FS}/flows", params={"property": "state==enabled"}).json()["items"]] == [
        flow_id]
    assert api.get(f"{FS}/flows", params={"property": "state==disabled"}).json()["items"] == []
    assert api.post(f"{FS}/flows/{flow_id}/action?op=disable").status_code == 200
    assert api.get(f"{FS}/flows", params={"property": "state==disabled"}).json()["items"][0]["id"] == flow_id


def test_patch_needs_if_match_and_rejects_stale_etag(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    flow_id = create_flow(api, build_connections(api))
    [flow] = api.get(f"{FS}/flows/{flow_id}").json()["items"]
    op = [{"op": "replace", "path": "/name", "value": "renamed"}]
    missing = api.patch(f"{FS}/flows/{flow_id}", op)
    assert missing.status_code == 400 and missing.json()["type"].endswith("1403-400")
    assert missing.json()["title"] == "Header is missing", "flow-service-errors.md's title"
    ok = api.patch(f"{FS}/flows/{flow_id}", op, headers={"If-Match": flow["etag"]})
    assert ok.status_code == 200 and ok.json()["etag"] != flow["etag"]
    stale = api.patch(f"{FS}/flows/{flow_id}", op, headers={"If-Match": flow["etag"]})
    assert stale.status_code == 412 and stale.json()["type"].endswith("1404-412")
    assert stale.json()["title"] == "Version not matching", "flow-service-errors.md's title"
    assert api.get(f"{FS}/flows/{flow_id}").json()["items"][0]["name"] == "renamed"
    bad_schedule = api.patch(f"{FS}/flows/{flow_id}", [
        {"op": "replace", "path": "/scheduleParams/frequency", "value": "minute"},
        {"op": "replace", "path": "/scheduleParams/interval", "value": 5}], headers={"If-Match": ok.json()["etag"]})
    assert bad_schedule.status_code == 400 and "scheduleParams.interval" in bad_schedule.json()["detail"]


@pytest.mark.parametrize("op", ["move", "copy", "test", "MOVE"])
def test_flow_patch_refuses_ops_other_than_add_replace_remove_with_1434(emulator: EmulatorServer, op: str) -> None:
    """flow-service.yaml and update-dataflows.md name add/replace/remove only; flow-service-errors.md: 1434-400."""
    api = Api(emulator)
    flow_id = create_flow(api, build_connections(api))
    [flow] = api.get(f"{FS}/flows/{flow_id}").json()["items"]
    patch = {"op": op, "path": "/name", "from": "/description", "value": "x"}
    answer = api.patch(f"{FS}/flows/{flow_id}", [patch], headers={"If-Match": flow["etag"]})
    assert answer.status_code == 400 and answer.json()["type"].endswith("1434-400"), answer.text
    assert api.get(f"{FS}/flows/{flow_id}").json()["items"][0]["etag"] == flow["etag"], "nothing was changed"


def test_a_flow_start_time_cannot_change_once_it_has_occurred(emulator: EmulatorServer) -> None:
    """update-dataflows.md: "You cannot update the startTime of a dataflow if the initially scheduled startTime has
    already occurred" (no code documented: EMU-400); a start still ahead can move, and other keys still change."""
    api = Api(emulator)
    f = build_connections(api)
    ahead = create_flow(api, f, {"startTime": 4102444800, "frequency": "day", "interval": 1, "backfill": False})
    [flow] = api.get(f"{FS}/flows/{ahead}").json()["items"]
    moved = api.patch(f"{FS}/flows/{ahead}", [{"op": "replace", "path": "/scheduleParams/startTime",
                                               "value": "4102531200"}], headers={"If-Match": flow["etag"]})
    assert moved.status_code == 200, moved.text
    past = create_flow(api, f, name="Started flow")  # flow_body's startTime 1767225600 (2026-01-01)
    [flow] = api.get(f"{FS}/flows/{past}").json()["items"]
    refused = api.patch(f"{FS}/flows/{past}", [{"op": "replace", "path": "/scheduleParams/startTime",
                                                "value": 4102444800}], headers={"If-Match": flow["etag"]})
    assert refused.status_code == 400 and refused.json()["type"].endswith("EMU-400"), refused.text
    assert "startTime" in refused.json()["detail"]
    interval = api.patch(f"{FS}/flows/{past}", [{"op": "replace", "path": "/scheduleParams/interval", "value": 2}],
                         headers={"If-Match": flow["etag"]})
    assert interval.status_code == 200, interval.text


def test_delete_flow_204_and_base_connection_in_use_is_1418(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    f = build_connections(api)
    flow_id = create_flow(api, f)
    used = api.delete(f"{FS}/connections/{f.base_id}")
    assert used.status_code == 400 and used.json()["type"].endswith("1418-400")
    assert api.delete(f"{FS}/flows/{flow_id}").status_code == 204
    assert api.get(f"{FS}/flows/{flow_id}").status_code == 404
    assert api.delete(f"{FS}/sourceConnections/{f.source_id}").status_code == 204
    assert api.delete(f"{FS}/connections/{f.base_id}").status_code == 204


def test_every_flow_patch_op_carries_a_value_remove_too(emulator: EmulatorServer) -> None:
    """flow-service.yaml ``PatchInstruction`` requires ``op``, ``path`` and ``value``, and Adobe's one Flow Service
    remove example (update-destination-dataflows.md, "Remove an audience from a dataflow") sends a value: an op
    without one is refused whole with 1455-400 (nothing applied); a remove with a value removes (RFC 6902 ignores
    the value)."""
    api = Api(emulator)
    flow_id = create_flow(api, build_connections(api))  # a daily flow: it has an interval
    [flow] = api.get(f"{FS}/flows/{flow_id}").json()["items"]
    ops = [{"op": "replace", "path": "/scheduleParams/frequency", "value": "once"},
           {"op": "remove", "path": "/scheduleParams/interval"}, {"op": "remove", "path": "/scheduleParams/backfill"}]
    refused = api.patch(f"{FS}/flows/{flow_id}", ops, headers={"If-Match": flow["etag"]})
    assert refused.status_code == 400 and refused.json()["type"].endswith("1455-400"), refused.text
    assert '"value"' in refused.json()["detail"]
    [unchanged] = api.get(f"{FS}/flows/{flow_id}").json()["items"]
    assert unchanged["scheduleParams"]["frequency"] == "day" and unchanged["etag"] == flow["etag"]
    with_values = [ops[0], {**ops[1], "value": 1}, {**ops[2], "value": False}]
    ok = api.patch(f"{FS}/flows/{flow_id}", with_values, headers={"If-Match": flow["etag"]})
    assert ok.status_code == 200, ok.text
    [once] = api.get(f"{FS}/flows/{flow_id}").json()["items"]
    assert once["scheduleParams"]["frequency"] == "once" and "interval" not in once["scheduleParams"]
