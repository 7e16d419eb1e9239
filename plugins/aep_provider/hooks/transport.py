"""Pieces of the HTTP exchange shared by the sync and the async hook (no I/O here)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aep_provider.hooks.settings import AepSettings

SERVICE_PATHS = {
    "schemaregistry": "/data/foundation/schemaregistry",
    "catalog": "/data/foundation/catalog",
    "flowservice": "/data/foundation/flowservice",
    "conversion": "/data/foundation/conversion",
    # Identity Service lives under /data/core/ (identity-service.yaml: "Base path for this API: /data/core/").
    "idnamespace": "/data/core/idnamespace",
}
IMS_TOKEN_PATH = "/ims/token/v3"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

# Names this client in every Platform call (request logs, and the contract test tells the provider's
# requests from a test's own).
USER_AGENT = "airflow-aep-provider"


def service_path(service: str, path: str) -> str:
    """The service's base path (``/data/foundation/<service>``, Identity Service ``/data/core/idnamespace``) + path."""
    if service not in SERVICE_PATHS:
        raise ValueError(f"Unknown AEP service {service!r}; one of {sorted(SERVICE_PATHS)}")
    return SERVICE_PATHS[service] + (path if path.startswith("/") else f"/{path}")


def platform_headers(settings: AepSettings, *, token: str, method: str, accept: str | None = None) -> dict[str, str]:
    """The headers of a Platform call: the token, the credential's client id, the org and the sandbox."""
    headers = {
        "Authorization": f"Bearer {token}",
        "x-api-key": settings.client_id,
        "x-gw-ims-org-id": settings.org_id,
        "x-sandbox-name": settings.sandbox,
    }
    if method.upper() in WRITE_METHODS:
        headers["Content-Type"] = "application/json"
    headers["Accept"] = accept or "application/json"
    headers["User-Agent"] = USER_AGENT
    return headers


def ims_form(*, client_id: str, client_secret: str, scopes: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "scope": scopes,
    }


def parse_body(text: str) -> Any:
    if not text or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def is_invalid_token(status: int, body: Any) -> bool:
    """The gateway's "token not valid" answer (401013): refresh the token once and repeat."""
    if status != 401:
        return False
    if isinstance(body, dict):
        code = str(body.get("error_code") or body.get("code") or "")
        return code in ("401013", "") or "token" in str(body.get("message", "")).lower()
    return True
