"""The provider's parts the onboarding's plan builds on, against the emulator: the bulk reads (one request for many
names, one look-up per name a filter cannot express), what a create step does with the plan's entry
(:class:`~aep_provider.planned.Planned`), the checks a step skips when it goes by the plan, and how a flow's options
differ (``models/drift.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from aep_emulator.testing import EmulatorServer
from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.api import bulk
from aep_provider.models.common import HUBSPOT_CONNECTION_SPEC_ID, XED_FULL
from aep_provider.planned import Decision, Planned


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
    found = bulk.flow_objects_by_name(hook, "connections", ["lake a", "lake b", "lake, c", "absent"],
                                      "connectionSpec.id", [HUBSPOT_CONNECTION_SPEC_ID, DATA_LAKE_CONNECTION_SPEC_ID])
    assert _requests(aep_conn_env) - before == 1, "one connectionSpec.id==a,b listing"
    assert {name: [o["id"] for o in objects] for name, objects in found.items()} == {
        "lake a": [ids["lake a"]], "lake b": [ids["lake b"]], "lake, c": [ids["lake, c"]], "absent": []}
    before = _requests(aep_conn_env)
    assert bulk.flow_objects_by_name(hook, "flows", ["lake a"], "flowSpec.id", [None]) == {"lake a": []}
    assert _requests(aep_conn_env) == before, "no flow spec: no flow of it can exist, nothing is read"


def test_datasets_of_many_names_are_read_in_one_request(aep_conn_env: EmulatorServer) -> None:
    hook = AepHook()
    schema = hook.create_resource("schemas", {
        "title": "planning target", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]})
    ref = {"id": schema["$id"], "contentType": XED_FULL}
    ids = {name: hook.create_dataset({"name": name, "schemaRef": ref}) for name in ("d1", "d2", "d*3")}
    before = _requests(aep_conn_env)
    found = bulk.datasets_by_name(hook, ["d1", "d2", "d*3", "none"])
    assert _requests(aep_conn_env) - before == 2, "one name=a,b query, one escaped look-up for the name with *"
    assert {name: [d["id"] for d in datasets] for name, datasets in found.items()} == {
        "d1": [ids["d1"]], "d2": [ids["d2"]], "d*3": [ids["d*3"]], "none": []}


def test_tenant_classes_and_schemas_are_read_by_title_from_one_listing(aep_conn_env: EmulatorServer) -> None:
    """Schema Registry titles are unique: one listing of whole resources answers every title, one at most each."""
    hook = AepHook()
    schema = hook.create_resource("schemas", {
        "title": "titled", "type": "object", "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]})
    before = _requests(aep_conn_env)
    found = bulk.tenant_by_title(hook, "schemas", ["titled", "untitled"])
    assert _requests(aep_conn_env) - before == 1
    assert [s["$id"] for s in found["titled"]] == [schema["$id"]] and found["untitled"] == []


class _TI:
    def __init__(self, try_number: int) -> None:
        self.try_number = try_number


ENTRY: dict[str, Any] = {"resource": "dataset", "name": "d", "action": "reuse", "id": "x", "found": {"id": "x"}}


@pytest.mark.parametrize(("entry", "try_number", "decision", "look_up", "found"), [
    (None, 1, Decision.NOT_PLANNED, True, None),
    ({**ENTRY, "action": "create", "id": None, "found": None}, 1, Decision.CREATE, False, None),
    (ENTRY, 1, Decision.REUSE, False, {"id": "x"}),
    (ENTRY, 2, Decision.REUSE, True, None),  # a retry: the first try may have written
    ({**ENTRY, "action": "create", "found": None, "shared_with": "other"}, 1, Decision.CREATE, True, None),
    ({**ENTRY, "action": "differs", "differences": ["schema: a -> b"]}, 1, Decision.DIFFERS, True, None),
])
def test_the_create_steps_go_by_the_plan_only_where_it_is_safe(
    entry: Any, try_number: int, decision: Decision, look_up: bool, found: Any
) -> None:
    """The plan's decision stays what the plan said; the step looks the resource up wherever going by the plan is
    not safe (no plan, differs, another object makes it first, a retry) and else creates or reuses without one."""
    planned = Planned.of(entry, {"ti": _TI(try_number)})
    assert (planned.decision, planned.look_up, planned.found) == (decision, look_up, found)


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
def test_a_flows_options_are_compared_saying_what_its_runs_do(have: Any, want: Any, diffs: list[str]) -> None:
    """partial.md: a flow's ``options`` decide whether a run with failed records fails; the spec decides the
    threshold (none: no failed record tolerated), and each difference says what the runs do until it is applied."""
    from aep_provider.models.drift import option_diffs

    assert option_diffs({"options": have} if have is not None else {}, want) == diffs




def _holding_the_lease(make_context: Any) -> tuple[dict[str, Any], Any]:
    """A task context of a DAG run that holds the sandbox's write lease, as the plan hands it to the create steps."""
    from aep_provider.write_lease import LeaseHolder, SandboxWriteLease

    run = type("DagRun", (), {"dag_id": "dag", "run_id": "run-1", "clear_number": 0})()
    context = {**make_context(), "dag_run": run}
    return context, SandboxWriteLease(AepHook()).try_acquire(LeaseHolder.of(context))


