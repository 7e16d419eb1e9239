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
