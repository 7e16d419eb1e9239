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
    assert len(api.get(f"{CAT}/dataSets", params={"limit": 100}).json()) == 25


def test_limit_outside_1_to_100_is_a_400_not_a_silent_cap(emulator: EmulatorServer) -> None:
    """filter-data.md: "Invalid limit parameters (including limit=0) result in 400-level error
    responses"; the range is 1 to 100. A client asking for 1000 learns it, instead of silently
    getting 100 and believing it saw everything."""
    api = Api(emulator)
    for limit in (0, 101, 1000, -1):
        resp = api.get(f"{CAT}/dataSets", params={"limit": limit})
        assert resp.status_code == 400, limit
        assert resp.json()["type"].endswith("EMU-400")  # Catalog documents no error codes
    for limit in (1, 100):
        assert api.get(f"{CAT}/dataSets", params={"limit": limit}).status_code == 200


def test_every_dataset_carries_classification_and_tags(emulator: EmulatorServer) -> None:
    """catalog.yaml requires ``classification.dataBehavior`` and ``classification.managedBy`` on a
    dataset, and clients (aepp) read ``classification`` and ``tags`` of every listed dataset."""
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    plain = create_dataset(api, schema_id, "plain")
    listed = api.get(f"{CAT}/dataSets").json()
    read = api.get(f"{CAT}/dataSets/{plain}").json()[plain]
    for dataset in (listed[plain], read):
        assert dataset["classification"] == {"dataBehavior": "record", "managedBy": "CUSTOMER"}
        assert dataset["tags"] == {}
    tagged = api.post(f"{CAT}/dataSets", {"name": "tagged", "schemaRef": {"id": schema_id},
                                          "tags": {"team": ["crm"]}})
    assert tagged.status_code == 201
    tagged_id = tagged.json()[0].rsplit("/", 1)[-1]
    assert api.get(f"{CAT}/dataSets/{tagged_id}").json()[tagged_id]["tags"] == {"team": ["crm"]}


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


def test_delete_of_an_unknown_id_answers_200_with_an_empty_array(emulator: EmulatorServer) -> None:
    """help/catalog/api/delete-object.md: a delete of an object that does not exist "may still receive
    an HTTP Status Code 200, but the response array will be empty" - not a 404."""
    api = Api(emulator)
    dataset_id = create_dataset(api, create_profile_schema(api))
    assert api.delete(f"{CAT}/dataSets/{dataset_id}").json() == [f"@/dataSets/{dataset_id}"]
    again = api.delete(f"{CAT}/dataSets/{dataset_id}")
    assert again.status_code == 200 and again.json() == []
    never = api.delete(f"{CAT}/dataSets/000000000000000000000000")
    assert never.status_code == 200 and never.json() == []


def test_name_filter_honours_wildcards_and_doubled_asterisks(emulator: EmulatorServer) -> None:
    """help/catalog/api/filter-data.md: "The `name` property supports the use of a wildcard `*` ... Wildcards match
    empty characters ... Asterisks are escaped by doubling them (`**`)"."""
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    test = create_dataset(api, schema_id, "test")
    star = create_dataset(api, schema_id, "te*st")
    toast = create_dataset(api, schema_id, "teXYst")

    def names(value: str) -> set[str]:
        return set(api.get(f"{CAT}/dataSets", params={"property": f"name=={value}"}).json())

    assert names("te*st") == {test, star, toast}
    assert names("te**st") == {star}
    assert names("*") == {test, star, toast}
    assert names("test") == {test}
    assert set(api.get(f"{CAT}/dataSets", params={"property": "name!=te**st"}).json()) == {test, toast}
