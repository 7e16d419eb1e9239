"""The API-gateway checks every Platform call goes through (reference section 1).

Implemented as a pure ASGI middleware on ``/data/foundation/*`` so the checks come first,
before any body parsing, in this order: Authorization, x-api-key, token validity,
x-gw-ims-org-id, token/org entitlement, x-sandbox-name, Content-Type on writes (the last two by the rules of
the path's service in the registry, :mod:`aep_emulator.services`). On success
the resolved :class:`RequestContext` is put in ``scope["state"]["ctx"]``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .deps import RequestContext
from .errors import ApiError, GatewayError
from .services import is_platform_path, service_of_path
from .state import Store

WRITE_METHODS = {"POST", "PUT", "PATCH"}


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _has_body(headers: dict[str, str]) -> bool:
    if "transfer-encoding" in headers:
        return True
    try:
        return int(headers.get("content-length", "0")) > 0
    except ValueError:
        return True


def check(store: Store, method: str, path: str, headers: dict[str, str], request_id: str) -> RequestContext:
    """Run the gateway checks; raise GatewayError / ApiError, or return the caller context."""
    auth = headers.get("authorization", "").strip()
    if not auth:
        raise GatewayError(403, "403010", "Oauth token is missing.")
    api_key = headers.get("x-api-key", "").strip()
    if not api_key:
        raise GatewayError(403, "403000", "Api Key is required")
    if api_key not in store.clients:
        raise GatewayError(403, "403003", "Api Key is invalid")
    scheme, _, token = auth.partition(" ")
    info = store.token_info(token.strip()) if scheme.lower() == "bearer" else None
    if info is None:
        raise GatewayError(401, "401013", "Oauth token is not valid")
    if info.client_id != api_key:
        raise GatewayError(403, "403003", "Api Key is invalid")
    org_id = headers.get("x-gw-ims-org-id", "").strip()
    if not org_id:
        raise GatewayError(400, "400003", "Missing header")
    if org_id != info.org_id or org_id not in store.orgs:
        raise GatewayError(403, "403025", "Profile is not valid")
    org = store.orgs[org_id]
    service = service_of_path(path)
    sandbox = headers.get("x-sandbox-name", "").strip()
    if service is None:  # a path no service serves (create_app refuses unregistered routes): its 404 follows
        return RequestContext(org_id, sandbox or "prod", org.tenant_id, info.client_id, request_id)
    if not sandbox:
        if service.missing_sandbox_code is not None:
            raise service.error(400, service.missing_sandbox_code, "The header x-sandbox-name is missing", "Bad Request")
        sandbox = "prod"  # the other services fall back to the default production sandbox
    if sandbox not in org.sandboxes:
        raise service.error(404, service.unknown_sandbox_code,
                            f"The sandbox {sandbox!r} does not exist in the organization {org_id}", "Sandbox not found")
    if method in WRITE_METHODS and _has_body(headers):
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in service.write_content_types:
            raise service.error(400, service.content_type_code,
                                "A valid content-type must be specified (Content-Type: application/json)", "Bad Request")
    return RequestContext(org_id, sandbox, org.tenant_id, info.client_id, request_id)


class GatewayMiddleware:
    def __init__(self, app: ASGIApp, store: Store) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_platform_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        request_id = str(state.get("request_id", ""))
        try:
            with self.store.lock:
                ctx = check(self.store, scope["method"], scope["path"], _headers(scope), request_id)
        except GatewayError as exc:
            await send_json(send, exc.status, exc.body())
            return
        except ApiError as exc:
            body = exc.body(service_of_path(scope["path"]), request_id)
            await send_json(send, exc.status, body)
            return
        state["ctx"] = ctx
        await self.app(scope, receive, send)


async def send_json(send: Send, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    for k, v in (headers or {}).items():
        raw_headers.append((k.lower().encode(), v.encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
