"""Teardown: delete what the onboarding created, in reverse dependency order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aep_provider.operators.base import AepBaseOperator


def _ids(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if v]


class AepTeardownOperator(AepBaseOperator):
    """Delete flows, source and target connections, base connections, datasets, schemas and classes.

    Order: flows -> source connections -> target connections -> base connections -> datasets ->
    schemas -> classes. A resource that is already gone counts as deleted. Mapping sets have no
    DELETE in the public API and are left in place.

    :return: ``{kind: [deleted ids]}``.
    """

    creates = False  # no named resource: no write lease

    template_fields: Sequence[str] = (
        *AepBaseOperator.template_fields,
        "flow_ids",
        "source_connection_ids",
        "target_connection_ids",
        "base_connection_ids",
        "dataset_ids",
        "schema_ids",
        "class_ids",
    )

    def __init__(
        self,
        *,
        flow_ids: Any = None,
        source_connection_ids: Any = None,
        target_connection_ids: Any = None,
        base_connection_ids: Any = None,
        dataset_ids: Any = None,
        schema_ids: Any = None,
        class_ids: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.flow_ids = flow_ids or []
        self.source_connection_ids = source_connection_ids or []
        self.target_connection_ids = target_connection_ids or []
        self.base_connection_ids = base_connection_ids or []
        self.dataset_ids = dataset_ids or []
        self.schema_ids = schema_ids or []
        self.class_ids = class_ids or []

    def execute(self, context: Any) -> dict[str, list[str]]:
        hook = self.hook
        steps: list[tuple[str, Any, Callable[[str], bool]]] = [
            ("flows", self.flow_ids, lambda i: hook.delete_object("flows", i)),
            (
                "sourceConnections",
                self.source_connection_ids,
                lambda i: hook.delete_object("sourceConnections", i),
            ),
            (
                "targetConnections",
                self.target_connection_ids,
                lambda i: hook.delete_object("targetConnections", i),
            ),
            ("connections", self.base_connection_ids, lambda i: hook.delete_object("connections", i)),
            ("dataSets", self.dataset_ids, hook.delete_dataset),
            ("schemas", self.schema_ids, lambda i: hook.delete_resource("schemas", i)),
            ("classes", self.class_ids, lambda i: hook.delete_resource("classes", i)),
        ]
        done: dict[str, list[str]] = {}
        for kind, ids, delete in steps:
            for resource_id in _ids(ids):
                existed = delete(resource_id)
                self.log.info("%s %s %s", kind, resource_id, "deleted" if existed else "was already gone")
                done.setdefault(kind, []).append(resource_id)
        return done
