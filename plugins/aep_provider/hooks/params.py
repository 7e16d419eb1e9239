"""The keyword arguments every AEP hook takes: one definition for hooks, operators, sensor and trigger.

An operator, sensor or trigger keeps a ``hook_params: AepHookParams`` and builds its hook with
``AepHook(conn_id, **hook_params)`` or ``AepAsyncHook(conn_id, **hook_params)`` (as the dbt Cloud
provider passes ``hook_params``); a trigger serializes the same dict.
"""

from __future__ import annotations

from typing import TypedDict


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
