"""Data Prep mapping sets: both request forms, destination path validation, paging."""

from __future__ import annotations

from emulator_flows import create_mapping, create_profile_schema
from emulator_helpers import DP, Api

from aep_emulator.testing import EmulatorServer


def test_old_form_answers_200_with_reference_shape(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    mapping_id = create_mapping(api, create_profile_schema(api))
    got = api.get(f"{DP}/mappingSets/{mapping_id}").json()
    assert got["id"] == mapping_id and got["version"] == 0
    assert got["mappings"][0]["destinationXdmPath"] == "person.name.firstName"
    assert got["mappings"][0]["sourceAttribute"] == "Properties_Firstname_Value"


def test_new_form_with_output_schema(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    resp = api.post(f"{DP}/mappingSets", {
        "outputSchema": {"schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
        "mappings": [{"sourceType": "ATTRIBUTE", "source": "Properties_Email_Value",
                      "destination": "personalEmail.address"}]})
    assert resp.status_code == 200, resp.text
    assert set(resp.json()) == {"id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy"}


def test_unknown_destination_path_is_400_naming_it(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    resp = api.post(f"{DP}/mappingSets", {
        "xdmSchema": schema_id, "mappings": [
            {"destinationXdmPath": "person.name.nickName", "sourceAttribute": "Properties_Firstname_Value"}]})
    assert resp.status_code == 400
    assert "person.name.nickName" in resp.json()["detail"]


def test_unknown_schema_is_400(emulator: EmulatorServer) -> None:
    resp = Api(emulator).post(f"{DP}/mappingSets", {
        "xdmSchema": "https://ns.adobe.com/demotenant/schemas/none",
        "mappings": [{"destinationXdmPath": "_id", "sourceAttribute": "Vid"}]})
    assert resp.status_code == 400


def test_list_pages_with_limit_and_start_and_filters_by_name(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    ids = [create_mapping(api, schema_id, name=f"m{i}") for i in range(5)]
    seen: list[str] = []
    start = 0
    while True:
        body = api.get(f"{DP}/mappingSets", params={"limit": 2, "start": start}).json()
        assert body["_page"] == {"count": len(body["data"]), "limit": 2}
        seen += [m["id"] for m in body["data"]]
        if body["_page"]["count"] < 2:
            break
        start += 2
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    named = api.get(f"{DP}/mappingSets", params={"name": "m3"}).json()["data"]
    assert [m["id"] for m in named] == [ids[3]]


def test_missing_mapping_set_is_404(emulator: EmulatorServer) -> None:
    assert Api(emulator).get(f"{DP}/mappingSets/{'0' * 32}").status_code == 404
