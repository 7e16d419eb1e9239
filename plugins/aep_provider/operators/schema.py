"""Schema Registry operators: ad-hoc class, ad-hoc schema, target (profile) schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aep_provider.hooks.errors import AepConfigError, AepConflictError, AepNotFoundError
from aep_provider.hooks.transport import XED_SINGLE
from aep_provider.links import AepClassLink, AepSchemaLink
from aep_provider.models.common import PROFILE_CLASS_REF, PROFILE_PERSON_DETAILS, PROFILE_PERSONAL_DETAILS
from aep_provider.models.schema_registry import (
    AdhocClassCreate,
    SchemaCreate,
    column_field_type,
    normalize_field_type,
)
from aep_provider.operators._validation import build_model
from aep_provider.operators.base import AepBaseOperator
from aep_provider.operators.batch import AepItem
from aep_provider.operators.explore import unknown_table_error
from aep_provider.planning.apply import LOOK_UP, is_planned, planned_answer

DEFAULT_FIELD_GROUPS = [PROFILE_PERSON_DETAILS, PROFILE_PERSONAL_DETAILS]
XDM_CONTEXT = "https://ns.adobe.com/xdm/context/"


def expand_ref(ref: str) -> str:
    """``profile-person-details`` -> ``https://ns.adobe.com/xdm/context/profile-person-details``."""
    ref = str(ref).strip()
    return ref if "://" in ref else XDM_CONTEXT + ref


