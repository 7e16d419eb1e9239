"""Catalog calls (``/data/foundation/catalog``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aep_provider.hooks.api.lookup import catalog_name_value, filter_safe
from aep_provider.hooks.api.protocol import PlatformCalls, get_or_none
from aep_provider.hooks.errors import AepApiError, AepNotFoundError
from aep_provider.hooks.ids import checked_id, path_id
from aep_provider.hooks.paging import iter_catalog
from aep_provider.hooks.transport import service_path


def _cat(path: str) -> str:
    return service_path("catalog", path)


def dataset_id_from_ref(ref: str) -> str:
    """``"@/dataSets/<id>"`` -> ``<id>``."""
    return ref.rsplit("/", 1)[-1]


class CatalogApi(PlatformCalls):
    def iter_datasets(self, params: dict[str, Any] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        return iter_catalog(self.get, _cat("/dataSets"), params)

    def find_datasets_by_name(self, name: str) -> list[tuple[str, dict[str, Any]]]:
        params = {"properties": "name,schemaRef,created"}
        if filter_safe(name):  # else the whole list, compared exactly (hooks/api/lookup.py)
            params["property"] = f"name=={catalog_name_value(name)}"
        return [(i, d) for i, d in self.iter_datasets(params) if d.get("name") == name]

    def get_dataset(self, dataset_id: str) -> dict[str, Any] | None:
        path = _cat(f"/dataSets/{path_id('dataSets', dataset_id)}")
        body = get_or_none(self, path)
        if isinstance(body, dict):
            return body.get(dataset_id) or next(iter(body.values()), None)
        return None

    def create_dataset(self, body: dict[str, Any]) -> str:
        refs = self.post(_cat("/dataSets"), body, params={"requestDataSource": "true"})
        if not isinstance(refs, list) or not refs:
            raise AepApiError(f"Catalog answered an unexpected body to a dataset create: {refs!r}")
        return checked_id("dataSets", dataset_id_from_ref(str(refs[0])))

    def delete_dataset(self, dataset_id: str) -> bool:
        """``True`` if deleted, ``False`` if it was already gone: Catalog answers a delete of an unknown
        id with 200 and an empty array (help/catalog/api/delete-object.md), older answers were 404."""
        try:
            refs = self.request("DELETE", _cat(f"/dataSets/{path_id('dataSets', dataset_id)}"))
        except AepNotFoundError:
            return False
        return not (isinstance(refs, list) and not refs)
