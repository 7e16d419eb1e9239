"""Secrets handed to Airflow's secrets masker: the client secret, and every access token once per process."""

from __future__ import annotations

import hashlib
import threading

_masked_tokens: set[str] = set()
_masked_lock = threading.Lock()


def mask_secret_value(value: str | None) -> None:
    """Have Airflow's task logs show ``***`` instead of ``value`` (nothing for an empty value)."""
    if not value:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older Airflow
        from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]
    mask_secret(value)


def mask_token_once(token: str) -> None:
    """Register an access token with the secrets masker once per process (fetched or read from the cache).

    Only a digest of each token is remembered, so this set holds no secret.
    """
    digest = hashlib.sha256(token.encode()).hexdigest()
    with _masked_lock:
        if digest in _masked_tokens:
            return
        _masked_tokens.add(digest)
    mask_secret_value(token)
