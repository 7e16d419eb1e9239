"""Data Prep calls (``/data/foundation/conversion``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aep_provider.hooks.api.protocol import PlatformCalls, get_or_none
from aep_provider.hooks.ids import path_id
from aep_provider.hooks.paging import iter_data_prep
from aep_provider.hooks.transport import service_path


def _dp(path: str) -> str:
    return service_path("conversion", path)


class DataPrepApi(PlatformCalls):
    def iter_mapping_sets(self, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every mapping set (``params``: filters), oldest first: pages are offsets (``start``), and the listing's
        default order is the last update (data-prep.yaml ``orderBy``, default ``lastUpdateDate``), which a set
        updated while the pages are read would shift; ``+createdDate`` ("Prepend the property name with ``+`` for
        ascending order") does not move."""
        return iter_data_prep(self.get, _dp("/mappingSets"), {"orderBy": "+createdDate", **(params or {})})

    def get_mapping_set(self, mapping_set_id: str, version: Any = None) -> dict[str, Any] | None:
        """One mapping set with its rules. data-prep.yaml's ``version`` "Determines which version of the mapping
        set to retrieve" with ``default: 0``, so without it a set at version 2 may answer its first rules: pass
        the version the listing shows (docs/adobe-contract.md)."""
        path = _dp(f"/mappingSets/{path_id('mappingSets', mapping_set_id)}")
        return get_or_none(self, path, None if version is None else {"version": version})

    def create_mapping_set(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.post(_dp("/mappingSets"), body)
