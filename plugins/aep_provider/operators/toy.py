"""A toy operator, added by following docs/architecture.md "How to add an operator" (removed next commit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.transport import XED_SINGLE
from aep_provider.links import AepSchemaLink
from aep_provider.operators.base import AepRowsOperator
from aep_provider.operators.rows import Row


@dataclass(frozen=True)
class SchemaTitleFields:
    schema_id: str = ""


class AepGetSchemaTitleOperator(AepRowsOperator[SchemaTitleFields]):
    """Read a schema's title. :return: ``{key: title}``."""

    Fields = SchemaTitleFields
    required_fields: Sequence[str] = ("schema_id",)
    operator_extra_links = (AepSchemaLink(),)

    def execute_row(self, context: Any, row: Row[SchemaTitleFields]) -> str:
        schema = self.hook.get_resource("schemas", row.fields.schema_id, accept=XED_SINGLE)
        if schema is None:
            raise AepConfigError(f"{row.label}schema_id={row.fields.schema_id!r} does not exist; pass a schema $id.")
        row.output("meta_alt_id", schema.get("meta:altId"))
        self.persist_link(context, AepSchemaLink, row, id=row.fields.schema_id)
        return str(schema["title"])
