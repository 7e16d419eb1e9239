"""The admin surface under ``/_emulator/`` (no auth, never faulted); see docs/architecture.md.

Only the operator's own tools may call it (``admin_guard.py``: Host, Origin, JSON writes), and what it
accepts is bounded (``admin_limits.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from .admin_guard import guard_admin_request
from .admin_limits import (
    MAX_LATENCY_MS,
    MAX_RUN_DURATION_SECONDS,
    MAX_TOKEN_TTL_SECONDS,
    fault_rules_problems,
)
from .deps import store_of
from .faults import FaultEngine, FaultSet

router = APIRouter(prefix="/_emulator", tags=["Emulator admin"], dependencies=[Depends(guard_admin_request)])

NAME_KEYS = ("name", "title")


class AdvanceBody(BaseModel):
    seconds: float = Field(..., ge=0, allow_inf_nan=False)


class ConfigBody(BaseModel):
    token_ttl_seconds: int | None = Field(None, ge=1, le=MAX_TOKEN_TTL_SECONDS)
    run_duration_seconds: float | None = Field(None, ge=0, le=MAX_RUN_DURATION_SECONDS, allow_inf_nan=False)
    latency_ms: int | None = Field(None, ge=0, le=MAX_LATENCY_MS)
    scheduled_run_delay_seconds: float | None = Field(None, ge=0, le=MAX_RUN_DURATION_SECONDS, allow_inf_nan=False)


def _engine(request: Request) -> FaultEngine:
    engine: FaultEngine = request.app.state.faults
    return engine


def _tick(request: Request) -> None:
    request.app.state.tick()


@router.get("/state", summary="Every resource of every org+sandbox, and the counters")
def get_state(request: Request) -> dict[str, Any]:
    store = store_of(request)
    resources: list[dict[str, Any]] = []
    with store.lock:
        for cont in store.all_containers():
            for kind, items in cont.items.items():
                for rid, obj in items.items():
                    name = next((obj[k] for k in NAME_KEYS if obj.get(k) is not None), None)
                    resources.append(
                        {"org": cont.org_id, "sandbox": cont.sandbox, "kind": kind, "id": rid, "name": name}
                    )
        counters = dict(store.counters)
    return {"resources": resources, "counters": counters, "now": store.clock.now()}


@router.get("/datasets/{dataset_id}/records", summary="The XDM records ingested into a dataset")
def get_records(dataset_id: str, request: Request) -> dict[str, Any]:
    store = store_of(request)
    with store.lock:
        for cont in store.all_containers():
            if dataset_id in cont.items["dataset"]:
                records = list(cont.records.get(dataset_id, []))
                return {"datasetId": dataset_id, "count": len(records), "records": records}
    raise HTTPException(404, f"dataset {dataset_id} not found")


@router.post("/faults", summary="Replace the fault set ({'rules': []} lifts every fault)")
def set_faults(body: FaultSet, request: Request) -> dict[str, Any]:
    problems = fault_rules_problems(body.rules)
    if problems:
        raise HTTPException(400, "; ".join(problems))
    engine = _engine(request)
    engine.replace(body)
    return engine.describe()


@router.get("/faults", summary="The fault set with per-rule hit counts")
def get_faults(request: Request) -> dict[str, Any]:
    return _engine(request).describe()


@router.post("/reset", summary="Drop every resource, record, run and fault; keep clients")
def reset(request: Request) -> dict[str, Any]:
    store_of(request).reset()
    _engine(request).clear()
    return {"reset": True}


@router.post("/clock/advance", summary="Move emulator time forward and run due scheduled runs")
def advance(body: AdvanceBody, request: Request) -> dict[str, Any]:
    store = store_of(request)
    store.clock.advance(body.seconds)
    _tick(request)
    store.persist()
    return {"now": store.clock.now(), "offset": store.clock.offset}


@router.get("/config", summary="The current run-time settings")
def get_config(request: Request) -> dict[str, Any]:
    return dict(vars(store_of(request).config))


@router.post("/config", summary="Change token lifetime, run duration, added latency or scheduled runs' delay")
def set_config(body: ConfigBody, request: Request) -> dict[str, Any]:
    store = store_of(request)
    with store.lock:
        changes = body.model_dump(exclude_none=True)
        for key, value in changes.items():
            setattr(store.config, key, value)
        if "scheduled_run_delay_seconds" in changes:
            store.timeline = store.observer = None  # the due times move: built again on the next tick (runs.py)
    return dict(vars(store.config))
