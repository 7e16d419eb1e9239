"""Acquire, read, renew and release the sandbox's write lease (a Schema Registry data type, see the package).

Taking it is one ``POST /tenant/datatypes`` (schema-registry.yaml ``createDataType``): 201 means taken, XDM-1521-400
("Title not unique", help/xdm/troubleshooting-guide.md) means someone holds it - then it is read
(``GET /tenant/datatypes?property=title==...``, ``listDataTypes``; the ``title==`` filter is help/xdm/api/appendix.md's
example) to learn who and until when. An expired lease, or one its own DAG run took before being cleared, is deleted
by its ``$id`` (``deleteDatatype``) and taken anew: two runs taking over at once both delete the same id (one gets
404), and only one of their two ``POST``s gets 201. Renewing is a JSON Patch of the description (``updateDataType``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aep_provider.hooks.errors import (
    AepAmbiguousWriteError,
    AepConfigError,
    AepError,
    AepNotFoundError,
    AepValidationError,
    bare_code,
)
from aep_provider.models.common import XED
from aep_provider.printable import printable
from aep_provider.write_lease.terms import (
    LEASE_TITLE,
    Lease,
    LeaseHolder,
    LeaseTerms,
    lease_body,
    lease_of,
    utcnow,
    winner,
)

#: How long a lease lasts unless renewed: a holder renews it past half of this; a run that died holding it
#: blocks others at most this long.
DEFAULT_TTL_SECONDS = 600.0
#: A holder never writes on a lease with less than this left (clock skew and one request's time).
SAFETY_MARGIN_SECONDS = 60.0
_ATTEMPTS = 5


class AepLeaseTimeoutError(AepError):
    """The write lease stayed with another holder longer than the caller would wait."""


def title_taken(exc: AepValidationError) -> bool:
    return bare_code(exc.error_code or "") == "1521-400"


_ADOBE_ID = re.compile(r"https://ns\.adobe\.com/[^\s'\",]+")


def _other_title_holder(refused: AepValidationError | None) -> str | None:
    """The resource an XDM-1521 answer names, when it is not a data type (troubleshooting-guide.md's detail: "An
    object https://ns.adobe.com/{TENANT_ID}/classes/... already exists with the same title")."""
    found = _ADOBE_ID.search(str(refused.detail if refused else ""))
    return found.group(0) if found and "/datatypes/" not in found.group(0) else None


class SandboxWriteLease:
    """The write lease of the hook's sandbox."""

    def __init__(
        self,
        hook: Any,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        log: Any = None,
    ) -> None:
        if ttl_seconds < 2 * SAFETY_MARGIN_SECONDS:
            raise AepConfigError(
                f"write lease ttl_seconds={ttl_seconds}: use at least {2 * SAFETY_MARGIN_SECONDS:.0f} seconds "
                f"(a holder stops writing {SAFETY_MARGIN_SECONDS:.0f} seconds before the lease ends)."
            )
        self.hook = hook
        self._tenant_id: str | None = None
        self.ttl = float(ttl_seconds)
        self.clock = clock
        self.log = log or logging.getLogger(__name__)

    @property
    def margin(self) -> float:
        return SAFETY_MARGIN_SECONDS

    def leases(self) -> list[Lease]:
        """Every data type carrying the lease's title (one, but see :func:`winner`). The title filter is
        appendix.md's; if it finds none, the whole (small) listing is read once, so a filter a sandbox reads
        differently cannot hide the lease."""
        for params in ({"property": f"title=={LEASE_TITLE}"}, None):
            listed = self.hook.iter_tenant("datatypes", params, accept=XED)
            found = [lease_of(item) for item in listed if item.get("title") == LEASE_TITLE]
            if found:
                return found
        return []

    def stale(self, lease: Lease) -> bool:
        """Expired, or ending further ahead than any holder writes (its term plus the margin): a lease someone wrote
        by hand to keep every run waiting counts as expired."""
        left = lease.remaining(self.clock())
        return left <= 0 or left > self.ttl + self.margin

    def read(self) -> Lease | None:
        """The lease as the sandbox holds it now, ``None`` when nobody holds it."""
        return winner(self.leases())

    def _tenant(self) -> str:
        if self._tenant_id is None:
            self._tenant_id = str(self.hook.get_tenant_id())
        return self._tenant_id

    def _terms(self, holder: LeaseHolder) -> LeaseTerms:
        now = self.clock()
        return LeaseTerms(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=self.ttl))

    def settle(self, ours: Lease) -> Lease:
        """Ours, unless another lease of the title counts first (a double 201, :func:`winner`): then ours is given
        back and the winner returned. One listing; a holder writes nothing before it (see :meth:`try_acquire`)."""
        found = self.leases()
        first = winner([*found, *([] if any(lease.id == ours.id for lease in found) else [ours])])
        if first is None or first.id == ours.id:
            return ours
        self.log.warning("Two leases were taken at once; %s counts, giving back ours (%s)", first.describe(), ours.id)
        self.hook.delete_resource("datatypes", ours.id)
        return first

    def try_acquire(self, holder: LeaseHolder, *, settle: bool = True) -> Lease:
        """One attempt to take the lease: the lease afterwards, ``holder``'s (taken now, or already its own) or
        another holder's (compare with :meth:`Lease.held_by`).

        ``settle=False``: a lease taken now is returned before the listing that settles a double 201
        (:meth:`settle`), so the caller can make that listing alongside its own reads; it must call :meth:`settle`
        and write nothing until it says the lease is still its own. A lease found already held by ``holder`` comes
        from such a listing and is settled."""
        for _ in range(_ATTEMPTS):
            terms = self._terms(holder)
            refused: AepValidationError | None = None
            try:
                created = lease_of(self.hook.create_resource("datatypes", lease_body(terms, self._tenant())) or {})
                ours = Lease(id=created.id, terms=terms, created=created.created)
                if not settle:
                    self.log.info("Took the sandbox's write lease (%s), to be settled", ours.describe())
                    return ours
                lease = self.settle(ours)
                if lease.held_by(holder):
                    self.log.info("Took the sandbox's write lease (%s)", lease.describe())
                return lease
            except AepValidationError as exc:
                if not title_taken(exc):
                    raise
                refused = exc
            except AepAmbiguousWriteError as exc:  # the POST may have been applied: the read below tells
                self.log.warning("Taking the write lease had an ambiguous outcome (%s); reading it", exc.detail)
            current = self.read()
            if current is None:
                other = _other_title_holder(refused)
                if other is not None:
                    raise AepConfigError(
                        f"The Schema Registry resource {printable(other)} holds the title {LEASE_TITLE!r}, which the write lease "
                        "needs (titles are unique across resource types): rename it."
                    )
                continue  # given back between our POST and our read
            if current.terms is None:
                raise AepConfigError(
                    f"A Schema Registry resource titled {LEASE_TITLE!r} exists in this sandbox ({printable(current.id)}) but it "
                    "is not a write lease of this provider: rename or delete it (the title is reserved)."
                )
            if current.held_by(holder):
                return current
            if self.stale(current) or holder.supersedes(current.terms.holder):
                why = "it expired (or claims an end no holder writes)" if self.stale(current) else \
                    "its DAG run was cleared since"
                self.log.warning("Taking over the write lease %s: %s", current.describe(), why)
                self.hook.delete_resource("datatypes", current.id)  # by id: only that lease (404 when beaten to it)
                continue
            return current
        current = self.read()
        if current is None:
            raise AepLeaseTimeoutError(f"Could not take the sandbox's write lease in {_ATTEMPTS} attempts; try again.")
        return current

    def acquire(
        self,
        holder: LeaseHolder,
        *,
        wait_seconds: float,
        poll_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Lease:
        """Take the lease, waiting while another holder has it, for at most ``wait_seconds``."""
        deadline = time.monotonic() + wait_seconds
        announced: str | None = None
        while True:
            lease = self.try_acquire(holder)
            if lease.held_by(holder):
                return lease
            if lease.id != announced:
                self.log.info("Waiting for the sandbox's write lease: %s", lease.describe())
                announced = lease.id
            if time.monotonic() + poll_seconds > deadline:
                raise AepLeaseTimeoutError(
                    f"Waited {wait_seconds:.0f} s for the sandbox's write lease, still {lease.describe()}. If that run "
                    f"is alive, it is still creating resources: run this task again later. If it died, its lease ends "
                    f"at its expiry time, or delete the data type {lease.id} in the sandbox."
                )
            sleep(poll_seconds)

    def renew(self, lease: Lease) -> Lease | None:
        """Push the end of ``lease`` ``ttl`` seconds ahead; ``None`` when it is gone (taken over)."""
        if lease.terms is None:
            return None
        terms = lease.terms.model_copy(update={"expires_at": self.clock() + timedelta(seconds=self.ttl)})
        try:
            self.hook.patch_resource(
                "datatypes", lease.id, [{"op": "replace", "path": "/description", "value": terms.description()}]
            )
        except AepNotFoundError:
            return None
        self.log.info("Renewed the sandbox's write lease until %s", terms.expires_at.isoformat())
        return Lease(id=lease.id, terms=terms)

    def release(self, lease: Lease) -> bool:
        """Give ``lease`` back (deleted by its id: a lease taken over since is another id and stays)."""
        gone = self.hook.delete_resource("datatypes", lease.id)
        self.log.info("Gave back the sandbox's write lease %s%s", lease.id, "" if gone else " (it was already gone)")
        return bool(gone)
