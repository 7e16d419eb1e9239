"""Look-ups that cannot miss: filters hold on every page, names a filter cannot express are still
found, error hints match codes with or without a service prefix."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from aep_provider.hooks.paging import iter_flow_service
from aep_provider.outcomes import Kind

WANTED = "4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c"
OTHER = "0c1d2e3f-4a5b-4c6d-8e7f-901234567890"
ALL = [{"id": f"r{i:02d}", "flowId": WANTED if i % 2 else OTHER} for i in range(20)]


class TokenOnlyFlowService:
    """A Flow Service list like Adobe's: ``_links.next.href`` holds only ``continuationToken``
    (flow-service.yaml: ``/connections?continuationToken=abcdefghijkLMNOPqrstupWXKYZ``); the filter
    applies to a page only when the request sends it."""

    def __init__(self) -> None:
        self.queries: list[dict[str, list[str]]] = []

    def answer(self, path: str, params: dict[str, Any] | None) -> dict[str, Any]:
        query = parse_qs(urlsplit(path).query)
        for key, value in (params or {}).items():
            query.setdefault(key, []).append(str(value))
        self.queries.append(query)
        items = ALL
        for expression in query.get("property", []):
            field, _, value = expression.partition("==")
            items = [i for i in items if str(i.get(field)) == value]
        limit = int(query.get("limit", ["4"])[0])
        offset = int(query.get("continuationToken", ["0"])[0])
        page = items[offset : offset + limit]
        body: dict[str, Any] = {"items": page, "_links": {}}
        if offset + limit < len(items):
            body["_links"]["next"] = {"href": f"/runs?continuationToken={offset + limit}"}
        return body


def test_every_flow_service_page_keeps_the_original_filter_and_order():
    """A filtered look-up whose next link carries only the token would, without its filter, read other
    flows' runs from page two on; every page must carry ``property``, ``orderby`` and ``limit``."""
    service = TokenOnlyFlowService()
    params = {"property": f"flowId=={WANTED}", "orderby": "createdAt", "limit": 3}
    got = list(iter_flow_service(service.answer, "/flowservice/runs", params))
    assert [r["id"] for r in got] == [r["id"] for r in ALL if r["flowId"] == WANTED]
    assert len(service.queries) == 4
    for query in service.queries:
        assert query["property"] == [f"flowId=={WANTED}"]
        assert query["orderby"] == ["createdAt"] and query["limit"] == ["3"]


async def test_the_async_run_listing_keeps_its_flow_filter_on_every_page(monkeypatch):
    """The trigger's run listing pages the same way: no other flow's run is taken for this flow's."""
    from aep_provider.hooks.aep_async import AepAsyncHook

    service = TokenOnlyFlowService()

    async def fake_get(self: AepAsyncHook, path: str, params: dict[str, Any] | None = None) -> Any:
        return service.answer(path, params)

    monkeypatch.setattr(AepAsyncHook, "get", fake_get)
    runs = await AepAsyncHook().list_runs(WANTED)
    assert [r.id for r in runs] == [r["id"] for r in ALL if r["flowId"] == WANTED]
    assert len(service.queries) == 3
    assert all(q["property"] == [f"flowId=={WANTED}"] for q in service.queries)


@pytest.mark.parametrize(
    ("name", "safe"),
    [("Contacts flow", True), ("alpha,beta", False), ('"quoted"', False), ("it's", True), ("", False)],
)
def test_names_a_filter_cannot_express_exactly_are_recognised(name: str, safe: bool):
    """A comma is OR in a Flow Service filter and quotes are stripped: such names need the wide query."""
    from aep_provider.hooks.api.lookup import filter_safe

    assert filter_safe(name) is safe


