"""The keyword arguments of ``AepHook``/``AepAsyncHook`` as one JSON-serialisable dict, as
apache/airflow's dbt Cloud provider passes ``hook_params``: the sensor hands the same dict to its
trigger, so both make the same hook."""

from __future__ import annotations

from typing import TypedDict

from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.aep_async import AepAsyncHook
from aep_provider.hooks.errors import AepConfigError


class AepHookParams(TypedDict, total=False):
    """``AepHook(aep_conn_id, **hook_params)``: each key overrides the connection's own setting."""

    sandbox: str | None
    max_retries: int | None
    retry_max_seconds: float | None
    timeout: float | None
    token_cache_dir: str | None


HOOK_PARAM_NAMES = frozenset(AepHookParams.__annotations__)


def checked_hook_params(params: AepHookParams | None, owner: str) -> AepHookParams:
    """``params`` with only known keys, as a plain dict; an unknown key is named with the valid ones."""
    unknown = sorted(set(params or {}) - HOOK_PARAM_NAMES)
    if unknown:
        raise AepConfigError(f"{owner}: hook_params has unknown key(s) {unknown}; use some of {sorted(HOOK_PARAM_NAMES)}.")
    return AepHookParams(**(params or {}))


def sync_hook(aep_conn_id: str, params: AepHookParams) -> AepHook:
    return AepHook(aep_conn_id, **params)


def async_hook(aep_conn_id: str, params: AepHookParams) -> AepAsyncHook:
    return AepAsyncHook(aep_conn_id, **params)
