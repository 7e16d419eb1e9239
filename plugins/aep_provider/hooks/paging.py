"""Paging of the four list styles of the Platform APIs, one core for the sync and the async hook.

A :class:`Pages` object is the state of one listing (no I/O): :meth:`Pages.next_request` says which
page to ask for next (``None`` after the last), :meth:`Pages.take` reads an answered page and returns
its new items. :func:`iter_pages` drives it with a sync ``get(path, params)``, :func:`aiter_pages`
with an async one. None of them skips or repeats an item: each page is requested from where the
previous one ended, and an item already returned (same id) is not returned again.

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

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode, urlsplit

Getter = Callable[[str, "dict[str, Any] | None"], Any]
AsyncGetter = Callable[[str, "dict[str, Any] | None"], Awaitable[Any]]
Request = tuple[str, "dict[str, Any] | None"]
T = TypeVar("T")

CATALOG_MAX_LIMIT = 100
SCHEMA_REGISTRY_MAX_LIMIT = 300
MAX_PAGES = 10_000


class PagingError(RuntimeError):
    """The service answered a page that would make the iterator loop or skip."""


class Pages(Generic[T]):
    """The state of one listing of ``path``: the next request, the ids already returned, the pages read."""

    def __init__(self, path: str, first: Request) -> None:
        self.path = path
        self._next: Request | None = first
        self._error: PagingError | None = None
        self._seen: set[str] = set()
        self._pages = 0

    def next_request(self) -> Request | None:
        """``(path, params)`` of the next page, ``None`` after the last; raises what the last page showed wrong."""
        if self._error is not None:
            raise self._error
        return self._next

    def take(self, body: Any) -> list[T]:
        """The items of an answered page not returned before; moves on to the page after it."""
        self._pages += 1
        items, nxt = self.read(body or {})
        if nxt is not None and not isinstance(nxt, PagingError) and self._pages >= MAX_PAGES:
            nxt = PagingError(f"More than {MAX_PAGES} pages for {self.path}")
        self._next, self._error = (None, nxt) if isinstance(nxt, PagingError) else (nxt, None)
        fresh = []
        for key, item in items:
            if key not in self._seen:
                self._seen.add(key)
                fresh.append(item)
        return fresh

    def read(self, body: Any) -> tuple[list[tuple[str, T]], Request | PagingError | None]:
        """``([(id, item)], the next request or why there is none that can be trusted, or None at the end)``."""
        raise NotImplementedError


def iter_pages(get: Getter, pages: Pages[T]) -> Iterator[T]:
    """Every item of the listing, asking ``get`` for one page at a time (lazily)."""
    while (request := pages.next_request()) is not None:
        yield from pages.take(get(*request))


async def aiter_pages(get: AsyncGetter, pages: Pages[T]) -> AsyncIterator[T]:
    """:func:`iter_pages` with an async ``get``."""
    while (request := pages.next_request()) is not None:
        for item in pages.take(await get(*request)):
            yield item


def _by_id(items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(str(item.get("id") or item), item) for item in items]


class SchemaRegistryPages(Pages[dict[str, Any]]):
    def __init__(self, path: str, params: dict[str, Any] | None = None) -> None:
        self.params = dict(params or {})
        self.params.setdefault("orderby", "title")
        self._starts: set[str] = set()
        super().__init__(path, (path, dict(self.params)))

    def read(self, body: Any) -> tuple[list[tuple[str, dict[str, Any]]], Request | PagingError | None]:
        items = [(str(item.get("$id") or item.get("meta:altId") or item), item) for item in body.get("results", [])]
        nxt = (body.get("_page") or {}).get("next")
        if nxt in (None, ""):
            return items, None
        if str(nxt) in self._starts:
            return items, PagingError(f"Schema Registry returned the same next start {nxt!r} twice for {self.path}")
        self._starts.add(str(nxt))
        self.params["start"] = nxt
        return items, (self.path, dict(self.params))


class OffsetPages(Pages[T]):
    """Lists paged with ``start`` (0-based offset) and ``limit``."""

    def __init__(self, path: str, params: dict[str, Any] | None, page_size: int) -> None:
        self.params = dict(params or {})
        self.offset = int(self.params.pop("start", 0))
        self.page_size = page_size
        self.path = path
        super().__init__(path, self._at(0))

    def _at(self, advance: int) -> Request:
        self.offset += advance
        return self.path, {**self.params, "start": self.offset, "limit": self.page_size}


class CatalogPages(OffsetPages[tuple[str, dict[str, Any]]]):
    """``(id, object)`` pairs of a Catalog list (answers are maps keyed by id)."""

    def __init__(self, path: str, params: dict[str, Any] | None = None, page_size: int = CATALOG_MAX_LIMIT) -> None:
        if not 1 <= page_size <= CATALOG_MAX_LIMIT:
            raise ValueError(f"Catalog page_size must be 1..{CATALOG_MAX_LIMIT}, got {page_size}")
        super().__init__(path, params, page_size)

    def read(self, body: Any) -> tuple[list[tuple[str, tuple[str, dict[str, Any]]]], Request | PagingError | None]:
        if not isinstance(body, dict):
            raise PagingError(f"Catalog list {self.path} did not answer a map keyed by id")
        items = [(key, (key, obj)) for key, obj in body.items()]
        return items, None if len(body) < self.page_size else self._at(len(body))


class DataPrepPages(OffsetPages[dict[str, Any]]):
    def __init__(self, path: str, params: dict[str, Any] | None = None, page_size: int = 100) -> None:
        super().__init__(path, params, page_size)

    def read(self, body: Any) -> tuple[list[tuple[str, dict[str, Any]]], Request | PagingError | None]:
        data = body.get("data", []) if isinstance(body, dict) else []
        served_limit = ((body.get("_page") or {}).get("limit") if isinstance(body, dict) else None) or self.page_size
        last = not data or len(data) < min(self.page_size, int(served_limit))
        return _by_id(data), None if last else self._at(len(data))


def next_href_query(body: dict[str, Any]) -> str | None:
    """The raw query string of ``_links.next.href``, untouched (never split at ``=``)."""
    links = body.get("_links") or {}
    nxt = links.get("next")
    href = nxt.get("href") if isinstance(nxt, dict) else nxt
    if not href or not isinstance(href, str):
        return None
    query = urlsplit(href).query
    return query or None


def next_flow_service_path(path: str, params: dict[str, Any] | None, body: dict[str, Any]) -> str | None:
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


class FlowServicePages(Pages[dict[str, Any]]):
    def __init__(self, path: str, params: dict[str, Any] | None = None) -> None:
        self.params = dict(params or {})
        self._links: set[str] = set()
        super().__init__(path, (path, self.params or None))

    def read(self, body: Any) -> tuple[list[tuple[str, dict[str, Any]]], Request | PagingError | None]:
        items = _by_id(body.get("items", []))
        nxt = next_flow_service_path(self.path, self.params, body)
        if nxt is None:
            return items, None
        if nxt in self._links:
            return items, PagingError(f"Flow Service returned the same next link twice for {self.path}")
        self._links.add(nxt)
        return items, (nxt, None)


def iter_schema_registry(get: Getter, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    return iter_pages(get, SchemaRegistryPages(path, params))


def iter_catalog(
    get: Getter, path: str, params: dict[str, Any] | None = None, *, page_size: int = CATALOG_MAX_LIMIT
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(id, object)`` pairs of a Catalog list (answers are maps keyed by id)."""
    return iter_pages(get, CatalogPages(path, params, page_size))


def iter_flow_service(get: Getter, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    return iter_pages(get, FlowServicePages(path, params))


def iter_data_prep(
    get: Getter, path: str, params: dict[str, Any] | None = None, *, page_size: int = 100
) -> Iterator[dict[str, Any]]:
    return iter_pages(get, DataPrepPages(path, params, page_size))
