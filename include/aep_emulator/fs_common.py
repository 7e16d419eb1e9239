"""Flow Service shared pieces: errors, resource metadata, continuation-token paging."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request

from .common import FilterError, matches, new_etag, parse_filters, public, sort_value
from .deps import RequestContext
from .errors import ApiError

BASE = "/data/foundation/flowservice"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def fs_error(status: int, code: str, detail: str, title: str | None = None) -> ApiError:
    default_titles = {400: "Bad Request", 404: "Not Found", 412: "Precondition Failed", 409: "Conflict"}
    return ApiError(status, code, title or default_titles.get(status, "Error"), detail)


def bad(detail: str, code: str = "1400-400") -> ApiError:
    return fs_error(400, code, detail)


def not_found(kind: str, ident: str) -> ApiError:
    return fs_error(404, "1302-404", f"The {kind} with id {ident} was not found")


def metadata(ctx: RequestContext, now_ms: int) -> dict[str, Any]:
    user = f"{ctx.client_id}@AdobeID"
    return {
        "createdAt": now_ms,
        "updatedAt": now_ms,
        "createdBy": user,
        "updatedBy": user,
        "createdClient": ctx.client_id,
        "updatedClient": ctx.client_id,
        "sandboxId": ctx.sandbox,
        "sandboxName": ctx.sandbox,
        "imsOrgId": ctx.org_id,
        "etag": new_etag(),
    }


def touch(obj: dict[str, Any], ctx: RequestContext | None, now_ms: int) -> None:
    obj["updatedAt"] = now_ms
    if ctx is not None:
        obj["updatedBy"] = f"{ctx.client_id}@AdobeID"
        obj["updatedClient"] = ctx.client_id
    obj["etag"] = new_etag()


def _encode_token(offset: int) -> str:
    # standard base64 with padding on purpose: tokens contain '=' like Adobe's do
    return base64.b64encode(json.dumps({"offset": offset, "v": 1}).encode()).decode()


def _decode_token(token: str) -> int:
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True))
        offset = int(data["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise bad(f"invalid continuationToken {token!r}", "1402-400") from exc
    if offset < 0:
        raise bad("invalid continuationToken", "1402-400")
    return offset


def list_page(request: Request, objects: list[dict[str, Any]], collection: str) -> dict[str, Any]:
    """Filter, order and page a Flow Service collection (``objects`` are public views)."""
    q = request.query_params
    count = q.get("count", "").lower() == "true"
    if count and "limit" in q:
        raise bad("The query parameters 'count' and 'limit' cannot be used together", "1401-400")
    try:
        predicates = parse_filters(q.getlist("property"))
    except FilterError as exc:
        raise bad(str(exc), "1400-400") from exc
    objects = [o for o in objects if matches(o, predicates)]
    if count:
        return {"count": len(objects)}
    orderby = q.get("orderby") or "createdAt"
    desc = orderby.startswith("-")
    key = orderby.lstrip("+-")
    objects.sort(key=lambda o: (sort_value(o.get(key)), o.get("id", "")), reverse=desc)
    try:
        limit = int(q.get("limit", DEFAULT_LIMIT))
    except ValueError as exc:
        raise bad("limit must be an integer") from exc
    if limit <= 0:
        raise bad("limit must be a positive integer")
    limit = min(limit, MAX_LIMIT)
    token = q.get("continuationToken")
    offset = _decode_token(token) if token else 0
    page = objects[offset : offset + limit]
    out: dict[str, Any] = {"items": page}
    if offset + limit < len(objects):
        params: list[tuple[str, str]] = [("limit", str(limit))]
        if "orderby" in q:
            params.append(("orderby", orderby))
        params += [("property", p) for p in q.getlist("property")]
        query = urlencode(params, quote_via=quote)
        href = f"/{collection}?continuationToken={quote(_encode_token(offset + limit), safe='')}&{query}"
        out["_links"] = {"next": {"href": href}}
    else:
        out["_links"] = {}
    return out


def views(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [public(o) for o in items.values()]
