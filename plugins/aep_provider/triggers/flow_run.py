"""``AepFlowRunTrigger``: waits on the triggerer for a flow run to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from aep_provider.hooks.aep_async import AepAsyncHook
from aep_provider.hooks.errors import AepApiError, AepError
from aep_provider.hooks.runs import is_terminal, pick_run
from aep_provider.models.flow_service import RunSummary


class AepFlowRunTrigger(BaseTrigger):
    """Poll a flow run (or the first/latest run of a flow) until it ends, then fire one event.

    Events: ``{"status": "terminal", "run": {...summary...}}`` or ``{"status": "error", "message": ...}``.
    Every argument is JSON-serialisable.
    """

    def __init__(
        self,
        flow_id: str,
        run_id: str | None = None,
        which: str = "latest",
        aep_conn_id: str = "aep_default",
        sandbox: str | None = None,
        poll_interval: float = 5.0,
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self.flow_id = flow_id
        self.run_id = run_id
        self.which = which
        self.aep_conn_id = aep_conn_id
        self.sandbox = sandbox
        self.poll_interval = float(poll_interval)
        self.max_retries = max_retries
        self.retry_max_seconds = retry_max_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "flow_id": self.flow_id,
                "run_id": self.run_id,
                "which": self.which,
                "aep_conn_id": self.aep_conn_id,
                "sandbox": self.sandbox,
                "poll_interval": self.poll_interval,
                "max_retries": self.max_retries,
                "retry_max_seconds": self.retry_max_seconds,
            },
        )

    def _hook(self) -> AepAsyncHook:
        return AepAsyncHook(
            self.aep_conn_id,
            self.sandbox,
            max_retries=self.max_retries,
            retry_max_seconds=self.retry_max_seconds,
        )

    async def poll_once(self, hook: AepAsyncHook) -> RunSummary | None:
        if self.run_id:
            run = await hook.get_run(self.run_id)
            if run is None:
                raise AepError(f"Run {self.run_id} of flow {self.flow_id} does not exist; check run_id.")
        else:
            run = pick_run(await hook.list_runs(self.flow_id), self.which)  # type: ignore[arg-type]
        return RunSummary.from_run(run) if run else None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        last = None
        try:
            while True:
                summary = await self.poll_once(hook)
                if summary is not None and is_terminal(summary):
                    yield TriggerEvent(
                        {"status": "terminal", "run": {**summary.xcom(), "errors": summary.errors}}
                    )
                    return
                state = (summary.status, summary.input_records, summary.output_records) if summary else None
                if state != last:
                    if summary is None:
                        self.log.info("Flow %s has no run yet; waiting", self.flow_id)
                    else:
                        self.log.info(
                            "Run %s is %s (%d records in, %d out)",
                            summary.id,
                            summary.status,
                            summary.input_records,
                            summary.output_records,
                        )
                    last = state
                await asyncio.sleep(self.poll_interval)
        except (AepApiError, AepError) as exc:
            yield TriggerEvent({"status": "error", "message": str(exc)})
