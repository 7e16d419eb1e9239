"""``AepHook``: the one place that talks HTTP to Adobe Experience Platform (sync).

Built on the HTTP provider's ``HttpHook`` (session, base URL, keep-alive adapter) and adds IMS
tokens with a shared encrypted cache, the Platform headers, bounded retries with backoff and
jitter, typed errors, paging, and ``create_idempotent`` - the create-or-reuse rule every operator
uses.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable
from enum import Enum
from functools import cached_property
from typing import Any, TypeVar

import requests
from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk.exceptions import AirflowNotFoundException
from requests.adapters import HTTPAdapter

from aep_provider.hooks.api import CatalogApi, DataPrepApi, FlowServiceApi, SchemaRegistryApi
from aep_provider.hooks.connection_form import (
    CONN_FIELDS,
    CONN_TYPE,
    DEFAULT_CONN_ID,
    HOOK_NAME,
    UI_FIELD_BEHAVIOUR,
)
from aep_provider.hooks.errors import (
    AepAmbiguousWriteError,
    AepApiError,
    AepAuthError,
    AepTransientError,
    error_from_response,
    missing_connection,
)
from aep_provider.hooks.retry import RETRYABLE_STATUSES, parse_retry_after
from aep_provider.hooks.settings import AepSettings, default_token_cache_dir
from aep_provider.hooks.token_cache import CachedToken, TokenCache
from aep_provider.hooks.transport import (
    IDEMPOTENT_METHODS,
    IMS_TOKEN_PATH,
    ims_form,
    is_invalid_token,
    parse_body,
    platform_headers,
)

T = TypeVar("T")

_ims_counter = itertools.count(1)
_ims_lock = threading.Lock()
_outcomes_lock = threading.Lock()
#: ``key``: the object a ``for_each`` worker thread is working on (set by the operator).
_outcome_scope = threading.local()


def outcome_key(key: str | None) -> None:
    """Tag the create-or-reuse outcomes this thread records next with the object ``key``."""
    _outcome_scope.key = key
IMS_REQUESTS = {"count": 0}


class Planned(Enum):
    """``create_idempotent(planned=LOOK_UP)``: no plan to go by, look the resource up first."""

    LOOK_UP = "look up"


LOOK_UP = Planned.LOOK_UP


def _mask(value: str | None) -> None:
    if not value:
        return
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older Airflow
        from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]
    mask_secret(value)


_masked_tokens: set[str] = set()
_masked_lock = threading.Lock()


def mask_token_once(token: str) -> None:
    """Register an access token with the secrets masker once per process (fetched or read from the cache).

    Only a digest of each token is remembered, so this set holds no secret.
    """
    digest = hashlib.sha256(token.encode()).hexdigest()
    with _masked_lock:
        if digest in _masked_tokens:
            return
        _masked_tokens.add(digest)
    _mask(token)


def count_ims_request() -> int:
    with _ims_lock:
        IMS_REQUESTS["count"] += 1
        return IMS_REQUESTS["count"]


def _not_sent(exc: requests.exceptions.RequestException) -> bool:
    """True when the request surely never reached the server (safe to repeat any method)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc)
        return "NewConnectionError" in text or "Connection refused" in text
    return False


