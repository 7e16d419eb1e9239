"""Settings of an ``adobe_experience_platform`` Airflow connection, read once and checked."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from aep_provider.constants import (
    DEFAULT_HOST,
    DEFAULT_IMS_HOST,
    DEFAULT_SANDBOX,
    DEFAULT_SCOPES,
    DEFAULT_TIMEOUT,
)
from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.retry import RetryPolicy


def _strip_url(value: str) -> str:
    return value.rstrip("/")


def _as_float(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AepConfigError(f"Connection extra '{name}' must be a number, got {value!r}.") from None


def _as_int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AepConfigError(f"Connection extra '{name}' must be a whole number, got {value!r}.") from None


@dataclass(frozen=True)
class AepSettings:
    """Everything the hooks need from the Airflow connection (plus per-task overrides)."""

    conn_id: str
    client_id: str
    client_secret: str = field(repr=False)
    host: str
    ims_host: str
    org_id: str
    sandbox: str
    scopes: str
    timeout: float
    retry: RetryPolicy
    ui_tenant: str = ""

    @classmethod
    def from_connection(
        cls,
        conn: Any,
        *,
        sandbox: str | None = None,
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        timeout: float | None = None,
    ) -> AepSettings:
        extra: dict[str, Any] = dict(conn.extra_dejson or {})
        conn_id = conn.conn_id
        if not conn.login:
            raise AepConfigError(
                f"Connection '{conn_id}' has no login: set login to the client id of the Adobe Developer "
                "Console project (OAuth server-to-server)."
            )
        if not conn.password:
            raise AepConfigError(
                f"Connection '{conn_id}' has no password: set password to the client secret of the Adobe "
                "Developer Console project."
            )
        org_id = str(extra.get("org_id") or "").strip()
        if not org_id:
            raise AepConfigError(
                f"Connection '{conn_id}' has no extra.org_id: set it to the IMS org id, e.g. "
                "'ABC123@AdobeOrg'."
            )
        if sandbox is not None and not str(sandbox).strip():
            raise AepConfigError(
                "sandbox is empty: pass sandbox='prod' (or another sandbox name) to the task, or leave "
                "sandbox=None to use extra.sandbox of the connection."
            )
        chosen_sandbox = str(sandbox or extra.get("sandbox") or DEFAULT_SANDBOX).strip()
        host = conn.host or DEFAULT_HOST
        if "://" not in host:
            host = f"{conn.schema or 'https'}://{host}"
        if conn.port and host.count(":") < 2:
            host = f"{host}:{conn.port}"
        conn_retries = extra.get("max_retries")
        retry = RetryPolicy.default().with_overrides(
            max_retries=max_retries if max_retries is not None else _as_int(conn_retries, "max_retries"),
            max_seconds=retry_max_seconds
            if retry_max_seconds is not None
            else _as_float(extra.get("retry_max_seconds"), "retry_max_seconds"),
        )
        return cls(
            conn_id=conn_id,
            client_id=str(conn.login),
            client_secret=str(conn.password),
            host=_strip_url(host),
            ims_host=_strip_url(str(extra.get("ims_host") or DEFAULT_IMS_HOST)),
            org_id=org_id,
            sandbox=chosen_sandbox,
            scopes=str(extra.get("scopes") or DEFAULT_SCOPES),
            timeout=timeout
            if timeout is not None
            else (_as_float(extra.get("timeout"), "timeout") or DEFAULT_TIMEOUT),
            retry=retry,
            ui_tenant=str(extra.get("ui_tenant") or "").strip(),
        )


def default_token_cache_dir() -> str:
    """``AEP_TOKEN_CACHE_DIR``, else ``$AIRFLOW_HOME/.aep_token_cache``, else ``~/airflow/.aep_token_cache``."""
    explicit = os.environ.get("AEP_TOKEN_CACHE_DIR")
    if explicit:
        return explicit
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return os.path.join(home, ".aep_token_cache")
