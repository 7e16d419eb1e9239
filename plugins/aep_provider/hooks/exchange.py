"""The retry core of every AEP call, sync and async: what to do after each attempt (no I/O here).

An :class:`Exchange` is one call (one method on one URL). After each attempt the transport loop hands
it what happened - an answer (:meth:`Exchange.answer`) or none (:meth:`Exchange.no_answer`) - and
gets a :class:`Step`: the result, an error to raise, "wait ``delay`` seconds and repeat", or "get a new
token and repeat". The requests loop of :class:`~aep_provider.hooks.aep.AepHook`, the aiohttp loop of
:class:`~aep_provider.hooks.aep_async.AepAsyncHook` and the IMS token exchange
(:class:`ImsExchange`) only carry the steps out, so the rules live here once:

* 429 (honouring ``Retry-After``), 500/502/503/504, dropped connections and timeouts are retried with
  exponential backoff and jitter, bounded by the policy's ``max_retries`` and ``max_seconds``;
* a non-idempotent write (POST, PATCH) is repeated only when it surely was not applied (429,
  connection refused); otherwise the step is an :class:`AepAmbiguousWriteError`, so the caller can
  look up before trying again;
* a ``401013`` (token not valid) asks for a new token once and repeats the call;
* any other error answer becomes its typed error (:func:`error_from_response`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aep_provider.hooks.errors import (
    AepAmbiguousWriteError,
    AepApiError,
    AepAuthError,
    AepTransientError,
    error_from_response,
)
from aep_provider.hooks.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after
from aep_provider.hooks.transport import IDEMPOTENT_METHODS, IMS_TOKEN_PATH, is_invalid_token, parse_body

if TYPE_CHECKING:
    from airflow.sdk.types import Logger

#: IMS answers these when it refuses the client credentials.
IMS_REFUSALS = frozenset({400, 401, 403})


@dataclass(frozen=True)
class Step:
    """What the transport loop does next: return ``body``, raise ``error``, wait ``delay`` s or refresh the token."""

    body: Any = None
    error: AepApiError | None = None
    delay: float | None = None
    refresh: bool = False

    @property
    def final(self) -> bool:
        """True when the call is over (a result or an error); else repeat it (after the wait or the refresh)."""
        return self.delay is None and not self.refresh

    def outcome(self) -> Any:
        """The parsed body of the final answer, or its typed error raised."""
        if self.error is not None:
            raise self.error
        return self.body


class Exchange:
    """The retry state of one Platform call.

    :param method: the HTTP method.
    :param url: the full URL (named in every error).
    :param path: the path (named in the log lines).
    :param retry: the bounds of this call's retries.
    :param idempotent: whether repeating the call is harmless; default: by method (GET, PUT, DELETE...).
    :param log: where retries and token refreshes are logged.
    """

    def __init__(
        self,
        method: str,
        url: str,
        path: str,
        retry: RetryPolicy,
        *,
        log: Logger,
        idempotent: bool | None = None,
    ) -> None:
        self.method = method.upper()
        self.url = url
        self.path = path
        self.idempotent = self.method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        self.budget = retry.start()
        self.log = log
        self.refreshed = False

    # -- what the service answered ----------------------------------------------------------
    def accepts(self, status: int, body: Any) -> bool:
        # 2xx only: redirects are not followed (a 3xx would carry a request, or a secret, to another host).
        return 200 <= status < 300

    def failure(self, status: int, body: Any, headers: Mapping[str, str]) -> AepApiError:
        return error_from_response(status, body, headers, method=self.method, url=self.url)

    def answer(self, status: int, text: str, headers: Mapping[str, str]) -> Step:
        """The step after an answer with ``status``, body ``text`` and ``headers``."""
        body = parse_body(text)
        if self.accepts(status, body):
            return Step(body=body)
        if status == 401 and not self.refreshed and is_invalid_token(status, body):
            # Routine after a restart or an IMS-side expiry: the cached token is replaced, nothing failed.
            self.log.info(
                "The cached access token is no longer valid (expired, or issued before a restart); "
                "fetching a new one and repeating %s %s", self.method, self.path
            )
            self.refreshed = True
            return Step(refresh=True)
        if status in RETRYABLE_STATUSES:
            if self.idempotent or status == 429:
                delay = self.budget.next_delay(parse_retry_after(headers.get("Retry-After")))
                if delay is not None:
                    self.log.warning("%s %s answered %s; retrying in %.1fs", self.method, self.path, status, delay)
                    return Step(delay=delay)
            else:
                err = self.failure(status, body, headers)
                return Step(error=AepAmbiguousWriteError(
                    f"answered {status} ({err.detail}); the write may or may not have been applied.",
                    status=status,
                    error_code=err.error_code,
                    request_id=err.request_id,
                    method=self.method,
                    url=self.url,
                ))
        return Step(error=self.failure(status, body, headers))

    # -- no answer ----------------------------------------------------------------------------
    def unavailable(self, reason: str) -> AepApiError:
        return AepTransientError(
            f"no answer after {self.budget.retries + 1} attempts ({reason}); the Platform or the network is "
            "unavailable, retry the task later.",
            method=self.method,
            url=self.url,
        )

    def no_answer(self, reason: str, *, not_sent: bool = False) -> Step:
        """The step after an attempt that got no answer (``reason``: the exception's name).

        :param not_sent: the request surely never reached the server (safe to repeat any method).
        """
        if not (self.idempotent or not_sent):
            return Step(error=AepAmbiguousWriteError(
                f"no answer ({reason}); the write may or may not have been applied.", method=self.method, url=self.url
            ))
        delay = self.budget.next_delay()
        if delay is None:
            return Step(error=self.unavailable(reason))
        self.log.warning("%s %s failed (%s); retrying in %.1fs", self.method, self.path, reason, delay)
        return Step(delay=delay)


class ImsExchange(Exchange):
    """The retry state of one IMS token request (``POST /ims/token/v3``, safe to repeat, no token to refresh)."""

    def __init__(self, ims_host: str, retry: RetryPolicy, *, log: Logger):
        super().__init__("POST", f"{ims_host}{IMS_TOKEN_PATH}", IMS_TOKEN_PATH, retry, log=log, idempotent=True)
        self.refreshed = True  # IMS is where tokens come from: a 401 here is a refusal, never a stale token

    def accepts(self, status: int, body: Any) -> bool:
        return 200 <= status < 300 and isinstance(body, dict) and "access_token" in body

    def failure(self, status: int, body: Any, headers: Mapping[str, str]) -> AepApiError:
        err = super().failure(status, body, headers)
        if status not in IMS_REFUSALS:
            return err
        return AepAuthError(
            f"IMS refused the client credentials: {err.detail}",
            status=err.status,
            error_code=err.error_code,
            request_id=err.request_id,
            method=self.method,
            url=self.url,
            hint="Check login (client id), password (client secret), extra.scopes and "
            "extra.ims_host of the Airflow connection.",
        )

    def unavailable(self, reason: str) -> AepApiError:
        return AepTransientError(
            f"IMS did not answer ({reason}); check extra.ims_host and the network.", method=self.method, url=self.url
        )
