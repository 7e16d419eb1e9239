"""An on-demand window never re-ingests rows that the flow's own first run or schedule ingests."""

from __future__ import annotations

import pytest

from aep_provider.operators.flow import AepRunFlowOperator

START = 1_000_000


def flow(**schedule: object) -> dict:
    state = schedule.pop("state", "enabled")
    return {"state": state, "scheduleParams": {"startTime": START, **schedule}}


@pytest.mark.parametrize(
    ("schedule", "window", "expected"),
    [
        # backfill on: the first run took everything before startTime, the schedule everything after.
        ({"frequency": "day", "interval": 1, "backfill": True}, (0, 2 * START), "empty"),
        # backfill off: only history before startTime is left to on-demand windows.
        ({"frequency": "day", "interval": 1, "backfill": False}, (0, 2 * START), (0, START)),
        ({"frequency": "day", "interval": 1, "backfill": False}, (START + 10, START + 20), "empty"),
        # a disabled flow has no scheduled runs: time after startTime is left to windows.
        ({"frequency": "day", "interval": 1, "backfill": True, "state": "disabled"}, (0, 2 * START), (START, 2 * START)),
        # `once` runs one backfill and nothing after.
        ({"frequency": "once"}, (0, 2 * START), (START, 2 * START)),
        # backfill defaults to true, as Adobe documents.
        ({"frequency": "hour", "interval": 1}, (START - 10, START), "empty"),
    ],
)
def test_window_is_cut_to_what_the_flow_does_not_ingest(schedule, window, expected) -> None:
    start, end = AepRunFlowOperator.uncovered_window(flow(**schedule), *window)
    if expected == "empty":
        assert start >= end
    else:
        assert (start, end) == expected
