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


def test_flow_service_objects_are_listed_by_a_documented_or_filter_and_matched_by_exact_name(
    aep_conn_env: EmulatorServer,
) -> None:
    """sort-and-filter.md documents a comma-OR for connectionSpec.id, not for name: one listing by spec finds every
    name, a comma in a name included; a name not there is missing, whatever the filter would make of it."""
    from aep_provider.models.common import DATA_LAKE_CONNECTION_SPEC_ID, HUBSPOT_CONNECTION_SPEC_ID

    hook = AepHook()
    hook.get_token()
    ids = {name: _base_connection(hook, name) for name in ("lake a", "lake b", "lake, c")}
    before = _requests(aep_conn_env)
    found = readers.flow_objects_by_name(hook, "connections", ["lake a", "lake b", "lake, c", "absent"],
                                         "connectionSpec.id", [HUBSPOT_CONNECTION_SPEC_ID, DATA_LAKE_CONNECTION_SPEC_ID])
    assert _requests(aep_conn_env) - before == 1, "one connectionSpec.id==a,b listing"
    assert {name: [o["id"] for o in objects] for name, objects in found.items()} == {
        "lake a": [ids["lake a"]], "lake b": [ids["lake b"]], "lake, c": [ids["lake, c"]], "absent": []}
    before = _requests(aep_conn_env)
    assert readers.flow_objects_by_name(hook, "flows", ["lake a"], "flowSpec.id", [None]) == {"lake a": []}
    assert _requests(aep_conn_env) == before, "no flow spec: no flow of it can exist, nothing is read"


PLAN_ROW: dict[str, Any] = {
    "key": "contacts", "source": "Hubspot.Contacts", "names": {name: f"p {name}" for name in (
        "adhoc_class", "adhoc_schema", "source_connection", "target_schema", "dataset", "mapping_set",
        "target_connection", "flow")},
    "class_ref": "https://ns.adobe.com/xdm/context/profile", "field_groups": [],
    "mappings": [{"source": "email", "destination": "personalEmail.address"}], "delta_column": "lastmodifieddate",
}


def test_the_plan_sends_no_name_or_filter(aep_conn_env: EmulatorServer) -> None:
    """The plan's Flow Service listings use only the comma-OR filters sort-and-filter.md documents."""
    from aep_provider.operators.plan import AepPlanOperator

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
    assert all(str(q["property"]).startswith(documented[str(q["collection"])] + "==") for q in sent), sent


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


