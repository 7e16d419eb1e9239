"""The plan's reads: every resource the rows name, by kind, in as few requests as the APIs allow
(``aep_provider/hooks/api/bulk.py``), the independent ones at once.

Each kind is read once for every name of that kind the rows hold, whichever steps make them: tenant classes and
schemas from one listing each, datasets by Catalog's ``name=a,b``, source and target connections by their role's
connection spec, flows by the flow spec (that read waits for the flow spec), mapping sets one look-up per name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from aep_onboarding.planning.models import Found, PlanRow
from aep_onboarding.planning.rules import PlanRule
from aep_provider.hooks.api import bulk
from aep_provider.models.common import (
    CRM_TO_AEP_FLOW_SPEC_NAME,
    DATA_LAKE_CONNECTION_SPEC_ID,
    HUBSPOT_CONNECTION_SPEC_ID,
)
from aep_provider.outcomes import Kind

Listing = dict[str, list[dict[str, Any]]]

#: The one read of each kind for a set of names. Source and target connections are every connection of their role's
#: spec (sort-and-filter.md, "Filterable properties by resource": ``/sourceConnections?property=connectionSpec.id==``),
#: read even when the base connection does not exist yet: a same-named one on another base connection is seen (it
#: differs, and the create step's name look-up decides) instead of planned ``create`` a second time.
READS: dict[Kind, Callable[[Any, list[str]], Listing]] = {
    Kind.CLASS: lambda hook, names: bulk.tenant_by_title(hook, "classes", names),
    Kind.SCHEMA: lambda hook, names: bulk.tenant_by_title(hook, "schemas", names),
    Kind.DATASET: bulk.datasets_by_name,
    Kind.SOURCE_CONNECTION: lambda hook, names: bulk.flow_objects_by_name(
        hook, "sourceConnections", names, "connectionSpec.id", [HUBSPOT_CONNECTION_SPEC_ID]),
    Kind.TARGET_CONNECTION: lambda hook, names: bulk.flow_objects_by_name(
        hook, "targetConnections", names, "connectionSpec.id", [DATA_LAKE_CONNECTION_SPEC_ID]),
}


def names_by_kind(rows: list[PlanRow], planned: Iterable[tuple[str, PlanRule]]) -> dict[Kind, list[str]]:
    """Every name of each kind the rows' planned resources hold."""
    wanted: dict[Kind, set[str]] = {}
    for step, rule in planned:
        wanted.setdefault(rule.kind, set()).update(row.name(step) for row in rows)
    return {kind: sorted(names) for kind, names in wanted.items()}


def read_sandbox(
    hook: Any, rows: list[PlanRow], planned: Iterable[tuple[str, PlanRule]],
    base_connections: Callable[[], tuple[str | None, str | None, frozenset[str]]], max_concurrency: int, name: str,
    pool: ThreadPoolExecutor | None = None, then: Callable[[], Any] | None = None,
) -> Found:
    """Every read of the plan, the independent ones at once (up to ``max_concurrency`` in flight, as the create
    steps call): on a slow link the plan costs the longest chain of reads (the flow spec, then its flows), not their
    sum. ``pool``: the caller's, shared with its other reads (then ``max_concurrency`` is the caller's to keep);
    ``then``: called once the first of the chained reads (the flow spec) is queued, to queue the caller's own."""
    if pool is None:
        with ThreadPoolExecutor(max_concurrency, thread_name_prefix=f"{name}-read") as own:
            return read_sandbox(hook, rows, planned, base_connections, max_concurrency, name, own, then)
    wanted = names_by_kind(rows, planned)
    flow_spec = pool.submit(hook.get_flow_spec, CRM_TO_AEP_FLOW_SPEC_NAME)
    bases = pool.submit(base_connections)
    if then is not None:
        then()
    listings: dict[Kind, Future[Listing]] = {
        kind: pool.submit(READS[kind], hook, names) for kind, names in wanted.items() if kind in READS
    }
    mapping_sets = {n: pool.submit(bulk.mapping_sets_by_name, hook, n) for n in wanted.get(Kind.MAPPING_SET, [])}
    if Kind.DATAFLOW in wanted:
        # The flows are listed by their flow spec's id: that read waits for the flow spec (submitted first).
        listings[Kind.DATAFLOW] = pool.submit(bulk.flow_objects_by_name, hook, "flows", wanted[Kind.DATAFLOW],
                                              "flowSpec.id", [(flow_spec.result() or {}).get("id")])
    named = {kind: future.result() for kind, future in listings.items()}
    if mapping_sets:
        named[Kind.MAPPING_SET] = {n: future.result() for n, future in mapping_sets.items()}
    hubspot_id, dataset_base_id, base_names_taken = bases.result()
    return Found(named=named, hubspot_base_id=hubspot_id, dataset_base_id=dataset_base_id,
                 base_names_taken=base_names_taken)
