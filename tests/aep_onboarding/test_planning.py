"""The onboarding's plan, against the emulator and on its own: what it reads (only documented filters, the
independent reads at once), how it compares what it found with what the spec wants (``planning/rules.py``), the base
connections by their role, the table users read, and what ``on_drift: update`` may apply."""

from __future__ import annotations

from typing import Any

import pytest

from aep_emulator.testing import EmulatorServer
from aep_onboarding.planning.table import render
from aep_onboarding.steps import object_resources
from aep_provider.hooks.aep import AepHook


def _requests(emulator: EmulatorServer) -> int:
    return int(emulator.admin.state()["counters"]["requests"])


def _base_connection(hook: AepHook, name: str) -> str:
    from aep_provider.models.common import DATA_LAKE_CONNECTION_SPEC_ID

    body = {"name": name, "connectionSpec": {"id": DATA_LAKE_CONNECTION_SPEC_ID, "version": "1.0"}}
    return str(hook.create_object("connections", body)["id"])


PLAN_ROW: dict[str, Any] = {
    "key": "contacts", "source": "Hubspot.Contacts", "names": {step: f"p {step}" for step, _ in object_resources()},
    "columns": ["email", "lastmodifieddate"], "class_ref": "https://ns.adobe.com/xdm/context/profile", "field_groups": [],
    "mappings": [{"source": "email", "destination": "personalEmail.address"}], "delta_column": "lastmodifieddate",
}


def test_the_plan_sends_no_name_or_filter(aep_conn_env: EmulatorServer) -> None:
    """The plan's Flow Service listings use only the comma-OR filters sort-and-filter.md documents, and a name only
    with one value, as the page shows it for connections (the base connections, looked up as their steps do)."""
    from aep_onboarding.planning.operator import AepPlanOperator

    hook = AepHook()
    sent: list[dict[str, Any]] = []
    real = hook.iter_flow_service

    def spy(collection: Any, params: dict[str, Any] | None = None) -> Any:
        sent.append({"collection": collection, **(params or {})})
        return real(collection, params)

    hook.iter_flow_service = spy  # type: ignore[method-assign]
    _base_connection(hook, "lake")
    op = AepPlanOperator(task_id="plan", for_each=[PLAN_ROW], hubspot_base_connection_id="b" * 32,
                         dataset_base_connection_name="lake")
    op.__dict__["hook"] = hook
    op._read(op._rows())
    documented = {"connections": "connectionSpec.id", "sourceConnections": "connectionSpec.id",
                  "targetConnections": "connectionSpec.id", "flows": "flowSpec.id"}
    assert {q["collection"] for q in sent} == set(documented)
    by_name = [q for q in sent if str(q["property"]).startswith("name==")]
    assert by_name == [{"collection": "connections", "property": "name==lake"}], sent
    assert all(str(q["property"]).startswith(documented[str(q["collection"])] + "==")
               for q in sent if q not in by_name), sent


ENTRY: dict[str, Any] = {"resource": "dataset", "name": "d", "action": "reuse", "id": "x", "found": {"id": "x"}}


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


def _found_flow(schedule: dict[str, Any], version: str = "0") -> dict[str, Any]:
    return {"id": "f1", "name": "p flow", "sourceConnectionIds": ["s1"], "targetConnectionIds": ["t1"],
            "state": "enabled", "scheduleParams": schedule,
            "transformations": [{"name": "Mapping", "params": {"mappingId": "m1", "mappingVersion": version}}]}


def _plan(row: Any, named: dict[Any, dict[str, list[dict[str, Any]]]], **bases: Any) -> dict[str, Any]:
    from aep_onboarding.planning.decide import plan_object
    from aep_onboarding.planning.models import Found
    from aep_onboarding.steps import planned

    return plan_object(row, Found(named=named, **bases), planned())


