"""The check a task makes before it creates a named resource: its DAG run holds the sandbox's write lease.

In an onboarding DAG the plan takes the run's lease when the run has anything to create, and reads the sandbox again
under it, so a create step that finds the plan's lease to be its own run's - same DAG run, same clear number, time
left - creates without a request of its own. Otherwise (a hand-written DAG without a plan, a task cleared after its
run gave the lease back, a lease lost to a takeover) the task takes a lease of its own, waiting while another holds
it, and tells its caller that what it read before may be stale (``create_idempotent`` looks the resource up again);
the task gives its own lease back when it ends (:meth:`WriteGuard.end`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from aep_provider.write_lease.sandbox import SandboxWriteLease
from aep_provider.write_lease.terms import Lease, LeaseHolder

#: How long a task waits for the lease another run holds before it fails (the holder renews while it works).
DEFAULT_WAIT_SECONDS = 3600.0


@dataclass
class WriteGuard:
    """Whether a task may create now; thread-safe (the rows of a task share it)."""

    lease: SandboxWriteLease
    holder: LeaseHolder
    task_id: str
    run_lease: Lease | None = None
    _: KW_ONLY
    wait_seconds: float = DEFAULT_WAIT_SECONDS
    poll_seconds: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    log: Any = field(default_factory=lambda: logging.getLogger(__name__))
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _current: Lease | None = field(default=None, init=False)
    _own: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.log = self.log or logging.getLogger(__name__)

    def ensure(self) -> bool:
        """Make sure a lease covers the next write. ``True`` when it was taken just now: anything read (or planned)
        before may be stale and must be looked up again."""
        with self._lock:
            now = self.lease.clock()
            if self._current is None and self.run_lease is not None and self.run_lease.held_by(self.holder):
                self._current = self.run_lease
            if self._current is not None:
                left = self._current.remaining(now)
                if left > self.lease.ttl / 2:
                    return False
                if left > self.lease.margin:
                    renewed = self.lease.renew(self._current)
                    if renewed is not None:
                        self._current = renewed
                        return False
                self.log.warning("The write lease %s is lost or about to end: taking it again before writing",
                                 self._current.describe())
                if self._own:
                    self.lease.release(self._current)
                self._current, self._own = None, False
            elif self.run_lease is not None:
                self.log.info("The plan's write lease is not this task's to use (%s; this task: %s): taking one",
                              self.run_lease.describe(), self.holder.label)
            self._current = self.lease.acquire(
                self.holder.for_task(self.task_id), wait_seconds=self.wait_seconds,
                poll_seconds=self.poll_seconds, sleep=self.sleep,
            )
            self._own = True
            return True

    def end(self) -> None:
        """Give back a lease the task took itself (never the run's: the run's release step does that)."""
        with self._lock:
            current, own = self._current, self._own
            self._current, self._own = None, False
        if current is not None and own:
            try:
                self.lease.release(current)
            except Exception as exc:  # the lease expires on its own; the task's outcome stands
                self.log.warning("Could not give back the write lease %s (%s); it ends at its expiry time",
                                 current.id, exc)
