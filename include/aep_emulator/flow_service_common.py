"""Flow Service pieces shared by its resource routes and its runs: errors, resource metadata,
continuation-token paging."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from fastapi import Request

from . import flow_service_filters
from .common import new_etag, public
from .deps import RequestContext
from .services import FLOW_SERVICE

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

# Flow Service codes come from Adobe's error table (help/sources/errors/flow-service-errors.md);
# where it has none for a case the code is ours (``EMU-400``, the registry's default; docs/architecture.md).
BAD_SPEC_ID = "1413-400"  # "The spec ID provided is invalid"
BAD_SORT = "1433-400"  # "Incorrect field passed in orderBy"
BAD_PATCH = "1455-400"  # "An error has occurred while validating patch instructions"


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
        raise FLOW_SERVICE.bad_request(f"invalid continuationToken {token!r}") from exc
    if offset < 0:
        raise FLOW_SERVICE.bad_request("invalid continuationToken")
    return offset


def list_page(request: Request, objects: list[dict[str, Any]], collection: str) -> dict[str, Any]:
    """Filter, order and page a Flow Service collection (``objects`` are public views).

    Filters follow :mod:`aep_emulator.flow_service_filters`. The next link carries only the continuation
    token, as in flow-service.yaml (``_links.next.href: /connections?continuationToken=...``):
    the token holds the offset, not the query, so a client must send its ``property``/``orderby``/
    ``limit`` again with every page.
    """
    q = request.query_params
    count = q.get("count", "").lower() == "true"
    if count and "limit" in q:
        raise FLOW_SERVICE.bad_request(
            "The limit and count parameters cannot be given together in the same request.", "1401-400"
        )
    try:
        predicates = flow_service_filters.parse(q.getlist("property"))
    except flow_service_filters.FlowFilterError as exc:
        raise FLOW_SERVICE.bad_request(str(exc), exc.code) from exc
    objects = [o for o in objects if all(p(o) for p in predicates)]
    if count:
        return {"count": len(objects)}
    orderby = q.get("orderby") or "createdAt"
    desc = orderby.startswith("-")
    key = orderby.lstrip("+-")
    if not key:
        raise FLOW_SERVICE.bad_request(f"Incorrect field {orderby!r} passed in orderBy, examples are +name, -name, name.", BAD_SORT)
    objects.sort(key=flow_service_filters.sort_key(key), reverse=desc)
    try:
        limit = int(q.get("limit", DEFAULT_LIMIT))
    except ValueError as exc:
        raise FLOW_SERVICE.bad_request("limit must be an integer") from exc
    if limit <= 0:
        raise FLOW_SERVICE.bad_request("limit must be a positive integer")
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
