"""A minimal Airflow task context for running the provider's operators outside Airflow."""

from __future__ import annotations

import json
from typing import Any


class _TaskInstance:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = json.loads(json.dumps(value))  # XCom values must be serialisable


class _StateStore(dict):  # type: ignore[type-arg]
    def set(self, key: str, value: Any) -> None:
        self[key] = value


def make_context() -> dict[str, Any]:
    return {"ti": _TaskInstance(), "task_state_store": _StateStore()}
