"""An on-demand window never re-ingests rows that the flow's own first run or schedule ingests; runs are read as
Adobe reports them (window on the copy activity, status in any case)."""

from __future__ import annotations

import pytest

from aep_provider.flow_runs.run import FAILED, FlowRun
from aep_provider.flow_runs.verdict import verdict
from aep_provider.operators.flow import AepRunFlowOperator


def run_window(run: dict) -> tuple[int, int] | None:
    return FlowRun.from_answer(run).window

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


def monitor_run(window_start_ms: int, window_end_ms: int, status: str = "success") -> dict:
    """A run shaped as help/dataflows/api/monitor.md shows it: no ``params``; the copy activity reports the window
    it read in ``durationSummary.extensions`` (epoch milliseconds)."""
    return {
        "id": "9830305a-985f-47d0-b030-5a985fd7d004",
        "flowId": "c9cef9cb-c934-4467-8ef9-cbc934546741",
        "metrics": {"statusSummary": {"status": status, "activityRefs": ["promotionActivity"]}},
        "activities": [
            {"id": "copyActivity", "durationSummary": {
                "startedAtUTC": 1596656058198, "completedAtUTC": 1596656089650,
                "extensions": {"windowStart": window_start_ms, "windowEnd": window_end_ms}},
             "statusSummary": {"status": status, "extensions": {"type": "one-time"}}},
            {"id": "promotionActivity", "durationSummary": {"startedAtUTC": 1596656095333},
             "statusSummary": {"status": status}},
        ],
    }


def test_the_window_a_run_read_comes_from_its_copy_activity_or_its_params() -> None:
    """Runs are matched to windows by what they report: monitor.md's copy activity window (ms), else an echoed
    ``params`` (s); a run that says neither has no window."""
    assert run_window(monitor_run(1596653708000, 1596655508000)) == (1596653708, 1596655508)
    assert run_window({"params": {"windowStartTime": "10", "windowEndTime": 20}}) == (10, 20)
    assert run_window({"id": "x", "activities": [{"id": "promotionActivity"}]}) is None
    run = FlowRun.from_answer(monitor_run(START * 1000, (START + 50) * 1000))
    assert AepRunFlowOperator._reattachable(run, START, START + 50)
    assert not AepRunFlowOperator._reattachable(run, START, START + 51)


def test_window_is_cut_by_the_window_the_flows_own_run_really_read() -> None:
    """The flow's own run reports the window it read (monitor.md); that, not our model of a first run (everything
    before startTime), decides what is left: here it read up to 100 s after startTime."""
    own = run_window(monitor_run(0, (START + 100) * 1000))
    once = flow(frequency="once")
    assert AepRunFlowOperator.uncovered_window(once, START, START + 200, own) == (START + 100, START + 200)
    start, end = AepRunFlowOperator.uncovered_window(once, START + 10, START + 90, own)
    assert start >= end  # wholly read by the flow's own run
    # an own run that read nothing (a failed one: an empty window) leaves the whole window
    assert AepRunFlowOperator.uncovered_window(once, START - 50, START + 50, (START, START)) == (START - 50, START + 50)
    # a window ending inside the own run's window keeps its part before it
    later = (START + 100, START + 300)
    assert AepRunFlowOperator.uncovered_window(once, START, START + 200, later) == (START, START + 100)
    with pytest.raises(ValueError, match="cannot ingest the parts before and after"):
        AepRunFlowOperator.uncovered_window(once, START, START + 400, later)


def test_run_statuses_are_read_in_any_case() -> None:
    """sort-and-filter.md writes ``Failed``, monitor.md ``success``: a run reported ``Failed`` is failed and ended
    for the sensor, and is never reattached to."""
    failed = monitor_run(0, 1000, status="Failed")
    run = FlowRun.from_answer(failed)
    assert run.status == "failed" and run.ended and run.failed and run.status in FAILED
    ok, _sentence = verdict(run, 1.0)
    assert not ok
    assert FlowRun.from_answer(monitor_run(0, 1000, status="SUCCESS")).ended
