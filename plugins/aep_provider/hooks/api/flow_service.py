"""Flow Service calls (``/data/foundation/flowservice``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from aep_provider.flow_runs import Which, one_run_query, pick_run
from aep_provider.hooks.api.lookup import filter_safe
from aep_provider.hooks.api.protocol import PlatformCalls, get_or_none
from aep_provider.hooks.ids import checked_id, path_id
from aep_provider.hooks.paging import iter_flow_service
from aep_provider.hooks.transport import service_path

Collection = Literal["connections", "sourceConnections", "targetConnections", "flows", "runs", "flowSpecs"]


def _fs(path: str) -> str:
    return service_path("flowservice", path)


#: The runs of every flow (help/dataflows/api/monitor.md); the sync and the async hook read them alike.
RUNS_PATH = _fs("/runs")


def runs_filter(flow_id: str) -> dict[str, Any]:
    """The query of every run of a flow: ``property=flowId==<id>`` (monitor.md)."""
    return {"property": f"flowId=={checked_id('flows', flow_id)}"}


def run_path(run_id: str) -> str:
    return _fs(f"/runs/{path_id('runs', run_id)}")


def first_item(body: Any) -> dict[str, Any] | None:
    """The object of a Flow Service read by id (answered as ``{"items": [object]}``)."""
    items = (body or {}).get("items") or []
    return items[0] if items else None


def of_flow(runs: Iterable[dict[str, Any]], flow_id: str) -> list[dict[str, Any]]:
    """The runs of ``flow_id`` among ``runs`` (a run that names no flow is taken as the filter's)."""
    return [run for run in runs if run.get("flowId") in (None, flow_id)]


def one_run_of(body: Any, flow_id: str, which: Which) -> dict[str, Any] | None:
    """The run ``which`` from the answer to :func:`one_run_query`, also when the service ignored ``orderby``."""
    return pick_run(of_flow((body or {}).get("items", []), flow_id), which)


class FlowServiceApi(PlatformCalls):
    def iter_flow_service(
        self, collection: Collection, params: dict[str, Any] | None = None
    ) -> Iterator[dict]:
        return iter_flow_service(self.get, _fs(f"/{collection}"), params)

    def find_by_name(self, collection: Collection, name: str) -> list[dict[str, Any]]:
        """Every object of ``collection`` named ``name`` (Flow Service names are not unique).

        A name a filter cannot express exactly (a comma is OR) is looked up on the whole list; see
        :mod:`aep_provider.hooks.api.lookup`."""
        params = {"property": f"name=={name}"} if filter_safe(name) else None
        items = self.iter_flow_service(collection, params)
        return [item for item in items if item.get("name") == name]

    def get_object(self, collection: Collection, object_id: str) -> dict[str, Any] | None:
        path = _fs(f"/{collection}/{path_id(collection, object_id)}")
        return first_item(get_or_none(self, path))

    def create_object(self, collection: Collection, body: dict[str, Any]) -> dict[str, Any]:
        """POST; answers ``{"id", "etag"}``."""
        return self.post(_fs(f"/{collection}"), body)

    def delete_object(self, collection: Collection, object_id: str) -> bool:
        return self.delete(_fs(f"/{collection}/{path_id(collection, object_id)}"))

    def explore(self, base_connection_id: str, object_path: str | None = None, preview: bool = False) -> Any:
        if object_path:
            params: dict[str, Any] = {"objectType": "table", "object": object_path}
            if preview:
                params["preview"] = "true"
        else:
            params = {"objectType": "root"}
        return self.get(_fs(f"/connections/{path_id('connections', base_connection_id)}/explore"), params)

    def get_flow_spec(self, name: str) -> dict[str, Any] | None:
        body = self.get(_fs("/flowSpecs"), {"property": f'name=="{name}"'})
        for item in (body or {}).get("items", []):
            if str(item.get("name", "")).strip('"') == name:
                return item
        return None

    def list_runs(self, flow_id: str) -> list[dict[str, Any]]:
        """Every run of a flow (``property=flowId==<id>``, monitor.md), page after page."""
        return of_flow(self.iter_flow_service("runs", runs_filter(flow_id)), flow_id)

    def one_run(self, flow_id: str, which: Which = "latest") -> dict[str, Any] | None:
        """The flow's latest (or first) run from one small page: ``orderby=-createdAt&limit=1``
        (help/dataflows/api/sort-and-filter.md), so a long-lived flow's history is never paged through."""
        return one_run_of(self.get(RUNS_PATH, one_run_query(checked_id("flows", flow_id), which)), flow_id, which)
