"""Rules the emulator enforces because Adobe documents them (api reference section 8).

Each test names the Adobe document it follows; docs/adobe-contract.md lists them all.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from emulator_flows import (
    build_connections,
    create_dataset_base,
    create_hubspot_base,
    create_profile_schema,
    flow_body,
)
from emulator_helpers import DATA_LAKE_SPEC, FS, HUBSPOT_SPEC, SR, XED_ID, Api

from aep_emulator.testing import EmulatorServer

# -- Flow Service filters (help/dataflows/api/sort-and-filter.md) ----------------------------------------------


def test_a_comma_in_a_filter_value_is_or(emulator: EmulatorServer) -> None:
    """sort-and-filter.md: ``property=id==736873,9485095`` returns either id. So a name holding a comma
    cannot be found with ``name==`` - the client must not rely on it (see the provider's look-up)."""
    api = Api(emulator)
    a, b = create_hubspot_base(api, "alpha"), create_hubspot_base(api, "beta")
    create_hubspot_base(api, "gamma")
    both = api.get(f"{FS}/connections", params={"property": f"id=={a},{b}"}).json()["items"]
    assert sorted(c["id"] for c in both) == sorted([a, b])
    comma = create_hubspot_base(api, "alpha,beta")
    by_name = api.get(f"{FS}/connections", params={"property": "name==alpha,beta"}).json()["items"]
    assert sorted(c["name"] for c in by_name) == ["alpha", "beta"]  # OR of two names, not "alpha,beta"
    assert comma not in [c["id"] for c in by_name]


def test_array_fields_are_filtered_with_brackets(emulator: EmulatorServer) -> None:
    """sort-and-filter.md: "If a property is nested within an array item, you must append square
    brackets": ``property=sourceConnectionIds[]==<id>``; without ``[]`` nothing matches."""
    api = Api(emulator)
    f = build_connections(api)
    flow_id = api.post(f"{FS}/flows", flow_body(f)).json()["id"]
    found = api.get(f"{FS}/flows", params={"property": f"sourceConnectionIds[]=={f.source_id}"}).json()["items"]
    assert [x["id"] for x in found] == [flow_id]
    nested = api.get(f"{FS}/flows", params={"property": f"transformations[].params.mappingId=={f.mapping_id}"})
    assert [x["id"] for x in nested.json()["items"]] == [flow_id]
    bare = api.get(f"{FS}/flows", params={"property": f"sourceConnectionIds=={f.source_id}"}).json()["items"]
    assert bare == []


@pytest.mark.parametrize(
    ("expression", "code"),
    [("name~^al", "1440-400"), ("createdAt>=1,2", "1443-400"), ("name==", "1453-400")],
)
def test_filters_flow_service_refuses_answer_its_documented_codes(
    emulator: EmulatorServer, expression: str, code: str
) -> None:
    """The Flow Service error table: ``~`` is not implemented (1440-400), a comparison takes one value
    (1443-400), an empty value is an invalid query value (1453-400)."""
    resp = Api(emulator).get(f"{FS}/connections", params={"property": expression})
    assert resp.status_code == 400 and resp.json()["type"].endswith(code)


# -- Flow Service resources --------------------------------------------------------------------------------------


def test_explore_accepts_the_spec_enum_and_the_tutorials_lowercase(emulator: EmulatorServer) -> None:
    """flow-service.yaml: ``objectType`` enum ``ROOT, TABLE, ...``; the CRM tutorial sends ``root`` and
    ``table``. Both forms answer the same."""
    api = Api(emulator)
    base = create_hubspot_base(api)
    lower = api.get(f"{FS}/connections/{base}/explore", params={"objectType": "root"})
    upper = api.get(f"{FS}/connections/{base}/explore", params={"objectType": "ROOT"})
    assert lower.status_code == upper.status_code == 200 and lower.json() == upper.json()
    table = api.get(f"{FS}/connections/{base}/explore", params={"objectType": "TABLE", "object": "Hubspot.Contacts"})
    assert table.status_code == 200 and table.json()["format"] == "flat"


def test_target_connection_without_base_connection_is_accepted(emulator: EmulatorServer) -> None:
    """help/sources/tutorials/api/collect/crm.md creates the target connection with no
    ``baseConnectionId``; a flow over it works like one with it."""
    api = Api(emulator)
    f = build_connections(api)
    target = api.get(f"{FS}/targetConnections/{f.target_id}").json()["items"][0]
    body = {k: target[k] for k in ("data", "params")}
    resp = api.post(f"{FS}/targetConnections", {"name": "no base", **body,
                                                 "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"}})
    assert resp.status_code == 201, resp.text
    read = api.get(f"{FS}/targetConnections/{resp.json()['id']}").json()["items"][0]
    assert "baseConnectionId" not in read
    f.target_id = resp.json()["id"]
    assert api.post(f"{FS}/flows", flow_body(f, name="over a base-less target")).status_code == 201
    wrong = api.post(f"{FS}/targetConnections", {"name": "hubspot base", "baseConnectionId": f.base_id, **body,
                                                  "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"}})
    assert wrong.status_code == 400


