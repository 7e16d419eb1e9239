"""What the AEP triggers share: the connection and hook params they were handed, a poll interval, a deadline, and
one loop that polls until there is something to say - and never dies silently."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from aep_provider.hooks.aep_async import AepAsyncHook
from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.hooks.params import AepHookParams, checked_hook_params


class AepPollingTrigger(BaseTrigger):
    """Poll with an :class:`AepAsyncHook` every ``poll_interval`` seconds until :meth:`poll` has an event; fire
    ``{"status": "error", "message"}`` when ``end_time`` (epoch seconds) passes first or anything goes wrong.

    A subclass implements :meth:`poll`, :meth:`arguments` (its own serialized arguments) and :meth:`late`.
    """

    def __init__(
        self,
        aep_conn_id: str = DEFAULT_CONN_ID,
        hook_params: AepHookParams | None = None,
        poll_interval: float = 5.0,
        end_time: float | None = None,
    ) -> None:
        super().__init__()
        self.aep_conn_id = aep_conn_id
        self.hook_params = checked_hook_params(hook_params, type(self).__name__)
        self.poll_interval = float(poll_interval)
        self.end_time = end_time

    def arguments(self) -> dict[str, Any]:
        """The subclass's own constructor arguments, JSON-serialisable."""
        raise NotImplementedError

    async def poll(self, hook: AepAsyncHook) -> dict[str, Any] | None:
        """One look: the event's payload when there is something to say, else ``None``."""
        raise NotImplementedError

    def late(self, deadline: str) -> str:
        """The error message when ``deadline`` (ISO text) passed before :meth:`poll` had an event."""
        raise NotImplementedError

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {**self.arguments(), "aep_conn_id": self.aep_conn_id, "hook_params": dict(self.hook_params),
             "poll_interval": self.poll_interval, "end_time": self.end_time},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            hook = AepAsyncHook(self.aep_conn_id, **self.hook_params)
            while True:
                payload = await self.poll(hook)
                if payload is not None:
                    yield TriggerEvent(payload)
                    return
                if self.end_time is not None and time.time() >= self.end_time:
                    deadline = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.end_time))
                    yield TriggerEvent({"status": "error", "message": self.late(deadline)})
                    return
                await asyncio.sleep(self.poll_interval)
        except Exception as exc:  # any failure becomes an event: the task fails with it, the trigger never dies
            yield TriggerEvent({"status": "error", "message": f"{type(exc).__name__}: {exc}"})
