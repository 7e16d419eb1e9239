"""IMS access tokens of one credential: from the shared encrypted cache, else from IMS.

The exchange (``POST /ims/token/v3``, OAuth server-to-server) is blocking; the async hook runs it in
a thread. Every token, fetched or read from the cache, is registered with the secrets masker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import requests

from aep_provider.hooks.exchange import ImsExchange
from aep_provider.hooks.masking import mask_token_once
from aep_provider.hooks.settings import AepSettings, require_allowed_ims_host
from aep_provider.hooks.sync_transport import exchange
from aep_provider.hooks.token_cache import CachedToken, TokenCache
from aep_provider.hooks.transport import ims_form

if TYPE_CHECKING:
    from airflow.sdk.types import Logger


class ImsTokens:
    """Tokens for the credential of ``settings``, cached in ``cache_dir`` for every task of the worker."""

    def __init__(
        self,
        settings: AepSettings,
        cache_dir: str,
        *,
        session: requests.Session,
        log: Logger,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.cache = TokenCache(
            cache_dir,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            ims_host=settings.ims_host,
            scopes=settings.scopes,
        )
        self.session = session
        self.log = log
        self.sleep = sleep

    def fetch(self) -> CachedToken:
        """A new token from IMS (retried like any call; refused credentials are an :class:`AepAuthError`).

        The IMS host is checked against the allowlist here too, right before the secret is sent, whatever built
        the settings (:func:`~aep_provider.hooks.settings.require_allowed_ims_host`).
        """
        s = self.settings
        require_allowed_ims_host(s.conn_id, s.ims_host)
        call = ImsExchange(s.ims_host, s.retry, log=self.log)
        form = ims_form(client_id=s.client_id, client_secret=s.client_secret, scopes=s.scopes)

        def send() -> requests.Response:
            self.log.info("Requesting an IMS access token for client %s (IMS request, attempt %d)",
                          s.client_id, call.budget.retries + 1)
            # Never followed: a redirect would re-post the client secret to wherever it points.
            return self.session.post(call.url, data=form, timeout=s.timeout, allow_redirects=False)

        body = exchange(call, send, sleep=self.sleep)
        token = str(body["access_token"])
        mask_token_once(token)
        return CachedToken.from_expires_in(token, float(body.get("expires_in", 3600)))

    def get(self, *, reject: str | None = None) -> str:
        """A valid access token, from the shared cache unless it is missing, stale or ``reject`` (refused)."""
        token = self.cache.get(self.fetch, reject=reject)
        mask_token_once(token)
        return token
