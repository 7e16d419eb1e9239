"""What every AEP task shares, operator or sensor: its connection, its sandbox and its hook.

``aep_conn_id`` names the connection, ``sandbox`` (templated) overrides the connection's sandbox, ``hook_params``
(:class:`~aep_provider.hooks.params.AepHookParams`) the hook's other settings; the task builds its one hook from
them, and hands the same dict to a trigger it defers to. One way in for the sandbox, whatever the task.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.params import AepHookParams, checked_hook_params


class AepConnected:
    """The connection, sandbox and hook of an AEP task (mixed into the operators' base and the sensor)."""

    aep_conn_id: str
    sandbox: str | None
    hook_params: AepHookParams

    def connect(self, aep_conn_id: str, sandbox: str | None, hook_params: AepHookParams | None, owner: str) -> None:
        self.aep_conn_id = aep_conn_id
        self.sandbox = sandbox
        self.hook_params = checked_hook_params(hook_params, owner)

    def effective_hook_params(self) -> AepHookParams:
        """``hook_params`` with the templated ``sandbox`` argument (rendered by now), which wins."""
        params = AepHookParams(**self.hook_params)
        if self.sandbox is not None:
            params["sandbox"] = self.sandbox
        return params

    @cached_property
    def hook(self) -> AepHook:
        return AepHook(self.aep_conn_id, **self.effective_hook_params())

    @staticmethod
    def push(context: Any, key: str, value: Any) -> None:
        context["ti"].xcom_push(key=key, value=value)