def test_only_the_tenants_own_ids_are_read_from_the_tenant_container(aep_conn_env: EmulatorServer) -> None:
    """Adobe's field groups outside xdm/ (https://ns.adobe.com/experience/...) are global resources: reading them
    from the tenant container would make the plan call them missing."""
    hook = AepHook()
    tenant = hook.get_tenant_id()
    schema = hook.create_resource("schemas", {
        "title": "container rule", "type": "object", "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]})
    assert hook.container_of(schema["$id"]) == "tenant"
    assert hook.container_of(f"_{tenant}.schemas.abc") == "tenant"
    assert hook.container_of("https://ns.adobe.com/xdm/context/profile-person-details") == "global"
    assert hook.container_of("https://ns.adobe.com/experience/campaign/orchestration/reachability") == "global"
    assert hook.get_resource("schemas", schema["$id"]) is not None


def _found_flow(schedule: dict[str, Any], version: str = "0") -> dict[str, Any]:
    return {"id": "f1", "name": "p flow", "sourceConnectionIds": ["s1"], "targetConnectionIds": ["t1"],
            "state": "enabled", "scheduleParams": schedule,
            "transformations": [{"name": "Mapping", "params": {"mappingId": "m1", "mappingVersion": version}}]}


def _plan_with(flow: dict[str, Any], target_all_of: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    from aep_provider.planning.differ import Found, plan_object
    from aep_provider.planning.models import PlanRow

    row = PlanRow(**{**PLAN_ROW, "schedule": {"frequency": "once", "start_time": "now"}})
    names = PLAN_ROW["names"]
    found = Found(
        schemas={names["target_schema"]: {"$id": "ts", "meta:class": PLAN_ROW["class_ref"], "allOf": target_all_of
                                           or [{"$ref": PLAN_ROW["class_ref"]}]}},
        mapping_sets={names["mapping_set"]: {"id": "m1", "version": 2, "xdmSchema": "ts", "mappings": [
            {"sourceAttribute": "email", "destinationXdmPath": "personalEmail.address"}]}},
        source_connections={names["source_connection"]: [{"id": "s1", "baseConnectionId": "b", "params": {
            "path": "Hubspot.Contacts"}}]},
        target_connections={names["target_connection"]: [{"id": "t1", "baseConnectionId": "d"}]},
        flows={names["flow"]: [flow]}, hubspot_base_id="b", dataset_base_id="d",
    )
    return plan_object(row, found)


def test_the_plan_reports_schedule_keys_to_remove_and_a_flow_on_an_old_mapping_version() -> None:
    """A flow on minute/15 wanted once: interval goes (a remove), and a flow naming version 0 of a set now at 2 is
    moved (update-dataflows.md: mappingId and mappingVersion); both are updatable in place."""
    from aep_provider.planning.update import _patch, mark_updates

    plan = _plan_with(_found_flow({"frequency": "minute", "interval": 15, "startTime": 1}))
    flow = plan["dataflow"]
    assert flow.action == "differs"
    assert set(flow.differences) == {"schedule.frequency: minute -> once", "schedule.interval: 15 -> None",
                                     "mapping version: 0 -> 2"}
    assert not [note for note in mark_updates(plan) if note.startswith("dataflow")] and flow.update
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
    from aep_provider.hooks.errors import AepConfigError
    from aep_provider.planning.checks import GlobalPaths, check_mappings
    from aep_provider.planning.models import PlanRow

    details = "https://ns.adobe.com/xdm/context/profile-personal-details"
    row = PlanRow(**{**PLAN_ROW, "field_groups": [details]})
    paths = GlobalPaths(AepHook())
    check_mappings(row, paths.schema_paths(row))
    found = {"$id": "ts", "meta:class": PLAN_ROW["class_ref"], "allOf": [{"$ref": PLAN_ROW["class_ref"]}]}
    with pytest.raises(AepConfigError, match=r"personalEmail\.address"):
        check_mappings(row, paths.schema_paths(row, found))


def test_check_source_goes_by_the_columns_the_plan_read(aep_conn_env: EmulatorServer, make_context: Any) -> None:
    """On a re-run the plan explored the table already: check_source checks its columns without exploring again
    (the base connection here does not even exist), and still fails on a missing column."""
    from aep_provider.hooks.errors import AepConfigError
    from aep_provider.operators.explore import AepExploreSourceOperator

    def check(required: list[str]) -> Any:
        return AepExploreSourceOperator(
            task_id="check_source", base_connection_id="0" * 32, object_path="Hubspot.Contacts",
            required_columns=required, explored=["Vid", "Added_At"],
        ).execute(make_context())

    before = _requests(aep_conn_env)
    assert check(["Vid"]) == {"object": [{"name": "Vid"}, {"name": "Added_At"}]}
    assert _requests(aep_conn_env) == before, "no explore request"
    with pytest.raises(AepConfigError, match="Email"):
        check(["Email"])


def test_the_dataflow_step_checks_the_schedule_against_the_pushed_schedule_spec(
    aep_conn_env: EmulatorServer, make_context: Any
) -> None:
    """The flow spec task pushes its scheduleSpec: each dataflow row is checked against it (here one that refuses
    every schedule) without reading the flow spec again, before any write."""
    from aep_provider.hooks.errors import AepConfigError
    from aep_provider.operators.flow import AepCreateDataflowOperator

    spec = AepHook().get_flow_spec("CRMToAEP") or {}
    refusing = {**spec["scheduleSpec"], "spec": {"type": "object", "required": ["neverSent"]}}
    before = _requests(aep_conn_env)
    op = AepCreateDataflowOperator(
        task_id="dataflow", name="f", flow_spec_id=spec["id"], schedule_spec=refusing,
        source_connection_id="s", target_connection_id="t", mapping_id="m", delta_column="Added_At",
        schedule={"frequency": "once", "start_time": "2024-01-01T00:00:00Z"},
    )
    with pytest.raises(AepConfigError, match="neverSent"):
        op.execute(make_context())
    assert _requests(aep_conn_env) == before, "no flow spec read, no write"


def test_a_same_named_source_connection_on_another_base_connection_is_not_duplicated(
    aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch, make_context: Any
) -> None:
    """The spec moves to a HubSpot base connection not made yet while a source connection of its name exists on
    another one: the plan lists source connections by connectionSpec.id (sort-and-filter.md), sees it and says
    ``differs`` (not ``create``), so the source step looks the name up and refuses a second same-named one."""
    from aep_provider_chain import hubspot_conn_env, onboard

    from aep_provider.hooks.errors import AepConflictError
    from aep_provider.operators.connections import (
        AepCreateHubSpotBaseConnectionOperator,
        AepCreateSourceConnectionOperator,
    )
    from aep_provider.operators.plan import AepPlanOperator
    from aep_provider.planning.differ import plan_object

    hubspot_conn_env(monkeypatch)
    chain = onboard(make_context, run=False)
    hook = AepHook()
    row = {**PLAN_ROW, "names": {**PLAN_ROW["names"], "source_connection": "HubSpot contacts source"},
           "schedule": {"frequency": "once", "start_time": "now"}}
    op = AepPlanOperator(task_id="plan", for_each=[row], hubspot_base_connection_name="Another HubSpot account",
                         dataset_base_connection_name="Dataset base connection")
    op.__dict__["hook"] = hook
    rows = op._rows()
    entry = plan_object(rows[0], op._read(rows))["source_connection"]
    assert (entry.action, entry.id) == ("differs", chain["source"]), entry
    assert f"base connection: {chain['base']} -> the new base connection" in entry.differences

    new_base = str(AepCreateHubSpotBaseConnectionOperator(
        task_id="base2", name="Another HubSpot account", hubspot_conn_id="hubspot_default").execute(make_context()))
    step = AepCreateSourceConnectionOperator(
        task_id="src2", name="HubSpot contacts source", base_connection_id=new_base, schema_id=chain["adhoc_schema"],
        path="Hubspot.Contacts", planned=entry.model_dump())
    with pytest.raises(AepConflictError, match="already exists"):
        step.execute(make_context())
    same_name = hook.find_by_name("sourceConnections", "HubSpot contacts source")
    assert [o["id"] for o in same_name] == [chain["source"]], "no second same-named source connection"


def test_a_base_connection_of_the_other_spec_is_not_taken_for_the_role(aep_conn_env: EmulatorServer) -> None:
    """A Data Lake connection named as the HubSpot base connection is not the HubSpot base connection (its
    connectionSpec.id is not HubSpot's): the plan finds none, as create_named's ``matches`` would."""
    from aep_provider.operators.plan import AepPlanOperator

    hook = AepHook()
    lake = _base_connection(hook, "shared name")
    op = AepPlanOperator(task_id="plan", for_each=[PLAN_ROW], hubspot_base_connection_name="shared name",
                         dataset_base_connection_name="shared name")
    op.__dict__["hook"] = hook
    assert op._base_connections() == (None, lake)


def test_a_target_connection_naming_no_base_connection_differs_and_a_schedule_is_compared_as_sent() -> None:
    """A target connection without baseConnectionId is not known to be on the dataset base connection: it differs
    (the step's name look-up decides). The wanted schedule is compared as the create step sends it
    (Schedule.to_body(): backfill true by default), so a flow made from the same spec shows no schedule change."""
    from aep_provider.planning.differ import Found, plan_object
    from aep_provider.planning.models import PlanRow

    names = PLAN_ROW["names"]
    row = PlanRow(**{**PLAN_ROW, "schedule": {"frequency": "hour", "interval": "2", "start_time": "now"}})
    flow = {"id": "f1", "name": "p flow", "sourceConnectionIds": ["s1"], "targetConnectionIds": ["t1"],
            "state": "enabled", "scheduleParams": {"frequency": "hour", "interval": 2, "backfill": True,
                                                   "startTime": 1}, "transformations": []}
    plan = plan_object(row, Found(target_connections={names["target_connection"]: [{"id": "t1"}]},
                                  flows={names["flow"]: [flow]}, dataset_base_id="d"))
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

    from aep_provider.operators.plan import AepPlanOperator

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
    assert set(found.mapping_sets) == {f"p mapping_set {i}" for i in range(4)}
    assert (peak[0] > 1) is overlapped, peak[0]


@pytest.mark.parametrize(("have", "want", "diffs"), [
    (None, {"partialIngestionPercent": 15, "errorDiagnosticsEnabled": True}, [
        "options.partialIngestionPercent: None -> 15 (until this is applied, AEP fails every run with a failed "
        "record and writes none of its records)", "options.errorDiagnosticsEnabled: None -> True"]),
    ({"partialIngestionPercent": 5}, {"partialIngestionPercent": 15},
     ["options.partialIngestionPercent: 5 -> 15 (until this is applied, AEP fails a run above 5% failed records)"]),
    ({"partialIngestionPercent": "15", "errorDiagnosticsEnabled": True}, {"partialIngestionPercent": 15.0}, []),
    ({"partialIngestionPercent": 15, "errorDiagnosticsEnabled": True}, None,
     ["options.partialIngestionPercent: 15 -> None (until this is applied, AEP fails a run above 15% failed records)"]),
])
def test_the_plan_compares_the_flows_options_and_says_what_its_runs_do(have: Any, want: Any, diffs: list[str]) -> None:
    """partial.md: a flow's ``options`` decide whether a run with failed records fails; the spec decides the
    threshold (none: no failed record tolerated), and each difference says what the runs do until it is applied."""
    from aep_provider.planning.differ import option_diffs

    assert option_diffs({"options": have} if have is not None else {}, want) == diffs


def test_a_flow_reading_another_delta_column_differs_and_is_not_updated_in_place() -> None:
    """The spec's delta column is the flow's Copy ``deltaColumn``, AEP's source of truth once a run exists
    (on-demand-ingestion.md; no Adobe page patches it): the plan names it and ``update`` says to tear it down."""
    from aep_provider.planning.update import mark_updates

    flow = _found_flow({"frequency": "once", "startTime": 1}, "2")
    flow["transformations"].insert(0, {"name": "Copy", "params": {"deltaColumn": {"name": "Added_At"}}})
    plan = _plan_with(flow)
    assert plan["dataflow"].differences == ["delta column: Added_At -> lastmodifieddate"]
    assert [n for n in mark_updates(plan) if n.startswith("dataflow")] and not plan["dataflow"].update
