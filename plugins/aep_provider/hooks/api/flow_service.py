"""Flow Service calls (``/data/foundation/flowservice``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from aep_provider.flow_runs import run as runs
from aep_provider.flow_runs.interval import Interval, interval_query, interval_runs_from
from aep_provider.flow_runs.run import FlowRun, Which
from aep_provider.hooks.api.lookup import filter_safe
from aep_provider.hooks.api.protocol import PlatformCalls, get_or_none
from aep_provider.hooks.ids import path_id
from aep_provider.hooks.paging import iter_flow_service
from aep_provider.hooks.transport import service_path

Collection = Literal["connections", "sourceConnections", "targetConnections", "flows", "runs", "flowSpecs"]


def _fs(path: str) -> str:
    return service_path("flowservice", path)


def first_item(body: Any) -> dict[str, Any] | None:
    """The object of a Flow Service read by id (answered as ``{"items": [object]}``)."""
    items = (body or {}).get("items") or []
    return items[0] if items else None


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

    # -- runs: the same requests and reading as the async hook's (flow_runs/run.py) ---------------------------
    def get_run(self, run_id: str) -> FlowRun | None:
        """A run by id; ``None`` when Flow Service does not know it."""
        return runs.run_from(get_or_none(self, runs.run_path(run_id)))

    def list_runs(self, flow_id: str) -> list[FlowRun]:
        """Every run of a flow (``property=flowId==<id>``, monitor.md), page after page."""
        return runs.runs_from(self.iter_flow_service("runs", runs.runs_query(flow_id)), flow_id)

    def one_run(self, flow_id: str, which: Which = "latest") -> FlowRun | None:
        """The flow's latest (or first) run from one small page: ``orderby=-createdAt&limit=1``
        (help/dataflows/api/sort-and-filter.md), so a long-lived flow's history is never paged through."""
        return runs.one_run_from(self.get(runs.RUNS_PATH, runs.one_run_query(flow_id, which)), flow_id, which)

    def interval_runs(self, flow_id: str, interval: Interval) -> list[FlowRun]:
        """The runs of a flow created in ``interval``, oldest first: one listing filtered by ``flowId`` and
        ``createdAt`` (help/dataflows/api/sort-and-filter.md; ``flow_runs/interval.py``), every page sent with the
        filter."""
        return interval_runs_from(self.iter_flow_service("runs", interval_query(flow_id, interval)), flow_id, interval)
