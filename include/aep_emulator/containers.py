"""The resources of one org+sandbox, with the indexes that keep a request's cost independent of how many it holds.

``Container.items[kind]`` is a :class:`ResourceMap`: a dict of ``id -> object`` that, on every put and delete,
keeps the container's field indexes (``name``, ``title``, a run's ``flowId``, a registry resource's ``$id`` and
``meta:altId``) and notes the change for the state file's journal (``state.py``). A route that changes a stored
object in place (a flow enabled, a run ended, a mapping set's new version) says so with
:meth:`Container.touched`, which does the same. Dataset records change through :meth:`Container.add_records`,
:meth:`open_records` and :meth:`drop_records`, so the journal carries the records a run added, not every record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .services import KINDS

#: The fields each kind is indexed by (exact values): look-ups by name, title, id alias and a flow's runs.
INDEXED: dict[str, tuple[str, ...]] = {
    "class": ("title", "$id", "meta:altId"),
    "schema": ("title", "$id", "meta:altId"),
    "datatype": ("title", "$id", "meta:altId"),
    "dataset": ("name",),
    "connection": ("name",),
    "sourceConnection": ("name",),
    "targetConnection": ("name",),
    "flow": ("name",),
    "run": ("flowId",),
    "mappingSet": ("name",),
}
#: The index bucket of objects whose field is there but not a string: every look-up includes them (filters
#: compare numbers and booleans loosely), so an index never hides a match.
OTHER = object()

Observer = Callable[["Container", str, str, "dict[str, Any] | None"], None]


class ResourceMap(dict[str, dict[str, Any]]):
    """``id -> object`` of one kind; every put and delete goes through the container (indexes, journal)."""

    def __init__(self, container: Container, kind: str, data: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__()
        self._container = container
        self._kind = kind
        for key, obj in (data or {}).items():
            self[key] = obj

    def __setitem__(self, key: str, obj: dict[str, Any]) -> None:
        super().__setitem__(key, obj)
        self._container.changed(self._kind, key, obj)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._container.changed(self._kind, key, None)

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        present = key in self
        value = super().pop(key, *default)
        if present:
            self._container.changed(self._kind, key, None)
        return value

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, obj in dict(*args, **kwargs).items():
            self[key] = obj

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for key in list(self):
            del self[key]


class Container:
    """The resources of one org+sandbox: ``items[kind][id] -> object`` plus dataset records."""

    def __init__(self, org_id: str, sandbox: str, data: dict[str, Any] | None = None,
                 observer: Observer | None = None) -> None:
        self.org_id = org_id
        self.sandbox = sandbox
        self.observer = observer
        self.ordinal = 0  # the store's creation order of its containers (the run scheduler's order)
        #: (kind, field) -> value -> {id: None} (insertion-ordered); (kind, id) -> the values indexed for it
        self._index: dict[tuple[str, str], dict[Any, dict[str, None]]] = {
            (kind, field): {} for kind, fields in INDEXED.items() for field in fields}
        self._indexed: dict[tuple[str, str], list[tuple[str, Any]]] = {}
        #: what changed since the journal last read it: (kind, id), and the record operations in order
        self.dirty: dict[tuple[str, str], None] = {}
        self.record_ops: list[tuple[str, str, list[dict[str, Any]]]] = []
        data = data or {}
        self.items: dict[str, ResourceMap] = {
            k: ResourceMap(self, k, data.get("items", {}).get(k, {})) for k in KINDS}
        self.records: dict[str, list[dict[str, Any]]] = {k: list(v) for k, v in data.get("records", {}).items()}
        self.dirty.clear()

    # -- changes --------------------------------------------------------------------------------------------
    def changed(self, kind: str, ident: str, obj: dict[str, Any] | None) -> None:
        """``items[kind][ident]`` is now ``obj`` (None: deleted), put or changed in place: re-index it and note it
        for the journal and the run scheduler."""
        key = (kind, ident)
        new: list[tuple[str, Any]] = []
        if obj is not None:
            new = [(field, obj[field] if isinstance(obj[field], str) else OTHER)
                   for field in INDEXED.get(kind, ()) if field in obj]
        old = self._indexed.pop(key, [])
        for field, value in old:
            if (field, value) in new:
                continue
            bucket = self._index[(kind, field)].get(value)
            if bucket is not None:
                bucket.pop(ident, None)
                if not bucket:
                    del self._index[(kind, field)][value]
        for field, value in new:
            self._index[(kind, field)].setdefault(value, {})[ident] = None
        if new:
            self._indexed[key] = new
        self.dirty[key] = None
        if self.observer is not None:
            self.observer(self, kind, ident, obj)

    def touched(self, kind: str, ident: str) -> None:
        """A route changed ``items[kind][ident]`` in place."""
        self.changed(kind, ident, self.items[kind].get(ident))

    def add_records(self, dataset_id: str, records: list[dict[str, Any]]) -> None:
        self.records.setdefault(dataset_id, []).extend(records)
        self.record_ops.append(("add", dataset_id, records))

    def open_records(self, dataset_id: str) -> None:
        self.records.setdefault(dataset_id, [])
        self.record_ops.append(("open", dataset_id, []))

    def drop_records(self, dataset_id: str) -> None:
        self.records.pop(dataset_id, None)
        self.record_ops.append(("drop", dataset_id, []))

    # -- look-ups -------------------------------------------------------------------------------------------
    def require(self, kind: str, ident: str, missing: Exception) -> dict[str, Any]:
        """The stored ``kind`` object with id ``ident``; raise ``missing`` when there is none."""
        obj = self.items[kind].get(ident)
        if obj is None:
            raise missing
        return obj

    def indexed(self, kind: str, field: str) -> bool:
        return (kind, field) in self._index

    def ids_where(self, kind: str, field: str, values: Iterable[str]) -> list[str]:
        """The ids of ``kind`` whose ``field`` is one of ``values`` (or not a string); the field must be indexed
        (:data:`INDEXED`). Callers sort what they answer: the order here is not the creation order."""
        index = self._index[(kind, field)]
        found: dict[str, None] = {}
        for value in (*values, OTHER):
            found.update(index.get(value, {}))
        return list(found)

    def where(self, kind: str, field: str, values: Iterable[str]) -> list[dict[str, Any]]:
        """The objects of ``kind`` that may have ``field`` equal to one of ``values`` (a superset of those that
        do: objects whose field is not a string are included)."""
        items = self.items[kind]
        return [items[i] for i in self.ids_where(kind, field, values)]

    def to_json(self) -> dict[str, Any]:
        return {"org_id": self.org_id, "sandbox": self.sandbox, "items": self.items, "records": self.records}
