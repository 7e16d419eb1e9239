"""Settings of an ``adobe_experience_platform`` Airflow connection, read once and checked."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aep_provider.constants import (
    DEFAULT_HOST,
    DEFAULT_IMS_HOST,
    DEFAULT_SANDBOX,
    DEFAULT_SCOPES,
    DEFAULT_TIMEOUT,
)
from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.params import AepHookParams
from aep_provider.hooks.retry import RetryPolicy


def _strip_url(value: str) -> str:
    return value.rstrip("/")


def _as_bool(value: Any, name: str) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "on"}:
        return True
    if text in {"false", "0", "no", "off"}:
        return False
    raise AepConfigError(f"Connection extra '{name}' must be true or false, got {value!r}.")


def is_loopback(hostname: str) -> bool:
    """``localhost`` or a loopback literal (127.0.0.0/8, ::1): traffic that never leaves the machine.

    Only these: a name under ``.localhost`` is resolved through DNS by many resolvers (RFC 6761 asks, it does
    not guarantee), and ``0x7f000001``-style spellings are not literals ``ipaddress`` accepts.
    """
    name = hostname.strip("[]").lower()
    try:
        return name == "localhost" or ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def require_https(conn_id: str, field_name: str, url: str, *, allow_insecure_http: bool) -> None:
    """Refuse a URL that would carry the client secret or tokens in clear.

    ``https://`` always passes; ``http://`` passes for a loopback host (the local emulator) or when the
    connection sets ``extra.allow_insecure_http`` (a test server on another host, such as the compose
    emulator service).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        return
    if scheme != "http" or not parts.hostname:
        raise AepConfigError(
            f"Connection '{conn_id}': {field_name} {url!r} is not an http(s) URL; write it like "
            "https://platform.adobe.io."
        )
    if is_loopback(parts.hostname) or allow_insecure_http:
        return
    secure = "https://" + url.split("://", 1)[1]
    raise AepConfigError(
        f"Connection '{conn_id}': {field_name} {url!r} uses http://, which would send the client secret and "
        f"access tokens in clear; use {secure!r}, or set extra.allow_insecure_http=true (only for a test "
        "server such as the AEP emulator on another host; loopback hosts need no flag)."
    )


#: Adobe's IMS host, the only one Adobe documents for Experience Platform: AdobeDocs/experience-platform.en
#: help/landing/api-authentication.md names OAuth Server-to-Server credentials as "the only method supported" and its
#: token requests go to this host (the page's older JWT example posts to ``/ims/exchange/jwt`` on it), and Adobe's
#: OAuth server-to-server example
#: (AdobeDocs/commerce-services src/_includes/authentication/get-new-bearer-token.md) posts
#: ``grant_type=client_credentials`` to ``https://ims-na1.adobelogin.com/ims/token/v3``, the call the hook makes.
ADOBE_IMS_HOSTS = ("https://ims-na1.adobelogin.com",)
#: Airflow configuration ``[aep] allowed_ims_hosts`` (env ``AIRFLOW__AEP__ALLOWED_IMS_HOSTS``): more hosts the
#: operator lets the client secret go to, comma-separated, each ``host``, ``host:port`` or ``scheme://host[:port]``.
ALLOWED_IMS_HOSTS_OPTION = ("aep", "allowed_ims_hosts")
# scheme://host[:port] and nothing else: no user info, path, query or fragment a URL parser could read otherwise.
_ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])"
                     r"(?::(?P<port>[0-9]{1,5}))?", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class _Origin:
    scheme: str | None  # None: any
    host: str
    port: int | None  # None: any

    def admits(self, other: _Origin) -> bool:
        return (self.host == other.host and self.scheme in (None, other.scheme)
                and self.port in (None, other.port))


def _origin_of(url: str) -> _Origin | None:
    """``scheme://host[:port]`` of an IMS host (port made explicit); ``None`` for anything else."""
    found = _ORIGIN.fullmatch(url)
    if not found:
        return None
    scheme = found["scheme"].lower()
    port = int(found["port"]) if found["port"] else _DEFAULT_PORTS[scheme]
    return _Origin(scheme, found["host"].strip("[]").lower(), port)


def _allowlist_entry(entry: str) -> _Origin | None:
    """An allowlist entry: ``host`` (any scheme and port), ``host:port`` or ``scheme://host[:port]``."""
    if "://" in entry:
        return _origin_of(entry.rstrip("/"))
    parts = urlsplit(f"//{entry}")
    try:
        port = parts.port
    except ValueError:
        return None
    return _Origin(None, parts.hostname, port) if parts.hostname else None