class AepHook(SchemaRegistryApi, CatalogApi, FlowServiceApi, DataPrepApi, HttpHook):
    """Talk to the Adobe Experience Platform APIs through an ``adobe_experience_platform`` connection.

    :param aep_conn_id: the Airflow connection (login = client id, password = client secret,
        host = Platform host, extra: ims_host, org_id, sandbox, scopes, max_retries,
        retry_max_seconds, timeout).
    :param sandbox: overrides the connection's sandbox.
    :param max_retries: overrides ``extra.max_retries``.
    :param retry_max_seconds: overrides ``extra.retry_max_seconds``.
    :param timeout: overrides ``extra.timeout`` (seconds per HTTP request).
    :param token_cache_dir: where the encrypted token cache lives (default ``AEP_TOKEN_CACHE_DIR`` or
        ``$AIRFLOW_HOME/.aep_token_cache``).
    """

    conn_name_attr = "aep_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME
    default_host = "https://platform.adobe.io"

    def __init__(
        self,
        aep_conn_id: str = DEFAULT_CONN_ID,
        sandbox: str | None = None,
        *,
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        timeout: float | None = None,
        token_cache_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(method="GET", http_conn_id=aep_conn_id, **kwargs)
        self.aep_conn_id = aep_conn_id
        self._sandbox_override = sandbox
        self._overrides = {
            "max_retries": max_retries,
            "retry_max_seconds": retry_max_seconds,
            "timeout": timeout,
        }
        self._token_cache_dir = token_cache_dir
        self._session: requests.Session | None = None
        self.sleep: Callable[[float], None] = time.sleep

    # -- connection form ----------------------------------------------------------------------
    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabelled login/password/host and placeholders for the connection form."""
        return UI_FIELD_BEHAVIOUR

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields of the form (the same are declared in provider info as ``conn-fields``)."""
        try:
            from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
            from wtforms import StringField
        except ImportError:
            return {}
        return {
            name: StringField(spec["label"], widget=BS3TextFieldWidget(), description=spec["description"])
            for name, spec in CONN_FIELDS.items()
        }

    # -- settings, session, token ---------------------------------------------------------------
    @cached_property
    def settings(self) -> AepSettings:
        try:
            conn = self.get_connection(self.aep_conn_id)
        except AirflowNotFoundException:
            raise missing_connection(self.aep_conn_id, "aep_conn_id", CONN_TYPE) from None
        settings = self.settings_for(conn)
        _mask(settings.client_secret)
        self.base_url = settings.host
        self._base_url_initialized = True
        return settings

    def settings_for(self, conn: Any) -> AepSettings:
        """The settings of Airflow connection ``conn`` with this hook's overrides (sandbox, retries, timeout)."""
        return AepSettings.from_connection(
            conn,
            sandbox=self._sandbox_override,
            max_retries=self._overrides["max_retries"],  # type: ignore[arg-type]
            retry_max_seconds=self._overrides["retry_max_seconds"],
            timeout=self._overrides["timeout"],
        )

    @property
    def sandbox(self) -> str:
        return self.settings.sandbox

    @property
    def org_id(self) -> str:
        return self.settings.org_id

    @cached_property
    def token_cache(self) -> TokenCache:
        s = self.settings
        return TokenCache(
            self._token_cache_dir or default_token_cache_dir(),
            client_id=s.client_id,
            client_secret=s.client_secret,
            ims_host=s.ims_host,
            scopes=s.scopes,
        )

    def get_conn(self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None):
        """A requests session with TLS verification on, no basic auth and keep-alive."""
        if self._session is None:
            session = requests.Session()
            session.verify = True
            session.auth = None
            session.trust_env = True
            adapter: HTTPAdapter | None = self.adapter or self.keep_alive_adapter
            if adapter is not None:
                session.mount("http://", adapter)
                session.mount("https://", adapter)
            self._session = session
        if headers:
            self._session.headers.update(headers)
        return self._session

    def _fetch_token(self) -> CachedToken:
        s = self.settings
        url = f"{s.ims_host}{IMS_TOKEN_PATH}"
        budget = s.retry.start()
        while True:
            n = count_ims_request()
            self.log.info("Requesting an IMS access token for client %s (IMS request #%d)", s.client_id, n)
            try:
                resp = self.get_conn().post(
                    url,
                    data=ims_form(client_id=s.client_id, client_secret=s.client_secret, scopes=s.scopes),
                    timeout=s.timeout,
                )
            except requests.exceptions.RequestException as exc:
                delay = budget.next_delay()
                if delay is None:
                    raise AepTransientError(
                        f"IMS did not answer ({type(exc).__name__}); check extra.ims_host and the network.",
                        method="POST",
                        url=url,
                    ) from None
                self.sleep(delay)
                continue
            body = parse_body(resp.text)
            if resp.status_code in RETRYABLE_STATUSES:
                delay = budget.next_delay(parse_retry_after(resp.headers.get("Retry-After")))
                if delay is not None:
                    self.sleep(delay)
                    continue
            if resp.status_code >= 400 or not isinstance(body, dict) or "access_token" not in body:
                err = error_from_response(resp.status_code, body, resp.headers, method="POST", url=url)
                if resp.status_code in (400, 401, 403):
                    raise AepAuthError(
                        f"IMS refused the client credentials: {err.detail}",
                        status=err.status,
                        error_code=err.error_code,
                        request_id=err.request_id,
                        method="POST",
                        url=url,
                        hint="Check login (client id), password (client secret), extra.scopes and "
                        "extra.ims_host of the Airflow connection.",
                    )
                raise err
            token = str(body["access_token"])
            mask_token_once(token)
            return CachedToken.from_expires_in(token, float(body.get("expires_in", 3600)))

    def get_token(self, *, reject: str | None = None) -> str:
        """A valid access token, from the shared cache unless it is missing, stale or rejected.

        Whatever its origin, the token is registered with the secrets masker (once per process).
        """
        token = self.token_cache.get(self._fetch_token, reject=reject)
        mask_token_once(token)
        return token

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

        Retries 429 (honouring Retry-After), 500/502/503/504, dropped connections and timeouts with
        exponential backoff and jitter, bounded by ``max_retries`` and ``retry_max_seconds``.
        A non-idempotent write (POST, PATCH) is repeated only when it surely was not applied (429,
        connection refused); otherwise :class:`AepAmbiguousWriteError` is raised, so the caller can
        look up before trying again (see :meth:`create_idempotent`).
        A ``401013`` (token not valid) refreshes the token once and repeats the call.
        """
        method = method.upper()
        s = self.settings
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = f"{s.host}{path}"
        budget = s.retry.start()
        refreshed = False
        token = self.get_token()
        while True:
            req_headers = platform_headers(
                token=token,
                client_id=s.client_id,
                org_id=s.org_id,
                sandbox=s.sandbox,
                method=method,
                accept=accept,
            )
            if headers:
                req_headers.update(headers)
            try:
                resp = self.get_conn().request(
                    method, url, params=params, json=json, headers=req_headers, timeout=s.timeout
                )
            except requests.exceptions.RequestException as exc:
                reason = type(exc).__name__
                if idempotent or _not_sent(exc):
                    delay = budget.next_delay()
                    if delay is not None:
                        self.log.warning("%s %s failed (%s); retrying in %.1fs", method, path, reason, delay)
                        self.sleep(delay)
                        continue
                    raise AepTransientError(
                        f"no answer after {budget.retries + 1} attempts ({reason}); the Platform or the "
                        "network is unavailable, retry the task later.",
                        method=method,
                        url=url,
                    ) from None
                raise AepAmbiguousWriteError(
                    f"no answer ({reason}); the write may or may not have been applied.",
                    method=method,
                    url=url,
                ) from None
            status = resp.status_code
            self.log.debug("%s %s -> %s", method, path, status)
            if status < 400:
                return parse_body(resp.text)
            body = parse_body(resp.text)
            if status == 401 and not refreshed and is_invalid_token(status, body):
                # Routine after a restart or an IMS-side expiry: the cached token is replaced, nothing failed.
                self.log.info(
                    "The cached access token is no longer valid (expired, or issued before a restart); "
                    "fetching a new one and repeating %s %s", method, path
                )
                refreshed = True
                token = self.get_token(reject=token)
                continue
            if status in RETRYABLE_STATUSES:
                if idempotent or status == 429:
                    delay = budget.next_delay(parse_retry_after(resp.headers.get("Retry-After")))
                    if delay is not None:
                        self.log.warning("%s %s answered %s; retrying in %.1fs", method, path, status, delay)
                        self.sleep(delay)
                        continue
                else:
                    err = error_from_response(status, body, resp.headers, method=method, url=url)
                    raise AepAmbiguousWriteError(
                        f"answered {status} ({err.detail}); the write may or may not have been applied.",
                        status=status,
                        error_code=err.error_code,
                        request_id=err.request_id,
                        method=method,
                        url=url,
                    )
            raise error_from_response(status, body, resp.headers, method=method, url=url)

    def get(self, path: str, params: dict[str, Any] | None = None, *, accept: str | None = None) -> Any:
        return self.request("GET", path, params=params, accept=accept)

    def post(self, path: str, json: Any, *, params: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, json=json, params=params)

    def delete(self, path: str, *, missing_ok: bool = True) -> bool:
        """Delete; ``True`` if deleted, ``False`` if it was already gone (when ``missing_ok``)."""
        from aep_provider.hooks.errors import AepNotFoundError

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
        what: str,
        lookup: Callable[[], T | None],
        create: Callable[[], T],
        planned: T | Planned | None = LOOK_UP,
    ) -> tuple[T, bool]:
        """Create-or-reuse: the single idempotency rule of this provider.

        1. ``lookup()``; if it finds the resource, reuse it.
        2. ``create()``.
        3. If the create fails ambiguously (no answer, timeout, 5xx), ``lookup()`` again: the write may
           have been applied. Reuse what it finds, else back off and create again (bounded).

        ``planned`` is the plan's answer (``planning/``), read before any write: ``None`` (create: step 1 is
        skipped) or the resource the plan found (reused without a request). Steps 2-3 stay as they are.

        :return: ``(resource, created)``.
        """
        found = lookup() if planned is LOOK_UP else planned
        if found is not None:
            self.log.info("Reusing existing %s", what)
            return self.record_outcome(what, found, created=False), False
        budget = self.settings.retry.start()
        while True:
            try:
                result = create()
                self.log.info("Created %s", what)
                return self.record_outcome(what, result, created=True), True
            except AepAmbiguousWriteError as exc:
                self.log.warning("Creating %s had an ambiguous outcome (%s); looking it up", what, exc.detail)
                found = lookup()
                if found is not None:
                    self.log.info("The create of %s had been applied; reusing it", what)
                    return self.record_outcome(what, found, created=False), False
                delay = budget.next_delay()
                if delay is None:
                    raise
                self.sleep(delay)

    def record_outcome(self, what: str, resource: T, *, created: bool) -> T:
        """Remember that ``what`` was created or reused (read by the operator for the run summary)."""
        resource_id = (resource.get("id") or resource.get("$id")) if isinstance(resource, dict) else resource
        entry = {"what": what, "id": None if resource_id is None else str(resource_id), "created": created,
                 "key": getattr(_outcome_scope, "key", None)}
        with _outcomes_lock:
            self.__dict__.setdefault("_outcomes", []).append(entry)
        return resource

    def outcomes(self) -> list[dict[str, Any]]:
        """``[{"what", "id", "created", "key"}]``: every create-or-reuse this hook made, in order."""
        with _outcomes_lock:
            return list(self.__dict__.get("_outcomes", []))

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
