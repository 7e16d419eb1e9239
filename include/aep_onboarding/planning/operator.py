"""``AepPlanOperator``: one read of the sandbox for every object, before any write.

Rows in (one per object: what the spec wants), ``{key: {resource: plan}}`` out. For every resource the registry
plans (``aep_onboarding/steps.py``) the plan says ``create``, ``reuse <id>`` or ``differs <id>`` with the fields that
differ; it logs the plan as a table and pushes each resource's answers as the XCom ``plan.<step>`` (``{key:
entry}``), which the create steps join into their rows by key (``inputs``, the field ``planned``) and take instead
of looking up again. A configuration error (a mapping
destination the target schema lacks, a column the table lacks) fails the task at once, without retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from pydantic import ValidationError

from aep_onboarding import steps
from aep_onboarding.planning.checks import GlobalPaths, check_columns, check_mappings, check_rows
from aep_onboarding.planning.decide import mark_updates, plan_object, refuse_duplicates
from aep_onboarding.planning.models import LEASE, Drift, Found, Plan, PlanRow, xcom_key
from aep_onboarding.planning.reading import read_sandbox
from aep_onboarding.planning.table import render
from aep_provider.hooks.duplicates import copies_of, refuse_copies
from aep_provider.hooks.errors import AepConfigError
from aep_provider.models.common import DATA_LAKE_CONNECTION_SPEC_ID, HUBSPOT_CONNECTION_SPEC_ID
from aep_provider.operators.base import AepRowsOperator
from aep_provider.outcomes import Kind
from aep_provider.planned import Decision, ResourcePlan
from aep_provider.printable import printable
from aep_provider.triggers.write_lease import AepWriteLeaseTrigger
from aep_provider.write_lease import Lease, LeaseHolder, SandboxWriteLease
from aep_provider.write_lease.sandbox import DEFAULT_TTL_SECONDS


def is_true(value: Any) -> bool:
    """A rendered boolean argument (``"True"``, ``"false"``, ``True``...)."""
    return str(value).strip().lower() in ("true", "1", "yes", "on")


#: What a create step reads from a reused class or schema (the plan's XCom carries no field definitions).
TITLED_KEYS = ("$id", "title", "version", "meta:altId", "meta:class", "meta:datasetNamespace")


@dataclass(frozen=True)
class PlanFields:
    """One object as the plan reads it (checked as a :class:`PlanRow`)."""

    source: str = ""
    names: dict[str, str] | None = None
    columns: list[str] | None = None
    class_ref: str = ""
    field_groups: list[str] | None = None
    mappings: list[dict[str, Any]] | None = None
    delta_column: str = ""
    schedule: dict[str, Any] | None = None
    options: dict[str, Any] | None = None


class AepPlanOperator(AepRowsOperator[PlanFields]):
    """Plan an onboarding: what exists, what will be created, what differs; checks that need no write.

    :param for_each: one row per object: ``{"key", "source", "names": {step: name}, "columns", "class_ref",
        "field_groups", "mappings", "delta_column", "schedule", "options"}`` (templated; ``task.plan_rows``).
    :param hubspot_base_connection_id: the HubSpot base connection, when the spec names one.
    :param hubspot_base_connection_name: else the name the onboarding gives it (looked up, never created).
    :param dataset_base_connection_name: the name of the dataset base connection.
    :param on_drift: ``warn`` (log the differences), ``fail`` (fail the run before any write) or ``update``
        (the create steps apply the differences they can).
    :param plan_only_param: the DAG param that makes a run a dry run (plan only: take no write lease), if any.
    :param always_take_lease: take the write lease even when every planned resource exists (the run creates
        resources the plan cannot see, such as discovered tables).
    :param lease_ttl_seconds: how long the write lease lasts unless renewed (a run that died holding it blocks
        others this long at most).
    :param lease_poll_seconds: how often a run waiting for the lease looks again (on the triggerer).

    When anything is to be created or updated, the plan takes the sandbox's write lease (``aep_provider/write_lease``)
    before the run writes, deferring while another run holds it, and then reads the sandbox again: what another run
    created meanwhile is reused, never created twice. The lease travels to the create steps as the XCom
    ``plan.lease``; the release step gives it back.
    :return: ``{object key: {resource: {"action", "id", "name", "differences", "found", "shared_with"}}}``.
    """

    creates = False  # no named resource: no write lease

    Fields = PlanFields
    template_fields: Sequence[str] = (*AepRowsOperator.template_fields, "hubspot_base_connection_id")
    ui_color = "#2d9d78"

    def __init__(
        self,
        *,
        hubspot_base_connection_id: str | None = None,
        hubspot_base_connection_name: str | None = None,
        dataset_base_connection_name: str | None = None,
        on_drift: Drift = "warn",
        plan_only_param: str | None = None,
        always_take_lease: bool = False,
        lease_ttl_seconds: float = DEFAULT_TTL_SECONDS,
        lease_poll_seconds: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if self.for_each is None:
            raise AepConfigError(f"{type(self).__name__} ({self.task_id}) plans objects: pass for_each rows.")
        if on_drift not in ("warn", "fail", "update"):
            raise AepConfigError(f"on_drift={on_drift!r}: use warn, fail or update.")
        # The base connections it looks for: the HubSpot one by id, else by name (never created), the dataset one.
        self.hubspot_base_connection_id, self.hubspot_base_connection_name = (hubspot_base_connection_id,
                                                                               hubspot_base_connection_name)
        self.dataset_base_connection_name = dataset_base_connection_name
        self.on_drift, self.plan_only_param = on_drift, plan_only_param
        # The sandbox's write lease: when to take it without anything planned to create, its term, how often to look.
        self.always_take_lease = always_take_lease
        self.lease_ttl_seconds, self.lease_poll_seconds = float(lease_ttl_seconds), float(lease_poll_seconds)

    def execute(self, context: Any) -> Plan:
        return self._guarded_plan(context, deadline=None)

    def resume_after_lease(self, context: Any, event: dict[str, Any] | None = None, deadline: float | None = None) -> Plan:
        """Back from :class:`AepWriteLeaseTrigger`: the lease is free (or the wait failed): plan again."""
        if not event or event.get("status") != "free":
            message = (event or {}).get("message", "no event")
            raise AirflowFailException(
                f"Waiting for the sandbox's write lease failed: {message}. Another DAG run is creating resources in "
                f"this sandbox; run this DAG run again once it is done (raise lease_wait_seconds to wait longer)."
            )
        self.log.info("The sandbox's write lease is free (it was: %s): planning again", event.get("was"))
        return self._guarded_plan(context, deadline=deadline)

    def _guarded_plan(self, context: Any, deadline: float | None) -> Plan:
        try:
            return self._plan(context, deadline)
        except AepConfigError as exc:
            # No retry can fix a wrong spec: fail at once, before the first write.
            raise AirflowFailException(f"The plan found a configuration error: {exc}") from exc

    def _rows(self) -> list[PlanRow]:
        rows = self.rows()
        if not rows:
            raise AirflowSkipException(f"{self.task_id}: no object to plan (keys={self.keys}).")
        try:
            return [
                PlanRow(key=row.key, **{name: value for name, value in vars(row.fields).items() if value is not None})
                for row in rows
            ]
        except ValidationError as exc:
            raise AepConfigError(f"{self.task_id}: a plan row is not valid: {exc}") from None

    def _base_connections(self) -> tuple[str | None, str | None, frozenset[str]]:
        """The HubSpot and dataset base connections, each looked up by name (``property=name==``, as their steps
        look up; the two at once) and matched by the role's connection spec. A same-named connection of any other
        spec is not the one wanted (as create_named's ``matches``), and the name is then left for the step to look
        up, so that it names the conflict (:meth:`_base_plans`)."""
        names = [n for n in (self.hubspot_base_connection_name, self.dataset_base_connection_name) if n]
        with ThreadPoolExecutor(max(1, len(names)), thread_name_prefix=f"{self.task_id}-bases") as pool:
            found = dict(zip(names, pool.map(lambda name: self.hook.find_by_name("connections", name), names),
                             strict=True))

        def first(name: str | None, spec_id: str, kind: Kind) -> str | None:
            objects = [o for o in found.get(name or "") or [] if (o.get("connectionSpec") or {}).get("id") == spec_id]
            refuse_copies([copies_of(kind, name or "", objects)])
            return str(objects[0]["id"]) if objects else None

        hubspot = self.hubspot_base_connection_id or first(
            self.hubspot_base_connection_name, HUBSPOT_CONNECTION_SPEC_ID, Kind.HUBSPOT_BASE_CONNECTION)
        dataset = first(self.dataset_base_connection_name, DATA_LAKE_CONNECTION_SPEC_ID, Kind.DATASET_BASE_CONNECTION)
        return hubspot, dataset, frozenset(name for name, objects in found.items() if objects)

    def _base_plans(self, found: Found) -> dict[str, dict[str, Any]]:
        """The shared base connections' entries (XCom ``plan.<step>``, one entry, not one per object): ``reuse`` the
        one found, ``create`` when no connection has the name; none (the step looks up itself, and names the
        conflict) when the name is taken by a connection of another spec, or the spec names the connection by id."""
        entries: dict[str, dict[str, Any]] = {}
        for step, name, found_id in ((steps.HUBSPOT, self.hubspot_base_connection_name, found.hubspot_base_id),
                                     (steps.DATASET_BASE, self.dataset_base_connection_name, found.dataset_base_id)):
            if not name or (self.hubspot_base_connection_id and step == steps.HUBSPOT):
                entries[step] = {}
            elif found_id is not None:
                entries[step] = ResourcePlan(resource=step, name=name, action=Decision.REUSE, id=found_id,
                                             found={"id": found_id}).model_dump(mode="json")
            elif name in found.base_names_taken:
                entries[step] = {}
            else:
                entries[step] = ResourcePlan(resource=step, name=name, action=Decision.CREATE).model_dump(mode="json")
        return entries

    def _read(
        self, rows: list[PlanRow], pool: ThreadPoolExecutor | None = None, then: Callable[[], Any] | None = None
    ) -> Found:
        return read_sandbox(
            self.hook, rows, steps.planned(), self._base_connections, self.max_concurrency, self.task_id, pool, then
        )

    def _read_and_check(self, rows: list[PlanRow], paths: GlobalPaths) -> Found:
        """The first read of the sandbox, with the reads of the checks that do not depend on it - the identity
        namespaces, the classes and field groups the target schemas name - made alongside, in one pool of
        ``max_concurrency``: on a slow link they cost no time of their own."""
        with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix=f"{self.task_id}-read") as pool:
            rules: list[Future[None]] = []

            def checks() -> None:  # queued behind the flow spec, the head of the longest chain of reads
                rules.append(pool.submit(check_rows, self.hook, rows))
                paths.prefetch(pool, rows)

            found = self._read(rows, pool, then=checks)
            rules[0].result()
        return found

    def _check(self, rows: list[PlanRow], found: Found, paths: GlobalPaths) -> dict[str, list[str] | None]:
        """The checks that need no write, once the rules are checked (:meth:`_read_and_check`); returns each
        object's explored columns (``None``: not explored)."""
        self._check_mappings(rows, found, paths)
        if found.hubspot_base_id is None:
            self.log.info("The HubSpot base connection does not exist yet: the source columns are checked by "
                          "check_source once it is created.")
            return {row.key: None for row in rows}
        base_id = found.hubspot_base_id
        with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix=f"{self.task_id}-explore") as pool:
            columns = list(pool.map(lambda row: check_columns(self.hook, row, base_id), rows))
        return {row.key: explored for row, explored in zip(rows, columns, strict=True)}

    @staticmethod
    def _check_mappings(rows: list[PlanRow], found: Found, paths: GlobalPaths) -> None:
        """The rules against the schema the mapping set maps onto (the registry's mapping-set rule names it)."""
        onto = next(rule.refs["schema"] for _, rule in steps.planned() if rule.kind is Kind.MAPPING_SET)
        for row in rows:
            # A target schema that exists is reused with the field groups it has: check against those.
            schema = next(iter(found.of(Kind.SCHEMA, row.name(onto))), None)
            check_mappings(row, paths.schema_paths(row, schema), row.name(onto))

    def _decide(self, rows: list[PlanRow], found: Found) -> tuple[dict[str, dict[str, ResourcePlan]], list[str]]:
        """Each object's plan from what the reads found; refuses duplicates and, with ``on_drift: fail``, drift."""
        planned = steps.planned()
        refuse_duplicates(rows, found, planned)
        plans: dict[str, dict[str, ResourcePlan]] = {}
        first_of: dict[tuple[str, str], str] = {}
        notes: list[str] = []
        for row in rows:
            plans[row.key] = plan_object(row, found, planned)
            if self.on_drift == "update":
                notes += [f"[{row.key}] {note}" for note in mark_updates(plans[row.key], dict(planned))]
            for resource, entry in plans[row.key].items():
                owner = first_of.setdefault((resource, entry.name), row.key)
                if owner != row.key and entry.action is Decision.CREATE:
                    entry.shared_with = owner
        # Differences quote what the sandbox holds: escaped, so a crafted value cannot forge a log line.
        drifted = [f"{key}.{r}: {printable('; '.join(e.differences))}" for key, rs in plans.items()
                   for r, e in rs.items() if e.action is Decision.DIFFERS]
        if drifted and self.on_drift == "fail":
            raise AepConfigError(
                "on_drift: fail, and resources exist with other settings - " + " | ".join(drifted)
                + ". Tear those resources down (or rename them in the spec), or set on_drift: warn or update."
            )
        return plans, notes

    def _writes(self, plans: dict[str, dict[str, ResourcePlan]], found: Found) -> bool:
        """Whether this run may create (or update) anything: then it needs the sandbox's write lease."""
        return (
            self.always_take_lease
            or any(entry.action is not Decision.REUSE for resources in plans.values() for entry in resources.values())
            or (found.hubspot_base_id is None and bool(self.hubspot_base_connection_name))
            or (found.dataset_base_id is None and bool(self.dataset_base_connection_name))
        )

    def _plan(self, context: Any, deadline: float | None) -> Plan:
        rows = self._rows()
        self.push(context, xcom_key(LEASE), {})  # the release step finds "no lease" whatever happens below
        self.hook.get_token()
        paths = GlobalPaths(self.hook)
        found = self._read_and_check(rows, paths)
        explored = self._check(rows, found, paths)
        plans, notes = self._decide(rows, found)
        if not self._writes(plans, found):
            return self._publish(context, rows, plans, notes, explored, None, found)
        if self.plan_only_param and is_true((context.get("params") or {}).get(self.plan_only_param)):
            self.log.info("Dry run: the plan creates nothing, so it takes no write lease")
            return self._publish(context, rows, plans, notes, explored, None, found)
        holder = LeaseHolder.of(context)
        store = SandboxWriteLease(self.hook, ttl_seconds=self.lease_ttl_seconds, log=self.log)
        lease = store.try_acquire(holder, settle=False)
        if not lease.held_by(holder):
            self._wait_for_lease(holder, lease, deadline)
        # The first read may be stale by now: another run may have created what it missed and given the lease back
        # before we took it. Under the lease nobody else creates: read again and plan from that. The read runs
        # alongside the listing that settles the lease (a double 201 would leave two; the older counts): it only
        # reads, and it is used only if the lease stays ours - a holder that loses the settle writes nothing.
        self.log.info("Holding the sandbox's write lease: reading the sandbox again before any write")
        with ThreadPoolExecutor(1, thread_name_prefix=f"{self.task_id}-lease") as settling:
            settled = settling.submit(store.settle, lease)
            try:
                found = self._read(rows)
                kept = settled.result()
            except BaseException:
                wait([settled])
                store.release(lease)  # no write happened: nobody should wait for this run (by id: ours only)
                raise
        if not kept.held_by(holder):
            self._wait_for_lease(holder, kept, deadline)  # ours was given back by the settle: wait like any run
        lease = kept
        try:
            self._check_mappings(rows, found, paths)
            plans, notes = self._decide(rows, found)
            return self._publish(context, rows, plans, notes, explored, lease, found)
        except BaseException:
            store.release(lease)  # no write happened: nobody should wait for this run
            raise

    def _wait_for_lease(self, holder: LeaseHolder, lease: Lease, deadline: float | None) -> None:
        """Defer until the lease is free (the triggerer waits; no worker or pool slot is held), then plan again."""
        deadline = deadline if deadline is not None else time.time() + self.lease_wait_seconds
        self.log.info(
            "Another DAG run is creating resources in this sandbox (write lease %s): waiting until it is done, then "
            "planning again (at most until %s)", lease.describe(),
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline)),
        )
        self.defer(
            trigger=AepWriteLeaseTrigger(holder.model_dump(), aep_conn_id=self.aep_conn_id,
                                         hook_params=self.effective_hook_params(),
                                         poll_interval=self.lease_poll_seconds, end_time=deadline,
                                         ttl_seconds=self.lease_ttl_seconds),
            method_name="resume_after_lease",
            kwargs={"deadline": deadline},
        )

    def _publish(
        self, context: Any, rows: list[PlanRow], plans: dict[str, dict[str, ResourcePlan]], notes: list[str],
        explored: dict[str, list[str] | None], lease: Lease | None, found: Found,
    ) -> Plan:
        """Log the plan, push what the create steps take from it, return the readable plan."""
        titled = [step for step, rule in steps.planned() if rule.kind in (Kind.CLASS, Kind.SCHEMA)]
        for resources in plans.values():
            for step in titled:
                kept = resources[step].found
                if isinstance(kept, dict):
                    resources[step].found = {k: kept[k] for k in TITLED_KEYS if k in kept}
        plan: Plan = {key: {r: e.model_dump(mode="json") for r, e in resources.items()} for key, resources in plans.items()}
        self.log.info("Plan of %d objects (on_drift: %s):\n%s", len(rows), self.on_drift, render(plan))
        for step, _ in steps.planned():
            self.push(context, xcom_key(step), {key: plan[key][step] for key in plan})
        # The shared base connections the plan looked up: their steps take the answer instead of looking up again.
        for step, entry in self._base_plans(found).items():
            self.push(context, xcom_key(step), entry)
        # The columns the plan read: check_source checks against them instead of exploring the table again.
        self.push(context, xcom_key(steps.EXPLORED), explored)
        # The run's write lease ({}: nothing to create; an XCom cannot hold None): the create steps write under it,
        # the release step gives it back.
        self.push(context, xcom_key(LEASE), lease.model_dump(mode="json") if lease is not None else {})
        for note in notes:
            self.log.warning("on_drift update: %s", printable(note))
        drifted = sum(1 for rs in plan.values() for e in rs.values() if e["action"] == Decision.DIFFERS.value)
        if drifted:
            self.log.warning("%d resources exist with other settings (on_drift: %s)", drifted, self.on_drift)
        # The task's own XCom is the readable plan; what the create steps reuse travels in plan.<resource>.
        return {key: {r: {k: v for k, v in e.items() if k != "found"} for r, e in rs.items()} for key, rs in plan.items()}