def test_the_base_connection_steps_take_the_plans_look_up(aep_conn_env: EmulatorServer, make_context: Any) -> None:
    """The plan looked the shared base connections up: planned ``create`` costs the step its POST only, planned
    ``reuse`` no request at all (without a plan, a look-up and the POST)."""
    from aep_provider.operators.connections import AepCreateDatasetBaseConnectionOperator
    from aep_provider.planned import ResourcePlan

    context, lease = _holding_the_lease(make_context)

    def step(planned: dict[str, Any] | None) -> str:
        op = AepCreateDatasetBaseConnectionOperator(task_id="dataset_base_connection", name="planned lake",
                                                    planned=planned, write_lease=lease.model_dump(mode="json"))
        return str(op.execute(context))

    create = ResourcePlan(resource="dataset_base_connection", name="planned lake", action=Decision.CREATE)
    before = _requests(aep_conn_env)
    made = step(create.model_dump(mode="json"))
    assert _requests(aep_conn_env) - before == 1, "planned create: the POST, no look-up"
    reuse = ResourcePlan(resource="dataset_base_connection", name="planned lake", action=Decision.REUSE, id=made,
                         found={"id": made})
    before = _requests(aep_conn_env)
    assert step(reuse.model_dump(mode="json")) == made
    assert _requests(aep_conn_env) == before, "planned reuse: no request"
    before = _requests(aep_conn_env)
    assert step(None) == made
    assert _requests(aep_conn_env) - before == 1, "not planned: the look-up finds it"


def test_the_adhoc_class_is_made_from_the_columns_check_source_explored(aep_conn_env: EmulatorServer,
                                                                        make_context: Any) -> None:
    """A listed object whose fields are explored: the class step takes the typed columns check_source explored
    (one request less per object on the path of a first run); names without types (a plan's read) are explored."""
    from aep_provider.operators.schema import AepCreateAdhocClassOperator

    hook = AepHook()
    base = str(hook.create_object("connections", {
        "name": "class hubspot", "connectionSpec": {"id": HUBSPOT_CONNECTION_SPEC_ID, "version": "1.0"},
        "auth": {"specName": "Basic Authentication", "params": {"clientId": "c", "clientSecret": "s",
                                                               "accessToken": "a"}}})["id"])
    columns = list((hook.explore(base, "Hubspot.Contacts") or {})["schema"]["columns"])
    context, lease = _holding_the_lease(make_context)

    def make(title: str, given: list[dict[str, Any]]) -> int:
        op = AepCreateAdhocClassOperator(task_id="adhoc_class", title=title, base_connection_id=base,
                                         source_path="Hubspot.Contacts", columns=given,
                                         write_lease=lease.model_dump(mode="json"))
        before = _requests(aep_conn_env)
        op.execute(context)
        return _requests(aep_conn_env) - before

    typed, names_only = make("from explored", columns), make("from names", [{"name": c["name"]} for c in columns])
    assert names_only - typed == 1, "the typed columns spare the explore; bare names do not"
