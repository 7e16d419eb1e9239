"""FastAPI dependencies shared by the service routers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

if TYPE_CHECKING:
    from .state import Container, Store


@dataclass(frozen=True)
class RequestContext:
    """Who is calling, resolved by the gateway from the headers."""

    org_id: str
    sandbox: str
    tenant_id: str
    client_id: str
    request_id: str


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def ctx_of(request: Request) -> RequestContext:
    ctx: RequestContext = request.scope["state"]["ctx"]
    return ctx


def container_of(request: Request) -> Container:
    ctx = ctx_of(request)
    return store_of(request).container(ctx.org_id, ctx.sandbox)


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))
