"""Who may call the admin API (``/_emulator/``): the operator's own tools, never a web page.

The admin API has no authentication, and a page the developer visits can still reach it: a cross-site
form or ``fetch(url, {mode: "no-cors"})`` sends a ``POST`` as ``text/plain`` or as a form without any CORS
preflight, and a DNS-rebinding page reaches it under the page's own name and reads the answers. So every
admin request must

* name in ``Host`` a loopback host (``localhost``, a 127.0.0.0/8 or ::1 literal) or a host the emulator
  was told to serve (``--allowed-host``, its bind address): a rebinding page's name is refused (403);
* carry no ``Origin`` but the emulator's own (``http://<Host>``): a page of any other origin is refused (403);
* send a write as ``application/json``, which a browser sends cross-site only after a CORS preflight the
  emulator never grants (415 otherwise).

curl, httpx, requests and the test helpers send no ``Origin`` and name the address they call in ``Host``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fastapi import HTTPException, Request

#: Bind addresses that name no host a client would put in ``Host``.
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def host_name(value: str) -> str:
    """The host name of a ``Host`` header (``name``, ``name:port``, ``[v6]:port``), lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback_name(name: str) -> bool:
    """``localhost`` or a loopback literal; no other name (it would be resolved through DNS)."""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class AdminGuard:
    """The admin API's request checks; ``allowed_hosts`` are names served besides loopback."""

    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def of(cls, hosts: Iterable[str]) -> AdminGuard:
        names = {host_name(h) for h in hosts if h and h.strip() not in WILDCARD_BINDS}
        return cls(frozenset(n for n in names if n))

    def serves(self, host: str) -> bool:
        name = host_name(host)
        return bool(name) and (is_loopback_name(name) or name in self.allowed_hosts)

    def check(self, method: str, headers: Mapping[str, str]) -> None:
        """Raise the refusal (403 or 415) of a request the admin API must not answer."""
        host = headers.get("host", "")
        if not self.serves(host):
            raise HTTPException(403, f"Host {host!r} is not served by the emulator's admin API: call it through "
                                     "localhost or a loopback address, or start the emulator with --allowed-host "
                                     f"{host_name(host) or 'NAME'}.")
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/").lower() != f"http://{host.strip().lower()}":
            raise HTTPException(403, f"Origin {origin!r} may not call the emulator's admin API (a web page of "
                                     "another origin); call it from curl, a script or the test helpers.")
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if method.upper() in WRITE_METHODS and media != "application/json":
            raise HTTPException(415, f"The emulator's admin API takes writes as application/json, not "
                                     f"{media or 'no Content-Type'}: send a JSON body ({{}} when there is nothing "
                                     "to say).")


def guard_admin_request(request: Request) -> None:
    """FastAPI dependency of the admin router: the app's :class:`AdminGuard` checks the request."""
    guard: AdminGuard = getattr(request.app.state, "admin_guard", None) or AdminGuard()
    guard.check(request.method, request.headers)
