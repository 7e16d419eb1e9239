"""Catalog datasets: create, read, id-keyed lists with offset paging, filters, delete."""

from __future__ import annotations

from emulator_flows import create_dataset, create_profile_schema
from emulator_helpers import CAT, Api

from aep_emulator.testing import EmulatorServer


def test_create_dataset_answers_201_with_ref_list(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    resp = api.post(f"{CAT}/dataSets?requestDataSource=true", {
        "name": "Contacts", "schemaRef": {"id": schema_id,
                                          "contentType": "application/vnd.adobe.xed-full-notext+json; version=1"}})
    assert resp.status_code == 201
    [ref] = resp.json()
    dataset_id = ref.removeprefix("@/dataSets/")
    assert len(dataset_id) == 24
    got = api.get(f"{CAT}/dataSets/{dataset_id}").json()
    assert list(got) == [dataset_id]
    assert got[dataset_id]["name"] == "Contacts"
    assert got[dataset_id]["schemaRef"]["id"] == schema_id


def test_dataset_with_unknown_schema_is_400(emulator: EmulatorServer) -> None:
    resp = Api(emulator).post(f"{CAT}/dataSets", {
        "name": "x", "schemaRef": {"id": "https://ns.adobe.com/demotenant/schemas/missing",
                                   "contentType": "application/vnd.adobe.xed-full-notext+json; version=1"}})
    assert resp.status_code == 400
    assert "request-id" in resp.json()["report"]


def test_list_is_id_keyed_map_with_offset_paging(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    ids = {create_dataset(api, schema_id, f"ds {i}") for i in range(25)}
    default = api.get(f"{CAT}/dataSets").json()
    assert isinstance(default, dict) and len(default) == 20
    seen: list[str] = []
    start = 0
    while True:
        page = api.get(f"{CAT}/dataSets", params={"limit": 10, "start": start}).json()
        seen += list(page)
        if len(page) < 10:
            break
        start += 10
    assert len(seen) == 25 and set(seen) == ids
    assert len(api.get(f"{CAT}/dataSets", params={"limit": 1000}).json()) == 25  # capped at 100


def test_limit_zero_is_an_error(emulator: EmulatorServer) -> None:
    assert Api(emulator).get(f"{CAT}/dataSets", params={"limit": 0}).status_code == 400


def test_name_filters_and_properties_trim(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    wanted = create_dataset(api, schema_id, "Wanted")
    create_dataset(api, schema_id, "Other")
    assert list(api.get(f"{CAT}/dataSets", params={"name": "Wanted"}).json()) == [wanted]
    assert list(api.get(f"{CAT}/dataSets", params={"property": "name==Wanted"}).json()) == [wanted]
    assert list(api.get(f"{CAT}/dataSets", params={"property": "name!=Other"}).json()) == [wanted]
    assert list(api.get(f"{CAT}/dataSets", params={"property": "name~^Wan"}).json()) == [wanted]
    trimmed = api.get(f"{CAT}/dataSets", params={"properties": "name", "name": "Wanted"}).json()
    assert trimmed == {wanted: {"name": "Wanted"}}
    ordered = api.get(f"{CAT}/dataSets", params={"orderBy": "desc:name"}).json()
    assert [v["name"] for v in ordered.values()] == ["Wanted", "Other"]


def test_delete_answers_200_with_ref_then_404(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    dataset_id = create_dataset(api, create_profile_schema(api))
    resp = api.delete(f"{CAT}/dataSets/{dataset_id}")
    assert resp.status_code == 200 and resp.json() == [f"@/dataSets/{dataset_id}"]
    assert api.get(f"{CAT}/dataSets/{dataset_id}").status_code == 404
