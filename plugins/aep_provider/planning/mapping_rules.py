"""What a list of mapping rules already shows to be wrong, without reading the sandbox.

Pure functions over ``{"source", "destination", "identity", "namespace"}`` rules, used by the plan
(``checks.check_mapping_rules``, before any write) and by the onboarding spec's validation (at DAG-parse time),
so the rule lives in one place.

- A destination mapped by two rules: Data Prep would write one source over the other (which one wins is not
  documented), so a column would be lost in silence.
- ``identity`` and ``namespace`` go together: Data Prep's mapping carries ``identity`` and ``namespaceCode``
  side by side (data-prep.yaml, ``mappings[]``); an identity needs the namespace that gives its value a
  context (help/identity-service/features/namespaces.md: "a namespace provides context to a given identity"),
  and a namespace on a field that is not an identity marks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

NAMESPACE_EXAMPLE = "for example Email or ECID"


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


def repeated_destinations(rules: Iterable[Mapping[str, Any]]) -> list[str]:
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
