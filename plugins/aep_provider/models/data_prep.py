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