class _TitledResourceOperator(AepBaseOperator):
    """Create a tenant class/schema by title, or reuse the one that has that title."""

    kind: str = "schemas"

    def create_or_reuse(self, title: str, body: dict[str, Any], planned: Any = LOOK_UP) -> dict[str, Any]:
        hook = self.hook
        kind: Any = self.kind

        def lookup() -> dict[str, Any] | None:
            found = hook.find_by_title(kind, title)
            if found is None:
                return None
            return hook.get_resource(kind, found["$id"], accept=XED_SINGLE) or found

        resource, _ = hook.create_idempotent(
            what=f"{self.kind[:-1] if self.kind != 'classes' else 'class'} '{title}'",
            lookup=lookup,
            create=lambda: hook.create_resource(kind, body),
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


class AepCreateAdhocClassOperator(_TitledResourceOperator):
    """Create (or reuse by title) an ad-hoc XDM class describing the raw source columns.

    :param title: class title, unique in the sandbox (templated).
    :param fields: ``{column: type}`` with types string/number/integer/boolean/date/date-time; when
        ``None`` the fields come from exploring ``source_path`` through ``base_connection_id``.
    :param base_connection_id: HubSpot base connection to explore (templated).
    :param source_path: table to explore, e.g. ``Hubspot.Contacts`` (templated).
    :return: the class ``$id``; XCom keys ``meta_alt_id``, ``dataset_namespace`` (the ``_<hex>`` object
        that holds the fields) and ``fields`` (``{column: type}`` as created).
    """

    operator_extra_links = (AepClassLink(),)

    kind = "classes"
    item_fields: Sequence[str] = ("title", "fields", "base_connection_id", "source_path", "description", "planned")
    template_fields: Sequence[str] = (*AepBaseOperator.template_fields, *item_fields)
    required_fields: Sequence[str] = ("title",)
    identity_fields: Sequence[str] = ("title",)

    def __init__(
        self,
        *,
        title: str | None = None,
        fields: dict[str, str] | None = None,
        base_connection_id: str | None = None,
        source_path: str | None = None,
        description: str = "",
        planned: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.planned = planned
        self.title = title
        self.fields = fields
        self.base_connection_id = base_connection_id
        self.source_path = source_path
        self.description = description
        self.check_required()

    def _fields(self, item: AepItem) -> dict[str, str]:
        if item.fields["fields"]:
            return dict(item.fields["fields"])
        if not (item.base_connection_id and item.source_path):
            raise AepConfigError(
                "AepCreateAdhocClassOperator needs fields={column: type}, or base_connection_id and "
                "source_path so the columns can be explored."
            )
        try:
            body = self.hook.explore(item.base_connection_id, item.source_path)
        except AepNotFoundError as missing:
            raise unknown_table_error(
                self.hook, item.base_connection_id, item.source_path, "source_path", missing
            ) from None
        columns = ((body or {}).get("schema") or {}).get("columns") or []
        if not columns:
            raise AepConfigError(
                f"{item.label}Exploring source_path={item.source_path!r} through base connection "
                f"{item.base_connection_id} found no columns; check the table path."
            )
        return {str(c["name"]): column_field_type(c) for c in columns}

    def execute_item(self, context: Any, item: AepItem) -> str:
        fields = {name: normalize_field_type(t) for name, t in self._fields(item).items()}
        model = build_model(
            f"{item.label}ad-hoc class",
            lambda: AdhocClassCreate(title=item.title, description=item.description or "", fields=fields),  # type: ignore[arg-type]
        )
        resource = self.create_or_reuse(str(item.title), model.to_body(), planned_answer(item.planned, context))
        item.output("meta_alt_id", resource.get("meta:altId"))
        item.output("dataset_namespace", resource.get("meta:datasetNamespace"))
        item.output("fields", fields)
        self.persist_link(context, AepClassLink, item, id=resource["$id"])
        return resource["$id"]


class AepCreateAdhocSchemaOperator(_TitledResourceOperator):
    """Create (or reuse by title) an ad-hoc schema on an ad-hoc class.

    :param title: schema title (templated).
    :param class_id: the ad-hoc class ``$id`` (templated).
    :return: the schema ``$id``; XCom key ``meta_alt_id``.
    """

    operator_extra_links = (AepSchemaLink(),)

    item_fields: Sequence[str] = ("title", "class_id", "description", "planned")
    template_fields: Sequence[str] = (*AepBaseOperator.template_fields, *item_fields)
    required_fields: Sequence[str] = ("title", "class_id")
    identity_fields: Sequence[str] = ("title",)

    def __init__(
        self, *, title: str | None = None, class_id: str | None = None, description: str = "",
        planned: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.planned = planned
        self.title = title
        self.class_id = class_id
        self.description = description
        self.check_required()

    def execute_item(self, context: Any, item: AepItem) -> str:
        title, class_id = str(item.title), str(item.class_id)
        model = build_model(
            f"{item.label}ad-hoc schema",
            lambda: SchemaCreate.from_refs(title, [class_id], item.description or ""),
        )
        planned = planned_answer(item.planned, context)
        if not is_planned(planned) and self.hook.get_resource("classes", class_id, accept=XED_SINGLE) is None:
            raise AepConfigError(
                f"{item.label}class_id={class_id!r} does not exist in sandbox {self.hook.sandbox}; pass the $id "
                "returned by AepCreateAdhocClassOperator."
            )
        resource = self.create_or_reuse(title, model.to_body(), planned)
        self.check_class(resource, class_id)
        item.output("meta_alt_id", resource.get("meta:altId"))
        self.persist_link(context, AepSchemaLink, item, id=resource["$id"])
        return resource["$id"]


class AepCreateTargetSchemaOperator(_TitledResourceOperator):
    """Create (or reuse by title) the target XDM schema: a class plus field groups.

    Duplicate references (such as the tutorial's doubled ``profile-personal-details``) are removed.

    :param title: schema title (templated).
    :param class_ref: the XDM class, default XDM Individual Profile.
    :param field_groups: field group ``$id`` s.
    :return: the schema ``$id``; XCom key ``meta_alt_id``.
    """

    operator_extra_links = (AepSchemaLink(),)

    item_fields: Sequence[str] = ("title", "class_ref", "field_groups", "description", "planned")
    template_fields: Sequence[str] = (*AepBaseOperator.template_fields, *item_fields)
    required_fields: Sequence[str] = ("title",)
    identity_fields: Sequence[str] = ("title",)

    def __init__(
        self,
        *,
        title: str | None = None,
        class_ref: str = PROFILE_CLASS_REF,
        field_groups: list[str] | None = None,
        description: str = "",
        planned: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.planned = planned
        self.title = title
        self.class_ref = class_ref
        self.field_groups = list(DEFAULT_FIELD_GROUPS) if field_groups is None else field_groups
        self.description = description
        self.check_required()

    def execute_item(self, context: Any, item: AepItem) -> str:
        title = str(item.title)
        class_ref = str(item.class_ref or PROFILE_CLASS_REF)
        groups = list(DEFAULT_FIELD_GROUPS) if item.field_groups is None else list(item.field_groups)
        model = build_model(
            f"{item.label}target schema",
            lambda: SchemaCreate.from_refs(
                title, [expand_ref(r) for r in [class_ref, *groups]], item.description or ""
            ),
        )
        resource = self.create_or_reuse(title, model.to_body(), planned_answer(item.planned, context))
        self.check_class(resource, class_ref)
        item.output("meta_alt_id", resource.get("meta:altId"))
        self.persist_link(context, AepSchemaLink, item, id=resource["$id"])
        return resource["$id"]
