"""Error types and the Adobe-style error bodies they render to.

Two body styles exist on the Platform:

* gateway errors (bad or missing credentials headers): ``{"error_code", "message"}``;
* service errors (Schema Registry, Catalog, Flow Service, Data Prep):
  ``{"type", "title", "status", "detail", "report": {...}}`` where the report carries
  ``registryRequestId`` (Schema Registry) or ``request-id`` (the others).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .services import Service

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

    def body(self, service: Service | None, request_id: str) -> dict[str, Any]:
        return problem_body(
            self.status, self.code, self.title, self.detail, service, request_id, self.sub_errors
        )


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str,
    service: Service | None,
    request_id: str,
    sub_errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An Adobe problem body, in the style of ``service`` (its request-id key, Flow Service's extra fields)."""
    timestamp = dt.datetime.now(dt.timezone.utc).strftime("%m-%d-%Y %H:%M:%S")
    id_key = service.request_id_key if service is not None else "request-id"
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
    if service is not None and service.legacy_error_fields:
        body["errorMessage"] = detail
        body["errorDetails"] = {"code": code}
    return body
