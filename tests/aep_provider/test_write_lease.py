"""The sandbox write lease: one holder at a time creates named resources in a sandbox; another run waits, takes
over a lease that expired or that its own cleared run held, and a create step never makes a second copy."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from aep_emulator.testing import EmulatorServer
from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.errors import AepConfigError
from aep_provider.write_lease import LEASE_TITLE, LeaseHolder, SandboxWriteLease, WriteGuard
from aep_provider.write_lease.sandbox import AepLeaseTimeoutError

DATATYPES = "/data/foundation/schemaregistry/tenant/datatypes"


def _holder(run: str = "run-a", clear: int = 0) -> LeaseHolder:
    return LeaseHolder(dag_id="dag", run_id=run, clear_number=clear)


def _leases(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.state()["resources"] if r["kind"] == "datatype"]


def _requests(emulator: EmulatorServer) -> int:
    return int(emulator.admin.state()["counters"]["requests"])


def test_one_holder_at_a_time_and_the_next_takes_it_once_given_back(aep_conn_env: EmulatorServer) -> None:
    """The first POST of the lease data type wins; a second holder sees the first one's lease; the holder itself
    finds its own (a retried plan); once given back, the next holder takes it."""
    store = SandboxWriteLease(AepHook())
    first = store.try_acquire(_holder("a"))
    assert first.held_by(_holder("a"))
    seen = store.try_acquire(_holder("b"))
    assert not seen.held_by(_holder("b")) and seen.id == first.id and seen.held_by(_holder("a"))
    assert store.try_acquire(_holder("a")).id == first.id
    assert [r["name"] for r in _leases(aep_conn_env)] == [LEASE_TITLE]
    assert store.release(first)
    assert store.read() is None
    assert store.try_acquire(_holder("b")).held_by(_holder("b"))


def test_holders_racing_at_a_real_sandbox_latency_get_exactly_one_lease(aep_conn_env: EmulatorServer) -> None:
    """Eight holders POST at once with 200 ms per call: the Schema Registry's unique title lets exactly one in."""
    aep_conn_env.admin.configure(latency_ms=200)
    barrier = threading.Barrier(8)
    won: list[str] = []

    def take(run: str) -> None:
        store = SandboxWriteLease(AepHook())
        barrier.wait()
        if store.try_acquire(_holder(run)).held_by(_holder(run)):
            won.append(run)

    threads = [threading.Thread(target=take, args=(f"run-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1, won
    assert len(_leases(aep_conn_env)) == 1


def test_an_expired_lease_is_taken_over_and_its_holder_finds_it_lost(aep_conn_env: EmulatorServer) -> None:
    """A run that died holding the lease blocks others until it expires: then the next holder deletes it by its id
    and takes a new one, and the old holder's renewal finds it gone (it must not write on it)."""
    now = [datetime.now(timezone.utc)]
    store = SandboxWriteLease(AepHook(), ttl_seconds=600, clock=lambda: now[0])
    old = store.try_acquire(_holder("dead"))
    assert not store.try_acquire(_holder("next")).held_by(_holder("next"))
    now[0] += timedelta(seconds=601)
    new = store.try_acquire(_holder("next"))
    assert new.held_by(_holder("next")) and new.id != old.id
    assert store.renew(old) is None
    assert store.release(old) is False, "giving back the old id must not delete the new holder's lease"
    assert store.read() is not None and store.read().held_by(_holder("next"))


def test_a_cleared_run_takes_over_the_lease_its_earlier_attempt_held(aep_conn_env: EmulatorServer) -> None:
    """Clearing a DAG run bumps its clear number: the lease its earlier attempt held (and may never give back) is
    taken over at once by the run itself, while another run still waits for it."""
    store = SandboxWriteLease(AepHook())
    store.try_acquire(_holder("r", clear=0))
    assert not store.try_acquire(_holder("other")).held_by(_holder("other"))
    assert store.try_acquire(_holder("r", clear=1)).held_by(_holder("r", clear=1))


def test_renewal_pushes_the_end_ahead(aep_conn_env: EmulatorServer) -> None:
    now = [datetime.now(timezone.utc)]
    store = SandboxWriteLease(AepHook(), ttl_seconds=600, clock=lambda: now[0])
    lease = store.try_acquire(_holder())
    now[0] += timedelta(seconds=400)
    renewed = store.renew(lease)
    assert renewed is not None and renewed.remaining(now[0]) == pytest.approx(600)
    assert store.read().remaining(now[0]) == pytest.approx(600), "the sandbox holds the new end"


def test_a_resource_holding_the_lease_title_that_is_no_lease_is_refused(aep_conn_env: EmulatorServer) -> None:
    """Someone made a data type with the reserved title: taking the lease fails naming it and the fix, instead of
    waiting forever or deleting someone's resource."""
    hook = AepHook()
    other = hook.create_resource("datatypes", {"title": LEASE_TITLE, "description": "mine", "type": "object"})
    with pytest.raises(AepConfigError, match="not a write lease of this provider: rename or delete it") as err:
        SandboxWriteLease(hook).try_acquire(_holder())
    assert other["$id"] in str(err.value)


def test_the_guard_uses_the_plans_lease_without_a_request(aep_conn_env: EmulatorServer) -> None:
    """A create step of the DAG run whose plan holds the lease writes under it: no request of its own."""
    store = SandboxWriteLease(AepHook())
    run_lease = store.try_acquire(_holder())
    before = _requests(aep_conn_env)
    guard = WriteGuard(store, _holder(), "dataset", run_lease)
    assert guard.ensure() is False and guard.ensure() is False
    guard.end()
    assert _requests(aep_conn_env) == before + 0
    assert store.read() is not None, "the run's lease stays until the release step gives it back"


def test_a_task_cleared_after_its_run_gave_the_lease_back_takes_its_own(aep_conn_env: EmulatorServer) -> None:
    """A task cleared after its run ended has a new clear number: the plan's lease is not its to use. It takes its
    own lease, says that what it read before is stale, and gives the lease back when it ends."""
    store = SandboxWriteLease(AepHook())
    old = store.try_acquire(_holder(clear=0))
    store.release(old)
    guard = WriteGuard(store, _holder(clear=1), "dataset", old)
    assert guard.ensure() is True
    held = store.read()
    assert held is not None and held.held_by(_holder(clear=1).for_task("dataset"))
    assert guard.ensure() is False
    guard.end()
    assert store.read() is None


def test_a_task_waits_for_the_lease_another_run_holds_then_takes_it(aep_conn_env: EmulatorServer) -> None:
    store = SandboxWriteLease(AepHook())
    other = store.try_acquire(_holder("other"))
    guard = WriteGuard(store, _holder("mine"), "dataset", None, poll_seconds=0.05, wait_seconds=30)
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(guard.ensure()))
    waiter.start()
    time.sleep(0.5)
    assert not result, "took the lease while another run held it"
    store.release(other)
    waiter.join(timeout=10)
    assert result == [True]
    guard.end()


def test_a_task_that_waits_too_long_fails_naming_the_holder_and_the_fix(aep_conn_env: EmulatorServer) -> None:
    store = SandboxWriteLease(AepHook())
    store.try_acquire(_holder("busy"))
    guard = WriteGuard(store, _holder("mine"), "dataset", None, poll_seconds=0.05, wait_seconds=0.2)
    with pytest.raises(AepLeaseTimeoutError, match="held by DAG dag run busy") as err:
        guard.ensure()
    assert "delete the data type" in str(err.value)


def test_two_tasks_creating_one_dataset_at_once_make_one_dataset(aep_conn_env: EmulatorServer, make_context) -> None:
    """Two tasks of two DAG runs (no plan: each looks up, finds nothing, creates) at 300 ms per call: the second
    waits for the first one's lease, looks up again under it, and reuses the first one's dataset."""
    from aep_provider.operators.dataset import AepCreateDatasetOperator
    from aep_provider.operators.schema import AepCreateTargetSchemaOperator

    schema = AepCreateTargetSchemaOperator(
        task_id="schema", title="race schema", class_ref="https://ns.adobe.com/xdm/context/profile",
        field_groups=[],
    ).execute(make_context())["object"]
    aep_conn_env.admin.configure(latency_ms=300)
    barrier = threading.Barrier(2)
    ids: list[str] = []

    def create(run: str) -> None:
        op = AepCreateDatasetOperator(task_id="dataset", name="race dataset", schema_id=schema, lease_wait_seconds=60)
        context = {**make_context(), "dag_run": type("Run", (), {"dag_id": "d", "run_id": run, "clear_number": 0})()}
        barrier.wait()
        ids.append(op.execute(context)["object"])

    threads = [threading.Thread(target=create, args=(run,)) for run in ("run-1", "run-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    aep_conn_env.admin.configure(latency_ms=0)
    datasets = [r for r in aep_conn_env.admin.state()["resources"] if r["kind"] == "dataset"]
    assert len(datasets) == 1, datasets
    assert ids == [datasets[0]["id"]] * 2
    assert _leases(aep_conn_env) == [], "each task gave its own lease back"


def test_if_two_leases_were_ever_taken_at_once_every_holder_agrees_on_one(aep_conn_env: EmulatorServer,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Adobe documents that a used title is refused, not that two simultaneous creates cannot both get 201. If they
    ever do, the holder whose lease is younger sees the older one, gives its own back and waits."""
    from aep_provider.write_lease.terms import Lease, LeaseTerms

    store = SandboxWriteLease(AepHook())
    now = datetime.now(timezone.utc)
    older = Lease(id="https://ns.adobe.com/demotenant/datatypes/0older", created=1,
                  terms=LeaseTerms(holder=_holder("other"), acquired_at=now, expires_at=now + timedelta(minutes=10)))
    real_leases = store.leases
    monkeypatch.setattr(store, "leases", lambda: [older, *real_leases()])
    got = store.try_acquire(_holder("mine"))
    assert got.id == older.id and not got.held_by(_holder("mine"))
    assert _leases(aep_conn_env) == [], "the younger lease was given back"


def test_a_class_holding_the_lease_title_is_named_with_the_fix(aep_conn_env: EmulatorServer) -> None:
    """Titles are unique across resource types: a class titled like the lease makes every POST of the lease fail with
    XDM-1521 while no data type has the title; the error names that class instead of retrying forever."""
    hook = AepHook()
    klass = hook.create_resource("classes", {
        "title": LEASE_TITLE, "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"},
                  {"properties": {"_adhoc": {"type": "object", "properties": {"a": {"type": "string"}}}}}]})
    with pytest.raises(AepConfigError, match="holds the title") as err:
        SandboxWriteLease(hook).try_acquire(_holder())
    assert klass["$id"] in str(err.value) and "rename it" in str(err.value)


def test_the_lease_field_sits_under_the_tenant_namespace(aep_conn_env: EmulatorServer) -> None:
    """troubleshooting-guide.md: fields of resources an organization defines sit under ``_<tenantId>``;
    data-types.md: a data type's need not. The lease nests its one field, which satisfies both."""
    from aep_provider.models.common import XED

    store = SandboxWriteLease(AepHook())
    lease = store.try_acquire(_holder())
    [body] = [d for d in AepHook().iter_tenant("datatypes", None, accept=XED) if d["$id"] == lease.id]
    assert list(body["properties"]) == ["_demotenant"]


def test_a_lease_claiming_an_end_no_holder_writes_is_taken_over(aep_conn_env: EmulatorServer) -> None:
    """Whoever may edit the sandbox could write a lease that ends in a year to keep every run waiting: a lease ending
    further ahead than a holder's term plus the margin counts as expired."""
    from aep_provider.write_lease.terms import LeaseTerms, lease_body

    hook = AepHook()
    now = datetime.now(timezone.utc)
    terms = LeaseTerms(holder=_holder("squatter"), acquired_at=now, expires_at=now + timedelta(days=365))
    hook.create_resource("datatypes", lease_body(terms, hook.get_tenant_id()))
    assert SandboxWriteLease(hook).try_acquire(_holder("mine")).held_by(_holder("mine"))


def test_the_release_step_retries_while_the_platform_is_unavailable_then_lets_the_lease_expire(
    aep_conn_env: Any, make_context: Any,
) -> None:
    """A run whose release step met a Platform outage must not keep the other runs waiting until the lease expires
    (10 minutes): the step fails the try while retries are left, and gives the lease back once the Platform answers;
    on its last try it logs and lets the lease expire (the run's outcome is its steps')."""
    from aep_provider.hooks.errors import AepTransientError
    from aep_provider.operators.write_lease import AepReleaseWriteLeaseOperator

    store = SandboxWriteLease(AepHook())
    lease = store.try_acquire(LeaseHolder(dag_id="dag", run_id="run-1"))

    def release(try_number: int) -> Any:
        context = make_context()
        context["ti"].try_number, context["ti"].max_tries = try_number, 4
        step = AepReleaseWriteLeaseOperator(task_id="release_write_lease", write_lease=lease.model_dump(mode="json"))
        return step.execute(context)

    aep_conn_env.admin.set_faults([{"kind": "503", "method": "DELETE", "path_regex": "/tenant/datatypes/"}])
    try:
        with pytest.raises(AepTransientError):
            release(1)
        assert release(5) is None, "the last try lets the lease expire"
        assert store.read() is not None
    finally:
        aep_conn_env.admin.clear_faults()
    assert release(2) == lease.id
    assert store.read() is None
