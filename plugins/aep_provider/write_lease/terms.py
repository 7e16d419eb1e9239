"""Who holds the sandbox's write lease and until when, as the lease's data type carries it.

The lease is a tenant data type titled :data:`LEASE_TITLE` (help/xdm/api/data-types.md, "Create a data type":
``title``, ``description``, ``type: object`` and ``properties``); its ``description`` holds the terms as JSON, which
is also what a person sees in the AEP UI (Schemas > Data types) while a DAG run holds it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from aep_provider.printable import printable

#: The one title of the lease in a sandbox (Schema Registry titles are unique per sandbox).
LEASE_TITLE = "Airflow AEP onboarding write lease"
_NOTE = (
    "Held by an Airflow DAG run while it creates resources in this sandbox, so that no other run creates them a "
    "second time; deleted when the run is done, taken over by another run once expired. Do not delete it while "
    "it is held."
)


class LeaseHolder(BaseModel):
    """A DAG run (``task_id`` None) or one task of it. ``clear_number`` is the run's count of clears (Airflow's
    ``DagRun.clear_number``): a lease taken before a clear belongs to an attempt of the run that is gone."""

    model_config = ConfigDict(frozen=True)

    dag_id: str
    run_id: str
    clear_number: int = 0
    task_id: str | None = None

    @property
    def label(self) -> str:
        """Escaped (``printable``): a lease's holder is read back from the sandbox, which anyone who may edit it can
        write; it reaches logs and error messages."""
        task = f", task {self.task_id}" if self.task_id else ""
        return printable(f"DAG {self.dag_id} run {self.run_id} (clear {self.clear_number}{task})")

    def for_task(self, task_id: str) -> LeaseHolder:
        return self.model_copy(update={"task_id": task_id})

    def supersedes(self, other: LeaseHolder) -> bool:
        """The same DAG run, cleared since ``other`` took the lease: ``other``'s attempt no longer runs."""
        return (self.dag_id, self.run_id) == (other.dag_id, other.run_id) and self.clear_number > other.clear_number

    @classmethod
    def of(cls, context: Any) -> LeaseHolder:
        """The DAG run of a task's context (a context without one, as in a bare test, gets a holder of its own)."""
        get = context.get if isinstance(context, Mapping) else (lambda _key, default=None: default)
        run = get("dag_run")
        ti = get("ti")
        dag_id = getattr(run, "dag_id", None) or getattr(ti, "dag_id", None) or "(no DAG)"
        run_id = getattr(run, "run_id", None) or get("run_id") or getattr(ti, "run_id", None)
        if not run_id:
            from uuid import uuid4

            run_id = f"(no run) {uuid4().hex}"
        return cls(dag_id=str(dag_id), run_id=str(run_id), clear_number=int(getattr(run, "clear_number", 0) or 0))


class LeaseTerms(BaseModel):
    holder: LeaseHolder
    acquired_at: datetime
    expires_at: datetime

    def description(self) -> str:
        return json.dumps({"note": _NOTE, **self.model_dump(mode="json")}, sort_keys=True)


class Lease(BaseModel):
    """A lease as found in the sandbox: the data type's ``$id`` and its terms (``None``: a resource with the lease's
    title that is not a lease of this provider)."""

    id: str
    terms: LeaseTerms | None = None
    #: ``meta:registryMetadata`` ``repo:createdDate`` (epoch ms), when the answer carries it.
    created: int | None = None

    def remaining(self, now: datetime) -> float:
        """Seconds left (negative once expired; ``-inf`` for a resource that is not a lease)."""
        return float("-inf") if self.terms is None else (self.terms.expires_at - now).total_seconds()

    def expired(self, now: datetime) -> bool:
        return self.remaining(now) <= 0

    def held_by(self, holder: LeaseHolder) -> bool:
        return self.terms is not None and self.terms.holder == holder

    def describe(self) -> str:
        """Escaped: every part comes from the sandbox."""
        if self.terms is None:
            return printable(f"{self.id} (not a write lease of this provider)")
        return printable(f"{self.id}, held by {self.terms.holder.label} since {self.terms.acquired_at.isoformat()} "
                         f"until {self.terms.expires_at.isoformat()}")


def lease_body(terms: LeaseTerms, tenant_id: str) -> dict[str, Any]:
    """The data type that is the lease (schema-registry.yaml ``createDataType``: ``required: [type, title]``).

    Its one field sits under the tenant namespace ``_<tenantId>``: help/xdm/api/data-types.md says a data type's fields
    need not be nested, help/xdm/troubleshooting-guide.md ("Namespace validation error") that fields of resources an
    organization defines must be; nested, the body satisfies both (tests/contract/adobe_contract_notes.yaml)."""
    holder = {"type": "string", "title": "Holder", "description": "The DAG run holding the lease"}
    return {
        "title": LEASE_TITLE,
        "description": terms.description(),
        "type": "object",
        "properties": {f"_{tenant_id}": {"type": "object", "properties": {"holder": holder}}},
    }


def lease_of(resource: Mapping[str, Any]) -> Lease:
    """A listed or created lease data type (its ``$id``, the terms from its ``description``)."""
    try:
        raw = json.loads(str(resource.get("description") or ""))
        terms: LeaseTerms | None = LeaseTerms.model_validate(raw)
    except (ValueError, ValidationError):
        terms = None
    created = (resource.get("meta:registryMetadata") or {}).get("repo:createdDate")
    return Lease(id=str(resource.get("$id") or resource.get("meta:altId") or ""), terms=terms,
                 created=int(created) if isinstance(created, (int, float)) else None)


def winner(leases: list[Lease]) -> Lease | None:
    """The one lease that counts when several carry the title: the oldest, then the lowest id. Adobe documents that
    a title already used is refused (XDM-1521-400), not that two simultaneous creates cannot both succeed; if they
    ever do, every holder picks the same winner and the others give theirs back."""
    if not leases:
        return None
    return min(leases, key=lambda lease: (lease.created if lease.created is not None else float("inf"), lease.id))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
