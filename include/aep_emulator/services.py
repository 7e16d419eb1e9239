"""The registry of the Platform services the emulator serves: the one place that says, per service, its path
prefix, the modules holding its routes, the resource kinds it stores, its error codes and body style, and the
gateway's rules for it (sandbox header, Content-Type of writes).

The app mounts the routers listed here (in this order), the gateway reads the sandbox and Content-Type rules
here, the error builder the codes and body style, and the store the kinds. A route under
``/data/foundation/`` whose service is not registered here makes :func:`aep_emulator.app.create_app` fail.

Most services live under ``/data/foundation/``; Identity Service under ``/data/core/`` (identity-service.yaml:
"Base path for this API: /data/core/"): a service's ``root`` says which.

Codes are Adobe's where it documents one, else ours (``EMU-<status>``, docs/architecture.md). Sources: Flow
Service error table (help/sources/errors/flow-service-errors.md: 1101-404 "Resource not found", 2100-404
"Sandbox not found", 2105-400 for a missing ``x-sandbox-name``); XDM troubleshooting guide
(help/xdm/troubleshooting.md: XDM-1010-404 "Resource not found"). Catalog and Data Prep document no codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError, neutral

PLATFORM_PREFIX = "/data/foundation/"
CORE_PREFIX = "/data/core/"
PLATFORM_ROOTS = (PLATFORM_PREFIX, CORE_PREFIX)
# The request bodies the Platform APIs take (application/json; JSON Patch for PATCH).
JSON_TYPES = ("application/json", "application/json-patch+json")


@dataclass(frozen=True)
class Service:
    """One Platform service: ``name`` is its path segment (``<root><name>``, root ``/data/foundation/`` unless set)."""

    name: str
    router_modules: tuple[str, ...]  # modules of this package with a ``router``, mounted in this order
    kinds: tuple[str, ...]  # the resource kinds it stores (``Container.items`` keys, ``/_emulator/state``)
    not_found_code: str
    not_found_title: str = "Not Found"
    not_found_detail: str = "The {} was not found"  # formatted with what was looked for
    bad_request_code: str = neutral(400)
    bad_request_title: str = "Bad Request"
    content_type_code: str = neutral(400)
    write_content_types: tuple[str, ...] = JSON_TYPES
    unknown_sandbox_code: str = neutral(404)
    missing_sandbox_code: str | None = None  # None: no x-sandbox-name falls back to the prod sandbox
    request_id_key: str = "request-id"  # the problem body's ``report`` key for the request id
    legacy_error_fields: bool = False  # Flow Service bodies also carry ``errorMessage`` and ``errorDetails``
    root: str = PLATFORM_PREFIX  # one of PLATFORM_ROOTS

    @property
    def prefix(self) -> str:
        return f"{self.root}{self.name}"

    def error(self, status: int, code: str, detail: str, title: str) -> ApiError:
        return ApiError(status, code, title, detail)

    def bad_request(self, detail: str, code: str | None = None, title: str | None = None) -> ApiError:
        """A 400 with ``code`` (the service's generic one when not given)."""
        return ApiError(400, code or self.bad_request_code, title or self.bad_request_title, detail)

    def not_found(self, what: str) -> ApiError:
        """A 404 for ``what`` (e.g. ``"dataset 5c8c..."``), worded as the service words it."""
        return ApiError(404, self.not_found_code, self.not_found_title, self.not_found_detail.format(what))


SCHEMA_REGISTRY = Service(
    name="schemaregistry",
    router_modules=("schema_registry",),
    kinds=("class", "schema", "datatype"),
    not_found_code="XDM-1010-404",
    not_found_title="Resource not found",
    not_found_detail="The requested resource {} was not found.",
    bad_request_title="Bad request",
    request_id_key="registryRequestId",
)
CATALOG = Service(name="catalog", router_modules=("catalog",), kinds=("dataset",), not_found_code=neutral(404),
                  not_found_detail="The {} was not found.")
FLOW_SERVICE = Service(
    name="flowservice",
    router_modules=("runs", "flow_service"),  # runs first: flow_service has the generic /{collection} routes
    kinds=("connection", "sourceConnection", "targetConnection", "flow", "run"),
    not_found_code="1101-404",
    unknown_sandbox_code="2100-404",
    missing_sandbox_code="2105-400",
    legacy_error_fields=True,
)
DATA_PREP = Service(name="conversion", router_modules=("data_prep",), kinds=("mappingSet",),
                    not_found_code=neutral(404))

# identity-service.yaml documents no error codes for GET /idnamespace/identities (its 401/500 examples carry an
# `error` word, not a code); an unknown sandbox or a bad request is ours. `x-sandbox-name` is optional ("If
# unspecified, falls back to the default production sandbox"), so no missing_sandbox_code.
IDENTITY = Service(name="idnamespace", router_modules=("identity",), kinds=(), not_found_code=neutral(404),
                   root=CORE_PREFIX)

SERVICES: tuple[Service, ...] = (SCHEMA_REGISTRY, CATALOG, FLOW_SERVICE, DATA_PREP, IDENTITY)
KINDS: tuple[str, ...] = tuple(kind for service in SERVICES for kind in service.kinds)


def service_of_path(path: str) -> Service | None:
    """The registered service a request path belongs to (None for IMS, the admin surface and other paths)."""
    return next((s for s in SERVICES if path.startswith(s.prefix)), None)


def is_platform_path(path: str) -> bool:
    return path.startswith(PLATFORM_ROOTS)
