"""Typed errors raised by the AEP hooks.

Every error carries the HTTP status, Adobe's error code, the request id (when the
Platform sent one) and a sentence a person can act on.
"""

from __future__ import annotations

import re
from typing import Any

from airflow.sdk.exceptions import AirflowException

from aep_provider.printable import printable

# Adobe error code (bare number-status form) -> what the person reading the log should do about it.
# Services may prefix a code with their name (``XDM-1521-400``, ``FLOW-1403-400``): see ``hint_for``.
_HINTS: dict[str, str] = {
    "401013": "The access token was rejected; check the client id (login) and client secret (password) "
    "of the Airflow connection and that the credential belongs to this IMS org.",
    "403010": "No access token was sent; this is a bug in the caller, please report it.",
    "403000": "No API key was sent; set the connection login to the client id.",
    "403003": "The API key is unknown; set the connection login to the client id of the Developer "
    "Console project.",
    "400003": "The IMS org header is missing; set extra.org_id (e.g. 'ABC123@AdobeOrg') on the connection.",
    "403025": "The credential is not entitled for this IMS org; check extra.org_id on the connection and "
    "the product profile of the Developer Console project.",
    "2105-400": "The sandbox header is missing; set extra.sandbox on the connection or sandbox= on the task.",
    "2100-404": "The sandbox does not exist for this org; set extra.sandbox on the connection or sandbox= "
    "on the task to an existing sandbox (e.g. 'prod').",
    "1521-400": "A Schema Registry resource with this title already exists; pick another title or "
    "reuse the existing resource.",
    "1403-400": "Updating a Flow Service resource needs its etag in If-Match.",
    # help/sources/errors/flow-service-errors.md 1412-400: "Invalid Mapping Version in request."
    "1412-400": "The flow names a mappingVersion its mapping set does not have; use a version the mapping set "
    "listing shows (the task's mapping_version output).",
    "1404-412": "The resource changed since it was read; read it again and repeat the update.",
    "1410-400": "Do not send 'state' when creating a flow.",
    "1418-400": "The base connection is still used by flows; delete the flows first.",
    "1425-400": "The mapping set's schema differs from the target dataset's schema; map to the dataset's "
    "schema.",
}


_SERVICE_PREFIX = re.compile(r"^[A-Za-z]+-(?=\d)")


def bare_code(error_code: str) -> str:
    """``XDM-1521-400`` / ``FLOW-1403-400`` / ``1403-400`` -> ``1521-400`` / ``1403-400`` / ``1403-400``."""
    return _SERVICE_PREFIX.sub("", error_code.strip(), count=1)


def hint_for(error_code: str | None) -> str | None:
    """The advice for an Adobe error code, given with a service prefix (``XDM-``, ``FLOW-``) or bare.

    Codes of the emulator's own (``EMU-<status>``, where Adobe documents none) have no hint.
    """
    if not error_code or error_code.startswith("EMU-"):
        return None
    return _HINTS.get(error_code) or _HINTS.get(bare_code(error_code))


class AepError(AirflowException):
    """Base class of every error of this provider."""


class AepConfigError(AepError, ValueError):
    """Bad input or connection settings, found before any call to the Platform."""


def missing_connection(conn_id: str, parameter: str, conn_type: str) -> AepConfigError:
    """The error for an Airflow connection id that is not defined, naming the parameter and the fix."""
    return AepConfigError(
        f"Airflow connection {conn_id!r} ({parameter}) is not defined: create it (type {conn_type}, e.g. "
        f"as AIRFLOW_CONN_{conn_id.upper()} or in the UI) or set {parameter} to an existing connection."
    )


class AepApiError(AepError):
    """An error answer from Adobe Experience Platform (or IMS)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        hint: str | None = None,
        body: Any = None,
    ) -> None:
        # Escaped (printable): the message, code and request id are the service's text, which reaches logs.
        self.status = status
        self.error_code = printable(error_code) if error_code is not None else None
        self.request_id = printable(request_id) if request_id is not None else None
        self.method = method
        self.url = url
        self.hint = hint or hint_for(error_code)
        self.body = body
        self.detail = printable(message)
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.method} {self.url}: " if self.method and self.url else ""
        parts = [f"{where}{self.detail}"]
        meta = []
        if self.status is not None:
            meta.append(f"HTTP {self.status}")
        if self.error_code:
            meta.append(f"code {self.error_code}")
        if self.request_id:
            meta.append(f"request id {self.request_id}")
        if meta:
            parts.append(f"({', '.join(meta)})")
        if self.hint:
            parts.append(f"- {self.hint}")
        return " ".join(parts)


class AepAuthError(AepApiError):
    """401/403: the credential, API key, org or entitlement is wrong."""


class AepNotFoundError(AepApiError):
    """404: the resource (or sandbox) does not exist."""


class AepValidationError(AepApiError):
    """400/406/422: the request was refused as invalid."""


class AepConflictError(AepApiError):
    """409/412: the resource exists already or changed meanwhile."""


class AepTransientError(AepApiError):
    """429, 5xx, dropped connection or timeout that outlived the retry budget."""


class AepAmbiguousWriteError(AepTransientError):
    """A write whose outcome is unknown (no answer, timeout or 5xx): it may or may not have been applied."""


def _request_id(body: Any, headers: Any) -> str | None:
    if isinstance(body, dict):
        report = body.get("report")
        if isinstance(report, dict):
            for key in ("registryRequestId", "request-id", "requestId"):
                if report.get(key):
                    return str(report[key])
        for key in ("request_id", "requestId", "request-id"):
            if body.get(key):
                return str(body[key])
    if headers is not None:
        for key in ("x-request-id", "X-Request-Id", "x-adobe-request-id"):
            value = headers.get(key)
            if value:
                return str(value)
    return None


def _error_code(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    for key in ("error_code", "code", "errorCode"):
        if body.get(key):
            return str(body[key])
    type_ = body.get("type")
    if isinstance(type_, str) and "/errors/" in type_:
        return type_.rsplit("/", 1)[-1]
    return None


def _message(body: Any, status: int) -> str:
    if isinstance(body, dict):
        for key in ("detail", "message", "errorMessage", "title", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                title = body.get("title")
                if key == "detail" and isinstance(title, str) and title and title not in value:
                    return f"{title}: {value}"
                return value
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return f"HTTP {status}"


def error_class_for_status(status: int) -> type[AepApiError]:
    if status in (401, 403):
        return AepAuthError
    if status == 404:
        return AepNotFoundError
    if status in (409, 412):
        return AepConflictError
    if status == 429 or status >= 500:
        return AepTransientError
    if 400 <= status < 500:
        return AepValidationError
    return AepApiError


def _hint_from_text(status: int, message: str) -> str | None:
    """Advice for an answer whose code has none: a 404 about the sandbox (Flow Service documents 2100-404
    "The sandbox with the name 'dev' could not be found"; the other services document no code for it)."""
    if status == 404 and "sandbox" in message.lower():
        return _HINTS["2100-404"]
    return None


def error_from_response(
    status: int, body: Any, headers: Any = None, *, method: str | None = None, url: str | None = None
) -> AepApiError:
    """Build the typed error for an error answer."""
    cls = error_class_for_status(status)
    message = _message(body, status)
    code = _error_code(body)
    return cls(
        message,
        hint=hint_for(code) or _hint_from_text(status, message),
        status=status,
        error_code=code,
        request_id=_request_id(body, headers),
        method=method,
        url=url,
        body=body,
    )
