"""Catalog operator: the target dataset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aep_provider.hooks.duplicates import Copies, Copy, refuse_copies
from aep_provider.hooks.errors import AepConfigError, AepConflictError
from aep_provider.hooks.transport import XED_SINGLE
from aep_provider.links import AepDatasetLink
from aep_provider.models.catalog import DatasetCreate
from aep_provider.operators._validation import build_model
from aep_provider.operators.base import AepRowsOperator
from aep_provider.operators.rows import Row
from aep_provider.planning.apply import is_planned, planned_answer


@dataclass(frozen=True)
class DatasetFields:
    name: str = ""
    schema_id: str = ""
    #: The plan's entry for this dataset (``AepPlanOperator``); ``None``: look it up as without a plan.
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

        def lookup() -> str | None:
            found = hook.find_datasets_by_name(name)
            refuse_copies([Copies("dataset", name, [Copy(i, d.get("created")) for i, d in found])])
            for dataset_id, dataset in found:
                existing_schema = (dataset.get("schemaRef") or {}).get("id")
                if existing_schema in (None, schema_id):
                    return dataset_id
                raise AepConflictError(
                    f"Dataset {name!r} ({dataset_id}) already exists on schema {existing_schema}, not on "
                    f"schema_id {schema_id}; use another dataset name or delete dataset {dataset_id}."
                )
            return None

        def create() -> str:
            return hook.create_dataset(model.to_body())

        planned = planned_answer(row.fields.planned, context, lambda found: str(found["id"]))
        planned_create = is_planned(planned)
        existing = planned if planned_create else lookup()
        if existing is None and not planned_create and hook.get_resource("schemas", schema_id, accept=XED_SINGLE) is None:
            raise AepConfigError(
                f"{row.label}schema_id={schema_id!r} does not exist in sandbox {hook.sandbox}; pass the $id "
                "returned by AepCreateTargetSchemaOperator."
            )
        dataset_id, _ = hook.create_idempotent(
            what=f"dataset '{name}'", lookup=lookup, create=create, planned=existing
        )
        self.persist_link(context, AepDatasetLink, row, id=dataset_id)
        return dataset_id
