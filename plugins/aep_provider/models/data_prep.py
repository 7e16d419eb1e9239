"""Data Prep (mapping set) bodies."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from aep_provider.models.common import Body


class Mapping(Body):
    """One mapping as the operators take it: ``{"source", "destination", "identity", "namespace"}``."""

    source: str
    destination: str
    identity: bool = False
    namespace: str | None = None

    def to_body(self) -> dict[str, Any]:
        return {
            "destinationXdmPath": self.destination,
            "sourceAttribute": self.source,
            "identity": self.identity,
            "identityGroup": None,
            "namespaceCode": self.namespace,
            "version": 0,
        }


class MappingSetCreate(Body):
    xdm_schema: str = Field(alias="xdmSchema")
    mappings: list[Mapping]
    name: str | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "version": 0,
            "xdmSchema": self.xdm_schema,
            "xdmVersion": "1.0",
            "mappings": [m.to_body() for m in self.mappings],
        }
        if self.name:
            body["name"] = self.name
        return body

    def to_put_body(self, mapping_set_id: str) -> dict[str, Any]:
        """The PUT form of help/data-prep/api/mapping-set.md ("Update a mapping set"): ``outputSchema.schemaRef``
        and rules ``{sourceType: ATTRIBUTE, source, destination}``, no top-level ``version`` (the service
        numbers the new version). An identity rule keeps ``identity`` and ``namespaceCode``, which that example
        does not show: without them the rule would stop being an identity."""
        rules: list[dict[str, Any]] = []
        for m in self.mappings:
            rule: dict[str, Any] = {"sourceType": "ATTRIBUTE", "source": m.source, "destination": m.destination}
            if m.identity:
                rule.update({"identity": True, "namespaceCode": m.namespace})
            rules.append(rule)
        body: dict[str, Any] = {
            "id": mapping_set_id,
            "outputSchema": {"schemaRef": {"id": self.xdm_schema,
                                           "contentType": "application/vnd.adobe.xed-full+json;version=1"}},
            "mappings": rules,
        }
        if self.name:
            body["name"] = self.name
        return body


def mapping_key(mappings: list[dict[str, Any]]) -> list[tuple[str, str, bool, str | None]]:
    """A comparable form of wire mappings, to spot an existing identical mapping set."""
    return sorted(
        (
            str(m.get("sourceAttribute") or m.get("source")),
            str(m.get("destinationXdmPath") or m.get("destination")),
            bool(m.get("identity", False)),
            m.get("namespaceCode"),
        )
        for m in mappings
    )
