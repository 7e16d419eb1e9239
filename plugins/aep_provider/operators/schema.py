"""Schema Registry operators: ad-hoc class, ad-hoc schema, target (profile) schema."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aep_provider.hooks.errors import AepConfigError, AepConflictError, AepNotFoundError
from aep_provider.links import AepClassLink, AepSchemaLink
from aep_provider.models.common import (
    PROFILE_CLASS_REF,
    PROFILE_PERSON_DETAILS,
    PROFILE_PERSONAL_DETAILS,
    XED_SINGLE,
)
from aep_provider.models.schema_registry import (
    AdhocClassCreate,
    SchemaCreate,
    column_field_type,
    normalize_field_type,
)
from aep_provider.operators.base import AepRowsOperator
from aep_provider.operators.explore import unknown_table_error
from aep_provider.operators.rows import F, Row
from aep_provider.operators.validation import build_model
from aep_provider.outcomes import Kind
from aep_provider.planned import NOT_PLANNED, Planned

DEFAULT_FIELD_GROUPS = [PROFILE_PERSON_DETAILS, PROFILE_PERSONAL_DETAILS]
XDM_CONTEXT = "https://ns.adobe.com/xdm/context/"


def expand_ref(ref: str) -> str:
    """``profile-person-details`` -> ``https://ns.adobe.com/xdm/context/profile-person-details``."""
    ref = str(ref).strip()
    return ref if "://" in ref else XDM_CONTEXT + ref


@dataclass(frozen=True)
class AdhocClassFields:
    title: str = ""
    fields: dict[str, str] | None = None
    base_connection_id: str | None = None
    source_path: str | None = None
    description: str | None = None
    #: The plan's entry for this resource (a :class:`~aep_provider.planned.ResourcePlan`); ``None``: not planned.
    planned: dict[str, Any] | None = None
    #: The table's columns as an earlier task explored them (``AepExploreSourceOperator``'s return value): used
    #: instead of exploring ``source_path`` again when they carry their types.
    columns: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class AdhocSchemaFields:
    title: str = ""
    class_id: str = ""
    description: str | None = None
    #: The plan's entry for this resource (a :class:`~aep_provider.planned.ResourcePlan`); ``None``: not planned.
    planned: dict[str, Any] | None = None


@dataclass(frozen=True)
class TargetSchemaFields:
    title: str = ""
    class_ref: str = PROFILE_CLASS_REF
    field_groups: list[str] | None = field(default_factory=lambda: list(DEFAULT_FIELD_GROUPS))
    description: str | None = None
    #: The plan's entry for this resource (a :class:`~aep_provider.planned.ResourcePlan`); ``None``: not planned.
    planned: dict[str, Any] | None = None


class _TitledResourceOperator(AepRowsOperator[F]):
    """Create a tenant class/schema by title, or reuse the one that has that title."""

    kind: str = "schemas"
    outcome_kind: Kind = Kind.SCHEMA
    identity_fields: Sequence[str] = ("title",)

    def create_or_reuse(self, title: str, body: dict[str, Any], planned: Planned[Any] = NOT_PLANNED) -> dict[str, Any]:
        hook = self.hook
        kind: Any = self.kind

        def lookup() -> dict[str, Any] | None:
            found = hook.find_by_title(kind, title)
            if found is None:
                return None
            return hook.get_resource(kind, found["$id"], accept=XED_SINGLE) or found

        resource, _ = hook.create_idempotent(
            kind=self.outcome_kind, name=title, lookup=lookup, create=lambda: hook.create_resource(kind, body),
            planned=planned,
        )
        return resource

    def check_class(self, resource: dict[str, Any], class_id: str) -> None:
        """A reused schema must be on the requested class: a title clash is an error, not a reuse."""
        actual = resource.get("meta:class")
        if actual and actual != class_id:
            raise AepConflictError(
                f"A schema titled {resource.get('title')!r} already exists on class {actual}, not on "
                f"{class_id}; choose another title or delete schema {resource['$id']}."
            )


