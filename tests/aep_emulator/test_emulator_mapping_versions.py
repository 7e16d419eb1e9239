"""Data Prep ``PUT /mappingSets/{id}``: an update is a new version; earlier versions stay readable; a flow's runs
map with the version its ``Mapping`` transformation names (data-prep.yaml ``putMappingSet``, ``version`` on GET)."""

from __future__ import annotations

from emulator_flows import create_mapping, create_profile_schema
from emulator_helpers import DP, Api

from aep_emulator.testing import EmulatorServer

FIRST = [("Vid", "_id"), ("Properties_Firstname_Value", "person.name.firstName")]
SECOND = [*FIRST, ("Properties_Lastname_Value", "person.name.lastName")]


def _put(api: Api, mapping_id: str, schema_id: str, rules: list[tuple[str, str]]) -> dict:
    body = {"xdmSchema": schema_id, "mappings": [{"sourceAttribute": s, "destinationXdmPath": d} for s, d in rules]}
    resp = api.http.put(f"{DP}/mappingSets/{mapping_id}", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_an_update_makes_a_new_version_and_keeps_the_earlier_one_readable(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    mapping_id = create_mapping(api, schema_id, FIRST, name="contacts")
    writes = emulator.admin.state()["counters"]["writes"]
    updated = _put(api, mapping_id, schema_id, SECOND)
    assert emulator.admin.state()["counters"]["writes"] == writes + 1
    assert (updated["id"], updated["version"], updated["name"]) == (mapping_id, 1, "contacts")
    assert len(updated["mappings"]) == 3
    current = api.get(f"{DP}/mappingSets/{mapping_id}").json()
    assert current["version"] == 1 and len(current["mappings"]) == 3
    earlier = api.get(f"{DP}/mappingSets/{mapping_id}", params={"version": 0}).json()
    assert earlier["version"] == 0 and len(earlier["mappings"]) == 2
    assert api.get(f"{DP}/mappingSets/{mapping_id}", params={"version": 7}).status_code == 404


def test_an_update_is_checked_like_a_create(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    mapping_id = create_mapping(api, schema_id, FIRST)
    resp = api.http.put(f"{DP}/mappingSets/{mapping_id}", json={
        "xdmSchema": schema_id, "mappings": [{"sourceAttribute": "Vid", "destinationXdmPath": "person.name."}]})
    assert resp.status_code == 400
    assert "person.name." in resp.text
    assert api.http.put(f"{DP}/mappingSets/{'0' * 32}", json={"xdmSchema": schema_id, "mappings": []}).status_code in (
        400, 404)


def test_the_docs_put_answer_is_the_current_pages_with_the_new_version(emulator: EmulatorServer) -> None:
    """help/data-prep/api/mapping-set.md ("Update a mapping set", the current page) answers the updated set with
    ``"version": 1``: the emulator's ``docs`` answer has the fields of that example, the new version among them."""
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    mapping_id = create_mapping(api, schema_id, FIRST, name="contacts")
    emulator.store.config.mapping_put_answer = "docs"
    try:
        answer = _put(api, mapping_id, schema_id, SECOND)
    finally:
        emulator.store.config.mapping_put_answer = "spec"
    assert answer["version"] == 1 and answer["id"] == mapping_id
    assert {"createdDate", "modifiedDate", "createdBy", "modifiedBy", "outputSchema", "mappings"} <= set(answer)
    assert "name" not in answer, "the example shows no name: the docs answer is the example's fields"


def test_the_list_is_newest_change_first_and_sorts_by_the_documented_fields(emulator: EmulatorServer) -> None:
    """data-prep.yaml ``orderBy``: fields ``createdDate`` and ``updatedDate`` (``+``/``-``), default
    ``lastUpdateDate``; mapping-set.md's list example answers "the last two mapping sets" newest first. An updated
    set comes first without ``orderBy``; ``createdDate`` keeps the order of creation; another field is refused."""
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    ids = []
    for i in range(3):
        ids.append(create_mapping(api, schema_id, FIRST, name=f"m{i}"))
        emulator.admin.advance(1)  # distinct creation times
    _put(api, ids[0], schema_id, SECOND)  # the oldest set is the last one changed

    def listed(**params: str) -> list[str]:
        return [m["id"] for m in api.get(f"{DP}/mappingSets", params={"limit": 10, "start": 0, **params}).json()["data"]]

    assert listed()[0] == ids[0]
    assert listed(orderBy="-updatedDate")[0] == ids[0] and listed(orderBy="+updatedDate")[-1] == ids[0]
    assert listed(orderBy="createdDate") == ids and listed(orderBy="-createdDate") == ids[::-1]
    refused = api.get(f"{DP}/mappingSets", params={"limit": 10, "start": 0, "orderBy": "name"})
    assert refused.status_code == 400 and "createdDate and updatedDate" in refused.json()["detail"]
