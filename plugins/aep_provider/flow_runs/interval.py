"""The flow runs of a data interval, for a flow on AEP's own schedule: which runs AEP made in it (one listing),
and whether its schedule says it should have made one.

A DAG run with the data interval ``[start, end)`` owns the runs AEP **created** in it: ``createdAt`` (epoch ms,
flow-service.yaml ``FlowRunItemDTO``) at or after ``start`` and before ``end``. A run due exactly at ``end`` is the
next DAG run's. They are listed in one query, page after page with the filter kept (``hooks/paging.py``)::

    GET /runs?property=flowId==<flow id>&property=createdAt>{start ms - 1}&property=createdAt<{end ms}

help/dataflows/api/sort-and-filter.md: "Filtering can be applied generically on any property in an entity", several
``property`` parameters are ANDed, and its "all runs of a dataflow for a specific time-period" example bounds a run
property with ``>`` and ``<`` (it bounds ``metrics.durationSummary.startedAtUTC``; a run not yet started has no
start, and a run that is queued at ``end`` would be missed, so the provider bounds ``createdAt``, a top-level
property of every run). Only the documented operators are sent: ``>`` one millisecond before ``start`` is
``>= start``. The runs are matched against the interval on our side too, whatever the service made of the filter.

When AEP made no run in the interval, the flow is read (``GET /flows/{id}``) to say whether it should have: its
``scheduleParams`` (flow-service.yaml ``ScheduleSpecDTO``: ``startTime`` epoch seconds, ``frequency``, ``interval``,
``backfill``; ``endTime`` is not in ScheduleSpecDTO - Adobe documents it only for dataset-export destination flows -
and is honoured only if a flow carries it), its ``state`` and its ``createdAt``. OUR model of AEP's timetable (the
emulator's runs follow it, ``aep_emulator/schedule.py``; Adobe documents no more than the fields): the first run is
due at ``max(startTime, createdAt)``; later runs at ``startTime + k * interval * <frequency>`` after it, none after
``endTime``; ``once`` has only the first. An interval with no run at all although at least one was due is a failure,
naming the schedule and the state (AEP makes no scheduled run of a disabled flow) - after the sensor's grace period
(``missing_run_grace``): Adobe documents no bound on how late a run's record appears (monitor.md's example run was
created 21 s after it started, minutes after its window), so a run created after the interval's end but within the
grace period was late, not missing, and the next DAG run (whose interval holds it) judges it. Only "no run at all"
is checked: two due and one made passes. No due time in the interval (a daily flow under an hourly DAG, an interval
before the flow existed) is nothing to judge.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aep_provider.flow_runs.run import FlowRun, runs_from
from aep_provider.hooks.ids import checked_id

#: Seconds of one unit of a schedule's ``frequency`` (flow-service.yaml ``ScheduleSpecDTO``).
FREQUENCY_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _epoch(value: Any) -> float | None:
    """An ISO date-time (the rendered ``data_interval_start``) or a datetime as epoch seconds; ``''``/None: none."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


@dataclass(frozen=True)
class Interval:
    """A DAG run's data interval ``[start, end)`` in epoch seconds."""

    start: float
    end: float

    @classmethod
    def of(cls, start: Any, end: Any) -> Interval | None:
        """From the rendered ``data_interval_start``/``end``; ``None`` for a run without a data interval."""
        begin, finish = _epoch(start), _epoch(end)
        if begin is None or finish is None:
            return None
        if finish < begin:
            raise ValueError(f"data_interval_end {end!r} is before data_interval_start {start!r}")
        return cls(begin, finish)

    @property
    def start_ms(self) -> int:
        return math.ceil(self.start * 1000)

    @property
    def end_ms(self) -> int:
        return math.ceil(self.end * 1000)

    def holds(self, run: FlowRun) -> bool:
        return self.start_ms <= run.created < self.end_ms

    def __str__(self) -> str:
        return f"[{iso(self.start)}, {iso(self.end)})"


