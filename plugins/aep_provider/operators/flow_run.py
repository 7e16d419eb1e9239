"""``AepRunFlowOperator``: start an on-demand run of a one-time dataflow for one time window - once."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow.sdk.exceptions import AirflowSkipException

from aep_provider.flow_runs.run import GOING, FlowRun
from aep_provider.flow_runs.window import iso, uncovered_window
from aep_provider.hooks.errors import AepConfigError, AepError
from aep_provider.lineage import FlowLineageMixin
from aep_provider.links import AepFlowRunLink
from aep_provider.models.drift import flow_delta
from aep_provider.models.flow_service import Created, RunCreate
from aep_provider.models.time import to_epoch_seconds
from aep_provider.operators.base import AepRowsOperator
from aep_provider.operators.rows import Row
from aep_provider.outcomes import Kind

#: A run not ended this long after it was created is stuck, not in flight (``max_runs_in_flight``).
STUCK_AFTER_SECONDS = 86400.0


@dataclass(frozen=True)
class RunFlowFields:
    flow_id: str = ""
    window_start: Any = None
    window_end: Any = None
    delta_column: str | None = None



class AepRunFlowOperator(FlowLineageMixin, AepRowsOperator[RunFlowFields]):
    """Start an on-demand run of a one-time dataflow for one time window - once.

    AEP creates runs only against a flow "scheduled for one-time ingestion" (flow-service.yaml ``POST /runs``;
    on-demand-ingestion.md): the flow must have ``frequency: once``; any other flow is refused here, before the
    call. The run body carries ``startTime`` (now), ``windowStartTime``/``windowEndTime`` and ``deltaColumn``: on
    the first run the task's, after that the flow's Copy ``deltaColumn`` unchanged (the source of truth; a
    different one is an error).

    On a retry (or a second run of the task) it reattaches to the run already started for the same
    window instead of starting another: first through the task state store (Airflow >= 3.3), then by
    looking the flow's runs up by the window each run reports (the copy activity's
    ``durationSummary.extensions.windowStart``/``windowEnd``, monitor.md; an echoed ``params`` too). Runs that failed are not
    reattached to, so a retry after a failed run starts a new one.

    :param window_start: ISO string, epoch seconds or datetime (templated, e.g. ``{{ data_interval_start }}``).
    :param window_end: same; must not be before ``window_start``. When both are empty (a manual run
        without a data interval) the task is skipped: there is no window to ingest.
    :param delta_column: the source column that selects the window's rows; sent on the flow's first run
        (default: the flow's own Copy ``deltaColumn``); a later run sends the flow's and checks this against it.
    :param respect_flow_schedule: the flow's own one-time run ingests a window of its own. By default the
        window is cut to the part that run did not read, and the task is skipped when nothing is left, so no row
        is ingested twice. The own run's window is read from that run (monitor.md: the copy activity's
        ``durationSummary.extensions.windowStart``/``windowEnd``), waiting for it to say; only when it does not,
        OUR model is used: everything before ``startTime`` (Adobe only says that with backfill "all current
        files ... will be ingested during the first scheduled ingestion", flow-service.yaml ScheduleSpecDTO).
    :param own_run_timeout_seconds: how long to wait for the flow's own run to be listed and report its window.
    :param own_run_poll_seconds: how often to look while waiting.
    :param max_runs_in_flight: start a run only while fewer of the flow's runs than this are still going (``None``:
        no limit). Adobe documents no limit on on-demand runs of one flow in flight (flow-service.yaml ``POST /runs``
        answers only 201, 403 and 503; on-demand-ingestion.md is silent), so this is our setting, not AEP's rule; the
        flow's run listing that looks for this window's run already shows the others, so it costs no request while
        there is room. Give the task ``max_active_tis_per_dag=1`` to make the count exact across DAG runs.
    :param room_timeout_seconds: how long to wait for room before failing.
    :return: the run id.
    """

    creates = False  # no named resource: no write lease

    operator_extra_links = (AepFlowRunLink(),)

    state_key = "aep_run_id"
    Fields = RunFlowFields
    identity_fields: Sequence[str] = ("flow_id",)

    def __init__(
        self,
        *,
        respect_flow_schedule: bool = True,
        own_run_timeout_seconds: float = 300.0,
        own_run_poll_seconds: float = 10.0,
        max_runs_in_flight: int | None = None,
        room_timeout_seconds: float = 3600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if max_runs_in_flight is not None and max_runs_in_flight < 1:
            raise AepConfigError(f"max_runs_in_flight={max_runs_in_flight}: use 1 or more, or None for no limit.")
        self.max_runs_in_flight = max_runs_in_flight
        self.room_timeout_seconds = room_timeout_seconds
        self.own_run_timeout_seconds = own_run_timeout_seconds
        self.own_run_poll_seconds = own_run_poll_seconds
        self.respect_flow_schedule = respect_flow_schedule

    #: The part of a window the flow's own runs do not ingest (``flow_runs/window.py``).
    uncovered_window = staticmethod(uncovered_window)

    def _skip(self, row: Row[RunFlowFields], reason: str) -> AirflowSkipException:
        """Say why in the task's main log, then skip."""
        self.log.info("%sSkipped: %s", row.label, reason)
        return AirflowSkipException(reason)

    def _window(self, row: Row[RunFlowFields]) -> tuple[int, int]:
        empty = [v in (None, "") for v in (row.fields.window_start, row.fields.window_end)]
        if all(empty):
            raise self._skip(
                row,
                "no window to ingest: window_start and window_end are empty (a manual run without a data "
                "interval). Trigger the DAG with a logical date, or use `airflow backfill create`.",
            )
        if any(empty):
            raise AepConfigError(
                f"{row.label}window_start={row.fields.window_start!r} and window_end={row.fields.window_end!r}: give both or neither."
            )
        try:
            start = to_epoch_seconds(row.fields.window_start, field="window_start")
            end = to_epoch_seconds(row.fields.window_end, field="window_end")
        except ValueError as exc:
            raise AepConfigError(str(exc)) from None
        if end < start:
            raise AepConfigError(
                f"{row.label}window_end ({row.fields.window_end}) is before window_start ({row.fields.window_start}); swap them."
            )
        return start, end

    @staticmethod
    def _reattachable(run: FlowRun | None, start: int, end: int) -> bool:
        """A run of ``[start, end)`` that did not fail (its window as the copy activity reports it, monitor.md)."""
        return run is not None and run.window == (start, end) and not run.failed

    def _state_key(self, row: Row[RunFlowFields]) -> str:
        return f"{self.state_key}:{row.key}" if row.many else self.state_key

    def _from_state_store(self, context: Any, row: Row[RunFlowFields], start: int, end: int) -> str | None:
        store = context.get("task_state_store") if hasattr(context, "get") else None
        if store is None:
            return None
        try:
            run_id = store.get(self._state_key(row))
        except Exception as exc:  # the store is an aid: the look-up by window below still finds the run
            self.log.warning(
                "%sCould not read the task state store (%s: %s); looking the run up by its window instead",
                row.label, type(exc).__name__, exc,
            )
            return None
        if not run_id:
            return None
        if self._reattachable(self.hook.get_run(str(run_id)), start, end):
            self.log.info("%sReattaching to run %s recorded by an earlier try", row.label, run_id)
            return str(run_id)
        return None

    def _own_run_window(self, row: Row[RunFlowFields], flow: dict[str, Any], flow_id: str) -> tuple[int, int] | None:
        """The window the flow's own (first) run read, waiting for that run to say; ``None`` when it does not.

        The flow's own run is its first run (``orderby=createdAt``, limit 1): a one-time flow whose ``startTime``
        has passed runs once by itself, before any data interval of the DAG has ended. While that run is not
        listed yet, or reports no window and has not ended, this waits (``own_run_timeout_seconds``, polling every
        ``own_run_poll_seconds``). An own run that ended failed wrote nothing: it covers no window.
        """
        schedule = flow.get("scheduleParams") or {}
        try:
            flow_start = to_epoch_seconds(schedule.get("startTime"), field="scheduleParams.startTime")
        except ValueError:
            return None
        if time.time() < flow_start:
            return None  # the own run is not due yet
        deadline = time.monotonic() + self.own_run_timeout_seconds
        window: tuple[int, int] | None = None
        while True:
            run = self.hook.one_run(flow_id, "first")
            if run is not None:
                window = run.window
                if run.failed:
                    self.log.info("%sThe flow's own run %s ended %s: it ingested no window", row.label, run.id,
                                  run.status)
                    return (flow_start, flow_start)
                if window is not None or run.ended:
                    return window
            if time.monotonic() >= deadline:
                self.log.warning(
                    "%sFlow %s's own run %s within %.0f s; cutting the window by the flow's startTime instead",
                    row.label, flow_id, "did not report its window" if run else "was not listed",
                    self.own_run_timeout_seconds,
                )
                return window if run is not None else None
            self.log.info("%sWaiting for flow %s's own run to report the window it reads", row.label, flow_id)
            time.sleep(self.own_run_poll_seconds)

    def _clip(self, row: Row[RunFlowFields], flow: dict[str, Any], start: int, end: int) -> tuple[int, int]:
        own = self._own_run_window(row, flow, str(flow.get("id")))
        try:
            clipped = self.uncovered_window(flow, start, end, own)
        except ValueError as exc:
            raise AepConfigError(f"{row.label}{exc}; run the window in two parts around it.") from None
        if clipped[0] >= clipped[1]:
            schedule = flow.get("scheduleParams") or {}
            flow_start = schedule.get("startTime")
            when = iso(to_epoch_seconds(flow_start, field="startTime")) if flow_start is not None else "?"
            read = (
                f"its first run read {iso(own[0])} .. {iso(own[1])}, as that run reports"
                if own is not None
                else "its first run takes everything before startTime"
            )
            raise self._skip(
                row,
                f"the window {iso(start)} .. {iso(end)} is already ingested by flow {flow.get('id')}'s own runs "
                f"(frequency {schedule.get('frequency')!r}, startTime {when}: {read}); nothing is left to ingest "
                "on demand.",
            )
        if clipped != (start, end):
            self.log.info("%sWindow %s .. %s cut to %s .. %s, the part the flow's own runs do not ingest",
                          row.label, iso(start), iso(end), iso(clipped[0]), iso(clipped[1]))
        return clipped

    def _delta_for_run(self, row: Row[RunFlowFields], flow: dict[str, Any], first: bool) -> str | dict[str, Any]:
        """The ``deltaColumn`` to send, on every run: crm.md's CRMToAEP ``runSpec`` requires it on every run, while
        on-demand-ingestion.md needs it on the first run only and refuses a change after; the first run's column,
        then the flow's own Copy ``deltaColumn`` object unchanged (name and any ``dateFormat``/``timezone``),
        satisfies both."""
        held = flow_delta(flow)
        current = str(held["name"]) if held else None
        if not first:
            if row.fields.delta_column and current and row.fields.delta_column != current:
                raise AepConfigError(
                    f"{row.label}delta_column={row.fields.delta_column!r} differs from the deltaColumn {current!r} of flow "
                    f"{flow.get('id')}; AEP refuses a changed deltaColumn on a later run. Use {current!r} (or a new "
                    "flow)."
                )
            if held:
                return held
        wanted = row.fields.delta_column or current
        if not wanted:
            raise AepConfigError(
                f"{row.label}delta_column is empty and flow {flow.get('id')} names none: name the source column "
                "holding the change time."
            )
        return held if held and held["name"] == wanted else str(wanted)

    def _going(self, row: Row[RunFlowFields], runs: list[FlowRun]) -> list[str]:
        """The runs not ended (``flow_runs/run.py`` ``TERMINAL``) that were created in the last day: an older one that
        never ended is stuck in AEP, not in flight, and must not block every window after it (it is logged)."""
        horizon_ms = (time.time() - STUCK_AFTER_SECONDS) * 1000
        going: list[str] = []
        for run in runs:
            if run.ended:
                continue
            if run.status not in GOING:
                self.log.warning("%sRun %s has a status this provider does not know (%r): counted as going",
                                 row.label, run.id, run.status)
            if run.created < horizon_ms:
                self.log.warning("%sRun %s (status %r) was created over a day ago and has not ended: not counted",
                                 row.label, run.id, run.status)
                continue
            going.append(run.id)
        return sorted(going)

    def _wait_for_room(self, row: Row[RunFlowFields], flow_id: str, runs: list[FlowRun] | None) -> None:
        """Wait while ``max_runs_in_flight`` of the flow's runs are still going (``runs``: a listing just made)."""
        if self.max_runs_in_flight is None:
            return
        deadline = time.monotonic() + self.room_timeout_seconds
        while True:
            runs = runs if runs is not None else self.hook.list_runs(flow_id)
            going = self._going(row, runs)
            if len(going) < self.max_runs_in_flight:
                return
            if time.monotonic() + self.own_run_poll_seconds > deadline:
                raise AepError(
                    f"{row.label}flow {flow_id} still had {len(going)} runs going after {self.room_timeout_seconds:.0f} s "
                    f"({', '.join(going)}; max_runs_in_flight={self.max_runs_in_flight}): check them in AEP, or raise "
                    "max_runs_in_flight (the spec's window_runs_in_flight)."
                )
            self.log.info("%sFlow %s has %d runs going (max_runs_in_flight=%d): waiting for one to end",
                          row.label, flow_id, len(going), self.max_runs_in_flight)
            time.sleep(self.own_run_poll_seconds)
            runs = None

    def _one_time_flow(self, row: Row[RunFlowFields], flow: dict[str, Any], flow_id: str) -> None:
        frequency = (flow.get("scheduleParams") or {}).get("frequency")
        if frequency != "once":
            raise AepConfigError(
                f"{row.label}flow {flow_id} is scheduled with frequency {frequency!r}: AEP creates on-demand runs only "
                "for a flow scheduled for one-time ingestion. Create the flow with schedule frequency 'once' (in an "
                "onboarding spec: `ingestion: airflow`), or let AEP's own schedule ingest (no window runs)."
            )

    def execute_row(self, context: Any, row: Row[RunFlowFields]) -> str:
        start, end = self._window(row)
        flow_id = str(row.fields.flow_id)
        hook = self.hook
        flow = hook.get_object("flows", flow_id)
        if flow is None:
            raise AepConfigError(
                f"{row.label}flow_id={flow_id!r} does not exist in sandbox {hook.sandbox}; pass the id returned by "
                "AepCreateDataflowOperator."
            )
        self._one_time_flow(row, flow, flow_id)
        if self.respect_flow_schedule:
            start, end = self._clip(row, flow, start, end)
        run_id = self._from_state_store(context, row, start, end)
        if run_id is None:
            first = not flow.get("lastRunDetails") and hook.one_run(flow_id, "latest") is None
            body = RunCreate.build(
                flow_id, start, end, start_time=int(time.time()), delta_column=self._delta_for_run(row, flow, first)
            ).to_body()

            listed: list[list[FlowRun]] = []

            def lookup() -> str | None:
                listed[:] = [hook.list_runs(flow_id)]
                return next((run.id for run in listed[0] if self._reattachable(run, start, end)), None)

            def create() -> str:
                self._wait_for_room(row, flow_id, listed[0] if listed else None)
                return Created.from_answer(hook.create_object("runs", body)).id

            run_id, _ = hook.create_idempotent(
                kind=Kind.FLOW_RUN, name=f"window {iso(start)} .. {iso(end)}", flow_id=flow_id, lookup=lookup,
                create=create, exclusive=False,
            )
            store = context.get("task_state_store") if hasattr(context, "get") else None
            if store is not None:
                try:
                    store.set(self._state_key(row), run_id)
                except Exception as exc:
                    self.log.warning("Could not record run id in the task state store: %s", exc)
        self.record_flow_lineage(hook, flow)
        self.persist_link(context, AepFlowRunLink, row, flow_id=flow_id, id=run_id)
        return run_id
