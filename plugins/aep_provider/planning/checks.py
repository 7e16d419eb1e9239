"""What the plan checks before any write: mapping destinations against the target schema's class and field
groups (read from the Schema Registry's global resources), and source columns against the explored table.

A failure here is a configuration error (:class:`AepConfigError`): no retry can fix it.
"""

from __future__ import annotations

from typing import Any

from aep_provider.hooks.errors import AepConfigError, AepNotFoundError
from aep_provider.hooks.transport import XED_FULL
from aep_provider.models.data_prep import Mapping
from aep_provider.models.schema_registry import xdm_paths
from aep_provider.operators.explore import AepExploreSourceOperator, unknown_table_error
from aep_provider.operators.mapping import check_destinations
from aep_provider.operators.schema import expand_ref
from aep_provider.planning.models import PlanRow


class GlobalPaths:
    """The field paths of standard classes and field groups, each read once (``xed-full`` view)."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        self._paths: dict[tuple[str, str], list[str]] = {}

    def of(self, kind: str, ref: str) -> list[str]:
        ref = expand_ref(ref)
        if (kind, ref) not in self._paths:
            resource = self.hook.get_resource(kind, ref, accept=XED_FULL)
            if resource is None:
                what = "class" if kind == "classes" else "field group"
                raise AepConfigError(
                    f"target_schema: the {what} {ref!r} does not exist in the Schema Registry; use a standard "
                    f"{what} $id such as https://ns.adobe.com/xdm/context/profile."
                )
            self._paths[(kind, ref)] = xdm_paths(resource)
        return self._paths[(kind, ref)]

    def schema_paths(self, row: PlanRow, found: dict[str, Any] | None = None) -> list[str]:
        """Every path a schema of the row's class and field groups has; for a target schema that exists (and is
        reused as it is, whatever field groups it has), the paths of the class and field groups its ``allOf``
        names - the schema the mapping set will really be checked against by Data Prep."""
        if found is None:
            class_ref, groups = row.class_ref, list(row.field_groups)
        else:
            class_ref = str(found.get("meta:class") or row.class_ref)
            refs = [str(p["$ref"]) for p in found.get("allOf") or [] if isinstance(p, dict) and p.get("$ref")]
            groups = [ref for ref in refs if expand_ref(ref) != expand_ref(class_ref)]
        paths = set(self.of("classes", class_ref))
        for group in groups:
            paths.update(self.of("fieldgroups", group))
        return sorted(paths)


def check_mappings(row: PlanRow, paths: list[str]) -> None:
    """Every mapping destination is a path of the target schema, else a config error naming the closest."""
    try:
        rules = [Mapping(**rule) for rule in row.mappings]
    except (TypeError, ValueError) as exc:
        raise AepConfigError(f"[{row.key}] mappings: {exc}") from None
    try:
        check_destinations(rules, paths, f"{row.name('target_schema')!r} ({row.class_ref})")
    except AepConfigError as exc:
        raise AepConfigError(f"[{row.key}] {exc}") from None


def used_columns(row: PlanRow) -> list[str]:
    """Every column the object's chain reads."""
    return sorted({*(row.fields or {}), *(str(rule["source"]) for rule in row.mappings), row.delta_column})


def check_columns(hook: Any, row: PlanRow, base_connection_id: str) -> list[str]:
    """Explore the row's table through the HubSpot base connection; every used column must exist.

    :return: the table's columns.
    """
    try:
        body = hook.explore(base_connection_id, row.source)
    except AepNotFoundError as missing:
        raise unknown_table_error(hook, base_connection_id, row.source, "source", missing) from None
    columns = list(((body or {}).get("schema") or {}).get("columns") or [])
    try:
        AepExploreSourceOperator._check_required(row.source, columns, used_columns(row))
    except AepConfigError as exc:
        raise AepConfigError(f"[{row.key}] {exc}") from None
    return [str(column.get("name")) for column in columns]
