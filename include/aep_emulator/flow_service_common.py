"""Flow Service pieces shared by its resource routes and its runs: errors, resource metadata,
continuation-token paging."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import Request

from . import flow_service_filters
from .common import new_etag, public
from .deps import RequestContext
from .services import FLOW_SERVICE

if TYPE_CHECKING:
    from .containers import Container

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


#: The listing parameters a continuation token belongs to: the query that made the list it is an offset into.
TOKEN_QUERY = ("property", "orderby", "limit")


def _query_of(request: Request) -> dict[str, Any]:
    """The listing parameters a request sends (``property`` in any order: an AND of its expressions)."""
    q = request.query_params
    return {"property": sorted(q.getlist("property")), "orderby": q.get("orderby"), "limit": q.get("limit")}


def _encode_token(offset: int, query: dict[str, Any]) -> str:
    # standard base64 with padding on purpose: tokens contain '=' like Adobe's do
    return base64.b64encode(json.dumps({"offset": offset, "query": query, "v": 2}).encode()).decode()


def _decode_token(token: str) -> tuple[int, dict[str, Any]]:
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True))
        offset, query = int(data["offset"]), data["query"]
        if not isinstance(query, dict):
            raise TypeError("query")
    except (ValueError, KeyError, TypeError) as exc:
        raise FLOW_SERVICE.bad_request(
            f"invalid continuationToken {token!r}: send the token of a _links.next.href as given"
        ) from exc
    if offset < 0:
        raise FLOW_SERVICE.bad_request("invalid continuationToken")
    return offset, query


def _continued(request: Request) -> tuple[int, dict[str, Any]]:
    """The offset and the listing query of a request: a ``continuationToken`` carries the query of the list it
    continues, so a next link followed as given (flow-service.yaml ``PageLink``:
    ``/connections?continuationToken=...``, no other parameter) pages the same filtered, sorted list. A request
    that sends the query again with the token must send the same one: a token is an offset into that list only,
    and read against another list it would skip or repeat items (ours: ``EMU-400``, Adobe documents no code)."""
    sent = _query_of(request)
    token = request.query_params.get("continuationToken")
    if not token:
        return 0, sent
    offset, query = _decode_token(token)
    for key in TOKEN_QUERY:
        given = sent[key] if key != "property" or sent[key] else None
        if given is not None and given != query.get(key):
            raise FLOW_SERVICE.bad_request(
                f"continuationToken belongs to the listing {key}={query.get(key)!r}, but this request sends "
                f"{key}={given!r}: follow _links.next.href as given, or send the first page's query unchanged"
            )
    return offset, query


#: What a listing lists: the objects, or a function of the listing's ``path==values`` filters giving them (at least
#: those that match: the filters still decide), so a filtered listing need not build every object's view.
Listed = list[dict[str, Any]] | Callable[[dict[str, list[str]]], list[dict[str, Any]]]


def narrowed(cont: Container, kind: str, wanted: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The stored objects of ``kind`` a listing filtered by ``wanted`` (``{path: values}``) may answer: those
    with one of the ids, or one of the values of an indexed field, else all."""
    items = cont.items[kind]
    if "id" in wanted:
        return [items[i] for i in dict.fromkeys(wanted["id"]) if i in items]
    for path, values in wanted.items():
        if cont.indexed(kind, path):
            return cont.where(kind, path, values)
    return list(items.values())


def list_page(request: Request, objects: Listed, collection: str) -> dict[str, Any]:
    """Filter, order and page a Flow Service collection (``objects`` are public views).

    Filters follow :mod:`aep_emulator.flow_service_filters`. The next link carries only the continuation
    token, as in flow-service.yaml (``PageLink``: ``/connections?continuationToken=...``), and the token carries
    the listing's ``property``/``orderby``/``limit``: a client may follow the link as given or send its query
    again with it (the same query; another one is refused, :func:`_continued`).
    """
    q = request.query_params
    count = q.get("count", "").lower() == "true"
    if count and "limit" in q:
        raise FLOW_SERVICE.bad_request(
            "The limit and count parameters cannot be given together in the same request.", "1401-400"
        )
    offset, query = _continued(request)
    try:
        predicates = flow_service_filters.parse(list(query["property"]))
    except flow_service_filters.FlowFilterError as exc:
        raise FLOW_SERVICE.bad_request(str(exc), exc.code) from exc
    if callable(objects):
        objects = objects(flow_service_filters.equalities(query["property"]))
    objects = [o for o in objects if all(p(o) for p in predicates)]
    if count:
        return {"count": len(objects)}
    orderby = query["orderby"] or "createdAt"
    desc = orderby.startswith("-")
    key = orderby.lstrip("+-")
    if not key:
        raise FLOW_SERVICE.bad_request(f"Incorrect field {orderby!r} passed in orderBy, examples are +name, -name, name.", BAD_SORT)
    objects.sort(key=flow_service_filters.sort_key(key), reverse=desc)
    try:
        limit = int(query["limit"] if query["limit"] is not None else DEFAULT_LIMIT)
    except ValueError as exc:
        raise FLOW_SERVICE.bad_request("limit must be an integer") from exc
    if limit <= 0:
        raise FLOW_SERVICE.bad_request("limit must be a positive integer")
    limit = min(limit, MAX_LIMIT)
    page = objects[offset : offset + limit]
    out: dict[str, Any] = {"items": page}
    if offset + limit < len(objects):
        href = f"/{collection}?continuationToken={quote(_encode_token(offset + limit, query), safe='')}"
        out["_links"] = {"next": {"href": href}}
    else:
        out["_links"] = {}
    return out


def views(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [public(o) for o in items.values()]
