"""The run scheduler's timeline: when each flow's next scheduled run is due and when each run in progress ends.

A heap of wake-up times, so that the tick every request makes (``runs.tick_all``) takes what is due and looks at
nothing else, however many flows and runs the emulator holds. The store tells the timeline of every put, delete
and in-place change of a flow or a run (``Store.observer``), and the timeline notes the flow's next due time
(``schedule.next_due``; an enabled flow with a timetable) or the run's end (a run without a result). An event is
a hint: the tick reads the flow or run again and does what the schedule says, so a stale event (a deleted flow, a
disabled one, a time that moved) costs one look and nothing else.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import schedule
from .containers import Container


@dataclass(order=True, frozen=True)
class Event:
    due: float
    seq: int
    kind: str = field(compare=False)  # "flow" (a scheduled run may be due) or "run" (a run ends)
    container: tuple[str, str] = field(compare=False)
    ident: str = field(compare=False)


class Timeline:
    def __init__(self, containers: Iterable[Container], delay: Callable[[], float] = lambda: 0.0) -> None:
        """``delay``: the config's ``scheduled_run_delay_seconds`` now (a scheduled run is recorded that long after
        its due time; a change of it drops the timeline, ``admin.set_config``)."""
        self._delay = delay
        self._heap: list[Event] = []
        self._seq = itertools.count()
        self._pending: dict[tuple[str, tuple[str, str], str], float] = {}
        for cont in containers:
            for kind in ("flow", "run"):
                for ident, obj in cont.items[kind].items():
                    self.observe(cont, kind, ident, obj)

    def observe(self, cont: Container, kind: str, ident: str, obj: dict[str, Any] | None) -> None:
        """``items[kind][ident]`` of ``cont`` is now ``obj``: note when it next needs the scheduler."""
        if obj is None:
            return
        due: float | None = None
        if kind == "flow":
            timetable = obj.get("__timetable")
            if timetable and obj.get("state") == "enabled":
                due = schedule.next_due(timetable)
                due = None if due is None else due + self._delay()
        elif kind == "run" and obj.get("__result") is None:
            due = float(obj["__start"] + obj["__duration"])
        if due is not None:
            self._push(Event(due, next(self._seq), kind, (cont.org_id, cont.sandbox), ident))

    def _push(self, event: Event) -> None:
        key = (event.kind, event.container, event.ident)
        if self._pending.get(key) == event.due:
            return  # already waiting for that time
        self._pending[key] = event.due
        heapq.heappush(self._heap, event)

    def any_due(self, now: float) -> bool:
        return bool(self._heap) and self._heap[0].due <= now

    def pop_due(self, now: float, kind: str) -> list[Event]:
        """The events of ``kind`` due at ``now`` (each object once), taken off the timeline; others stay."""
        taken: dict[tuple[tuple[str, str], str], Event] = {}
        other: list[Event] = []
        while self._heap and self._heap[0].due <= now:
            event = heapq.heappop(self._heap)
            if event.kind != kind:
                other.append(event)
                continue
            key = (event.container, event.ident)
            if self._pending.get((kind, *key)) == event.due:
                del self._pending[(kind, *key)]
            taken.setdefault(key, event)
        for event in other:
            heapq.heappush(self._heap, event)
        return list(taken.values())

    def requeue(self, events: Iterable[Event]) -> None:
        """Events looked at too early: wake them again on a later tick."""
        for event in events:
            self._push(event)
