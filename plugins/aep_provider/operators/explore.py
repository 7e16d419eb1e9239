"""Explore the tables of a HubSpot base connection (seed step 0: know what to ingest)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aep_provider.operators.base import AepBaseOperator


class AepExploreSourceOperator(AepBaseOperator):
    """List the tables of a source base connection, or the columns of one table.

    ``GET /connections/{id}/explore?objectType=root`` or ``objectType=table&object=<path>``.

    :param base_connection_id: the HubSpot base connection (templated).
    :param object_path: a table path such as ``Hubspot.Contacts`` (templated); ``None`` lists tables.
    :param preview: with a table, also fetch sample rows (pushed under XCom key ``preview``).
    :return: the list of tables (root) or the table's columns.
    """

    template_fields: Sequence[str] = (*AepBaseOperator.template_fields, "base_connection_id", "object_path")

    def __init__(
        self, *, base_connection_id: str, object_path: str | None = None, preview: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.base_connection_id = base_connection_id
        self.object_path = object_path
        self.preview = preview

    def execute(self, context: Any) -> list[dict[str, Any]]:
        body = self.hook.explore(self.base_connection_id, self.object_path, self.preview)
        if not self.object_path:
            tables = list(body or [])
            self.log.info("Base connection %s has %d tables", self.base_connection_id, len(tables))
            return tables
        columns = list(((body or {}).get("schema") or {}).get("columns") or [])
        self.log.info("%s has %d columns", self.object_path, len(columns))
        if self.preview:
            self.push(context, "preview", (body or {}).get("data") or [])
        return columns