def allowed_ims_hosts() -> list[str]:
    """The IMS hosts the client secret may go to besides loopback: Adobe's, then ``[aep] allowed_ims_hosts``."""
    from airflow.configuration import conf

    extra = str(conf.get(*ALLOWED_IMS_HOSTS_OPTION, fallback="") or "")
    return [*ADOBE_IMS_HOSTS, *(e.strip() for e in extra.split(",") if e.strip())]


def require_allowed_ims_host(conn_id: str, ims_host: str) -> None:
    """Refuse an IMS host the operator did not choose: the client secret goes only to Adobe's IMS, loopback
    or a host in ``[aep] allowed_ims_hosts``. ``extra.ims_host`` alone cannot widen this: whoever may test a
    connection in the UI may change its extra while Airflow reuses the stored password."""
    origin = _origin_of(ims_host)
    allowed = allowed_ims_hosts()
    if origin is not None and (is_loopback(origin.host) or any(
        entry is not None and entry.admits(origin) for entry in map(_allowlist_entry, allowed)
    )):
        return
    shape = "" if origin is not None else " (it must be scheme://host[:port], nothing more)"
    raise AepConfigError(
        f"Connection '{conn_id}': extra.ims_host {ims_host!r} is not an allowed IMS host{shape}, so the client "
        f"secret is not sent to it. Allowed: {', '.join(allowed)} and loopback (localhost, 127.0.0.0/8, ::1). To "
        "use another IMS, add it to the Airflow configuration [aep] allowed_ims_hosts (environment variable "
        "AIRFLOW__AEP__ALLOWED_IMS_HOSTS), e.g. https://ims.example.com or aep-emulator:8765."
    )


_N = TypeVar("_N", int, float)
_KIND_WORDS: dict[type, str] = {int: "a whole number", float: "a number"}


def _as_number(value: Any, name: str, kind: type[_N]) -> _N | None:
    """``extra.<name>`` as ``kind``; ``None`` when not set."""
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise AepConfigError(f"Connection extra '{name}' must be {_KIND_WORDS[kind]}, got {value!r}.") from None


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
        overrides: AepHookParams | None = None,
    ) -> AepSettings:
        """The settings of Airflow connection ``conn``; a key of ``overrides`` that is not ``None`` wins."""
        overrides = overrides or {}
        sandbox = overrides.get("sandbox")
        max_retries = overrides.get("max_retries")
        retry_max_seconds = overrides.get("retry_max_seconds")
        timeout = overrides.get("timeout")
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
        schema = str(conn.schema or "").strip().lower()
        if schema not in ("", "http", "https"):
            # The form hides ``schema`` but the REST API takes it, and a connection test reuses the stored secret:
            # a crafted one (``https://evil/?``) must not become the start of the Platform URL.
            raise AepConfigError(
                f"Connection '{conn_id}': schema {conn.schema!r} is not http or https; leave it empty and put the "
                "scheme in host (e.g. https://platform.adobe.io)."
            )
        if "://" not in host:
            host = f"{schema or 'https'}://{host}"
        if conn.port and host.count(":") < 2:
            host = f"{host}:{conn.port}"
        conn_retries = extra.get("max_retries")
        retry = RetryPolicy.default().with_overrides(
            max_retries=max_retries if max_retries is not None else _as_number(conn_retries, "max_retries", int),
            max_seconds=retry_max_seconds
            if retry_max_seconds is not None
            else _as_number(extra.get("retry_max_seconds"), "retry_max_seconds", float),
        )
        host = _strip_url(host)
        ims_host = _strip_url(str(extra.get("ims_host") or DEFAULT_IMS_HOST))
        insecure_ok = _as_bool(extra.get("allow_insecure_http"), "allow_insecure_http")
        require_https(conn_id, "host", host, allow_insecure_http=insecure_ok)
        if _origin_of(host) is None:
            raise AepConfigError(
                f"Connection '{conn_id}': host {host!r} must be scheme://host[:port] and nothing more, e.g. "
                "https://platform.adobe.io (the tokens go to it)."
            )
        require_https(conn_id, "extra.ims_host", ims_host, allow_insecure_http=insecure_ok)
        require_allowed_ims_host(conn_id, ims_host)
        return cls(
            conn_id=conn_id,
            client_id=str(conn.login),
            client_secret=str(conn.password),
            host=host,
            ims_host=ims_host,
            org_id=org_id,
            sandbox=chosen_sandbox,
            scopes=str(extra.get("scopes") or DEFAULT_SCOPES),
            timeout=timeout
            if timeout is not None
            else (_as_number(extra.get("timeout"), "timeout", float) or DEFAULT_TIMEOUT),
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