def _plan_with(flow: dict[str, Any], target_all_of: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    from aep_onboarding.planning.models import PlanRow
    from aep_provider.outcomes import Kind

    row = PlanRow(**{**PLAN_ROW, "schedule": {"frequency": "once", "start_time": "now"}})
    names = PLAN_ROW["names"]
    return _plan(row, {
        Kind.SCHEMA: {names["target_schema"]: [{"$id": "ts", "meta:class": PLAN_ROW["class_ref"], "allOf": target_all_of
                                                or [{"$ref": PLAN_ROW["class_ref"]}]}]},
        Kind.MAPPING_SET: {names["mapping_set"]: [{"id": "m1", "version": 2, "xdmSchema": "ts", "mappings": [
            {"sourceAttribute": "email", "destinationXdmPath": "personalEmail.address"}]}]},
        Kind.SOURCE_CONNECTION: {names["source_connection"]: [{"id": "s1", "baseConnectionId": "b", "params": {
            "path": "Hubspot.Contacts"}}]},
        Kind.TARGET_CONNECTION: {names["target_connection"]: [{"id": "t1", "baseConnectionId": "d"}]},
        Kind.DATAFLOW: {names["dataflow"]: [flow]},
    }, hubspot_base_id="b", dataset_base_id="d")


def _updates(plan: dict[str, Any]) -> list[str]:
    from aep_onboarding.planning.decide import mark_updates
    from aep_onboarding.steps import planned

    return mark_updates(plan, dict(planned()))


def test_the_plan_reports_schedule_keys_to_remove_and_a_flow_on_an_old_mapping_version() -> None:
    """A flow on minute/15 wanted once: interval goes (a remove), and a flow naming version 0 of a set now at 2 is
    moved (update-dataflows.md: mappingId and mappingVersion); both are updatable in place."""
    from aep_provider.operators.updates import _patch

    plan = _plan_with(_found_flow({"frequency": "minute", "interval": 15, "startTime": 1}))
    flow = plan["dataflow"]
    assert flow.action == "differs"
    assert set(flow.differences) == {"schedule.frequency: minute -> once", "schedule.interval: 15 -> None",
                                     "mapping version: 0 -> 2"}
    assert not [note for note in _updates(plan) if note.startswith("dataflow")] and flow.update
    wanted = {"transformations": [{"name": "Mapping", "params": {"mappingId": "m1", "mappingVersion": "2"}}],
              "scheduleParams": {"frequency": "once", "startTime": 1}}
    ops = _patch(_found_flow({"frequency": "minute", "interval": 15, "startTime": 1}), wanted)
    assert {(op["op"], op["path"]) for op in ops} == {
        ("replace", "/transformations/0"), ("replace", "/scheduleParams/frequency"), ("remove", "/scheduleParams/interval")}
    back = _patch(_found_flow({"frequency": "once", "startTime": 1}, "2"),
                  {**wanted, "scheduleParams": {"frequency": "minute", "interval": 15, "startTime": 1}})
    assert {(op["op"], op["path"]) for op in back} == {
        ("replace", "/scheduleParams/frequency"), ("add", "/scheduleParams/interval")}


def test_an_inline_allof_part_is_no_field_group_difference() -> None:
    plan = _plan_with(_found_flow({"frequency": "once", "startTime": 1}, "2"),
                      [{"$ref": PLAN_ROW["class_ref"]}, {"properties": {"x": {"type": "string"}}}])
    assert plan["target_schema"].action == "reuse", plan["target_schema"].differences


def test_mappings_are_checked_against_the_field_groups_the_found_target_schema_has(aep_conn_env: EmulatorServer) -> None:
    """A target schema reused with fewer field groups than the spec names: a destination only the spec's groups
    have fails at plan, before any write (Data Prep would refuse the mapping set later)."""
    from aep_onboarding.planning.checks import GlobalPaths, check_mappings
    from aep_onboarding.planning.models import PlanRow
    from aep_provider.hooks.errors import AepConfigError

    details = "https://ns.adobe.com/xdm/context/profile-personal-details"
    row = PlanRow(**{**PLAN_ROW, "field_groups": [details]})
    paths = GlobalPaths(AepHook())
    check_mappings(row, paths.schema_paths(row), "target")
    found = {"$id": "ts", "meta:class": PLAN_ROW["class_ref"], "allOf": [{"$ref": PLAN_ROW["class_ref"]}]}
    with pytest.raises(AepConfigError, match=r"personalEmail\.address"):
        check_mappings(row, paths.schema_paths(row, found), "target")


def test_a_same_named_source_connection_on_another_base_connection_is_not_duplicated(
    aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch, make_context: Any
) -> None:
    """The spec moves to a HubSpot base connection not made yet while a source connection of its name exists on
    another one: the plan lists source connections by connectionSpec.id (sort-and-filter.md), sees it and says
    ``differs`` (not ``create``), so the source step looks the name up and refuses a second same-named one."""
    from aep_onboarding.planning.decide import plan_object
    from aep_onboarding.planning.operator import AepPlanOperator
    from aep_onboarding.steps import planned
    from aep_provider.hooks.errors import AepConflictError
    from aep_provider.operators.connections import (
        AepCreateHubSpotBaseConnectionOperator,
        AepCreateSourceConnectionOperator,
    )
    from tests.aep_provider.aep_provider_chain import hubspot_conn_env, onboard

    hubspot_conn_env(monkeypatch)
    chain = onboard(make_context, run=False)
    hook = AepHook()
    row = {**PLAN_ROW, "names": {**PLAN_ROW["names"], "source_connection": "HubSpot contacts source"},
           "schedule": {"frequency": "once", "start_time": "now"}}
    op = AepPlanOperator(task_id="plan", for_each=[row], hubspot_base_connection_name="Another HubSpot account",
                         dataset_base_connection_name="Dataset base connection")
    op.__dict__["hook"] = hook
    rows = op._rows()
    entry = plan_object(rows[0], op._read(rows), planned())["source_connection"]
    assert (entry.action, entry.id) == ("differs", chain["source"]), entry
    assert f"base connection: {chain['base']} -> the new base connection" in entry.differences

    new_base = str(AepCreateHubSpotBaseConnectionOperator(
        task_id="base2", name="Another HubSpot account", hubspot_conn_id="hubspot_default").execute(make_context()))
    step = AepCreateSourceConnectionOperator(
        task_id="src2", name="HubSpot contacts source", base_connection_id=new_base, schema_id=chain["adhoc_schema"],
        path="Hubspot.Contacts", planned=entry.model_dump(mode="json"))
    with pytest.raises(AepConflictError, match="already exists"):
        step.execute(make_context())
    same_name = hook.find_by_name("sourceConnections", "HubSpot contacts source")
    assert [o["id"] for o in same_name] == [chain["source"]], "no second same-named source connection"


def test_a_base_connection_of_the_other_spec_is_not_taken_for_the_role(aep_conn_env: EmulatorServer) -> None:
    """A Data Lake connection named as the HubSpot base connection is not the HubSpot base connection (its
    connectionSpec.id is not HubSpot's): the plan finds none, as create_named's ``matches`` would."""
    from aep_onboarding.planning.operator import AepPlanOperator

    hook = AepHook()
    lake = _base_connection(hook, "shared name")
    op = AepPlanOperator(task_id="plan", for_each=[PLAN_ROW], hubspot_base_connection_name="shared name",
                         dataset_base_connection_name="shared name")
    op.__dict__["hook"] = hook
    assert op._base_connections() == (None, lake, frozenset({"shared name"}))


def test_a_target_connection_naming_no_base_connection_differs_and_a_schedule_is_compared_as_sent() -> None:
    """A target connection without baseConnectionId is not known to be on the dataset base connection: it differs
    (the step's name look-up decides). The wanted schedule is compared as the create step sends it
    (Schedule.to_body(): backfill true by default), so a flow made from the same spec shows no schedule change."""
    from aep_onboarding.planning.models import PlanRow
    from aep_provider.outcomes import Kind

    names = PLAN_ROW["names"]
    row = PlanRow(**{**PLAN_ROW, "schedule": {"frequency": "hour", "interval": "2", "start_time": "now"}})
    flow = {"id": "f1", "name": "p flow", "sourceConnectionIds": ["s1"], "targetConnectionIds": ["t1"],
            "state": "enabled", "scheduleParams": {"frequency": "hour", "interval": 2, "backfill": True,
                                                   "startTime": 1}, "transformations": []}
    plan = _plan(row, {Kind.TARGET_CONNECTION: {names["target_connection"]: [{"id": "t1"}]},
                       Kind.DATAFLOW: {names["dataflow"]: [flow]}}, dataset_base_id="d")
    assert plan["target_connection"].action == "differs"
    assert "base connection: None -> d" in plan["target_connection"].differences
    assert not [d for d in plan["dataflow"].differences if d.startswith("schedule.")], plan["dataflow"].differences


@pytest.mark.parametrize(("max_concurrency", "overlapped"), [(8, True), (1, False)])
def test_the_plans_independent_reads_are_in_flight_at_once(
    aep_conn_env: EmulatorServer, max_concurrency: int, overlapped: bool
) -> None:
    """On a slow link the plan costs its longest chain of reads, not their sum: its listings and the one look-up
    per mapping-set name are in flight together (up to max_concurrency), and one at a time with 1."""
    import threading

    from aep_onboarding.planning.operator import AepPlanOperator

    hook = AepHook()
    hook.get_token()
    lock, in_flight, peak = threading.Lock(), [0], [0]
    real = hook.request

    def counted(*args: Any, **kwargs: Any) -> Any:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    hook.request = counted  # type: ignore[method-assign]
    rows = [{**PLAN_ROW, "key": f"o{i}", "names": {k: f"{v} {i}" for k, v in PLAN_ROW["names"].items()}}
            for i in range(4)]
    op = AepPlanOperator(task_id="plan", for_each=rows, hubspot_base_connection_id="b" * 32,
                         dataset_base_connection_name="lake", max_concurrency=max_concurrency)
    op.__dict__["hook"] = hook
    aep_conn_env.admin.configure(latency_ms=200)  # every answer takes 200 ms: reads started together overlap
    try:
        found = op._read(op._rows())
    finally:
        aep_conn_env.admin.configure(latency_ms=0)
    from aep_provider.outcomes import Kind

    assert set(found.named[Kind.MAPPING_SET]) == {f"p mapping_set {i}" for i in range(4)}
    assert (peak[0] > 1) is overlapped, peak[0]


def test_a_flow_reading_another_delta_column_differs_and_is_not_updated_in_place() -> None:
    """The spec's delta column is the flow's Copy ``deltaColumn``, AEP's source of truth once a run exists
    (on-demand-ingestion.md; no Adobe page patches it): the plan names it and ``update`` says to tear it down."""
    flow = _found_flow({"frequency": "once", "startTime": 1}, "2")
    flow["transformations"].insert(0, {"name": "Copy", "params": {"deltaColumn": {"name": "Added_At"}}})
    plan = _plan_with(flow)
    assert plan["dataflow"].differences == ["delta column: Added_At -> lastmodifieddate"]
    assert [n for n in _updates(plan) if n.startswith("dataflow")] and not plan["dataflow"].update
