"""The plan and the sandbox write lease: a run with something to create takes the lease before any write (waiting
on the triggerer while another run holds it) and reads the sandbox again under it; a run with nothing to create,
and a dry run, take none; names the sandbox holds more than once fail the plan before any write."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from aep_emulator.testing import EmulatorServer
from aep_onboarding.planning.operator import AepPlanOperator
from aep_onboarding.steps import object_resources
from aep_provider.hooks.aep import AepHook
from aep_provider.triggers.write_lease import AepWriteLeaseTrigger
from aep_provider.write_lease import Lease, LeaseHolder, SandboxWriteLease
from aep_provider.write_lease.terms import LeaseTerms

ROW: dict[str, Any] = {
    "key": "contacts", "source": "Hubspot.Contacts", "names": {step: f"lease {step}" for step, _ in object_resources()},
    "columns": ["Added_At", "Vid"], "class_ref": "https://ns.adobe.com/xdm/context/profile", "field_groups": [],
    "mappings": [{"source": "Vid", "destination": "_id"}], "delta_column": "Added_At",
    "schedule": {"frequency": "once", "start_time": "2024-01-01T00:00:00Z"},
}


def _run(run_id: str = "run-1", clear: int = 0) -> Any:
    return type("DagRun", (), {"dag_id": "dag", "run_id": run_id, "clear_number": clear})()


def _plan(**kwargs: Any) -> AepPlanOperator:
    return AepPlanOperator(task_id="plan", for_each=[ROW], hubspot_base_connection_name="lease HubSpot",
                           dataset_base_connection_name="lease lake", **kwargs)


def _context(make_context: Any, run_id: str = "run-1", clear: int = 0) -> dict[str, Any]:
    return {**make_context(), "dag_run": _run(run_id, clear)}


def _writes(emulator: EmulatorServer) -> int:
    return int(emulator.admin.state()["counters"]["writes"])


def test_a_run_with_something_to_create_holds_the_lease_when_its_plan_ends(aep_conn_env: EmulatorServer,
                                                                           make_context: Any) -> None:
    """Everything is to be created: the plan takes the lease, reads again under it, and hands it to the create
    steps as the XCom ``plan.lease``; the sandbox shows who holds it."""
    context = _context(make_context)
    plan = _plan().execute(context)
    assert plan["contacts"]["dataset"]["action"] == "create"
    lease = Lease.model_validate(context["ti"].xcom["plan.lease"])
    holder = LeaseHolder(dag_id="dag", run_id="run-1")
    assert lease.held_by(holder)
    assert SandboxWriteLease(AepHook()).read().id == lease.id


def test_a_dry_run_and_a_run_with_nothing_to_create_take_no_lease(aep_conn_env: EmulatorServer,
                                                                  make_context: Any) -> None:
    """plan_only writes nothing - not even the lease; a plan that reuses everything needs none either."""
    before = _writes(aep_conn_env)
    context = {**_context(make_context), "params": {"plan_only": True}}
    _plan(plan_only_param="plan_only").execute(context)
    assert context["ti"].xcom["plan.lease"] == {}
    assert _writes(aep_conn_env) == before, "a dry run wrote"
    assert SandboxWriteLease(AepHook()).read() is None


def test_a_plan_that_finds_the_lease_held_waits_on_the_triggerer(aep_conn_env: EmulatorServer,
                                                                make_context: Any) -> None:
    """Another DAG run holds the lease: the plan defers to the lease trigger (no worker or pool slot held while it
    waits) with a deadline, and resumes by planning again."""
    SandboxWriteLease(AepHook()).try_acquire(LeaseHolder(dag_id="other", run_id="busy"))
    with pytest.raises(TaskDeferred) as deferred:
        _plan(lease_wait_seconds=120).execute(_context(make_context))
    trigger, method = deferred.value.trigger, deferred.value.method_name
    assert isinstance(trigger, AepWriteLeaseTrigger) and method == "resume_after_lease"
    assert trigger.holder["run_id"] == "run-1" and trigger.end_time is not None
    assert deferred.value.kwargs["deadline"] == trigger.end_time


def test_after_the_wait_the_plan_reuses_what_the_other_run_created(aep_conn_env: EmulatorServer,
                                                                  make_context: Any) -> None:
    """Resumed once the lease is free, the plan reads the sandbox again: what the holder made meanwhile is
    ``reuse``, and a run with nothing left to create takes no lease."""
    hook = AepHook()
    store = SandboxWriteLease(hook)
    held = store.try_acquire(LeaseHolder(dag_id="other", run_id="busy"))
    with pytest.raises(TaskDeferred):
        _plan().execute(_context(make_context))
    schema = hook.create_resource("schemas", {
        "title": ROW["names"]["target_schema"], "description": "made meanwhile", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]})
    store.release(held)
    context = _context(make_context)
    plan = _plan().resume_after_lease(context, {"status": "free", "was": "nobody"}, deadline=None)
    assert plan["contacts"]["target_schema"] == {**plan["contacts"]["target_schema"], "action": "reuse",
                                                  "id": schema["$id"]}


def test_a_failed_wait_fails_the_plan_naming_the_holder(aep_conn_env: EmulatorServer, make_context: Any) -> None:
    with pytest.raises(AirflowFailException, match="held by DAG other"):
        _plan().resume_after_lease(_context(make_context), {"status": "error", "message": "still held by DAG other"})


async def test_the_lease_trigger_fires_once_the_lease_is_given_back(aep_conn_env: EmulatorServer) -> None:
    store = SandboxWriteLease(AepHook())
    held = store.try_acquire(LeaseHolder(dag_id="other", run_id="busy"))
    from aep_provider.hooks.aep_async import AepAsyncHook

    trigger = AepWriteLeaseTrigger(LeaseHolder(dag_id="dag", run_id="run-1").model_dump(), poll_interval=0.05)
    free, who = await trigger.is_free(AepAsyncHook())
    assert not free and "held by DAG other run busy" in who
    store.release(held)
    event = await trigger.run().__anext__()
    assert event.payload["status"] == "free"


def test_the_plan_refuses_a_dataset_name_the_sandbox_holds_twice(aep_conn_env: EmulatorServer,
                                                                 make_context: Any) -> None:
    """Two datasets carry the onboarding's dataset name (an earlier race, a hand-made copy): the plan fails before
    any write, naming both ids with their creation times and how to delete one; it takes no lease."""
    hook = AepHook()
    schema = hook.create_resource("schemas", {"title": "dup schema", "description": "dup schema", "type": "object",
                                              "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]})
    body = {"name": ROW["names"]["dataset"], "schemaRef": {
        "id": schema["$id"], "contentType": "application/vnd.adobe.xed-full+json;version=1"}}
    first, second = hook.create_dataset(body), hook.create_dataset(body)
    before = _writes(aep_conn_env)
    with pytest.raises(AirflowFailException) as err:
        _plan().execute(_context(make_context))
    message = str(err.value)
    assert "2 copies" in message and first in message and second in message and "created 20" in message
    assert "DELETE /data/foundation/catalog/dataSets/<id>" in message
    assert _writes(aep_conn_env) == before
    assert SandboxWriteLease(hook).read() is None


def test_a_create_step_without_a_plan_refuses_a_name_held_twice(aep_conn_env: EmulatorServer,
                                                               make_context: Any) -> None:
    """The same rule in a step's own look-up (a hand-written DAG, a retry): never pick one copy silently."""
    from aep_provider.hooks.duplicates import AepDuplicateResourcesError
    from aep_provider.operators.connections import AepCreateDatasetBaseConnectionOperator

    hook = AepHook()
    for _ in range(2):
        hook.create_object("connections", {
            "name": "twice", "connectionSpec": {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c", "version": "1.0"}})
    with pytest.raises(AepDuplicateResourcesError, match="'twice': 2 copies"):
        AepCreateDatasetBaseConnectionOperator(task_id="lake", name="twice").execute(make_context())


async def test_the_lease_trigger_waits_out_a_platform_that_does_not_answer(aep_conn_env: EmulatorServer,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The Platform unreachable for a while (a restart): the waiting run keeps waiting instead of failing."""
    from aep_provider.hooks.errors import AepTransientError

    answers = iter([AepTransientError("did not answer"), (True, "nobody")])

    async def flaky(self: Any, hook: Any) -> Any:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(AepWriteLeaseTrigger, "is_free", flaky)
    trigger = AepWriteLeaseTrigger(LeaseHolder(dag_id="dag", run_id="run-1").model_dump(), poll_interval=0.01)
    event = await trigger.run().__anext__()
    assert event.payload["status"] == "free"


def _meet_once(monkeypatch: pytest.MonkeyPatch, barrier: threading.Barrier, owner: Any, name: str,
               when: Any = lambda calls, *args: calls == 1) -> None:
    """Make ``owner.name`` wait at ``barrier`` on the call ``when`` picks: two calls that meet there were in flight
    at the same time; made one after the other, the barrier times out and the plan fails."""
    real, calls = getattr(owner, name), [0]

    def meeting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if when(calls[0], *args):
            barrier.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, meeting)


def test_the_checks_reads_go_alongside_the_first_read_of_the_sandbox(aep_conn_env: EmulatorServer, make_context: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """On a slow link the plan's checks cost no time of their own: the target schema's class is read while the
    sandbox's listings are (here, the flow spec's)."""
    barrier = threading.Barrier(2, timeout=20)
    _meet_once(monkeypatch, barrier, AepHook, "get_flow_spec")
    _meet_once(monkeypatch, barrier, AepHook, "get_resource", lambda calls, _hook, kind, *rest: kind == "classes")
    plan = _plan().execute(_context(make_context))
    assert plan["contacts"]["dataset"]["action"] == "create" and not barrier.broken


def test_the_read_under_the_lease_goes_alongside_the_listing_that_settles_it(aep_conn_env: EmulatorServer,
                                                                           make_context: Any,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Taking the lease costs one request on the plan's path, not two: the listing that settles a double 201 and
    the second read of the sandbox are in flight together - and the lease is still settled before any write."""
    barrier = threading.Barrier(2, timeout=20)
    _meet_once(monkeypatch, barrier, SandboxWriteLease, "settle")
    _meet_once(monkeypatch, barrier, AepHook, "get_flow_spec", lambda calls, *args: calls == 2)  # the second read
    context = _context(make_context)
    _plan().execute(context)
    lease = Lease.model_validate(context["ti"].xcom["plan.lease"])
    assert lease.held_by(LeaseHolder(dag_id="dag", run_id="run-1")) and not barrier.broken


def test_a_plan_whose_lease_loses_the_settle_writes_nothing_and_waits(aep_conn_env: EmulatorServer,
                                                                     make_context: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A double 201 settled against this run (an older lease counts, as :meth:`SandboxWriteLease.settle` decides): the
    read made under the lease is thrown away, nothing of the onboarding is written, and the run waits on the
    triggerer like any run that found the lease held."""
    now = datetime.now(timezone.utc)
    older = Lease(id="https://ns.adobe.com/demotenant/datatypes/older", terms=LeaseTerms(
        holder=LeaseHolder(dag_id="other", run_id="first"), acquired_at=now, expires_at=now + timedelta(minutes=10)))

    def lose(self: SandboxWriteLease, ours: Lease) -> Lease:
        self.hook.delete_resource("datatypes", ours.id)  # what settle does when another lease counts first
        return older

    monkeypatch.setattr(SandboxWriteLease, "settle", lose)
    before = _writes(aep_conn_env)
    with pytest.raises(TaskDeferred) as deferred:
        _plan(lease_wait_seconds=120).execute(_context(make_context))
    assert deferred.value.method_name == "resume_after_lease"
    assert _writes(aep_conn_env) - before == 2, "only the lease taken and given back"
    assert SandboxWriteLease(AepHook()).read() is None


def test_a_base_connection_name_taken_by_a_connection_of_another_spec_is_left_for_the_step(
    aep_conn_env: EmulatorServer, make_context: Any,
) -> None:
    """The plan finds the name held by a connection that is not a Data Lake one: it plans nothing for it, so the
    dataset base connection step looks the name up itself and fails naming the conflict - it never creates a
    second connection of that name (Flow Service would accept one)."""
    from aep_provider.models.common import HUBSPOT_CONNECTION_SPEC_ID

    AepHook().create_object("connections", {
        "name": "lease lake", "connectionSpec": {"id": HUBSPOT_CONNECTION_SPEC_ID, "version": "1.0"},
        "auth": {"specName": "Basic Authentication", "params": {"clientId": "c", "clientSecret": "s",
                                                                "accessToken": "a"}}})
    context = _context(make_context)
    _plan().execute(context)
    assert context["ti"].xcom["plan.dataset_base_connection"] == {}
    assert context["ti"].xcom["plan.hubspot_base_connection"]["action"] == "create"
