"""Cross-cutting ASGI middleware: request ids and the lazy run scheduler tick."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestIdMiddleware:
    """Give every request an id (``x-request-id`` header on every answer).

    An incoming ``x-request-id`` is kept; otherwise a new one is made. The id and
    uvicorn's own ``send`` (needed to drop connections) go in ``scope["state"]``.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = dict(scope.get("headers", [])).get(b"x-request-id")
        request_id = incoming.decode("latin-1") if incoming else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["raw_send"] = send

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_id)


class TickMiddleware:
    """Before each Platform or admin request, let due scheduled runs start and runs progress."""

    def __init__(self, app: ASGIApp, tick: Callable[[], None]) -> None:
        self.app = app
        self.tick = tick

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(("/data/", "/_emulator/")):
            self.tick()
        await self.app(scope, receive, send)
