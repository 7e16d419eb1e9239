"""Flow Service shared pieces: errors, resource metadata, continuation-token paging."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from fastapi import Request

from . import fs_filters
from .common import new_etag, public
from .deps import RequestContext
from .errors import ApiError, neutral

BASE = "/data/foundation/flowservice"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def fs_error(status: int, code: str, detail: str, title: str | None = None) -> ApiError:
    default_titles = {400: "Bad Request", 404: "Not Found", 412: "Precondition Failed", 409: "Conflict"}
    return ApiError(status, code, title or default_titles.get(status, "Error"), detail)


# Flow Service codes come from Adobe's error table (help/sources/errors/flow-service-errors.md);
# where it has none for a case the code is ours (``EMU-400``, see docs/architecture.md).
INVALID = neutral(400)
NOT_FOUND = "1101-404"  # "Resource not found"
BAD_SPEC_ID = "1413-400"  # "The spec ID provided is invalid"
BAD_FILTER_FIELD = "1449-400"  # "Invalid field ... in filter params"
BAD_FILTER_OPERATOR = "1450-400"  # "Invalid operator ... in filter params"
TILDE_NOT_IMPLEMENTED = "1440-400"  # "Operator '~' not implemented"
MULTI_VALUE_OPERATOR = "1443-400"  # "Operator '<=' is not allowed for multiple values"
BAD_QUERY_VALUE = "1453-400"  # "Invalid query value createdAt== provided in query param"
BAD_SORT = "1433-400"  # "Incorrect field passed in orderBy"
BAD_PATCH = "1455-400"  # "An error has occurred while validating patch instructions"
EMPTY_BODY = "1405-400"  # "The request body cannot be null or empty"


def bad(detail: str, code: str = INVALID) -> ApiError:
    return fs_error(400, code, detail)


def not_found(kind: str, ident: str) -> ApiError:
    return fs_error(404, NOT_FOUND, f"The {kind} with id {ident} was not found")


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
        raise bad(f"invalid continuationToken {token!r}") from exc
    if offset < 0:
        raise bad("invalid continuationToken")
    return offset


def list_page(request: Request, objects: list[dict[str, Any]], collection: str) -> dict[str, Any]:
    """Filter, order and page a Flow Service collection (``objects`` are public views).

    Filters follow :mod:`aep_emulator.fs_filters`. The next link carries only the continuation
    token, as in flow-service.yaml (``_links.next.href: /connections?continuationToken=...``):
    the token holds the offset, not the query, so a client must send its ``property``/``orderby``/
    ``limit`` again with every page.
    """
    q = request.query_params
    count = q.get("count", "").lower() == "true"
    if count and "limit" in q:
        raise bad(
            "The limit and count parameters cannot be given together in the same request.", "1401-400"
        )
    try:
        predicates = fs_filters.parse(q.getlist("property"))
    except fs_filters.FlowFilterError as exc:
        raise bad(str(exc), exc.code) from exc
    objects = [o for o in objects if all(p(o) for p in predicates)]
    if count:
        return {"count": len(objects)}
    orderby = q.get("orderby") or "createdAt"
    desc = orderby.startswith("-")
    key = orderby.lstrip("+-")
    if not key:
        raise bad(f"Incorrect field {orderby!r} passed in orderBy, examples are +name, -name, name.", BAD_SORT)
    objects.sort(key=fs_filters.sort_key(key), reverse=desc)
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
        href = f"/{collection}?continuationToken={quote(_encode_token(offset + limit), safe='')}"
        out["_links"] = {"next": {"href": href}}
    else:
        out["_links"] = {}
    return out


def views(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [public(o) for o in items.values()]
