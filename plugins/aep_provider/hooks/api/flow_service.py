"""Flow Service calls (``/data/foundation/flowservice``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from aep_provider.hooks.api.lookup import filter_safe
from aep_provider.hooks.errors import AepNotFoundError
from aep_provider.hooks.ids import checked_id, path_id
from aep_provider.hooks.paging import iter_flow_service
from aep_provider.hooks.runs import Which, one_run_query, pick_run
from aep_provider.hooks.transport import service_path

Collection = Literal["connections", "sourceConnections", "targetConnections", "flows", "runs", "flowSpecs"]


def _fs(path: str) -> str:
    return service_path("flowservice", path)


class FlowServiceApi:
    def iter_flow_service(
        self, collection: Collection, params: dict[str, Any] | None = None
    ) -> Iterator[dict]:
        return iter_flow_service(self.get, _fs(f"/{collection}"), params)  # type: ignore[attr-defined]

    def find_by_name(self, collection: Collection, name: str) -> list[dict[str, Any]]:
        """Every object of ``collection`` named ``name`` (Flow Service names are not unique).

        A name a filter cannot express exactly (a comma is OR) is looked up on the whole list; see
        :mod:`aep_provider.hooks.api.lookup`."""
        params = {"property": f"name=={name}"} if filter_safe(name) else None
        items = self.iter_flow_service(collection, params)
        return [item for item in items if item.get("name") == name]

    def get_object(self, collection: Collection, object_id: str) -> dict[str, Any] | None:
        path = _fs(f"/{collection}/{path_id(collection, object_id)}")
        try:
            body = self.get(path)  # type: ignore[attr-defined]
        except AepNotFoundError:
            return None
        items = (body or {}).get("items") or []
        return items[0] if items else None

    def create_object(self, collection: Collection, body: dict[str, Any]) -> dict[str, Any]:
        """POST; answers ``{"id", "etag"}``."""
        return self.post(_fs(f"/{collection}"), body)  # type: ignore[attr-defined]

    def delete_object(self, collection: Collection, object_id: str) -> bool:
        return self.delete(_fs(f"/{collection}/{path_id(collection, object_id)}"))  # type: ignore[attr-defined]

    def explore(self, base_connection_id: str, object_path: str | None = None, preview: bool = False) -> Any:
        if object_path:
            params: dict[str, Any] = {"objectType": "table", "object": object_path}
            if preview:
                params["preview"] = "true"
        else:
            params = {"objectType": "root"}
        return self.get(_fs(f"/connections/{path_id('connections', base_connection_id)}/explore"), params)  # type: ignore[attr-defined]

    def get_flow_spec(self, name: str) -> dict[str, Any] | None:
        body = self.get(_fs("/flowSpecs"), {"property": f'name=="{name}"'})  # type: ignore[attr-defined]
        for item in (body or {}).get("items", []):
            if str(item.get("name", "")).strip('"') == name:
                return item
        return None

    def list_runs(self, flow_id: str) -> list[dict[str, Any]]:
        """Every run of a flow (``property=flowId==<id>``, monitor.md), page after page."""
        return list(self.iter_flow_service("runs", {"property": f"flowId=={checked_id('flows', flow_id)}"}))

    def one_run(self, flow_id: str, which: Which = "latest") -> dict[str, Any] | None:
        """The flow's latest (or first) run from one small page: ``orderby=-createdAt&limit=1``
        (help/dataflows/api/sort-and-filter.md), so a long-lived flow's history is never paged through."""
        body = self.get(_fs("/runs"), one_run_query(checked_id("flows", flow_id), which))  # type: ignore[attr-defined]
        items = [item for item in (body or {}).get("items", []) if item.get("flowId") in (None, flow_id)]
        return pick_run(items, which)