class AepCreateAdhocClassOperator(_TitledResourceOperator[AdhocClassFields]):
    """Create (or reuse by title) an ad-hoc XDM class describing the raw source columns.

    :param title: class title, unique in the sandbox (templated).
    :param fields: ``{column: type}`` with types string/number/integer/boolean/date/date-time; when
        ``None`` the fields come from exploring ``source_path`` through ``base_connection_id``.
    :param base_connection_id: HubSpot base connection to explore (templated).
    :param source_path: table to explore, e.g. ``Hubspot.Contacts`` (templated).
    :param columns: the table's columns as an earlier task explored them (its return value, with their types):
        taken instead of exploring again (templated; per row through ``inputs``).
    :return: the class ``$id``; XCom keys ``meta_alt_id``, ``dataset_namespace`` (the ``_<hex>`` object
        that holds the fields) and ``fields`` (``{column: type}`` as created).
    """

    operator_extra_links = (AepClassLink(),)

    kind = "classes"
    outcome_kind = Kind.CLASS
    Fields = AdhocClassFields

    def _fields(self, row: Row[AdhocClassFields]) -> dict[str, str]:
        if row.fields.fields:
            return dict(row.fields.fields)
        explored = row.fields.columns or []
        if explored and all(isinstance(c, dict) and c.get("name") and ("xdm" in c or "type" in c) for c in explored):
            return {str(c["name"]): column_field_type(c) for c in explored}
        if not (row.fields.base_connection_id and row.fields.source_path):
            raise AepConfigError(
                "AepCreateAdhocClassOperator needs fields={column: type}, or base_connection_id and "
                "source_path so the columns can be explored."
            )
        try:
            body = self.hook.explore(row.fields.base_connection_id, row.fields.source_path)
        except AepNotFoundError as missing:
            raise unknown_table_error(
                self.hook, row.fields.base_connection_id, row.fields.source_path, "source_path", missing
            ) from None
        columns = ((body or {}).get("schema") or {}).get("columns") or []
        if not columns:
            raise AepConfigError(
                f"{row.label}Exploring source_path={row.fields.source_path!r} through base connection "
                f"{row.fields.base_connection_id} found no columns; check the table path."
            )
        return {str(c["name"]): column_field_type(c) for c in columns}

    def execute_row(self, context: Any, row: Row[AdhocClassFields]) -> str:
        fields = {name: normalize_field_type(t) for name, t in self._fields(row).items()}
        model = build_model(
            f"{row.label}ad-hoc class",
            lambda: AdhocClassCreate(title=row.fields.title, description=row.fields.description or "", fields=fields),  # type: ignore[arg-type]
        )
        resource = self.create_or_reuse(str(row.fields.title), model.to_body(), Planned.of(row.fields.planned, context))
        row.output("meta_alt_id", resource.get("meta:altId"))
        row.output("dataset_namespace", resource.get("meta:datasetNamespace"))
        row.output("fields", fields)
        self.persist_link(context, AepClassLink, row, id=resource["$id"])
        return resource["$id"]


class AepCreateAdhocSchemaOperator(_TitledResourceOperator[AdhocSchemaFields]):
    """Create (or reuse by title) an ad-hoc schema on an ad-hoc class.

    :param title: schema title (templated).
    :param class_id: the ad-hoc class ``$id`` (templated).
    :return: the schema ``$id``; XCom key ``meta_alt_id``.
    """

    operator_extra_links = (AepSchemaLink(),)

    Fields = AdhocSchemaFields

    def execute_row(self, context: Any, row: Row[AdhocSchemaFields]) -> str:
        title, class_id = str(row.fields.title), str(row.fields.class_id)
        model = build_model(
            f"{row.label}ad-hoc schema",
            lambda: SchemaCreate.from_refs(title, [class_id], row.fields.description or ""),
        )
        planned = Planned.of(row.fields.planned, context)
        if planned.look_up and self.hook.get_resource("classes", class_id, accept=XED_SINGLE) is None:
            raise AepConfigError(
                f"{row.label}class_id={class_id!r} does not exist in sandbox {self.hook.sandbox}; pass the $id "
                "returned by AepCreateAdhocClassOperator."
            )
        resource = self.create_or_reuse(title, model.to_body(), planned)
        self.check_class(resource, class_id)
        row.output("meta_alt_id", resource.get("meta:altId"))
        self.persist_link(context, AepSchemaLink, row, id=resource["$id"])
        return resource["$id"]


class AepCreateTargetSchemaOperator(_TitledResourceOperator[TargetSchemaFields]):
    """Create (or reuse by title) the target XDM schema: a class plus field groups.

    Duplicate references (such as the tutorial's doubled ``profile-personal-details``) are removed.

    :param title: schema title (templated).
    :param class_ref: the XDM class, default XDM Individual Profile.
    :param field_groups: field group ``$id`` s.
    :return: the schema ``$id``; XCom key ``meta_alt_id``.
    """

    operator_extra_links = (AepSchemaLink(),)

    Fields = TargetSchemaFields

    def execute_row(self, context: Any, row: Row[TargetSchemaFields]) -> str:
        title = str(row.fields.title)
        class_ref = str(row.fields.class_ref or PROFILE_CLASS_REF)
        groups = list(DEFAULT_FIELD_GROUPS) if row.fields.field_groups is None else list(row.fields.field_groups)
        model = build_model(
            f"{row.label}target schema",
            lambda: SchemaCreate.from_refs(
                title, [expand_ref(r) for r in [class_ref, *groups]], row.fields.description or ""
            ),
        )
        resource = self.create_or_reuse(title, model.to_body(), Planned.of(row.fields.planned, context))
        self.check_class(resource, class_ref)
        row.output("meta_alt_id", resource.get("meta:altId"))
        self.persist_link(context, AepSchemaLink, row, id=resource["$id"])
        return resource["$id"]
