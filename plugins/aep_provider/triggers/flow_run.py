"""``AepFlowRunTrigger``: waits on the triggerer for flow runs to end."""

from __future__ import annotations

import asyncio
from typing import Any

from aep_provider.flow_runs.run import FlowRun
from aep_provider.flow_runs.watch import RunTarget, RunWatch, checked, naming
from aep_provider.hooks.aep_async import AepAsyncHook
from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.params import AepHookParams
from aep_provider.triggers.base import AepPollingTrigger


class AepFlowRunTrigger(AepPollingTrigger):
    """Poll the runs of ``targets`` (``[{"key", "flow_id", "run_id"}]``; no ``run_id``: the flow's ``which``
    run) until every one has ended, polling those not yet ended concurrently, then fire one event.

    Events: ``{"status": "terminal", "runs": {key: FlowRun dump}}``, or ``{"status": "error", "message"}``
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
        super().__init__(aep_conn_id, hook_params, poll_interval, end_time)
        self.targets = [RunTarget.from_json(target).to_json() for target in targets]
        self.which = which
        self.max_concurrency = int(max_concurrency)
        self._watch: RunWatch | None = None

    def arguments(self) -> dict[str, Any]:
        return {"targets": self.targets, "which": self.which, "max_concurrency": self.max_concurrency}

    async def read(self, hook: AepAsyncHook, target: RunTarget) -> FlowRun | None:
        """The current state of ``target``'s run (the sensor reads it with the same requests, sync)."""
        try:
            if target.run_id:
                run = await hook.get_run(target.run_id)
            else:
                run = await hook.one_run(target.flow_id, self.which)  # type: ignore[arg-type]
        except AepConfigError as exc:
            raise naming(target, exc) from None
        return checked(target, run)

    async def poll(self, hook: AepAsyncHook) -> dict[str, Any] | None:
        if self._watch is None:
            self._watch = RunWatch([RunTarget.from_json(t) for t in self.targets], self.log)
        watch = self._watch
        limit = asyncio.Semaphore(max(1, self.max_concurrency))

        async def poll_one(target: RunTarget) -> None:
            async with limit:
                watch.record(target, await self.read(hook, target))

        await asyncio.gather(*(poll_one(target) for target in list(watch.pending.values())))
        return watch.events_payload() if watch.finished else None

    def late(self, deadline: str) -> str:
        pending = sorted(self._watch.pending) if self._watch is not None else []
        return (f"the runs of {pending} had not ended by the deadline ({deadline}); raise the sensor's timeout or "
                "check the flows in AEP")
