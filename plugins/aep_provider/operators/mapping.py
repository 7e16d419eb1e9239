"""Data Prep operator: the mapping set from source columns to target schema paths."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aep_provider.hooks.duplicates import copies_of, refuse_copies
from aep_provider.hooks.errors import AepConfigError
from aep_provider.links import AepMappingSetLink
from aep_provider.models.common import XED_FULL
from aep_provider.models.data_prep import Mapping, MappingSetCreate, mapping_key
from aep_provider.models.schema_registry import xdm_paths
from aep_provider.operators.base import AepRowsOperator
from aep_provider.operators.rows import Row
from aep_provider.operators.updates import new_mapping_version
from aep_provider.operators.validation import build_model
from aep_provider.outcomes import Kind
from aep_provider.planned import Planned, is_retry


def check_destinations(mappings: list[Mapping], paths: list[str], schema_id: str) -> None:
    """Every destination must be a path of the target schema; suggest the closest ones otherwise."""
    valid = set(paths)
    problems = []
    for m in mappings:
        if m.destination not in valid:
            close = difflib.get_close_matches(m.destination, paths, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else "no similar path exists"
            problems.append(
                f"destination {m.destination!r} (source {m.source!r}) is not in the schema: {hint}"
            )
    if problems:
        raise AepConfigError(f"mappings do not fit target schema {schema_id}: " + "; ".join(problems))


@dataclass(frozen=True)
class MappingSetFields:
    schema_id: str = ""
    mappings: list[dict[str, Any]] | None = None
    name: str | None = None
    #: The plan's entry for this mapping set (a :class:`~aep_provider.planned.ResourcePlan`); ``None``: not planned.
    planned: dict[str, Any] | None = None


class AepCreateMappingSetOperator(AepRowsOperator[MappingSetFields]):
    """Create (or reuse) the mapping set, after checking each destination against the schema's full view.

    :param schema_id: target schema ``$id`` (templated).
    :param mappings: ``[{"source", "destination", "identity": False, "namespace": None}]`` (templated).
    :param name: optional name; reuse is by name, or without a name by same schema and same mappings.
    :return: the mapping set id; XCom key ``mapping_version``.
    """

    Fields = MappingSetFields
    required_fields: Sequence[str] = ("schema_id", "mappings")
    identity_fields: Sequence[str] = ("name", "schema_id")
    operator_extra_links = (AepMappingSetLink(),)

    def execute_row(self, context: Any, row: Row[MappingSetFields]) -> str:
        schema_id, name = str(row.fields.schema_id), row.fields.name
        rules = list(row.fields.mappings or [])
        model = build_model(
            f"{row.label}mappings",
            lambda: MappingSetCreate(xdmSchema=schema_id, name=name, mappings=[Mapping(**m) for m in rules]),
        )
        if not model.mappings:
            raise AepConfigError(
                f"{row.label}mappings is empty: give at least one {{'source': ..., 'destination': ...}}."
            )
        hook = self.hook
        # With a plan, the destinations were checked against the schema's class and field groups before any write.
        planned = Planned.of(row.fields.planned, context)
        if planned.look_up:
            schema = hook.get_resource("schemas", schema_id, accept=XED_FULL)
            if schema is None:
                raise AepConfigError(
                    f"{row.label}schema_id={schema_id!r} does not exist in sandbox {hook.sandbox}; pass the target "
                    "schema $id."
                )
            check_destinations(model.mappings, xdm_paths(schema), schema_id)
        body = model.to_body()
        wanted = mapping_key(body["mappings"])

        def lookup() -> dict[str, Any] | None:
            params = {"name": name} if name else None
            listed = list(hook.iter_mapping_sets(params))
            if name:
                named = [m for m in listed if m.get("name") == name]
                refuse_copies([copies_of(Kind.MAPPING_SET, name, named)])
            for mset in listed:
                if name:
                    if mset.get("name") == name:
                        return mset
                    continue
                schema_of = mset.get("xdmSchema") or (
                    (mset.get("outputSchema") or {}).get("schemaRef") or {}
                ).get("id")
                if schema_of not in (None, schema_id):
                    continue
                full = mset if "mappings" in mset else (hook.get_mapping_set(str(mset.get("id")), mset.get("version")) or {})
                full_schema = full.get("xdmSchema") or schema_of
                if full_schema == schema_id and mapping_key(full.get("mappings") or []) == wanted:
                    return full
            return None

        mset, created = hook.create_idempotent(
            kind=Kind.MAPPING_SET,
            name=name or f"for {schema_id}",
            lookup=lookup,
            create=lambda: hook.create_mapping_set(body),
            planned=planned,
        )
        updated = not created and planned.update
        if updated:
            mset = new_mapping_version(hook, str(mset["id"]), model, retry=is_retry(context))
            self.log.info("%son_drift update: mapping set %s is at version %s", row.label, mset["id"],
                          mset.get("version"))
        elif not created and name:
            full = mset if "mappings" in mset else (hook.get_mapping_set(str(mset["id"]), mset.get("version")) or {})
            same_schema = full.get("xdmSchema") in (None, schema_id)
            if mapping_key(full.get("mappings") or []) != wanted or not same_schema:
                self.log.warning(
                    "Mapping set %r (%s) exists with other mappings or schema; reusing it as named. Give the "
                    "task a new name to create a mapping set with the new mappings.",
                    name,
                    mset["id"],
                )
        # After an update, new_mapping_version guarantees the version (read back when the PUT answer lacks it).
        row.output("mapping_version", str(mset["version"] if updated else mset.get("version", 0)))
        self.persist_link(context, AepMappingSetLink, row, id=schema_id)
        return str(mset["id"])