@pytest.mark.parametrize("interval", [1, "1"])
@pytest.mark.parametrize("mapping_version", [0, "0"])
def test_types_the_documents_disagree_on_are_accepted_in_both_forms(
    emulator: EmulatorServer, interval: object, mapping_version: object
) -> None:
    """``scheduleParams.interval``: string in flow-service.yaml, integer in the CRM flow spec's
    scheduleSpec; ``mappingVersion``: string in the flow spec and examples, integer from aepp."""
    api = Api(emulator)
    f = build_connections(api)
    body = flow_body(f)
    body["scheduleParams"]["interval"] = interval
    body["transformations"][1]["params"]["mappingVersion"] = mapping_version
    resp = api.post(f"{FS}/flows", body)
    assert resp.status_code == 201, resp.text


def test_mapping_identity_fields_may_be_null(emulator: EmulatorServer) -> None:
    """The Data Prep examples send ``identityGroup: null`` and ``namespaceCode: null``; data-prep.yaml
    does not mark them nullable. Both null and absent are accepted."""
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    mapping = {"destinationXdmPath": "person.name.firstName", "sourceAttribute": "Properties_Firstname_Value",
               "identity": False, "version": 0}
    for extra in ({"identityGroup": None, "namespaceCode": None}, {}):
        body = {"version": 0, "xdmSchema": schema_id, "xdmVersion": "1.0", "id": None,
                "mappings": [{**mapping, **extra}]}
        resp = api.post("/data/foundation/conversion/mappingSets", body)
        assert resp.status_code == 200, resp.text


# -- Schema Registry (help/xdm/api/getting-started.md, appendix.md) ------------------------------------------------


def test_every_schema_registry_get_needs_an_accept_header(emulator: EmulatorServer) -> None:
    """getting-started.md: "All GET requests to the Schema Registry require an Accept header"; lists take
    ``xed-id`` or ``xed``, a missing or other Accept answers XDM-1006-400 ("Accept header invalid")."""
    api = Api(emulator)
    for accept in ("", "application/json"):
        resp = api.http.get(f"{SR}/tenant/schemas", headers={"Accept": accept})
        assert resp.status_code == 400 and resp.json()["type"].endswith("XDM-1006-400"), accept
    assert api.http.get(f"{SR}/stats", headers={"Accept": ""}).status_code == 400
    assert api.http.get(f"{SR}/stats", headers={"Accept": "application/json"}).status_code == 200
    assert api.get(f"{SR}/tenant/schemas", headers={"Accept": XED_ID}).status_code == 200


def test_limit_and_start_need_orderby_and_start_is_strictly_after(emulator: EmulatorServer) -> None:
    """appendix.md, Paging: ``limit`` and ``start`` cannot be used without ``orderby``; ``start`` returns
    entries whose sort property is strictly greater than it; ``_page.next`` is the value to send."""
    api = Api(emulator)
    titles = [f"T{i}" for i in range(5)]
    for t in titles:
        create_profile_schema(api, t)
    assert api.get(f"{SR}/tenant/schemas", params={"limit": 2}).status_code == 400
    assert api.get(f"{SR}/tenant/schemas", params={"start": "T1"}).status_code == 400
    after = api.get(f"{SR}/tenant/schemas", params={"orderby": "title", "start": "T1"}).json()["results"]
    assert [r["title"] for r in after] == ["T2", "T3", "T4"]
    seen: list[str] = []
    params: dict[str, str] = {"orderby": "title", "limit": "2"}
    while True:
        body = api.get(f"{SR}/tenant/schemas", params=params).json()
        seen += [r["title"] for r in body["results"]]
        if body["_page"]["next"] is None:
            break
        params["start"] = body["_page"]["next"]
    assert seen == titles


# -- x-sandbox-name missing (contested) -------------------------------------------------------------------------


def test_missing_sandbox_header_flow_service_refuses_others_use_prod(emulator: EmulatorServer) -> None:
    """Contested in Adobe's documents: the getting-started pages say a request without
    ``x-sandbox-name`` resolves to ``prod``; the Flow Service error table lists ``2105-400`` "The header
    x-sandbox-name is missing". The emulator follows each service's own document: Flow Service refuses
    (2105-400), Schema Registry, Catalog and Data Prep resolve to prod (docs/adobe-contract.md)."""
    api = Api(emulator)
    create_profile_schema(api, "In prod")
    headers = {k: v for k, v in api.headers.items() if k != "x-sandbox-name"}
    fs = httpx.get(f"{emulator.base_url}{FS}/connections", headers=headers)
    assert fs.status_code == 400 and fs.json()["type"].endswith("2105-400")
    sr = httpx.get(f"{emulator.base_url}{SR}/tenant/schemas", headers={**headers, "Accept": XED_ID})
    assert sr.status_code == 200 and [r["title"] for r in sr.json()["results"]] == ["In prod"]


def test_unknown_codes_are_ours_and_say_so(emulator: EmulatorServer) -> None:
    """Where Adobe documents no code (Catalog, Data Prep, most validation errors) the emulator answers
    ``EMU-<status>`` under a type URL that is not Adobe's, so nobody mistakes it for a real code."""
    api = Api(emulator)
    resp = api.get(f"{FS}/connections/{quote('no-such-id')}")
    assert resp.status_code == 404 and resp.json()["type"].endswith("/1101-404")  # documented
    bad = api.post(f"{FS}/connections", {"name": "x", "connectionSpec": {"id": HUBSPOT_SPEC}})
    assert bad.status_code == 400
    assert bad.json()["type"] == "https://aep-emulator.invalid/errors/EMU-400"
    assert create_dataset_base(api)
