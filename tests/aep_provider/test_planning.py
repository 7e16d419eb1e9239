"""The plan's parts against the emulator: bulk readers (one request for many names, one look-up per name a
filter cannot express), the plan's answers as the create steps read them, and the table users read."""

from __future__ import annotations

from typing import Any

import pytest

from aep_emulator.testing import EmulatorServer
from aep_provider.hooks.aep import LOOK_UP, AepHook
from aep_provider.planning import readers
from aep_provider.planning.apply import planned_answer
from aep_provider.planning.table import render


def _requests(emulator: EmulatorServer) -> int:
    return int(emulator.admin.state()["counters"]["requests"])


def _base_connection(hook: AepHook, name: str) -> str:
    from aep_provider.models.common import DATA_LAKE_CONNECTION_SPEC_ID

    body = {"name": name, "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID, "version": "1.0"}}
    return str(hook.create_object("connections", body)["id"])


def test_flow_service_names_are_read_in_one_request_and_a_comma_name_alone(aep_conn_env: EmulatorServer) -> None:
    hook = AepHook()
    hook.get_token()
    ids = {name: _base_connection(hook, name) for name in ("lake a", "lake b", "lake, c")}
    before = _requests(aep_conn_env)
    found = readers.flow_objects_by_name(hook, "connections", ["lake a", "lake b", "lake, c", "absent"])
    assert _requests(aep_conn_env) - before == 2, "one comma-OR query, one wider look-up for the comma name"
    assert {name: [o["id"] for o in objects] for name, objects in found.items()} == {
        "lake a": [ids["lake a"]], "lake b": [ids["lake b"]], "lake, c": [ids["lake, c"]], "absent": []}


def test_datasets_of_many_names_are_read_in_one_request(aep_conn_env: EmulatorServer) -> None:
    hook = AepHook()
    schema = hook.create_resource("schemas", {
        "title": "planning target", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]})
    ref = {"id": schema["$id"], "contentType": "application/vnd.adobe.xed-full+json;version=1"}
    ids = {name: hook.create_dataset({"name": name, "schemaRef": ref}) for name in ("d1", "d2", "d*3")}
    before = _requests(aep_conn_env)
    found = readers.datasets_by_name(hook, ["d1", "d2", "d*3", "none"])
    assert _requests(aep_conn_env) - before == 2, "one name=a,b query, one escaped look-up for the name with *"
    assert {name: [i for i, _ in pairs] for name, pairs in found.items()} == {
        "d1": [ids["d1"]], "d2": [ids["d2"]], "d*3": [ids["d*3"]], "none": []}


class _TI:
    def __init__(self, try_number: int) -> None:
        self.try_number = try_number


ENTRY: dict[str, Any] = {"resource": "dataset", "name": "d", "action": "reuse", "id": "x", "found": {"id": "x"}}


@pytest.mark.parametrize(("entry", "try_number", "answer"), [
    (None, 1, LOOK_UP),
    ({**ENTRY, "action": "create", "id": None, "found": None}, 1, None),
    (ENTRY, 1, {"id": "x"}),
    (ENTRY, 2, LOOK_UP),  # a retry: the first try may have written
    ({**ENTRY, "action": "create", "found": None, "shared_with": "other"}, 1, LOOK_UP),
    ({**ENTRY, "action": "differs", "differences": ["schema: a -> b"]}, 1, LOOK_UP),
])
def test_the_create_steps_go_by_the_plan_only_where_it_is_safe(entry: Any, try_number: int, answer: Any) -> None:
    assert planned_answer(entry, {"ti": _TI(try_number)}) == answer


def test_the_table_shows_each_resource_its_action_and_each_difference() -> None:
    plan = {"contacts": {
        "dataset": {**ENTRY, "name": "contacts dataset"},
        "mapping_set": {"resource": "mapping_set", "name": "contacts mapping", "action": "differs", "id": "m1",
                        "differences": ["mapping + B -> person.name.lastName"], "update": True},
        "dataflow": {"resource": "dataflow", "name": "contacts dataflow", "action": "create", "id": None},
    }}
    lines = render(plan).splitlines()
    assert lines[0].split() == ["object", "resource", "name", "plan"]
    assert any(line.split()[-2:] == ["reuse", "x"] for line in lines)
    assert any(line.endswith("differs m1 (update)") for line in lines)
    assert any(line.strip() == "~ mapping + B -> person.name.lastName" for line in lines)
    assert lines[-1] == "Plan: 1 to create, 1 to reuse, 1 differ."
