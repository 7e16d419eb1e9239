"""Schema Registry bodies: ad-hoc class, ad-hoc schema, target (profile) schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from aep_provider.models.common import ADHOC_CLASS_REF, Answer, Body

XdmFieldType = Literal["string", "number", "integer", "boolean", "date", "date-time"]
_FORMATS = {"date": "date", "date-time": "date-time"}


def xdm_property(field_type: str) -> dict[str, Any]:
    """The JSON Schema of one ad-hoc field (``date``/``date-time`` are strings with a format)."""
    if field_type in _FORMATS:
        return {"type": "string", "format": _FORMATS[field_type]}
    return {"type": field_type}


class Ref(Body):
    ref: str = Field(alias="$ref")


class AdhocClassCreate(Body):
    title: str
    description: str = ""
    type: Literal["object"] = "object"
    fields: dict[str, XdmFieldType] = Field(exclude=True)

    @field_validator("fields")
    @classmethod
    def _not_empty(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("fields must name at least one column, e.g. {'Vid': 'string'}")
        return value

    def to_body(self) -> dict[str, Any]:
        body = super().to_body()
        body["allOf"] = [
            {"$ref": ADHOC_CLASS_REF},
            {
                "properties": {
                    "_adhoc": {
                        "type": "object",
                        "properties": {name: xdm_property(t) for name, t in self.fields.items()},
                    }
                }
            },
        ]
        return body


class SchemaCreate(Body):
    title: str
    description: str = ""
    type: Literal["object"] = "object"
    all_of: list[Ref] = Field(alias="allOf")

    @field_validator("all_of")
    @classmethod
    def _dedupe(cls, refs: list[Ref]) -> list[Ref]:
        seen: set[str] = set()
        unique = []
        for ref in refs:
            if ref.ref not in seen:
                seen.add(ref.ref)
                unique.append(ref)
        if not unique:
            raise ValueError("a schema needs at least its class in allOf")
        return unique

    @classmethod
    def from_refs(cls, title: str, refs: list[str], description: str = "") -> SchemaCreate:
        return cls(
            title=title, description=description, allOf=[Ref.model_validate({"$ref": r}) for r in refs]
        )


class SchemaRegistryResource(Answer):
    id: str = Field(alias="$id")
    alt_id: str | None = Field(default=None, alias="meta:altId")
    title: str | None = None
    dataset_namespace: str | None = Field(default=None, alias="meta:datasetNamespace")
    meta_class: str | None = Field(default=None, alias="meta:class")


def xdm_paths(schema: dict[str, Any]) -> list[str]:
    """Every field path (``a.b.c``) of a full-view (``xed-full``) schema, objects included."""
    paths: list[str] = []

    def walk(properties: dict[str, Any], prefix: str) -> None:
        for name, spec in (properties or {}).items():
            path = f"{prefix}{name}"
            paths.append(path)
            if isinstance(spec, dict):
                if isinstance(spec.get("properties"), dict):
                    walk(spec["properties"], f"{path}.")
                items = spec.get("items")
                if isinstance(items, dict) and isinstance(items.get("properties"), dict):
                    walk(items["properties"], f"{path}[*].")

    walk(schema.get("properties") or {}, "")
    for part in schema.get("allOf") or []:
        if isinstance(part, dict) and isinstance(part.get("properties"), dict):
            walk(part["properties"], "")
    for defn in (schema.get("definitions") or {}).values():
        if isinstance(defn, dict) and isinstance(defn.get("properties"), dict):
            walk(defn["properties"], "")
    return sorted(set(paths))


_SYNONYMS = {
    "str": "string",
    "text": "string",
    "int": "integer",
    "long": "integer",
    "short": "integer",
    "byte": "integer",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "bool": "boolean",
    "datetime": "date-time",
    "timestamp": "date-time",
}


def normalize_field_type(value: str) -> str:
    """Accept common synonyms (``long``, ``double``, ``datetime``...) for ad-hoc field types."""
    text = str(value).strip()
    return _SYNONYMS.get(text.lower(), text)


def column_field_type(column: dict[str, Any]) -> str:
    """The ad-hoc field type of an explored column (its ``xdm`` type and format)."""
    xdm = column.get("xdm") or {}
    kind = str(xdm.get("type") or column.get("type") or "string").lower()
    fmt = str(xdm.get("format") or column.get("meta:xdmType") or "").lower()
    if fmt in ("date-time", "date"):
        return fmt
    if kind in ("integer", "int", "long", "short", "byte"):
        return "integer"
    if kind in ("number", "double", "float", "decimal"):
        return "number"
    if kind in ("boolean", "bool"):
        return "boolean"
    return "string"
