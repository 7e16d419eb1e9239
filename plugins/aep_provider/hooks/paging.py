"""Paging iterators for the four list styles of the Platform APIs.

Each iterator takes ``get(path, params) -> parsed JSON body`` so the paging rules can be tested
without HTTP. None of them skips or repeats an item: each page is requested from where the previous
one ended, and an item already yielded (same id) is not yielded again.

* Schema Registry: ``{"results": [...], "_page": {"next": <start value or null>}}``, next page with
  ``start=<_page.next>``.
* Catalog: a map keyed by id, offsets with ``start`` (0-based) and ``limit`` (max 100), no next link.
* Flow Service: ``{"items": [...], "_links": {"next": {"href": "/flows?continuationToken=..."}}}``. The
  href carries only the continuation token (flow-service.yaml's example
  ``/connections?continuationToken=abcdefghijkLMNOPqrstupWXKYZ``), so every next page is the href's
  query, replayed as is (the token may contain ``=``, ``+`` or ``/``), plus each parameter of the
  original query (``property``, ``orderby``, ``limit``...) the href does not carry: a filter holds
  on every page.
* Data Prep: ``{"data": [...], "_page": {"count", "limit"}}`` with ``start``/``limit`` offsets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

Getter = Callable[[str, "dict[str, Any] | None"], Any]

CATALOG_MAX_LIMIT = 100
SCHEMA_REGISTRY_MAX_LIMIT = 300
MAX_PAGES = 10_000


class PagingError(RuntimeError):
    """The service answered a page that would make the iterator loop or skip."""


def iter_schema_registry(get: Getter, path: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
    params = dict(params or {})
    params.setdefault("orderby", "title")
    seen: set[str] = set()
    starts: set[str] = set()
    for _ in range(MAX_PAGES):
        body = get(path, params) or {}
        for item in body.get("results", []):
            key = str(item.get("$id") or item.get("meta:altId") or item)
            if key not in seen:
                seen.add(key)
                yield item
        nxt = (body.get("_page") or {}).get("next")
        if nxt in (None, ""):
            return
        if str(nxt) in starts:
            raise PagingError(f"Schema Registry returned the same next start {nxt!r} twice for {path}")
        starts.add(str(nxt))
        params["start"] = nxt
    raise PagingError(f"More than {MAX_PAGES} pages for {path}")


def iter_catalog(
    get: Getter, path: str, params: dict[str, Any] | None = None, *, page_size: int = CATALOG_MAX_LIMIT
) -> Iterator[tuple[str, dict]]:
    """Yield ``(id, object)`` pairs of a Catalog list (answers are maps keyed by id)."""
    if not 1 <= page_size <= CATALOG_MAX_LIMIT:
        raise ValueError(f"Catalog page_size must be 1..{CATALOG_MAX_LIMIT}, got {page_size}")
    params = dict(params or {})
    offset = int(params.pop("start", 0))
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        body = get(path, {**params, "start": offset, "limit": page_size}) or {}
        if not isinstance(body, dict):
            raise PagingError(f"Catalog list {path} did not answer a map keyed by id")
        for key, obj in body.items():
            if key not in seen:
                seen.add(key)
                yield key, obj
        if len(body) < page_size:
            return
        offset += len(body)
    raise PagingError(f"More than {MAX_PAGES} pages for {path}")


def next_href_query(body: dict) -> str | None:
    """The raw query string of ``_links.next.href``, untouched (never split at ``=``)."""
    links = body.get("_links") or {}
    nxt = links.get("next")
    href = nxt.get("href") if isinstance(nxt, dict) else nxt
    if not href or not isinstance(href, str):
        return None
    query = urlsplit(href).query
    return query or None


def next_flow_service_path(path: str, params: dict[str, Any] | None, body: dict) -> str | None:
    """The path and query of the page after ``body`` of the list ``path`` first asked with ``params``.

    ``None`` on the last page. The query of ``_links.next.href`` is kept byte for byte; each original
    parameter the href does not carry is appended (a list value as repeated parameters).
    """
    query = next_href_query(body)
    if not query:
        return None
    present = {part.split("=", 1)[0] for part in query.split("&") if part}
    missing = {k: v for k, v in (params or {}).items() if k not in present and v is not None}
    extra = f"&{urlencode(missing, doseq=True)}" if missing else ""
    return f"{path}?{query}{extra}"


def iter_flow_service(get: Getter, path: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
    base_params = dict(params or {})
    seen: set[str] = set()
    pages: set[str] = set()
    request_path, request_params = path, base_params or None
    for _ in range(MAX_PAGES):
        body = get(request_path, request_params) or {}
        for item in body.get("items", []):
            key = str(item.get("id") or item)
            if key not in seen:
                seen.add(key)
                yield item
        nxt = next_flow_service_path(path, base_params, body)
        if nxt is None:
            return
        if nxt in pages:
            raise PagingError(f"Flow Service returned the same next link twice for {path}")
        pages.add(nxt)
        request_path, request_params = nxt, None
    raise PagingError(f"More than {MAX_PAGES} pages for {path}")


def iter_data_prep(
    get: Getter, path: str, params: dict[str, Any] | None = None, *, page_size: int = 100
) -> Iterator[dict]:
    params = dict(params or {})
    offset = int(params.pop("start", 0))
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        body = get(path, {**params, "start": offset, "limit": page_size}) or {}
        data = body.get("data", []) if isinstance(body, dict) else []
        for item in data:
            key = str(item.get("id") or item)
            if key not in seen:
                seen.add(key)
                yield item
        served_limit = (
            (body.get("_page") or {}).get("limit") if isinstance(body, dict) else None
        ) or page_size
        if not data or len(data) < min(page_size, int(served_limit)):
            return
        offset += len(data)
    raise PagingError(f"More than {MAX_PAGES} pages for {path}")
