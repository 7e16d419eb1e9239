"""Explore the tables of a HubSpot base connection (seed step 0: know what to ingest)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aep_provider.hooks.errors import AepApiError, AepConfigError, AepNotFoundError
from aep_provider.operators.base import AepRowsOperator
from aep_provider.operators.rows import Row

if TYPE_CHECKING:
    from aep_provider.hooks.aep import AepHook


def unknown_table_error(
    hook: AepHook, base_connection_id: str, path: str, field: str, cause: AepApiError
) -> AepConfigError:
    """The error for a table path the base connection does not have, listing the ones it has."""
    try:
        listing = hook.explore(base_connection_id) or []
        tables = ", ".join(str(t.get("path") or t.get("name")) for t in listing if isinstance(t, dict))
    except AepApiError:
        tables = "the tables the base connection lists (e.g. Hubspot.Contacts)"
    return AepConfigError(
        f"{field}={path!r} is not a table of base connection {base_connection_id} ({cause.detail}); "
        f"set {field} (objects[].source of an onboarding spec) to one of: {tables}."
    )


@dataclass(frozen=True)
class ExploreFields:
    base_connection_id: str = ""
    object_path: str | None = None
    required_columns: list[str] = field(default_factory=list)
    #: The table's column names as a plan read them (the onboarding plan's ``plan.explored``): checked
    #: without exploring the table again. ``None``: explore.
    explored: list[str] | None = None


class AepExploreSourceOperator(AepRowsOperator[ExploreFields]):
    """List the tables of a source base connection, or the columns of one table.

    ``GET /connections/{id}/explore?objectType=root`` or ``objectType=table&object=<path>``.

    :param base_connection_id: the HubSpot base connection (templated).
    :param object_path: a table path such as ``Hubspot.Contacts`` (templated); ``None`` lists tables.
    :param preview: with a table, also fetch sample rows (pushed under XCom key ``preview``).
    :param required_columns: with a table, columns that must exist (for example a mapping's sources and
        the delta column); a missing one fails the task, naming the closest columns. Being read-only, this
        makes a cheap check before anything is written for the table.
    :return: the list of tables (root) or the table's columns.
    """

    creates = False  # no named resource: no write lease

    Fields = ExploreFields

    def __init__(
        self,
        *,
        preview: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.preview = preview

    def execute_row(self, context: Any, row: Row[ExploreFields]) -> list[dict[str, Any]]:
        base_connection_id = str(row.fields.base_connection_id)
        if not row.fields.object_path:
            tables = list(self.hook.explore(base_connection_id) or [])
            self.log.info("%sBase connection %s has %d tables", row.label, base_connection_id, len(tables))
            return tables
        path = str(row.fields.object_path)
        if row.fields.explored is not None and not self.preview:
            columns = [{"name": name} for name in row.fields.explored]
            self.log.info("%s%s has %d columns (as the plan read them)", row.label, path, len(columns))
            check_required_columns(path, columns, list(row.fields.required_columns or []))
            return columns
        try:
            body = self.hook.explore(base_connection_id, path, self.preview)
        except AepNotFoundError as missing:
            raise unknown_table_error(self.hook, base_connection_id, path, "object_path", missing) from None
        columns = list(((body or {}).get("schema") or {}).get("columns") or [])
        self.log.info("%s%s has %d columns", row.label, path, len(columns))
        check_required_columns(path, columns, list(row.fields.required_columns or []))
        if self.preview:
            row.output("preview", (body or {}).get("data") or [])
        return columns


def check_required_columns(path: str, columns: list[dict[str, Any]], required: list[str]) -> None:
    """Every ``required`` column is one of the explored table's ``columns``, else an error naming the closest."""
    names = [str(column.get("name")) for column in columns]
    missing = [column for column in required if column not in names]
    if not missing:
        return
    hints = "; ".join(
        f"{column!r}: closest {difflib.get_close_matches(column, names, n=3, cutoff=0.5) or 'none'}"
        for column in missing
    )
    raise AepConfigError(
        f"{path} has no column {', '.join(map(repr, missing))} (required_columns: the "
        f"mapping sources and delta column of objects[].mapping / delta_column); {hints}. "
        f"Its columns: {', '.join(names)}."
    )
