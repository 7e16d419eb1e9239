"""``AepFlowRunTrigger``: waits on the triggerer for flow runs to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from aep_provider.hooks.aep_async import AepAsyncHook
from aep_provider.hooks.errors import AepApiError, AepConfigError, AepError
from aep_provider.hooks.runs import is_terminal
from aep_provider.models.flow_service import RunSummary


class AepFlowRunTrigger(BaseTrigger):
    """Poll a flow run (or the first/latest run of a flow) until it ends, then fire one event.

    With ``targets`` (``[{"key", "flow_id", "run_id"}]``) it waits for the runs of many flows at once,
    polling those not yet ended concurrently, and fires one event when all have ended.

    Events: ``{"status": "terminal", "run": {...summary...}}`` (one flow),
    ``{"status": "terminal", "runs": {key: {...summary...}}}`` (targets) or
    ``{"status": "error", "message": ...}``. Every argument is JSON-serialisable.
    """

    def __init__(
        self,
        flow_id: str | None = None,
        run_id: str | None = None,
        which: str = "latest",
        aep_conn_id: str = "aep_default",
        sandbox: str | None = None,
        poll_interval: float = 5.0,
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        targets: list[dict[str, Any]] | None = None,
        max_concurrency: int = 16,
    ) -> None:
        super().__init__()
        if targets is None and not flow_id:
            raise AepError("AepFlowRunTrigger needs flow_id or targets.")
        self.flow_id = flow_id
        self.run_id = run_id
        self.which = which
        self.aep_conn_id = aep_conn_id
        self.sandbox = sandbox
        self.poll_interval = float(poll_interval)
        self.max_retries = max_retries
        self.retry_max_seconds = retry_max_seconds
        self.targets = targets
        self.max_concurrency = int(max_concurrency)

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
                "targets": self.targets,
                "max_concurrency": self.max_concurrency,
            },
        )

    def _hook(self) -> AepAsyncHook:
        return AepAsyncHook(
            self.aep_conn_id,
            self.sandbox,
            max_retries=self.max_retries,
            retry_max_seconds=self.retry_max_seconds,
        )

    async def poll_once(
        self, hook: AepAsyncHook, flow_id: str | None = None, run_id: str | None = None, key: str | None = None
    ) -> RunSummary | None:
        """The current state of one run (by default this trigger's own ``flow_id``/``run_id``)."""
        if flow_id is None:
            flow_id, run_id = self.flow_id, self.run_id
        prefix = f"[{key}] " if key is not None else ""
        try:
            if run_id:
                run = await hook.get_run(run_id)
                if run is None:
                    raise AepError(f"{prefix}Run {run_id} of flow {flow_id} does not exist; check run_id.")
            else:
                run = await hook.one_run(str(flow_id), self.which)  # type: ignore[arg-type]
        except AepConfigError as exc:  # a malformed id: name the object it belongs to
            raise AepConfigError(f"{prefix}Run {run_id} of flow {flow_id}: {exc}") from None
        return RunSummary.from_run(run) if run else None

    def _log_state(self, key: str | None, flow_id: str, summary: RunSummary | None) -> None:
        prefix = f"[{key}] " if key is not None else ""
        if summary is None:
            self.log.info("%sFlow %s has no run yet; waiting", prefix, flow_id)
        else:
            self.log.info(
                "%sRun %s is %s (%d records in, %d out, %d failed)",
                prefix,
                summary.id,
                summary.status,
                summary.input_records,
                summary.output_records,
                summary.failed_records,
            )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        targets = self.targets or [{"key": None, "flow_id": self.flow_id, "run_id": self.run_id}]
        pending = {str(t.get("key")): t for t in targets}
        done: dict[str, dict[str, Any]] = {}
        last: dict[str, Any] = {}
        limit = asyncio.Semaphore(max(1, self.max_concurrency))

        async def poll(target: dict[str, Any]) -> RunSummary | None:
            async with limit:
                return await self.poll_once(hook, str(target["flow_id"]), target.get("run_id"), target.get("key"))

        try:
            while True:
                names = list(pending)
                summaries = await asyncio.gather(*(poll(pending[name]) for name in names))
                for name, summary in zip(names, summaries, strict=True):
                    target = pending[name]
                    if summary is not None and is_terminal(summary):
                        done[name] = {**summary.xcom(), "errors": summary.errors}
                        del pending[name]
                        continue
                    state = (summary.status, summary.input_records, summary.output_records) if summary else None
                    if last.get(name, "unset") != state:
                        self._log_state(target.get("key"), str(target["flow_id"]), summary)
                        last[name] = state
                if not pending:
                    if self.targets is None:
                        yield TriggerEvent({"status": "terminal", "run": next(iter(done.values()))})
                    else:
                        yield TriggerEvent({"status": "terminal", "runs": done})
                    return
                await asyncio.sleep(self.poll_interval)
        except (AepApiError, AepError) as exc:
            yield TriggerEvent({"status": "error", "message": str(exc)})
