"""Error types and the Adobe-style error bodies they render to.

Two body styles exist on the Platform:

* gateway errors (bad or missing credentials headers): ``{"error_code", "message"}``;
* service errors (Schema Registry, Catalog, Flow Service, Data Prep):
  ``{"type", "title", "status", "detail", "report": {...}}`` where the report carries
  ``registryRequestId`` (Schema Registry) or ``request-id`` (the others).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

ERROR_TYPE_BASE = "http://ns.adobe.com/aep/errors/"
# Codes Adobe does not document are ours: ``EMU-<status>``, under a type URL that is plainly not
# Adobe's (see docs/architecture.md, "Error codes that are ours").
NEUTRAL_PREFIX = "EMU-"
NEUTRAL_TYPE_BASE = "https://aep-emulator.invalid/errors/"


def neutral(status: int) -> str:
    """The emulator's own code for a case Adobe documents no code for (e.g. ``EMU-400``)."""
    return f"{NEUTRAL_PREFIX}{status}"


def is_neutral(code: str) -> bool:
    return code.startswith(NEUTRAL_PREFIX)

SCHEMA_REGISTRY = "schemaregistry"
CATALOG = "catalog"
FLOW_SERVICE = "flowservice"
DATA_PREP = "conversion"


class GatewayError(Exception):
    """An API-gateway rejection (credentials headers)."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error_code": self.error_code, "message": self.message}


class ApiError(Exception):
    """A service error rendered as an Adobe problem body."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        sub_errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail or title
        self.headers = headers or {}
        self.sub_errors = sub_errors or []

    def body(self, service: str | None, request_id: str) -> dict[str, Any]:
        return problem_body(
            self.status, self.code, self.title, self.detail, service, request_id, self.sub_errors
        )


def service_of_path(path: str) -> str | None:
    """Which Platform service a request path belongs to (None for IMS/admin/other)."""
    for name in (SCHEMA_REGISTRY, CATALOG, FLOW_SERVICE, DATA_PREP):
        if path.startswith(f"/data/foundation/{name}"):
            return name
    return None


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str,
    service: str | None,
    request_id: str,
    sub_errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    timestamp = dt.datetime.now(dt.timezone.utc).strftime("%m-%d-%Y %H:%M:%S")
    id_key = "registryRequestId" if service == SCHEMA_REGISTRY else "request-id"
    body: dict[str, Any] = {
        "type": (NEUTRAL_TYPE_BASE if is_neutral(code) else ERROR_TYPE_BASE) + code,
        "title": title,
        "status": status,
        "detail": detail,
        "report": {
            id_key: request_id,
            "timestamp": timestamp,
            "detailed-message": detail,
            "sub-errors": sub_errors or [],
        },
    }
    if service == FLOW_SERVICE:
        body["errorMessage"] = detail
        body["errorDetails"] = {"code": code}
    return body


# Per-service codes for the generic cases: Adobe's where it documents one, else ours (``EMU-*``).
# Sources: Flow Service error table (help/sources/errors/flow-service-errors.md: 1101-404 "Resource
# not found", 2100-404 "Sandbox not found"); XDM troubleshooting guide (help/xdm/troubleshooting.md:
# XDM-1010-404 "Resource not found"). Catalog and Data Prep document no codes at all.
NOT_FOUND_CODES = {
    SCHEMA_REGISTRY: "XDM-1010-404",
    CATALOG: neutral(404),
    FLOW_SERVICE: "1101-404",
    DATA_PREP: neutral(404),
}
BAD_REQUEST_CODES = {
    SCHEMA_REGISTRY: neutral(400),
    CATALOG: neutral(400),
    FLOW_SERVICE: neutral(400),
    DATA_PREP: neutral(400),
}
CONTENT_TYPE_CODES = {service: neutral(400) for service in (SCHEMA_REGISTRY, CATALOG, FLOW_SERVICE, DATA_PREP)}
UNKNOWN_SANDBOX_CODES = {
    SCHEMA_REGISTRY: neutral(404),
    CATALOG: neutral(404),
    FLOW_SERVICE: "2100-404",
    DATA_PREP: neutral(404),
}


def not_found(service: str, what: str) -> ApiError:
    return ApiError(404, NOT_FOUND_CODES[service], "Resource not found", f"{what} was not found")


def bad_request(service: str, detail: str, code: str | None = None, title: str = "Bad request") -> ApiError:
    return ApiError(400, code or BAD_REQUEST_CODES[service], title, detail)
