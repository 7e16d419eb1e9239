"""``AepFlowRunSensor``: wait for flow runs to end and judge their outcome."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow.configuration import conf
from airflow.sdk import BaseSensorOperator, PokeReturnValue

from aep_provider.flow_runs.run import FlowRun
from aep_provider.flow_runs.verdict import checked_tolerance, error_codes, verdict
from aep_provider.flow_runs.watch import RunTarget, RunWatch, checked, naming, run_targets, runs_of_event
from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.hooks.errors import AepConfigError, AepError
from aep_provider.hooks.params import AepHookParams
from aep_provider.links import AepFlowRunLink
from aep_provider.operators.connected import AepConnected
from aep_provider.operators.rows import Row, checked_concurrency, rows_error, run_rows
from aep_provider.outcomes import OUTCOMES_XCOM, Kind, Outcome, RunResult
from aep_provider.triggers.flow_run import AepFlowRunTrigger


class AepFlowRunFailed(AepError):
    """The flow run failed, or more of its records failed than the failed-record tolerance allows."""


class AepFlowRunSensor(AepConnected, BaseSensorOperator):
    """Wait for flow runs to end and judge each by its record counts, whatever its status word.

    ``failed`` (or cancelled) fails with the run's error codes. Any other ended run passes when
    ``failedRecordCount`` / ``inputRecordCount`` <= ``failed_record_tolerance`` and fails above it, naming
    the error codes and record counts (Adobe shows ``success`` runs with failed records, monitor.md; the
    per-row codes come from ``activities[].statusSummary.extensions.errors``).

    Deferrable (``AepFlowRunTrigger`` on the triggerer, which shares this sensor's polling routine) when
    ``deferrable`` is true, by default Airflow's ``[operators] default_deferrable``; otherwise it pokes, in
    ``mode="poke"`` or ``mode="reschedule"``. A flow without a run yet keeps it waiting.

    :param flow_id: ``{key: flow id}`` (templated), the XCom of ``AepCreateDataflowOperator``; the runs of
        many flows are read concurrently.
    :param run_id: ``{key: run id}`` (templated), the XCom of ``AepRunFlowOperator``: wait for those runs
        (only those keys); without it the flow's ``which`` run.
    :param which: ``"latest"`` or ``"first"`` run of the flow when ``run_id`` is not given (one
        ``orderby=-createdAt&limit=1`` read, never the flow's whole run history).
    :param failed_record_tolerance: accepted ratio of failed to input records of an ended run (0..1).
    :param poll_interval: seconds between checks (also the poke interval).
    :param aep_conn_id: the AEP connection.
    :param sandbox: overrides the connection's sandbox (templated), as for the operators.
    :param hook_params: ``AepHook``'s other keyword arguments (templated): ``max_retries``,
        ``retry_max_seconds``, ``timeout``; the trigger gets the same (with the sandbox).
    :param max_concurrency: reads in flight at once.
    :return: ``{key: {"run_id", "status", "input_records", "output_records", "failed_records"}}``. Every
        failed run is named in the one error. Each run is also recorded as an outcome (XCom ``aep_outcomes``: kind
        ``flow run``, its flow, its counts, whether it was the flow's first run), as the operators record theirs.
    """

    template_fields: Sequence[str] = ("flow_id", "run_id", "aep_conn_id", "sandbox", "hook_params")
    ui_color = "#fa0f00"
    ui_fgcolor = "#ffffff"
    operator_extra_links = (AepFlowRunLink(),)

    def __init__(
        self,
        *,
        flow_id: Mapping[str, str] | Any,
        run_id: Mapping[str, str] | Any = None,
        which: str = "latest",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        failed_record_tolerance: float = 0.0,
        poll_interval: float = 5,
        aep_conn_id: str = DEFAULT_CONN_ID,
        sandbox: str | None = None,
        hook_params: AepHookParams | None = None,
        max_concurrency: int = 16,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        if which not in ("latest", "first"):
            raise AepConfigError(f"which={which!r} must be 'latest' or 'first'")
        self.flow_id, self.run_id, self.which, self.deferrable = flow_id, run_id, which, deferrable
        self.failed_record_tolerance, self.poll_interval = checked_tolerance(failed_record_tolerance), float(poll_interval)
        self.connect(aep_conn_id, sandbox, hook_params, f"AepFlowRunSensor ({self.task_id})")
        self.max_concurrency = checked_concurrency(f"AepFlowRunSensor ({self.task_id})", max_concurrency)

    # -- the polling routine, in the worker ---------------------------------------------------------
    def _read(self, target: RunTarget) -> FlowRun | None:
        """The current state of ``target``'s run (the trigger reads it with the same requests, async)."""
        try:
            if target.run_id:
                run = self.hook.get_run(target.run_id)
            else:
                run = self.hook.one_run(target.flow_id, self.which)  # type: ignore[arg-type]
        except AepConfigError as exc:
            raise naming(target, exc) from None
        return checked(target, run)

    def _poll(self) -> RunWatch:
        """Read every run once (concurrently when there are many)."""
        targets = run_targets(self.flow_id, self.run_id)
        watch = RunWatch(targets, self.log)
        if len(targets) > 1:
            self.hook.get_token()  # the connection and token in this thread; the pool only makes HTTP calls
        rows = [Row(key=target.key, fields=target) for target in targets]
        outcome = run_rows(rows, lambda row: self._read(row.fields), max_concurrency=self.max_concurrency)
        if outcome.failed:
            if len(targets) == 1:
                raise next(iter(outcome.failed.values()))
            raise rows_error(f"AepFlowRunSensor ({self.task_id})", outcome.failed, len(outcome.results))
        for target in targets:
            watch.record(target, outcome.results[target.key])
        return watch

    # -- judging --------------------------------------------------------------------------------
    def _finish(self, context: Any, ended: Mapping[str, FlowRun]) -> dict[str, Any]:
        failed: list[str] = []
        for key, run in sorted(ended.items()):
            ok, sentence = verdict(run, self.failed_record_tolerance)
            sentence = f"[{key}] {sentence}"
            if ok:
                self.log.info(sentence)
            else:
                failed.append(sentence)
        if len(ended) == 1:
            self._persist_link(context, next(iter(ended.values())))
        if failed:
            raise AepFlowRunFailed(" ".join(failed))
        self._record(context, ended)
        return {key: run.xcom() for key, run in sorted(ended.items())}

    def _record(self, context: Any, ended: Mapping[str, FlowRun]) -> None:
        """Each ended run as an outcome (``aep_outcomes``), as the operators record theirs; never fails the task."""
        flows = dict(self.flow_id) if isinstance(self.flow_id, Mapping) else {}
        first = self.run_id is None and self.which == "first"
        try:
            tenant, sandbox = self.hook.settings.ui_tenant, self.hook.sandbox
            outcomes = []
            for key, run in sorted(ended.items()):
                flow_id = str(run.flow_id or flows.get(key) or "")
                result = RunResult(status=run.status, input_records=run.input_records,
                                   output_records=run.output_records, failed_records=run.failed_records, first=first)
                outcomes.append(Outcome(
                    kind=Kind.FLOW_RUN, id=run.id, key=key, flow_id=flow_id or None, run=result,
                    link=AepFlowRunLink.build(tenant, sandbox, flow_id=flow_id, id=run.id) if flow_id else "",
                ).model_dump(mode="json"))
            self.push(context, OUTCOMES_XCOM, outcomes)
        except Exception as exc:  # the summary is a report: it never fails the task
            self.log.warning("Could not record the runs this task saw end: %s", exc)

    def _persist_link(self, context: Any, run: FlowRun) -> None:
        try:
            flow_id = run.flow_id or next(iter(dict(self.flow_id).values()))
            AepFlowRunLink.persist(
                context, self.hook.settings.ui_tenant, self.hook.sandbox, operator=self, flow_id=str(flow_id), id=run.id
            )
        except Exception as exc:
            self.log.warning("Could not build the run link: %s", exc)

    def poke(self, context: Any) -> PokeReturnValue | bool:
        watch = self._poll()
        if not watch.finished:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._finish(context, watch.ended))

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        watch = self._poll()
        if watch.finished:
            return self._finish(context, watch.ended)
        timeout = self.execution_timeout or timedelta(seconds=self.timeout)
        self.defer(
            trigger=AepFlowRunTrigger(
                targets=[target.to_json() for target in run_targets(self.flow_id, self.run_id)],
                which=self.which,
                aep_conn_id=self.aep_conn_id,
                hook_params=self.effective_hook_params(),
                poll_interval=self.poll_interval,
                max_concurrency=self.max_concurrency,
                end_time=time.time() + timeout.total_seconds(),
            ),
            method_name="execute_complete",
            timeout=timeout,
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        if not event or event.get("status") != "terminal":
            message = (event or {}).get("message", "the trigger ended without an event")
            keys = sorted(self.flow_id) if isinstance(self.flow_id, Mapping) else self.flow_id
            raise AepFlowRunFailed(f"Waiting for the flows of {keys} failed: {message}")
        return self._finish(context, runs_of_event(event))


__all__ = ["AepFlowRunFailed", "AepFlowRunSensor", "error_codes"]
