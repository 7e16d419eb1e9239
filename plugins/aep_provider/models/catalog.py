"""Catalog bodies."""

from __future__ import annotations

from pydantic import Field

from aep_provider.models.common import XED_FULL_NOTEXT, Body


class SchemaRefBody(Body):
    id: str
    content_type: str = Field(default=XED_FULL_NOTEXT, alias="contentType")


class DatasetCreate(Body):
    name: str
    schema_ref: SchemaRefBody = Field(alias="schemaRef")

    @classmethod
    def for_schema(cls, name: str, schema_id: str) -> DatasetCreate:
        return cls(name=name, schemaRef=SchemaRefBody(id=schema_id))
