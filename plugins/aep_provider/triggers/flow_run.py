"""``AepFlowRunTrigger``: waits on the triggerer for flow runs to end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from aep_provider.flow_run_polling import RunTarget, RunWatch, naming, summarize
from aep_provider.hooks.aep_async import AepAsyncHook
from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.params import AepHookParams, checked_hook_params
from aep_provider.models.flow_service import RunSummary


class AepFlowRunTrigger(BaseTrigger):
    """Poll the runs of ``targets`` (``[{"key", "flow_id", "run_id"}]``; no ``run_id``: the flow's ``which``
    run) until every one has ended, polling those not yet ended concurrently, then fire one event.

    Events: ``{"status": "terminal", "runs": {key: RunSummary dump}}``, or ``{"status": "error", "message"}``
    when ``end_time`` (epoch seconds) passes first or anything goes wrong (the trigger never dies silently).
    Every argument is JSON-serialisable; ``hook_params`` are ``AepAsyncHook``'s keyword arguments.
    """

    def __init__(
        self,
        targets: list[dict[str, Any]],
        which: str = "latest",
        aep_conn_id: str = DEFAULT_CONN_ID,
        hook_params: AepHookParams | None = None,
        poll_interval: float = 5.0,
        max_concurrency: int = 16,
        end_time: float | None = None,
    ) -> None:
        super().__init__()
        self.targets = [RunTarget.from_json(target).to_json() for target in targets]
        self.which = which
        self.aep_conn_id = aep_conn_id
        self.hook_params = checked_hook_params(hook_params, "AepFlowRunTrigger")
        self.poll_interval = float(poll_interval)
        self.max_concurrency = int(max_concurrency)
        self.end_time = end_time

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "targets": self.targets,
                "which": self.which,
                "aep_conn_id": self.aep_conn_id,
                "hook_params": dict(self.hook_params),
                "poll_interval": self.poll_interval,
                "max_concurrency": self.max_concurrency,
                "end_time": self.end_time,
            },
        )

    async def read(self, hook: AepAsyncHook, target: RunTarget) -> RunSummary | None:
        """The current state of ``target``'s run."""
        try:
            if target.run_id:
                run = await hook.get_run(target.run_id)
            else:
                run = await hook.one_run(target.flow_id, self.which)  # type: ignore[arg-type]
        except AepConfigError as exc:
            raise naming(target, exc) from None
        return summarize(target, run)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            hook = AepAsyncHook(self.aep_conn_id, **self.hook_params)
            watch = RunWatch([RunTarget.from_json(t) for t in self.targets], self.log)
            limit = asyncio.Semaphore(max(1, self.max_concurrency))

            async def poll(target: RunTarget) -> None:
                async with limit:
                    watch.record(target, await self.read(hook, target))

            while True:
                await asyncio.gather(*(poll(target) for target in list(watch.pending.values())))
                if watch.finished:
                    yield TriggerEvent(watch.events_payload())
                    return
                if self.end_time is not None and time.time() >= self.end_time:
                    yield TriggerEvent({
                        "status": "error",
                        "message": f"the runs of {sorted(watch.pending)} had not ended by the deadline "
                        f"({time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(self.end_time))}); raise the "
                        "sensor's timeout or check the flows in AEP",
                    })
                    return
                await asyncio.sleep(self.poll_interval)
        except Exception as exc:  # any failure becomes an event: the sensor fails with it, the trigger never dies
            yield TriggerEvent({"status": "error", "message": f"{type(exc).__name__}: {exc}"})
