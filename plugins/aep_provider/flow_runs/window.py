"""Which time window a flow run read, and what of a window is left for an on-demand run to ingest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aep_provider.models.time import to_epoch_seconds


def iso(epoch: int) -> str:
    """Epoch seconds as an ISO-8601 UTC date-time, for log lines people read."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def uncovered_window(
    flow: dict[str, Any], start: int, end: int, own_window: tuple[int, int] | None = None
) -> tuple[int, int]:
    """The part of ``[start, end)`` that the flow's own first run and schedule do not ingest.

    ``own_window``: the window the flow's own run REALLY read, as that run reports it (monitor.md: the copy
    activity's ``durationSummary.extensions.windowStart``/``windowEnd``; :attr:`FlowRun.window <aep_provider.flow_runs.run.FlowRun.window>`); the window is
    cut against it. Only when the run does not say (``None``) OUR model of a flow's own runs is used (the
    emulator's too; Adobe only says, flow-service.yaml ScheduleSpecDTO.backfill, that with backfill "all
    current files in the specified path will be ingested during the first scheduled ingestion"): the first
    run takes everything before ``startTime`` when ``backfill`` is on (the default; a ``once`` flow takes no
    backfill key), and the scheduled runs take everything from ``startTime`` on while the flow is enabled
    (not for ``once``). An own window strictly inside ``[start, end)`` cannot be cut out of one run's
    window: :class:`ValueError`.
    """
    if own_window is not None:
        own_start, own_end = own_window
        if own_start >= own_end or own_end <= start or own_start >= end:
            return start, end
        if start < own_start and own_end < end:
            raise ValueError(
                f"the flow's own run read {iso(own_start)} .. {iso(own_end)}, inside the window "
                f"{iso(start)} .. {iso(end)}: one on-demand run cannot ingest the parts before and after it"
            )
        if own_start <= start:
            start = min(end, own_end)
        else:
            end = own_start
        return start, max(start, end)
    schedule = flow.get("scheduleParams") or {}
    try:
        flow_start = to_epoch_seconds(schedule.get("startTime"), field="scheduleParams.startTime")
    except ValueError:
        return start, end
    frequency = str(schedule.get("frequency") or "")
    if schedule.get("backfill", True) in (True, "true", "True"):
        start = max(start, flow_start)
    if frequency != "once" and flow.get("state", "enabled") == "enabled":
        end = min(end, flow_start)
    return start, max(start, end)
