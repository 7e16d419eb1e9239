"""``AepIntervalRunsSensor``: judge every run AEP made of a flow in a DAG run's data interval."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from airflow.configuration import conf
from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowSkipException

from aep_provider.flow_runs.interval import Interval, iso, no_run
from aep_provider.flow_runs.run import FlowRun
from aep_provider.flow_runs.verdict import checked_tolerance, verdict
from aep_provider.flow_runs.watch import RunTarget, RunWatch, run_targets, runs_of_event
from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.params import AepHookParams
from aep_provider.links import AepFlowRunLink
from aep_provider.operators.connected import AepConnected
from aep_provider.operators.rows import Row, checked_concurrency, rows_error, run_rows
from aep_provider.outcomes import OUTCOMES_XCOM, Kind, Outcome, RunResult
from aep_provider.sensors.flow_run import AepFlowRunFailed
from aep_provider.triggers.flow_run import AepFlowRunTrigger

#: Between an object's key and a run id in a trigger target's key (a key holds no ``/``: it is a table path or slug).
SEP = " run "


class AepIntervalRunsSensor(AepConnected, BaseSensorOperator):
    """Judge the runs AEP made of each flow in ``[data_interval_start, data_interval_end)``, for flows on AEP's own
    schedule (``ingestion: aep``): wait until they have ended, judge each as :class:`AepFlowRunSensor` does (the same
    ``verdict``: status, failed records against ``failed_record_tolerance``, the error codes), and fail naming every
    run that falls short. An interval in which AEP made no run although the flow's schedule had one due fails too,
    naming the schedule and the flow's state (``flow_runs/interval.py``) - after a grace period: Adobe documents no
    bound on how late a run's record appears (monitor.md's example run was created 21 s after it started and minutes
    after its window), so before calling a due run missing the sensor waits until ``missing_run_grace`` seconds after
    the interval's end (deferred on a ``DateTimeTrigger``) and looks for a run of the flow created since the end: one
    found there was late, not missing (the next DAG run, whose interval holds it, judges it). ``on_missing_run``:
    ``fail`` (default) or ``warn`` (log it and pass: for flows disabled on purpose, or until a sandbox's habits are
    known).

    Per flow and DAG run: one listing (``GET /runs`` filtered by ``flowId`` and ``createdAt``, every page with the
    filter), a read of the flow only when the listing is empty, and a read per poll of each run that had not ended
    (deferred to :class:`AepFlowRunTrigger` when ``deferrable``). A run without a data interval (a manual run in
    Airflow 3) is skipped: it has no interval to judge.

    :param flow_id: ``{key: flow id}`` (templated), the XCom of ``AepCreateDataflowOperator``.
    :param data_interval_start: ISO date-time (templated), the interval's start; ``""``: none.
    :param data_interval_end: ISO date-time (templated), the interval's end; ``""``: none.
    :param failed_record_tolerance: accepted ratio of failed to input records of each run (0..1).
    :param poll_interval: seconds between reads of the runs not yet ended.
    :param missing_run_grace: seconds after the interval's end a due run may still be recorded (default 1800).
    :param on_missing_run: ``"fail"`` or ``"warn"`` when a due run is missing after the grace period.
    :param deferrable: wait on the triggerer (default ``[operators] default_deferrable``).
    :param aep_conn_id: the AEP connection; ``sandbox``, ``hook_params``, ``max_concurrency`` as for the other
        sensor.
    :return: ``{key: {"runs": [{"run_id", "status", "input_records", "output_records", "failed_records"}],
        "input_records", "output_records", "failed_records"}}``; each run is an outcome (``aep_outcomes``, kind
        ``flow run``, ``interval`` true) for the run summary and the asset events.
    """

    template_fields: Sequence[str] = ("flow_id", "data_interval_start", "data_interval_end", "aep_conn_id", "sandbox",
                                      "hook_params")
    ui_color = "#fa0f00"
    ui_fgcolor = "#ffffff"

    def __init__(
        self,
        *,
        flow_id: Mapping[str, str] | Any,
        data_interval_start: str = "",
        data_interval_end: str = "",
        failed_record_tolerance: float = 0.0,
        poll_interval: float = 5,
        missing_run_grace: float = 1800,
        on_missing_run: Literal["fail", "warn"] = "fail",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        aep_conn_id: str = DEFAULT_CONN_ID,
        sandbox: str | None = None,
        hook_params: AepHookParams | None = None,
        max_concurrency: int = 16,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        self.flow_id, self.deferrable = flow_id, deferrable
        self.data_interval_start, self.data_interval_end = data_interval_start, data_interval_end
        self.failed_record_tolerance, self.poll_interval = checked_tolerance(failed_record_tolerance), float(poll_interval)
        if on_missing_run not in ("fail", "warn"):
            raise AepConfigError(f"AepIntervalRunsSensor ({self.task_id}): on_missing_run={on_missing_run!r}: "
                                 "use 'fail' or 'warn'")
        if not 0 <= float(missing_run_grace) <= 7 * 86400:
            raise AepConfigError(f"AepIntervalRunsSensor ({self.task_id}): missing_run_grace={missing_run_grace}: "
                                 "seconds between 0 and a week")
        self.missing_run_grace, self.on_missing_run = float(missing_run_grace), on_missing_run
        self.connect(aep_conn_id, sandbox, hook_params, f"AepIntervalRunsSensor ({self.task_id})")
        self.max_concurrency = checked_concurrency(f"AepIntervalRunsSensor ({self.task_id})", max_concurrency)

    # -- the one listing per flow ---------------------------------------------------------------------
    def _interval(self) -> Interval:
        try:
            interval = Interval.of(self.data_interval_start, self.data_interval_end)
        except ValueError as exc:
            raise AepConfigError(f"AepIntervalRunsSensor ({self.task_id}): {exc}; pass ISO date-times") from None
        if interval is None:
            raise AirflowSkipException("This DAG run has no data interval (a manual run): no runs of AEP's own "
                                       "schedule to judge.")
        if interval.end_ms <= interval.start_ms:
            # [t, t): a run of a DAG without a data-interval timetable given a logical date (schedule None or @once,
            # airflow/timetables/simple.py) - no run can have been created in it (``Interval.holds`` is half-open),
            # so there is nothing to list.
            raise AirflowSkipException(f"This DAG run's data interval {interval} is empty: no runs of AEP's own "
                                       "schedule to judge.")
        return interval

    def _list(self, interval: Interval) -> dict[str, tuple[list[FlowRun], str | None, bool]]:
        """Per key: the runs created in ``interval``, and (only when there is none) what that means and whether a
        due run is missing."""
        flows = {target.key: target.flow_id for target in run_targets(self.flow_id)}
        if len(flows) > 1:
            self.hook.get_token()  # the connection and token in this thread; the pool only makes HTTP calls

        def read(key: str) -> tuple[list[FlowRun], str | None, bool]:
            """``(runs, sentence when there is none, whether a due run is missing)``."""
            runs = self.hook.interval_runs(flows[key], interval)
            if runs:
                return runs, None, False
            flow = self.hook.get_object("flows", flows[key])
            ok, sentence = no_run(flows[key], flow, interval)
            if flow is None:
                raise AepFlowRunFailed(f"[{key}] {sentence}")
            return [], sentence, not ok

        rows = [Row(key=key, fields=key) for key in sorted(flows)]
        outcome = run_rows(rows, lambda row: read(row.fields), max_concurrency=self.max_concurrency)
        if outcome.failed:
            if all(isinstance(exc, AepFlowRunFailed) for exc in outcome.failed.values()):
                raise AepFlowRunFailed(" ".join(str(exc) for _, exc in sorted(outcome.failed.items())))
            if len(rows) == 1:
                raise next(iter(outcome.failed.values()))
            raise rows_error(f"AepIntervalRunsSensor ({self.task_id})", outcome.failed, len(outcome.results))
        return outcome.results

    def execute(self, context: Any) -> Any:
        return self._judge(context, after_grace=False)

    def resume_after_grace(self, context: Any, event: Any = None) -> Any:
        """Back from the grace period's ``DateTimeTrigger``: list again, and call a due run missing only now."""
        return self._judge(context, after_grace=True)

    def _judge(self, context: Any, after_grace: bool) -> Any:
        interval = self._interval()
        listed = self._list(interval)
        self.log.info("Runs AEP made in %s: %s", interval,
                      {key: [run.id for run in runs] for key, (runs, _, _) in sorted(listed.items())})
        missing = {key: sentence for key, (_, sentence, due) in sorted(listed.items()) if due and sentence}
        for key, (_, sentence, due) in sorted(listed.items()):
            if sentence and not due:
                self.log.info("[%s] %s", key, sentence)
        if missing:
            self._missing(interval, missing, after_grace)
        runs = {key: [run.model_dump(by_alias=True, mode="json") for run in found]
                for key, (found, _, _) in listed.items()}
        flows = dict(self.flow_id)
        pending = [RunTarget(f"{key}{SEP}{run.id}", str(run.flow_id or flows.get(key) or ""), run.id)
                   for key, (found, _, _) in listed.items() for run in found if not run.ended]
        if not pending:
            return self._finish(context, runs, {})
        if not self.deferrable:
            return self._finish(context, runs, self._wait(pending))
        timeout = self.execution_timeout or timedelta(seconds=self.timeout)
        self.defer(
            trigger=AepFlowRunTrigger(
                targets=[target.to_json() for target in pending],
                aep_conn_id=self.aep_conn_id,
                hook_params=self.effective_hook_params(),
                poll_interval=self.poll_interval,
                max_concurrency=self.max_concurrency,
                end_time=time.time() + timeout.total_seconds(),
            ),
            method_name="execute_complete",
            kwargs={"runs": runs},
            timeout=timeout,
        )

    def _missing(self, interval: Interval, missing: Mapping[str, str], after_grace: bool) -> None:
        """Due runs AEP has not recorded: wait out the grace period, then a run created since the interval's end was
        late (the next DAG run judges it); none is a missing run - fail, or warn with ``on_missing_run: warn``."""
        until = interval.end + self.missing_run_grace
        if self.missing_run_grace and not after_grace and time.time() < until:
            self.log.info("No run recorded yet where one was due (%s); waiting until %s (missing_run_grace %gs) for a "
                          "late one", ", ".join(sorted(missing)), iso(until), self.missing_run_grace)
            if self.deferrable:
                self.defer(trigger=DateTimeTrigger(moment=datetime.fromtimestamp(until, tz=timezone.utc)),
                           method_name="resume_after_grace")
            time.sleep(max(0.0, until - time.time()))
        flows = dict(self.flow_id)
        since_end = Interval(start=interval.end, end=max(until, time.time()))
        problems = []
        for key, sentence in missing.items():
            late = self.hook.interval_runs(flows[key], since_end)
            if late:
                self.log.info("[%s] AEP recorded the run due in %s late, at %s (%s): the next DAG run judges it.", key,
                              interval, iso(late[0].created / 1000), late[0].id)  # oldest first
            else:
                problems.append(f"[{key}] {sentence} Nothing was recorded in the {self.missing_run_grace:g}s grace "
                                "period after the interval either (missing_run_grace).")
        if not problems:
            return
        if self.on_missing_run == "fail":
            raise AepFlowRunFailed(" ".join(problems))
        for problem in problems:
            self.log.warning("%s on_missing_run is warn: this DAG run passes.", problem)

    def _wait(self, pending: list[RunTarget]) -> dict[str, FlowRun]:
        """Without deferring: read the runs not yet ended by id until they have (the trigger's routine, sync)."""
        watch = RunWatch(pending, self.log)
        deadline = time.monotonic() + (self.execution_timeout or timedelta(seconds=self.timeout)).total_seconds()
        while True:
            for target in list(watch.pending.values()):
                watch.record(target, self.hook.get_run(str(target.run_id)))
            if watch.finished:
                return watch.ended
            if time.monotonic() >= deadline:
                raise AepFlowRunFailed(f"the runs {sorted(watch.pending)} had not ended by the sensor's timeout")
            time.sleep(self.poll_interval)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None,
                         runs: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
        if not event or event.get("status") != "terminal":
            message = (event or {}).get("message", "the trigger ended without an event")
            raise AepFlowRunFailed(f"Waiting for the runs of {sorted(runs or {})} in this interval failed: {message}")
        return self._finish(context, runs or {}, runs_of_event(event))

    # -- judging -------------------------------------------------------------------------------------
    def _finish(self, context: Any, listed: Mapping[str, list[dict[str, Any]]],
                ended: Mapping[str, FlowRun]) -> dict[str, Any]:
        """Judge every run of every key: the listed ones, each replaced by its ended read when it was waited for."""
        judged: dict[str, list[FlowRun]] = {}
        for key, dumps in sorted(listed.items()):
            judged[key] = [ended.get(f"{key}{SEP}{dump['run_id']}") or FlowRun.model_validate(dump) for dump in dumps]
        failed: list[str] = []
        for key, runs in judged.items():
            for run in runs:
                ok, sentence = verdict(run, self.failed_record_tolerance)
                if ok:
                    self.log.info("[%s] %s", key, sentence)
                else:
                    failed.append(f"[{key}] {sentence}")
        if failed:
            raise AepFlowRunFailed(" ".join(failed))
        self._record(context, judged)
        return {key: {"runs": [run.xcom() for run in runs],
                      **{name: sum(getattr(run, name) for run in runs)
                         for name in ("input_records", "output_records", "failed_records")}}
                for key, runs in judged.items()}

    def _record(self, context: Any, judged: Mapping[str, list[FlowRun]]) -> None:
        """Each judged run as an outcome (``aep_outcomes``), as the other sensor records its runs; never fails."""
        flows = dict(self.flow_id) if isinstance(self.flow_id, Mapping) else {}
        try:
            tenant, sandbox = self.hook.settings.ui_tenant, self.hook.sandbox
            outcomes = []
            for key, runs in judged.items():
                for run in runs:
                    flow_id = str(run.flow_id or flows.get(key) or "")
                    result = RunResult(status=run.status, input_records=run.input_records,
                                       output_records=run.output_records, failed_records=run.failed_records,
                                       interval=True)
                    outcomes.append(Outcome(
                        kind=Kind.FLOW_RUN, id=run.id, key=key, flow_id=flow_id or None, run=result,
                        link=AepFlowRunLink.build(tenant, sandbox, flow_id=flow_id, id=run.id) if flow_id else "",
                    ).model_dump(mode="json"))
            self.push(context, OUTCOMES_XCOM, outcomes)
        except Exception as exc:  # the summary is a report: it never fails the task
            self.log.warning("Could not record the runs of this interval: %s", exc)


__all__ = ["AepIntervalRunsSensor"]
