"""``AepHook``: the one place that talks HTTP to Adobe Experience Platform (sync).

IMS tokens with a shared encrypted cache, the Platform headers, bounded retries with backoff and
jitter, typed errors, paging, and ``create_idempotent`` - the create-or-reuse rule every operator
uses.

Why it stands alone on :class:`airflow.sdk.BaseHook` rather than being an ``HttpHook``: the HTTP
provider's hook would contribute a session, a base URL and tenacity retries, and each fits badly.
Its ``run()`` sends the connection's login and password as basic auth to a URL built from the
connection, while the Platform wants an IMS bearer token and the client id, org and sandbox headers
on every call; inherited, ``run()`` was a second, unauthenticated way to call the API. Its retries
repeat any method, while a Platform write that got no answer must not be repeated blindly
(:class:`AepAmbiguousWriteError`), a ``401013`` must swap the token, and the async hook (used by the
trigger) must follow the same rules. So the hook keeps one call path, :meth:`AepHook.request`, whose
decisions live in :mod:`aep_provider.hooks.exchange` (shared with the async hook and the IMS
exchange), and keeps of ``HttpHook`` only what it really used: a requests session with the same TCP
keep-alive adapter and settings (:mod:`aep_provider.hooks.sync_transport`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from airflow.sdk.exceptions import AirflowNotFoundException

from aep_provider.hooks.api import CatalogApi, DataPrepApi, FlowServiceApi, IdentityApi, SchemaRegistryApi
from aep_provider.hooks.base import AepBaseHook
from aep_provider.hooks.errors import AepAmbiguousWriteError, AepApiError, AepNotFoundError
from aep_provider.hooks.exchange import Exchange
from aep_provider.hooks.ims import ImsTokens
from aep_provider.hooks.masking import mask_secret_value as _mask
from aep_provider.hooks.settings import AepSettings
from aep_provider.hooks.sync_transport import exchange, new_session
from aep_provider.hooks.token_cache import TokenCache
from aep_provider.hooks.transport import platform_headers
from aep_provider.outcomes import Kind, Outcome, Outcomes, resource_id
from aep_provider.planned import NOT_PLANNED, Planned

if TYPE_CHECKING:
    from aep_provider.write_lease.guard import WriteGuard

__all__ = ["AepHook", "_mask"]

T = TypeVar("T")


class AepHook(AepBaseHook, SchemaRegistryApi, CatalogApi, FlowServiceApi, DataPrepApi, IdentityApi):
    """Talk to the Adobe Experience Platform APIs through an ``adobe_experience_platform`` connection.

    The constructor's arguments are those of :class:`~aep_provider.hooks.base.AepBaseHook`
    (``aep_conn_id`` and :class:`~aep_provider.hooks.params.AepHookParams`). ``AepBaseHook`` comes
    first among the bases so that ``__init__`` is its own, never the typing protocol's placeholder the
    API mixins (subclasses of :class:`~aep_provider.hooks.api.protocol.PlatformCalls`) carry.
    """

    #: The sandbox write lease check ``create_idempotent`` makes before a create (``None``: no check; the
    #: operators set one, see ``aep_provider/write_lease``).
    write_guard: WriteGuard | None = None

    def sleep(self, seconds: float) -> None:
        """Wait between attempts (a test may replace it on the instance)."""
        time.sleep(seconds)

    # -- settings, session, token ---------------------------------------------------------------
    @cached_property
    def settings(self) -> AepSettings:
        try:
            conn = self.get_connection(self.aep_conn_id)
        except AirflowNotFoundException:
            raise self.connection_missing() from None
        return self.settings_for(conn)

    @property
    def sandbox(self) -> str:
        return self.settings.sandbox

    @property
    def org_id(self) -> str:
        return self.settings.org_id

    @cached_property
    def _tokens(self) -> ImsTokens:
        return ImsTokens(self.settings, self.token_cache_dir, session=self.get_conn(), log=self.log, sleep=self.sleep)

    @property
    def token_cache(self) -> TokenCache:
        return self._tokens.cache

    @cached_property
    def recorded(self) -> Outcomes:
        """What this hook created or reused (``create_idempotent``), for the operator's ``aep_outcomes``."""
        return Outcomes()

    @cached_property
    def _session(self) -> requests.Session:
        return new_session()

    def get_conn(self) -> requests.Session:
        """The requests session of this hook: TLS verification on, no basic auth, TCP keep-alive."""
        return self._session

    def get_token(self, *, reject: str | None = None) -> str:
        """A valid access token, from the shared cache unless it is missing, stale or rejected.

        Whatever its origin, the token is registered with the secrets masker (once per process).
        """
        return self._tokens.get(reject=reject)

    # -- requests -------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        accept: str | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one Platform call and return the parsed JSON body (``None`` when empty).

        Retries, token refresh and typed errors as :mod:`aep_provider.hooks.exchange` decides: 429, 5xx,
        dropped connections and timeouts are retried within ``max_retries`` and ``retry_max_seconds``; a
        non-idempotent write (POST, PATCH) that may have been applied raises
        :class:`AepAmbiguousWriteError` (see :meth:`create_idempotent`).
        """
        s = self.settings
        call = Exchange(method, f"{s.host}{path}", path, s.retry, log=self.log, idempotent=idempotent)
        token = self.get_token()

        def send() -> requests.Response:
            sent = platform_headers(s, token=token, method=call.method, accept=accept)
            sent.update(headers or {})
            return self.get_conn().request(call.method, call.url, params=params, json=json, headers=sent,
                                           timeout=s.timeout, allow_redirects=False)

        def refresh() -> None:
            nonlocal token
            token = self.get_token(reject=token)

        return exchange(call, send, sleep=self.sleep, refresh=refresh)

    def get(self, path: str, params: dict[str, Any] | None = None, *, accept: str | None = None) -> Any:
        return self.request("GET", path, params=params, accept=accept)

    def post(self, path: str, json: Any, *, params: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=json, params=params)

    def delete(self, path: str, *, missing_ok: bool = True) -> bool:
        """Delete; ``True`` if deleted, ``False`` if it was already gone (when ``missing_ok``)."""
        try:
            self.request("DELETE", path)
        except AepNotFoundError:
            if not missing_ok:
                raise
            return False
        return True

    # -- idempotency ----------------------------------------------------------------------------
    def create_idempotent(
        self,
        *,
        kind: Kind,
        name: str | None,
        lookup: Callable[[], T | None],
        create: Callable[[], T],
        planned: Planned[T] = NOT_PLANNED,
        exclusive: bool = True,
        flow_id: str | None = None,
    ) -> tuple[T, bool]:
        """Create-or-reuse: the single idempotency rule of this provider.

        1. ``lookup()`` (unless the plan says what to do: ``planned``, see :class:`~aep_provider.planned.Planned`:
           ``create`` skips the look-up, ``reuse`` takes the resource the plan found without a request); if it finds
           the resource, reuse it.
        2. ``exclusive`` (a named resource, not a flow run): make sure the sandbox's write lease covers the create
           (:attr:`write_guard`, set by the operator; see ``aep_provider/write_lease``). When the lease was taken
           just now, what step 1 read (or the plan planned) may be stale: ``lookup()`` again and reuse what it finds.
        3. ``create()``.
        4. If the create fails ambiguously (no answer, timeout, 5xx), ``lookup()`` again: the write may
           have been applied. Reuse what it finds, else back off and create again (bounded).

        Every outcome is recorded as an :class:`~aep_provider.outcomes.Outcome` of ``kind`` and ``name``
        (``flow_id``: a flow run's flow).

        :return: ``(resource, created)``.
        """
        what = Outcome(kind=kind, name=name, flow_id=flow_id)
        found = lookup() if planned.look_up else planned.found
        if found is None and exclusive and self.write_guard is not None and self.write_guard.ensure():
            found = lookup()
            if found is not None:
                self.log.info("Another run created %s meanwhile", what.describe())
        if found is not None:
            self.log.info("Reusing existing %s", what.describe())
            return self.record_outcome(what, found, created=False), False
        budget = self.settings.retry.start()
        while True:
            try:
                result = create()
                self.log.info("Created %s", what.describe())
                return self.record_outcome(what, result, created=True), True
            except AepAmbiguousWriteError as exc:
                self.log.warning("Creating %s had an ambiguous outcome (%s); looking it up", what.describe(), exc.detail)
                found = lookup()
                if found is not None:
                    self.log.info("The create of %s had been applied; reusing it", what.describe())
                    return self.record_outcome(what, found, created=False), False
                delay = budget.next_delay()
                if delay is None:
                    raise
                self.sleep(delay)

    def record_outcome(self, what: Outcome, resource: T, *, created: bool) -> T:
        """Remember that ``what`` was created or reused (the operator pushes it for the run summary)."""
        self.recorded.record(what.model_copy(update={"id": resource_id(resource), "created": created}))
        return resource

    def outcomes(self) -> list[Outcome]:
        """Every create-or-reuse this hook made, in order."""
        return self.recorded.all()

    # -- connection test ------------------------------------------------------------------------
    def _as_tested(self, message: str) -> str:
        """The UI tests a copy of the form under a random connection id: name "this connection" instead."""
        return message.replace(f"Connection '{self.aep_conn_id}'", "This connection").replace(
            f"'{self.aep_conn_id}'", "this connection"
        )

    def test_connection(self) -> tuple[bool, str]:
        """Get a token and read Schema Registry ``/stats`` (tenant id) - one cheap read."""
        try:
            stats = self.get_stats()
        except AepApiError as exc:
            return False, self._as_tested(str(exc))
        except Exception as exc:
            return False, self._as_tested(f"{type(exc).__name__}: {exc}")
        return True, (
            f"Connected to org {self.settings.org_id}, sandbox {self.settings.sandbox}, "
            f"tenant {stats.get('tenantId', '?')}"
        )
