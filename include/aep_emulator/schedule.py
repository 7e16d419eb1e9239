"""Flow schedules: validation of ``scheduleParams`` and the run timetable.

Timetable (emulator time, epoch seconds). Adobe's words: "if a dataflow is scheduled to run hourly at 9:00 AM, 10:00
AM, and 11:00 AM, then you would have three instances of a flow run"
(help/sources/tutorials/api/on-demand-ingestion.md; help/dataflows/ui/monitor-sources.md): one run per due time. The
rest is OURS (Adobe documents no more; docs/adobe-contract.md, "Contested"): the first run is due at
``max(startTime, created)`` and covers ``(-inf, startTime)`` when ``backfill`` is true (the default), else the empty
window ``[startTime, startTime)``. Later runs are due at ``startTime + k * interval`` after the first run and cover
``[previous end, due time)``, created at its due time plus the config's ``scheduled_run_delay_seconds``
(``createdAt``; 0 by default), also when emulator time jumps over several due times at once
(``/_emulator/clock/advance``), so a test sees the runs an hourly flow makes in a day. Due times that passed before
the first run are not run apart: the first due time after it covers them (no gap, no overlap); a jump over more than
:data:`MAX_CATCH_UP` due times folds the oldest into the first run made. ``frequency: once`` has only the first run;
nothing is due after ``endTime``; disabled flows get no scheduled runs: a flow enabled again runs at its next due
time, and that run covers the window since the last one.

The provider's reading of the same schedule (which runs AEP should have made in a DAG run's data interval) is
``aep_provider/flow_runs/interval.py``; both follow flow-service.yaml's ``ScheduleSpecDTO`` (``startTime``,
``frequency``, ``interval``; ``endTime`` is honoured if a flow carries it, though ScheduleSpecDTO has none).
"""

from __future__ import annotations

import math
from typing import Any

import jsonschema

from .specs import FREQUENCY_SECONDS


class ScheduleError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"scheduleParams.{field}: {message}" if field else f"scheduleParams: {message}")
        self.field = field


def _to_int(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return value


def normalize(params: Any) -> dict[str, Any]:
    """``interval``/``startTime``/``endTime`` may come as strings of digits."""
    if not isinstance(params, dict):
        raise ScheduleError("", "must be an object")
    out = dict(params)
    for key in ("interval", "startTime", "endTime"):
        if key in out:
            out[key] = _to_int(out[key])
    return out


def validate(params: dict[str, Any], spec: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(spec)
    errors = sorted(validator.iter_errors(params), key=lambda e: (len(e.absolute_path) == 0, str(e.absolute_path)))
    if not errors:
        return
    err = errors[0]
    field = ".".join(str(p) for p in err.absolute_path)
    if not field and err.validator == "required":
        field = str(err.message).split("'")[1] if "'" in err.message else ""
    if not field and err.validator == "not":
        field = "interval" if "interval" in params else "backfill"
        raise ScheduleError(field, "must not be set when frequency is 'once'")
    raise ScheduleError(field, err.message)


def init_timetable(params: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    if not params:
        return None
    start = float(params["startTime"])
    return {
        "start": start,
        "interval": None if params["frequency"] == "once" else int(params["interval"]) * FREQUENCY_SECONDS[params["frequency"]],
        "end_time": float(params["endTime"]) if params.get("endTime") is not None else None,
        "backfill": bool(params.get("backfill", True)),
        "first_due": max(start, now),
        "first_done": False,
        "last_end": None,
    }


#: The most scheduled runs one flow gets from one jump of the clock; older due times fold into the first of them.
MAX_CATCH_UP = 200


def due_window(tt: dict[str, Any], now: float) -> tuple[float, float | None, float] | None:
    """The earliest run due at ``now``: (due time, window start or None for -inf, window end)."""
    if not tt["first_done"]:
        if now < tt["first_due"]:
            return None
        start = tt["start"]
        return tt["first_due"], (None if tt["backfill"] else start), start
    interval = tt["interval"]
    if interval is None:
        return None
    limit = now if tt["end_time"] is None else min(now, tt["end_time"])
    last_end = tt["last_end"]
    latest = math.floor((limit - tt["start"]) / interval)
    if latest < 1 or last_end is None:
        return None
    # the first due time after the last window and after the first run (earlier ones are in the first run's window)
    # and after any time the flow was disabled: AEP makes no run of a disabled flow (the next run covers that time)
    after = max(last_end, tt["first_due"], tt.get("paused_until") or last_end)
    k = max(1, math.floor((after - tt["start"]) / interval) + 1, latest - MAX_CATCH_UP + 1)
    if k > latest:
        return None
    due = tt["start"] + k * interval
    return due, last_end, due


def next_due(tt: dict[str, Any]) -> float | None:
    """The earliest emulator time at which :func:`due_window` may have a run for ``tt`` (None: never again). The
    run scheduler wakes the flow then, instead of asking every flow on every request."""
    if not tt["first_done"]:
        return float(tt["first_due"])
    interval = tt["interval"]
    if interval is None or tt["last_end"] is None:
        return None
    after = max(tt["last_end"], tt["first_due"], tt.get("paused_until") or tt["last_end"])
    due = tt["start"] + max(1, math.floor((after - tt["start"]) / interval) + 1) * interval
    if tt["end_time"] is not None and due > tt["end_time"]:
        return None
    return float(due)


def mark_paused(tt: dict[str, Any], now: float) -> None:
    """The flow is disabled at ``now``: no run is due for the time up to it."""
    tt["paused_until"] = now


def mark_ran(tt: dict[str, Any], window_end: float) -> None:
    tt["first_done"] = True
    tt["last_end"] = window_end


def reschedule(tt: dict[str, Any] | None, params: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    """After a schedule change: keep what already ran, continue from the last window end."""
    fresh = init_timetable(params, now)
    if fresh is None or tt is None or not tt["first_done"]:
        return fresh
    fresh["first_done"] = True
    fresh["last_end"] = tt["last_end"]
    fresh["paused_until"] = tt.get("paused_until")
    return fresh
