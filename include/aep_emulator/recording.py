"""Opt-in recording of every Platform exchange (request and answer), one JSON line each.

Off by default. A test session turns it on (``recorder.enable(path)``) so a contract test can check
every request a client sent and every answer the emulator gave against Adobe's documents
(``tests/contract/``). Secrets never reach the file: the ``Authorization`` header is reduced to its
scheme, and bodies are recorded as sent (the provider's secrets are HubSpot credentials, masked
below by name).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .services import is_platform_path

SECRET_KEYS = frozenset({"clientSecret", "accessToken", "refreshToken", "password", "client_secret"})


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("<secret>" if k in SECRET_KEYS else _mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:2000]


class Recorder:
    """Where exchanges go (``path``; ``None`` = off) and the label of the current caller (a test id)."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.label = ""
        self._lock = threading.Lock()

    def enable(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def disable(self) -> None:
        self.path = None

    def write(self, entry: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = json.dumps({"label": self.label, **entry}, default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class RecordingMiddleware:
    """Record Platform exchanges while the recorder is on (pure ASGI, passes everything through)."""

    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.recorder.path is None
            or scope["type"] != "http"
            or not is_platform_path(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        request_body = bytearray()
        response_body = bytearray()
        status = {"code": 0}
        read = {"body": False}

        async def recv() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                read["body"] = True
                request_body.extend(message.get("body", b""))
            return message

        async def snd(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            elif message["type"] == "http.response.body":
                response_body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, recv, snd)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if "authorization" in headers:
            headers["authorization"] = headers["authorization"].split(" ", 1)[0] + " <token>"
        raw_path = scope.get("raw_path") or scope["path"].encode()
        self.recorder.write({
            "method": scope["method"],
            "path": raw_path.decode("latin-1").split("?", 1)[0],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": headers,
            # a request refused before its body was read (e.g. by the gateway) records no body
            "body_read": read["body"],
            "body": _mask(_json(bytes(request_body))),
            "status": status["code"],
            "answer": _json(bytes(response_body)),
        })
