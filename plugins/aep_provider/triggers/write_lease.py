"""``AepWriteLeaseTrigger``: waits on the triggerer until the sandbox's write lease is free for a holder.

The plan defers to it when another DAG run holds the lease, so a waiting run holds no worker slot and no pool slot
(a backfill of ten runs waits in the triggerer while the first one onboards, instead of filling the pool the first
one needs for its own writes).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from aep_provider.hooks.aep_async import AepAsyncHook
from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.hooks.errors import AepTransientError
from aep_provider.hooks.params import AepHookParams
from aep_provider.hooks.transport import service_path
from aep_provider.models.common import XED
from aep_provider.triggers.base import AepPollingTrigger
from aep_provider.write_lease.sandbox import DEFAULT_TTL_SECONDS, SAFETY_MARGIN_SECONDS
from aep_provider.write_lease.terms import LEASE_TITLE, LeaseHolder, lease_of, winner


class AepWriteLeaseTrigger(AepPollingTrigger):
    """Poll the sandbox's write lease (``GET /tenant/datatypes?property=title==...``) until nobody holds it, it has
    expired, or ``holder``'s own DAG run took it before being cleared; then fire ``{"status": "free"}``.

    ``{"status": "error", "message"}`` when ``end_time`` (epoch seconds) passes first or anything goes wrong; a
    Platform that does not answer for a while (its retries spent) is waited out until then.
    """

    def __init__(
        self,
        holder: dict[str, Any],
        aep_conn_id: str = DEFAULT_CONN_ID,
        hook_params: AepHookParams | None = None,
        poll_interval: float = 5.0,
        end_time: float | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        super().__init__(aep_conn_id, hook_params, poll_interval, end_time)
        self.ttl_seconds = float(ttl_seconds)
        self.holder = LeaseHolder.model_validate(holder).model_dump()
        self._held = "unknown"

    def arguments(self) -> dict[str, Any]:
        return {"holder": self.holder, "ttl_seconds": self.ttl_seconds}

    async def is_free(self, hook: AepAsyncHook) -> tuple[bool, str]:
        """Whether ``holder`` may take the lease now, and who holds it otherwise."""
        answer = await hook.get(
            service_path("schemaregistry", "/tenant/datatypes"), {"property": f"title=={LEASE_TITLE}"}, accept=XED
        )
        results = (answer.get("results") or []) if isinstance(answer, dict) else []
        lease = winner([lease_of(item) for item in results if item.get("title") == LEASE_TITLE])
        if lease is None:
            return True, "nobody"
        holder = LeaseHolder.model_validate(self.holder)
        left = lease.remaining(datetime.now(timezone.utc))
        # Expired, or claiming an end no holder writes (SandboxWriteLease.stale): the plan takes it over.
        if lease.terms is None or left <= 0 or left > self.ttl_seconds + SAFETY_MARGIN_SECONDS or lease.held_by(holder):
            return True, lease.describe()
        return holder.supersedes(lease.terms.holder), lease.describe()

    async def poll(self, hook: AepAsyncHook) -> dict[str, Any] | None:
        try:
            free, held = await self.is_free(hook)
        except AepTransientError as exc:
            # The Platform unreachable for a while (its retries spent): keep waiting until the deadline.
            self.log.warning("Could not read the sandbox's write lease (%s); looking again in %.0f s",
                             exc, self.poll_interval)
            return None
        self._held = held
        return {"status": "free", "was": held} if free else None

    def late(self, deadline: str) -> str:
        return f"the sandbox's write lease was still held at the deadline ({deadline}): {self._held}"
