"""Adobe IMS: the OAuth server-to-server token endpoint (``POST /ims/token/v3``)."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .deps import store_of

router = APIRouter(tags=["IMS"])


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@router.post("/ims/token/v3", summary="Exchange client credentials for an access token")
async def token(request: Request) -> JSONResponse:
    """Form-encoded ``client_id``, ``client_secret``, ``grant_type=client_credentials``, ``scope``.

    Parameters may also come in the query string, as Adobe's IMS accepts both.
    """
    store = store_of(request)
    with store.lock:
        store.counters.count("ims_token_requests")
    raw = (await request.body()).decode("utf-8", "replace")
    params = {k: v[0] for k, v in parse_qs(raw).items()}
    for k, v in request.query_params.items():
        params.setdefault(k, v)
    client_id = params.get("client_id")
    if not client_id:
        return _oauth_error(400, "invalid_request", "client_id is missing")
    grant_type = params.get("grant_type")
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    client = store.clients.get(client_id)
    if client is None or params.get("client_secret") != client.client_secret:
        return _oauth_error(401, "invalid_client", "invalid client_id or client_secret")
    # Issued tokens live in memory only (state.py): nothing to persist.
    access_token, ttl = store.issue_token(client)
    return JSONResponse({"access_token": access_token, "token_type": "bearer", "expires_in": ttl})
