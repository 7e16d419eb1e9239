"""Paging iterators: every item once, for each of the four list styles."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from aep_provider.hooks.paging import (
    PagingError,
    iter_catalog,
    iter_data_prep,
    iter_flow_service,
    iter_schema_registry,
)

ITEMS = [f"item-{i:02d}" for i in range(23)]


def profile_schema(hook: Any, title: str) -> dict[str, Any]:
    """A profile schema titled ``title``, created through ``hook`` (datasets and mapping sets need one)."""
    body = {"title": title, "type": "object", "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]}
    return hook.create_resource("schemas", body)


def test_schema_registry_pages_follow_page_next_without_skipping_or_repeating():
    calls: list[dict[str, Any]] = []

    def get(path: str, params: dict[str, Any] | None) -> dict[str, Any]:
        params = dict(params or {})
        calls.append(params)
        start = params.get("start")
        rest = [t for t in ITEMS if start is None or t >= start]
        page, more = rest[:5], rest[5:]
        return {
            "results": [{"$id": f"https://ns/{t}", "title": t} for t in page],
            "_page": {"orderby": "title", "next": more[0] if more else None, "count": len(page)},
        }

    titles = [r["title"] for r in iter_schema_registry(get, "/tenant/classes")]
    assert titles == ITEMS
    assert len(calls) == 5
    assert all(c["orderby"] == "title" for c in calls)


def test_schema_registry_repeated_next_is_an_error_not_a_loop():
    def get(path, params):
        return {"results": [{"$id": "a"}], "_page": {"next": "same"}}

    with pytest.raises(PagingError):
        list(iter_schema_registry(get, "/tenant/classes"))


def test_catalog_offsets_walk_an_id_keyed_map_page_by_page():
    seen_starts = []

    def get(path, params):
        start, limit = params["start"], params["limit"]
        seen_starts.append(start)
        return {f"id{t}": {"name": t} for t in ITEMS[start : start + limit]}

    pairs = list(iter_catalog(get, "/dataSets", page_size=10))
    assert [obj["name"] for _, obj in pairs] == ITEMS
    assert seen_starts == [0, 10, 20]


def test_catalog_page_size_is_bounded_by_the_documented_maximum():
    with pytest.raises(ValueError):
        list(iter_catalog(lambda p, q: {}, "/dataSets", page_size=101))


@pytest.mark.parametrize("token_chars", ["abc==", "a+b/c=d=", "x%3D%3D&y"])
def test_flow_service_continuation_tokens_are_replayed_whole(token_chars):
    """Tokens with '=' '+' '/' are not cut at '=' (the aepp bug)."""
    pages = {None: (0, 8), "p2": (8, 16), "p3": (16, 23)}
    tokens = {"p2": f"p2{token_chars}", "p3": f"p3{token_chars}"}
    requested: list[str] = []

    def get(path: str, params):
        query = urlsplit(path).query
        requested.append(path)
        key = None
        if query:
            raw = query.split("continuationToken=", 1)[1].split("&property=")[0]
            key = next(k for k, v in tokens.items() if v == raw)
            assert "property=" in query  # original filter kept
        lo, hi = pages[key]
        nxt = {"p2": None, None: "p2"}.get(key) if key != "p2" else "p3"
        if key is None:
            nxt = "p2"
        body = {"items": [{"id": t} for t in ITEMS[lo:hi]], "_links": {}}
        if nxt:
            body["_links"]["next"] = {"href": f"/flows?continuationToken={tokens[nxt]}"}
        return body

    ids = [i["id"] for i in iter_flow_service(get, "/flowservice/flows", {"property": "name==x"})]
    assert ids == ITEMS
    assert len(requested) == 3
    assert parse_qs(urlsplit(requested[0]).query) == {}  # first call carries params separately


def test_data_prep_pages_use_start_and_limit():
    def get(path, params):
        start, limit = params["start"], params["limit"]
        data = [{"id": t} for t in ITEMS[start : start + limit]]
        return {"data": data, "_page": {"count": len(data), "limit": limit}}

    assert [m["id"] for m in iter_data_prep(get, "/mappingSets", page_size=4)] == ITEMS


def test_schema_registry_paging_against_the_emulator(aep_conn_env):
    """Seven classes, three per page: each class comes back exactly once."""
    from aep_provider.hooks.aep import AepHook

    hook = AepHook()
    titles = [f"Paging class {i}" for i in range(7)]
    for t in titles:
        hook.create_resource(
            "classes",
            {
                "title": t,
                "type": "object",
                "allOf": [
                    {"$ref": "https://ns.adobe.com/xdm/data/adhoc"},
                    {"properties": {"_adhoc": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                ],
            },
        )
    got = [r["title"] for r in hook.iter_tenant("classes", {"limit": 3})]
    assert sorted(got) == titles and len(got) == 7


def test_catalog_paging_against_the_emulator(aep_conn_env):
    """Five datasets read two per page: each dataset comes back exactly once."""
    from aep_provider.hooks.aep import AepHook
    from aep_provider.hooks.paging import iter_catalog
    from aep_provider.hooks.transport import service_path

    hook = AepHook()
    schema = profile_schema(hook, "Paging schema")
    made = {
        hook.create_dataset({"name": f"ds {i}", "schemaRef": {"id": schema["$id"], "contentType": "x"}})
        for i in range(5)
    }
    got = [i for i, _ in iter_catalog(hook.get, service_path("catalog", "/dataSets"), page_size=2)]
    assert sorted(got) == sorted(made)


def test_flow_service_paging_against_the_emulator(aep_conn_env):
    """Seven base connections read three per page through continuation tokens: each comes back once."""
    from aep_provider.hooks.aep import AepHook
    from aep_provider.models.flow_service import DatasetBaseConnectionCreate

    hook = AepHook()
    made = {
        hook.create_object("connections", DatasetBaseConnectionCreate(name=f"paging {i}").to_body())["id"]
        for i in range(7)
    }
    got = [c["id"] for c in hook.iter_flow_service("connections", {"limit": 3})]
    assert sorted(got) == sorted(made)


def test_data_prep_paging_against_the_emulator(aep_conn_env):
    """Five mapping sets read two per page: each comes back once."""
    from aep_provider.hooks.aep import AepHook
    from aep_provider.hooks.paging import iter_data_prep
    from aep_provider.hooks.transport import service_path

    hook = AepHook()
    schema = profile_schema(hook, "DP paging")
    made = set()
    for i in range(5):
        body = {
            "version": 0,
            "xdmSchema": schema["$id"],
            "xdmVersion": "1.0",
            "id": None,
            "name": f"dp {i}",
            "mappings": [
                {"sourceAttribute": f"c{i}", "destinationXdmPath": "_id", "identity": False, "version": 0}
            ],
        }
        made.add(hook.create_mapping_set(body)["id"])
    got = [m["id"] for m in iter_data_prep(hook.get, service_path("conversion", "/mappingSets"), page_size=2)]
    assert sorted(got) == sorted(made)
