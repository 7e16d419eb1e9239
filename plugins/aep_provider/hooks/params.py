"""The keyword arguments every AEP hook takes: one definition for hooks, operators, sensor and trigger.

An operator, sensor or trigger keeps a ``hook_params: AepHookParams`` and builds its hook with
``AepHook(conn_id, **hook_params)`` or ``AepAsyncHook(conn_id, **hook_params)`` (as the dbt Cloud
provider passes ``hook_params``); a trigger serializes the same dict.
"""

from __future__ import annotations

from typing import TypedDict

from aep_provider.hooks.errors import AepConfigError


class AepHookParams(TypedDict, total=False):
    """Per-task overrides of the connection's settings; a missing or ``None`` key keeps the connection's.

    :param sandbox: overrides ``extra.sandbox``.
    :param max_retries: overrides ``extra.max_retries``.
    :param retry_max_seconds: overrides ``extra.retry_max_seconds``.
    :param timeout: overrides ``extra.timeout`` (seconds per HTTP request).
    :param token_cache_dir: where the encrypted token cache lives (default ``AEP_TOKEN_CACHE_DIR`` or
        ``$AIRFLOW_HOME/.aep_token_cache``).
    """

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