def test_a_name_with_a_comma_is_found_and_never_created_twice(aep_conn_env):
    """``property=name==alpha,beta`` finds ``alpha`` or ``beta``, never ``alpha,beta``: the look-up lists
    without the name filter and compares exactly, so the second create-or-reuse reuses."""
    from aep_provider.hooks.aep import AepHook
    from aep_provider.models.flow_service import DatasetBaseConnectionCreate
    from aep_provider.operators._named import create_named

    hook = AepHook()
    for decoy in ("alpha", "beta"):
        hook.create_object("connections", DatasetBaseConnectionCreate(name=decoy).to_body())
    body = DatasetBaseConnectionCreate(name="alpha,beta").to_body()

    def ensure() -> tuple[dict[str, Any], bool]:
        return create_named(hook, collection="connections", kind=Kind.DATASET_BASE_CONNECTION, name="alpha,beta",
                            body=body, matches=lambda obj: True, describe=lambda obj: str(obj.get("name")))

    first, created = ensure()
    again, created_again = ensure()
    assert created and not created_again and again["id"] == first["id"]
    assert [c["id"] for c in hook.find_by_name("connections", "alpha,beta")] == [first["id"]]
    names = sorted(c["name"] for c in hook.iter_flow_service("connections"))
    assert names == ["alpha", "alpha,beta", "beta"]


def test_a_dataset_and_a_schema_title_with_a_comma_are_found(aep_conn_env):
    """The same rule for Catalog names and Schema Registry titles."""
    from aep_provider.hooks.aep import AepHook

    hook = AepHook()
    schema = hook.create_resource("schemas", {"title": "Contacts, EU", "description": "comma title", "type": "object",
                                              "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]})
    assert (hook.find_by_title("schemas", "Contacts, EU") or {}).get("$id") == schema["$id"]
    dataset_id = hook.create_dataset({"name": "Contacts, EU", "schemaRef": {"id": schema["$id"]}})
    assert [i for i, _ in hook.find_datasets_by_name("Contacts, EU")] == [dataset_id]


def test_deleting_a_dataset_twice_reports_it_was_already_gone(aep_conn_env):
    """Catalog answers a delete of an unknown id with 200 and ``[]`` (delete-object.md): the hook
    reports "already gone" instead of "deleted"."""
    from aep_provider.hooks.aep import AepHook

    hook = AepHook()
    schema = hook.create_resource("schemas", {"title": "Delete twice", "description": "twice", "type": "object",
                                              "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]})
    dataset_id = hook.create_dataset({"name": "twice", "schemaRef": {"id": schema["$id"]}})
    assert hook.delete_dataset(dataset_id) is True
    assert hook.delete_dataset(dataset_id) is False


@pytest.mark.parametrize("code", ["1403-400", "FLOW-1403-400", "flow-1403-400"])
def test_flow_service_hints_match_with_or_without_a_service_prefix(code: str):
    """A real answer may name the code ``FLOW-1403-400`` or ``1403-400``; the advice is the same."""
    from aep_provider.hooks.errors import hint_for

    assert hint_for(code) == hint_for("1403-400") and "If-Match" in (hint_for(code) or "")


@pytest.mark.parametrize("code", ["XDM-1521-400", "1521-400"])
def test_schema_registry_hints_match_with_or_without_xdm(code: str):
    from aep_provider.hooks.errors import hint_for

    assert "title already exists" in (hint_for(code) or "")


def test_the_emulators_own_codes_get_no_advice():
    """``EMU-400`` is not Adobe's: no hint pretends to know what it means."""
    from aep_provider.hooks.errors import hint_for

    assert hint_for("EMU-400") is None and hint_for("403010") is not None


def test_a_dataset_name_with_an_asterisk_is_looked_up_literally(aep_conn_env, monkeypatch):
    """help/catalog/api/filter-data.md: `*` in a Catalog `name` filter is a wildcard and `**` a literal asterisk:
    the look-up doubles it, so `te*st` finds that dataset only (Catalog answers only it, not `test` too)."""
    from aep_provider.hooks.aep import AepHook

    hook = AepHook()
    schema = hook.create_resource("schemas", {"title": "Star names", "description": "asterisk", "type": "object",
                                              "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]})
    star = hook.create_dataset({"name": "te*st", "schemaRef": {"id": schema["$id"]}})
    hook.create_dataset({"name": "test", "schemaRef": {"id": schema["$id"]}})
    answered: list[str] = []
    real = AepHook.iter_datasets

    def counting(self: AepHook, params: dict[str, Any] | None = None) -> Any:
        for dataset_id, dataset in real(self, params):
            answered.append(str(dataset.get("name")))
            yield dataset_id, dataset

    monkeypatch.setattr(AepHook, "iter_datasets", counting)
    assert [i for i, _ in hook.find_datasets_by_name("te*st")] == [star]
    assert answered == ["te*st"]
