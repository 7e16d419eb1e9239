"""Waiting for flow runs: the one polling routine of the sensor (poke, in the worker) and the trigger
(on the triggerer). Both read each pending run with their own hook (sync or async: the same requests,
``run.py``) and hand what they read to :class:`RunWatch`, which sees when a run has ended and logs a run's
progress when it changes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from aep_provider.flow_runs.run import FlowRun
from aep_provider.hooks.errors import AepConfigError


@dataclass(frozen=True)
class RunTarget:
    """One run to wait for: the object ``key``, its flow, and the run (``None``: the flow's ``which`` run)."""

    key: str
    flow_id: str
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> RunTarget:
        return cls(key=str(value["key"]), flow_id=str(value["flow_id"]), run_id=value.get("run_id") or None)


def run_targets(flow_id: Any, run_id: Any = None) -> list[RunTarget]:
    """The runs to wait for, from ``{key: flow id}`` and optionally ``{key: run id}`` (XComs of per-object
    tasks); with ``run_id`` only its keys are waited for."""
    if not isinstance(flow_id, Mapping):
        raise AepConfigError(
            f"flow_id must be a {{key: flow id}} dict (the XCom of AepCreateDataflowOperator), got "
            f"{type(flow_id).__name__} {flow_id!r}; for one flow pass {{'<key>': flow_id}}."
        )
    if run_id is not None and not isinstance(run_id, Mapping):
        raise AepConfigError(
            f"run_id must be a {{key: run id}} dict (the XCom of AepRunFlowOperator) or None, got "
            f"{type(run_id).__name__} {run_id!r}."
        )
    keys = sorted(run_id) if run_id is not None else sorted(flow_id)
    unknown = [key for key in keys if key not in flow_id]
    if unknown:
        raise AepConfigError(f"run_id names {unknown}, which flow_id lacks; pass the dataflow task's XCom.")
    return [RunTarget(str(key), str(flow_id[key]), (run_id or {}).get(key) or None) for key in keys]


def label(target: RunTarget) -> str:
    """The object a log line or error is about (always named: the sensor's XCom is keyed by it too)."""
    return f"[{target.key}] "


class RunWatch:
    """The runs still running and those ended, updated from each read of a run."""

    def __init__(self, targets: list[RunTarget], log: logging.Logger | Any) -> None:
        self.pending: dict[str, RunTarget] = {target.key: target for target in targets}
        self.ended: dict[str, FlowRun] = {}
        self._log = log
        self._last: dict[str, Any] = {}

    @property
    def finished(self) -> bool:
        return not self.pending

    def record(self, target: RunTarget, run: FlowRun | None) -> None:
        """What one read of ``target``'s run found (``None``: the flow has no run yet)."""
        prefix = label(target)
        if run is not None and run.ended:
            self.ended[target.key] = run
            del self.pending[target.key]
            return
        state = (run.status, run.input_records, run.output_records) if run else None
        if self._last.get(target.key, "unset") == state:
            return
        self._last[target.key] = state
        if run is None:
            self._log.info("%sFlow %s has no run yet; waiting", prefix, target.flow_id)
        else:
            self._log.info(
                "%sRun %s is %s (%d records in, %d out, %d failed)", prefix, run.id, run.status,
                run.input_records, run.output_records, run.failed_records,
            )

    def events_payload(self) -> dict[str, Any]:
        """The trigger's event once every run has ended: each :class:`FlowRun` as its JSON dump."""
        return {"status": "terminal", "runs": {key: run.model_dump(by_alias=True, mode="json") for key, run in self.ended.items()}}


def checked(target: RunTarget, run: FlowRun | None) -> FlowRun | None:
    """One read of ``target``'s run; a ``run_id`` that names no run is an error."""
    if run is None and target.run_id:
        raise AepConfigError(
            f"{label(target)}run_id={target.run_id!r} is not a run of flow {target.flow_id}; check run_id."
        )
    return run


def runs_of_event(event: Mapping[str, Any]) -> dict[str, FlowRun]:
    """The :class:`FlowRun` of each run of a ``terminal`` event (the inverse of ``events_payload``)."""
    return {str(key): FlowRun.model_validate(run) for key, run in dict(event["runs"]).items()}


def naming(target: RunTarget, exc: AepConfigError) -> AepConfigError:
    """A malformed id's error, naming the run and flow it belongs to."""
    return AepConfigError(f"{label(target)}Run {target.run_id} of flow {target.flow_id}: {exc}")


__all__ = ["RunTarget", "RunWatch", "checked", "naming", "run_targets", "runs_of_event"]
