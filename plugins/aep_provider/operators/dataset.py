"""Catalog operator: the target dataset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aep_provider.hooks.duplicates import copies_of, refuse_copies
from aep_provider.hooks.errors import AepConfigError, AepConflictError
from aep_provider.links import AepDatasetLink
from aep_provider.models.catalog import DatasetCreate
from aep_provider.models.common import XED_SINGLE
from aep_provider.operators.base import AepRowsOperator
from aep_provider.operators.rows import Row
from aep_provider.operators.validation import build_model
from aep_provider.outcomes import Kind
from aep_provider.planned import Planned


@dataclass(frozen=True)
class DatasetFields:
    name: str = ""
    schema_id: str = ""
    #: The plan's entry for this dataset (a :class:`~aep_provider.planned.ResourcePlan`); ``None``: not planned.
    planned: dict[str, Any] | None = None


class AepCreateDatasetOperator(AepRowsOperator[DatasetFields]):
    """Create (or reuse by name) a dataset on the target schema.

    A dataset of that name on *another* schema is an error naming both schemas, not a silent reuse.

    :param name: dataset name (templated).
    :param schema_id: the target schema ``$id`` (templated); checked to exist before the create.
    :return: the dataset id.
    """

    operator_extra_links = (AepDatasetLink(),)

    Fields = DatasetFields
    identity_fields: Sequence[str] = ("name",)

    def execute_row(self, context: Any, row: Row[DatasetFields]) -> str:
        name, schema_id = str(row.fields.name), str(row.fields.schema_id)
        model = build_model(f"{row.label}dataset", lambda: DatasetCreate.for_schema(name, schema_id))
        hook = self.hook

        schema_checked = False

        def lookup() -> str | None:
            """The dataset of that name on this schema; before the first create, the schema must exist (a clear
            error rather than Catalog's)."""
            nonlocal schema_checked
            found = hook.find_datasets_by_name(name)
            refuse_copies([copies_of(Kind.DATASET, name, [{"id": i, **d} for i, d in found])])
            for dataset_id, dataset in found:
                existing_schema = (dataset.get("schemaRef") or {}).get("id")
                if existing_schema in (None, schema_id):
                    return dataset_id
                raise AepConflictError(
                    f"Dataset {name!r} ({dataset_id}) already exists on schema {existing_schema}, not on "
                    f"schema_id {schema_id}; use another dataset name or delete dataset {dataset_id}."
                )
            if not schema_checked:
                schema_checked = True
                if hook.get_resource("schemas", schema_id, accept=XED_SINGLE) is None:
                    raise AepConfigError(
                        f"{row.label}schema_id={schema_id!r} does not exist in sandbox {hook.sandbox}; pass the $id "
                        "returned by AepCreateTargetSchemaOperator."
                    )
            return None

        dataset_id, _ = hook.create_idempotent(
            kind=Kind.DATASET, name=name, lookup=lookup, create=lambda: hook.create_dataset(model.to_body()),
            planned=Planned.of(row.fields.planned, context, lambda found: str(found["id"])),
        )
        self.persist_link(context, AepDatasetLink, row, id=dataset_id)
        return dataset_id
