"""Assembly of the emulator ASGI app: routers, error handlers and middleware."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from . import admin, ims
from .admin_guard import AdminGuard
from .deps import request_id_of
from .errors import ApiError, neutral, problem_body
from .faults import FaultEngine, FaultMiddleware
from .gateway import GatewayMiddleware
from .middleware import RequestIdMiddleware, TickMiddleware
from .recording import Recorder, RecordingMiddleware
from .services import SERVICES, is_platform_path, service_of_path
from .state import Config, Store


class UnregisteredServiceError(RuntimeError):
    """A Platform route whose service is missing from the registry (services.py): the gateway would not know
    its sandbox and Content-Type rules nor the error builder its codes."""


def _register_service_routers(app: FastAPI) -> None:
    """Mount every registered service's routers, in registry order."""
    for service in SERVICES:
        for name in service.router_modules:
            app.include_router(importlib.import_module(f"{__package__}.{name}").router)


def check_platform_routes(app: FastAPI) -> None:
    """Every route under ``/data/foundation/`` must belong to a registered service; raise otherwise."""
    for route in app.routes:
        path = str(getattr(route, "path", ""))
        if is_platform_path(path) and service_of_path(path) is None:
            raise UnregisteredServiceError(
                f"The route {path} belongs to no service of aep_emulator.services.SERVICES: add the service's "
                "registry entry (path prefix, routers, kinds, error codes)"
            )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        body = exc.body(service_of_path(request.url.path), request_id_of(request))
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        service = service_of_path(request.url.path)
        subs = [
            {"path": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{s['path'] or 'body'}: {s['message']}" for s in subs) or "invalid request"
        if service is None:
            return JSONResponse({"detail": detail, "errors": subs}, status_code=400)
        body = problem_body(
            400, service.bad_request_code, "Bad Request", detail, service, request_id_of(request), subs
        )
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        service = service_of_path(request.url.path)
        if service is None:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        code = service.not_found_code if exc.status_code == 404 else neutral(exc.status_code)
        body = problem_body(
            exc.status_code, code, str(exc.detail), str(exc.detail), service, request_id_of(request)
        )
        return JSONResponse(body, status_code=exc.status_code)


class EmulatorApp(FastAPI):
    """FastAPI app whose outermost layers (request id, faults) sit outside Starlette's own
    error middleware, so that a fault can close the connection with nothing sent."""

    outer: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if self.outer is None:
            return await FastAPI.__call__(self, scope, receive, send)
        return await self.outer(scope, receive, send)

    async def inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(self, scope, receive, send)


def create_app(
    store: Store | None = None, config: Config | None = None, allowed_hosts: tuple[str, ...] = ()
) -> EmulatorApp:
    """Build the emulator app. ``store`` wins over ``config`` when both are given; ``allowed_hosts`` are the names
    the admin API answers besides loopback (``admin_guard.py``)."""
    store = store or Store(config=config or Config())
    app = EmulatorApp(
        title="AEP emulator",
        version="0.1.0",
        description="Local emulation of Adobe IMS and the Experience Platform services used for onboarding.",
    )
    engine = FaultEngine()
    app.state.store = store
    app.state.faults = engine
    app.state.admin_guard = AdminGuard.of(allowed_hosts)

    from .runs import tick_all

    app.state.tick = lambda: tick_all(store, engine)

    app.include_router(ims.router)
    _register_service_routers(app)
    app.include_router(admin.router)
    check_platform_routes(app)
    _install_error_handlers(app)

    # outermost first: request id -> faults -> (starlette) -> recording -> tick -> gateway -> routes
    recorder = Recorder()
    app.state.recorder = recorder
    app.add_middleware(GatewayMiddleware, store=store)
    app.add_middleware(TickMiddleware, tick=app.state.tick)  # type: ignore[arg-type]
    app.add_middleware(RecordingMiddleware, recorder=recorder)  # type: ignore[arg-type]
    app.outer = RequestIdMiddleware(FaultMiddleware(app.inner, store=store, engine=engine))
    return app
