"""Look-ups by name, title, id and flow answer what the emulator holds now, after renames and deletes.

The emulator answers ``property=name==``, ``title==``, ``id==`` and ``flowId==`` listings from indexes kept on
every write (so a look-up costs the same however much it holds); a stale index would find a renamed or deleted
resource, or miss one. These tests rename, delete and re-create and look up each way.
"""

from __future__ import annotations

import time

from emulator_flows import build_connections, create_flow
from emulator_helpers import CAT, FS, SR, XED_ID, Api

from aep_emulator.testing import EmulatorServer


def _names(api: Api, collection: str, expression: str) -> list[str]:
    answer = api.get(f"{FS}/{collection}", params={"property": expression})
    assert answer.status_code == 200, answer.text
    return [o["name"] for o in answer.json()["items"]]


def test_a_renamed_flow_is_found_by_its_new_name_only(emulator: EmulatorServer) -> None:
    """PATCH /name: the old name finds nothing, the new one the flow; ``id==`` with two ids finds each."""
    api = Api(emulator)
    f = build_connections(api)
    flow_id = create_flow(api, f, name="before rename")
    etag = api.get(f"{FS}/flows/{flow_id}").json()["items"][0]["etag"]
    renamed = api.patch(f"{FS}/flows/{flow_id}", [{"op": "replace", "path": "/name", "value": "after rename"}],
                        headers={"If-Match": etag})
    assert renamed.status_code == 200, renamed.text
    assert _names(api, "flows", "name==before rename") == []
    assert _names(api, "flows", "name==after rename") == ["after rename"]
    assert _names(api, "flows", 'name=="after rename"') == ["after rename"]
    assert sorted(_names(api, "sourceConnections", f"id=={f.source_id},nope")) == ["src"]


def test_a_flows_runs_are_listed_by_flow_id_as_they_come(emulator: EmulatorServer) -> None:
    """``property=flowId==`` lists each run of that flow and no other flow's; the flow shows its latest run."""
    api = Api(emulator)
    f = build_connections(api)
    soon = {"startTime": int(time.time()) - 60, "frequency": "once"}
    first = create_flow(api, f, soon, name="first flow")
    second = create_flow(api, f, soon, name="second flow")
    emulator.admin.advance(5)
    for flow_id in (first, second):
        runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
        assert [r["flowId"] for r in runs] == [flow_id]
        flow = api.get(f"{FS}/flows/{flow_id}").json()["items"][0]
        assert flow["lastRunDetails"]["id"] == runs[0]["id"]


def test_a_deleted_dataset_is_not_found_by_name_and_a_new_one_of_that_name_is(emulator: EmulatorServer) -> None:
    """Catalog ``property=name==``: a deleted dataset is gone from the look-up; ``**`` finds a literal ``*``."""
    api = Api(emulator)
    made = api.post(f"{CAT}/dataSets", {"name": "a*b dataset"}).json()[0].split("/")[-1]
    assert list(api.get(f"{CAT}/dataSets", params={"property": "name==a**b dataset"}).json()) == [made]
    assert list(api.get(f"{CAT}/dataSets", params={"property": "name==a*dataset"}).json()) == [made]
    api.delete(f"{CAT}/dataSets/{made}")
    assert api.get(f"{CAT}/dataSets", params={"property": "name==a**b dataset"}).json() == {}
    again = api.post(f"{CAT}/dataSets", {"name": "a*b dataset"}).json()[0].split("/")[-1]
    assert list(api.get(f"{CAT}/dataSets", params={"property": "name==a**b dataset"}).json()) == [again]


def test_a_retitled_schema_is_found_by_its_new_title_and_frees_the_old_one(emulator: EmulatorServer) -> None:
    """Schema Registry ``title==`` and title uniqueness follow a PATCH of the title."""
    api = Api(emulator)
    f = build_connections(api)
    patched = api.patch(f"{SR}/tenant/schemas/{f.schema_id.replace('/', '%2F').replace(':', '%3A')}",
                        [{"op": "replace", "path": "/title", "value": "Renamed target"}])
    assert patched.status_code == 200, patched.text
    found = api.get(f"{SR}/tenant/schemas", params={"property": "title==Renamed target"},
                    headers={"Accept": XED_ID}).json()["results"]
    assert [s["$id"] for s in found] == [f.schema_id]
    assert api.get(f"{SR}/tenant/schemas", params={"property": "title==Contacts target"},
                   headers={"Accept": XED_ID}).json()["results"] == []
    reused = api.post(f"{SR}/tenant/schemas", {"title": "Contacts target", "type": "object",
                                               "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]})
    assert reused.status_code == 201, reused.text
