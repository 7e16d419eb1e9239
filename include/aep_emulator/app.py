"""Assembly of the emulator ASGI app: routers, error handlers and middleware."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from . import admin, ims
from .deps import request_id_of
from .errors import BAD_REQUEST_CODES, NOT_FOUND_CODES, ApiError, neutral, problem_body, service_of_path
from .faults import FaultEngine, FaultMiddleware
from .gateway import GatewayMiddleware
from .middleware import RequestIdMiddleware, TickMiddleware
from .recording import Recorder, RecordingMiddleware
from .state import Config, Store


def _register_service_routers(app: FastAPI) -> None:
    from . import catalog, data_prep, flow_service, runs, schema_registry

    for module in (schema_registry, catalog, runs, flow_service, data_prep):  # runs before the generic /{collection}
        app.include_router(module.router)


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
            400, BAD_REQUEST_CODES[service], "Bad Request", detail, service, request_id_of(request), subs
        )
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        service = service_of_path(request.url.path)
        if service is None:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        code = NOT_FOUND_CODES[service] if exc.status_code == 404 else neutral(exc.status_code)
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


def create_app(store: Store | None = None, config: Config | None = None) -> EmulatorApp:
    """Build the emulator app. ``store`` wins over ``config`` when both are given."""
    store = store or Store(config=config or Config())
    app = EmulatorApp(
        title="AEP emulator",
        version="0.1.0",
        description="Local emulation of Adobe IMS and the Experience Platform services used for onboarding.",
    )
    engine = FaultEngine()
    app.state.store = store
    app.state.faults = engine

    from .runs import tick_all

    app.state.tick = lambda: tick_all(store)

    app.include_router(ims.router)
    _register_service_routers(app)
    app.include_router(admin.router)
    _install_error_handlers(app)

    # outermost first: request id -> faults -> (starlette) -> recording -> tick -> gateway -> routes
    recorder = Recorder()
    app.state.recorder = recorder
    app.add_middleware(GatewayMiddleware, store=store)
    app.add_middleware(TickMiddleware, tick=app.state.tick)  # type: ignore[arg-type]
    app.add_middleware(RecordingMiddleware, recorder=recorder)  # type: ignore[arg-type]
    app.outer = RequestIdMiddleware(FaultMiddleware(app.inner, store=store, engine=engine))
    return app
