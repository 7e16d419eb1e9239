"""What a task did, as data: each resource it created or reused, each flow run it started or saw end.

Every create-or-reuse goes through ``AepHook.create_idempotent``, which records one :class:`Outcome` (kind, name,
id, created or reused, the object it was for); the operator adds the link of the resource's AEP page when it
builds it, and pushes the task's outcomes as the XCom ``aep_outcomes``. The flow-run sensor records the runs it saw
end with their record counts (and the interval sensor the runs AEP made in the DAG run's data interval). The run summary and the asset events read these fields - never a log line, so
rewording a log message changes no report.
"""

from __future__ import annotations

import threading
from enum import Enum
from typing import Any

from pydantic import BaseModel

#: The XCom of a task's outcomes: ``[Outcome dump]``.
OUTCOMES_XCOM = "aep_outcomes"


class Kind(str, Enum):
    """The kinds of resource the provider makes, as the AEP UI and its API reference name them."""

    HUBSPOT_BASE_CONNECTION = "HubSpot base connection"
    DATASET_BASE_CONNECTION = "dataset base connection"
    CLASS = "class"
    SCHEMA = "schema"
    SOURCE_CONNECTION = "source connection"
    DATASET = "dataset"
    TARGET_CONNECTION = "target connection"
    MAPPING_SET = "mapping set"
    DATAFLOW = "dataflow"
    FLOW_RUN = "flow run"


class RunResult(BaseModel):
    """How a flow run ended, as the sensor judged it."""

    status: str
    input_records: int = 0
    output_records: int = 0
    failed_records: int = 0
    #: The flow's first run (the one AEP starts by itself), not a run a task asked for.
    first: bool = False
    #: One of the runs AEP made on its own schedule in the DAG run's data interval (``AepIntervalRunsSensor``).
    interval: bool = False


class Outcome(BaseModel):
    """One resource a task created or reused, or one flow run it started or saw end."""

    kind: Kind
    name: str | None = None
    id: str | None = None
    created: bool = False
    #: The object (row key) it was for; ``None`` for a shared step.
    key: str | None = None
    #: The AEP UI page that shows it (``""``: none built).
    link: str = ""
    #: A flow run's flow.
    flow_id: str | None = None
    #: A flow run that ended (recorded by the sensor).
    run: RunResult | None = None

    def describe(self) -> str:
        """``dataset 'x'``: how log lines name it."""
        return f"{self.kind.value} {self.name!r}" if self.name else self.kind.value


def resource_id(resource: Any) -> str | None:
    """The id of what a create or look-up returned: an object's ``id`` (``$id`` for the Schema Registry), or the
    id itself."""
    if isinstance(resource, dict):
        found = resource.get("id") or resource.get("$id")
    else:
        found = getattr(resource, "id", resource)
    return None if found is None else str(found)


#: ``key``: the object a ``for_each`` worker thread is working on (set by the operator).
_scope = threading.local()


def outcome_key(key: str | None) -> None:
    """Tag the outcomes this thread records next with the object ``key``."""
    _scope.key = key


def current_key() -> str | None:
    return getattr(_scope, "key", None)


class Outcomes:
    """The outcomes one hook recorded, in order; safe to record from a task's worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Outcome] = []

    def record(self, outcome: Outcome) -> None:
        with self._lock:
            self._items.append(outcome.model_copy(update={"key": current_key()}))

    def link(self, url: str) -> None:
        """The page of what this thread's object got (the operator builds it after the create)."""
        key = current_key()
        with self._lock:
            self._items = [o.model_copy(update={"link": url}) if o.key == key and not o.link else o
                           for o in self._items]

    def all(self) -> list[Outcome]:
        with self._lock:
            return list(self._items)
