"""The requests side of the hooks: the session, and the loop that carries out an :class:`Exchange`'s steps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from requests_toolbelt.adapters.socket_options import TCPKeepAliveAdapter

from aep_provider.hooks.exchange import Exchange

# TCP keep-alive probes on idle pooled connections (what the HTTP provider's hook mounts by default).
KEEP_ALIVE_IDLE, KEEP_ALIVE_COUNT, KEEP_ALIVE_INTERVAL = 120, 20, 30


def new_session() -> requests.Session:
    """A session with TLS verification on, no basic auth (tokens go in headers) and TCP keep-alive."""
    session = requests.Session()
    session.verify = True
    session.auth = None
    session.trust_env = True
    adapter = TCPKeepAliveAdapter(idle=KEEP_ALIVE_IDLE, count=KEEP_ALIVE_COUNT, interval=KEEP_ALIVE_INTERVAL)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def not_sent(exc: requests.exceptions.RequestException) -> bool:
    """True when the request surely never reached the server (safe to repeat any method)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc)
        return "NewConnectionError" in text or "Connection refused" in text
    return False


def _no_refresh() -> None:
    raise AssertionError("this exchange never asks for a new token")


def exchange(
    call: Exchange,
    send: Callable[[], requests.Response],
    *,
    sleep: Callable[[float], None] = time.sleep,
    refresh: Callable[[], None] = _no_refresh,
) -> Any:
    """Send until ``call`` says the call is over; return the parsed body of the final answer or raise its error.

    :param send: one attempt (with the current token).
    :param refresh: replace the token ``send`` uses (the Platform refused it).
    """
    while True:
        try:
            resp = send()
        except requests.exceptions.RequestException as exc:
            step = call.no_answer(type(exc).__name__, not_sent=not_sent(exc))
        else:
            call.log.debug("%s %s -> %s", call.method, call.path, resp.status_code)
            step = call.answer(resp.status_code, resp.text, resp.headers)
        if step.final:
            return step.outcome()
        if step.refresh:
            refresh()
        else:
            sleep(step.delay or 0.0)
