"""``AepReleaseWriteLeaseOperator``: gives back the sandbox's write lease a DAG run's plan took."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.sdk import TriggerRule

from aep_provider.hooks.errors import AepError, AepTransientError
from aep_provider.operators.base import AepBaseOperator
from aep_provider.write_lease import Lease, SandboxWriteLease


class AepReleaseWriteLeaseOperator(AepBaseOperator):
    """Give back the write lease the plan took for this DAG run, once every step that may create is done.

    Runs whatever those steps' outcome (trigger rule ``all_done``), so a run that failed does not keep other runs
    waiting until the lease expires. The lease is deleted by its id: if it expired and another run took it over,
    that run's lease is another id and stays. The Platform unavailable (no answer, 5xx) fails the try while the
    task has retries left, so the lease is given back as soon as the Platform answers again instead of keeping
    other runs waiting until it expires; on the last try, and on any other error, the failure is logged, not
    raised: the lease then ends at its expiry time (the run's outcome is its steps', not this one's).

    :param write_lease: the plan's XCom ``plan.lease`` (templated); nothing to do when the plan took none (``{}``).
    :return: the id of the lease given back, or ``None``.
    """

    creates = False  # gives back; creates nothing
    ui_color = "#2d9d78"

    def __init__(self, *, trigger_rule: str = TriggerRule.ALL_DONE, **kwargs: Any) -> None:
        super().__init__(trigger_rule=trigger_rule, **kwargs)

    def execute(self, context: Any) -> str | None:
        if not isinstance(self.write_lease, Mapping) or not self.write_lease:
            self.log.info("The plan took no write lease for this run (it had nothing to create): nothing to give back")
            return None
        lease = Lease.model_validate(self.write_lease)
        try:
            SandboxWriteLease(self.hook, log=self.log).release(lease)
        except AepTransientError as exc:
            if not _last_try(context):
                self.log.warning("Could not give back the write lease %s (%s): trying again", lease.id, exc)
                raise
            self.log.warning("Could not give back the write lease %s on the last try (%s): it ends at its expiry "
                             "time, %s", lease.id, exc, lease.terms.expires_at.isoformat() if lease.terms else "unknown")
            return None
        except AepError as exc:
            self.log.warning("Could not give back the write lease %s (%s): it ends at its expiry time, %s",
                             lease.id, exc, lease.terms.expires_at.isoformat() if lease.terms else "unknown")
            return None
        return lease.id


def _last_try(context: Any) -> bool:
    """Whether this try is the task's last (``try_number`` past ``max_tries``); a context without them is."""
    ti = context.get("ti") if isinstance(context, Mapping) else None
    try_number, max_tries = getattr(ti, "try_number", None), getattr(ti, "max_tries", None)
    if not isinstance(try_number, int) or not isinstance(max_tries, int):
        return True
    return try_number > max_tries