def interval_query(flow_id: str, interval: Interval) -> dict[str, Any]:
    """The one listing of the runs created in ``interval`` (repeated ``property``: ANDed, sort-and-filter.md)."""
    return {"property": [f"flowId=={checked_id('flows', flow_id)}", f"createdAt>{interval.start_ms - 1}",
                         f"createdAt<{interval.end_ms}"]}


def interval_runs_from(items: Iterable[dict[str, Any]], flow_id: str, interval: Interval) -> list[FlowRun]:
    """The runs of ``flow_id`` created in ``interval`` among listed ``items``, oldest first."""
    return sorted((run for run in runs_from(items, flow_id) if interval.holds(run)), key=lambda run: run.created)


@dataclass(frozen=True)
class FlowTimetable:
    """What a flow's ``scheduleParams``, ``state`` and ``createdAt`` say about the runs AEP makes."""

    frequency: str
    every: float | None  # seconds between runs; None: ``once``
    start: float
    end: float | None
    state: str
    created: float

    @classmethod
    def of(cls, flow: dict[str, Any]) -> FlowTimetable:
        params = flow.get("scheduleParams") or {}
        frequency = str(params.get("frequency") or "once")
        interval = params.get("interval")
        every = None if frequency == "once" or interval in (None, "") else (
            int(interval) * FREQUENCY_SECONDS.get(frequency, 0) or None)
        end = params.get("endTime")
        return cls(frequency=frequency, every=float(every) if every else None,
                   start=float(params.get("startTime") or 0), end=float(end) if end not in (None, "") else None,
                   state=str(flow.get("state") or "enabled"), created=float(flow.get("createdAt") or 0) / 1000)

    @property
    def first(self) -> float:
        """When the flow's first run is due."""
        return max(self.start, self.created)

    def due_in(self, interval: Interval) -> tuple[int, float | None]:
        """``(how many runs are due in interval, the first due time)``."""
        due: list[float] = [self.first] if interval.start <= self.first < interval.end else []
        count = len(due)
        if self.every:
            low = max(interval.start, self.first)
            high = interval.end if self.end is None else min(interval.end, self.end + 1e-6)
            k_low = max(1, math.ceil((low - self.start) / self.every))
            if self.start + k_low * self.every <= self.first:
                k_low += 1
            k_high = math.ceil((high - self.start) / self.every) - 1  # the last k with a due time before ``high``
            if k_high >= k_low:
                count += k_high - k_low + 1
                due.append(self.start + k_low * self.every)
        return count, min(due) if due else None

    def describe(self) -> str:
        every = "once" if self.every is None else f"every {self.every / FREQUENCY_SECONDS.get(self.frequency, 1):g} " \
                                                  f"{self.frequency}(s)"
        until = f" until {iso(self.end)}" if self.end is not None else ""
        return f"frequency {self.frequency}, {every} from {iso(self.start)}{until}; flow {self.state}"


def no_run(flow_id: str, flow: dict[str, Any] | None, interval: Interval) -> tuple[bool, str]:
    """``(ok, sentence)`` for an interval in which AEP made no run of ``flow_id`` (``flow``: its read, or None)."""
    if flow is None:
        return False, f"Flow {flow_id} no longer exists: AEP made no run in {interval}; re-run the onboarding."
    timetable = FlowTimetable.of(flow)
    count, first = timetable.due_in(interval)
    if not count or first is None:
        return True, (f"No run of flow {flow_id} was due in {interval} ({timetable.describe()}; first run due "
                      f"{iso(timetable.first)}): nothing to judge.")
    text = (f"AEP made no run of flow {flow_id} in {interval}, though its schedule had {count} due, the first at "
            f"{iso(first)} ({timetable.describe()}).")
    if timetable.state == "disabled":
        text += (" The flow is disabled: AEP makes no scheduled run of a disabled flow; enable it "
                 "(a re-run with on_drift: update does) or find out who disabled it.")
    elif timetable.state != "enabled":
        text += f" The flow is in state {timetable.state!r}, not enabled: AEP runs only enabled flows."
    else:
        text += " Check the flow's runs in AEP's monitoring."
    return False, text
