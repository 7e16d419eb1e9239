"""Data Prep (mapping set) bodies, and what a list of mapping rules already shows to be wrong.

The rule checks are pure functions over ``{"source", "destination", "identity", "namespace"}`` rules, used by the
onboarding's plan (before any write) and by the onboarding spec's validation (at DAG-parse time), so each rule lives
in one place:

- A destination mapped by two rules: Data Prep would write one source over the other (which one wins is not
  documented), so a column would be lost in silence.
- ``identity`` and ``namespace`` go together: Data Prep's mapping carries ``identity`` and ``namespaceCode``
  side by side (data-prep.yaml, ``mappings[]``); an identity needs the namespace that gives its value a
  context (help/identity-service/features/namespaces.md: "a namespace provides context to a given identity"),
  and a namespace on a field that is not an identity marks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as Rule
from typing import Any

from pydantic import Field

from aep_provider.models.common import XED_FULL, Body

NAMESPACE_EXAMPLE = "for example Email or ECID"


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
                                           "contentType": XED_FULL}},
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

def identity_problem(identity: bool, namespace: str | None) -> str | None:
    """Why ``identity`` and ``namespace`` do not go together, or ``None``."""
    if identity and not namespace:
        return (
            f"an identity mapping needs `namespace` ({NAMESPACE_EXAMPLE}: an identity namespace code of the sandbox); "
            "add it, or remove `identity: true`"
        )
    if namespace and not identity:
        return (
            f"`namespace: {namespace}` is given without `identity: true`: a namespace only applies to an identity "
            "field, so this rule would mark nothing; add `identity: true`, or remove `namespace`"
        )
    return None


def repeated_destinations(rules: Iterable[Rule[str, Any]]) -> list[str]:
    """One problem per destination that more than one rule maps."""
    by_destination: dict[str, list[tuple[int, str]]] = {}
    for index, rule in enumerate(rules):
        by_destination.setdefault(str(rule.get("destination")), []).append((index, str(rule.get("source"))))
    problems = []
    for destination, users in by_destination.items():
        if len(users) < 2:
            continue
        where = ", ".join(f"mapping[{index}] (source `{source}`)" for index, source in users)
        problems.append(
            f"the destination `{destination}` is mapped {len(users)} times: {where}; Data Prep would write one "
            "source over the other and lose a column in silence: map each destination once (remove a rule, or "
            "send the other source to another field)"
        )
    return problems
