"""``AepFlowRunSensor``: wait for a dataflow run to end and judge its outcome."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.hooks.errors import AepConfigError, AepError
from aep_provider.hooks.runs import error_codes, is_terminal, verdict
from aep_provider.links import AepFlowRunLink
from aep_provider.models.flow_service import RunSummary
from aep_provider.operators.batch import AepItem, batch_error, run_items
from aep_provider.triggers.flow_run import AepFlowRunTrigger


class AepFlowRunFailed(AepError):
    """The flow run failed, or more of its records failed than the failed-record tolerance allows."""


class AepFlowRunSensor(BaseSensorOperator):
    """Wait for a flow run to end and judge it by its record counts, whatever its status word.

    ``failed`` (or cancelled) fails with the run's error codes. Any other ended run passes when
    ``failedRecordCount`` / ``inputRecordCount`` <= ``failed_record_tolerance`` and fails above it, naming
    the error codes and record counts (Adobe shows ``success`` runs with failed records, monitor.md; the
    per-row codes come from ``activities[].statusSummary.extensions.errors``).

    Deferrable by default (``AepFlowRunTrigger`` on the triggerer); ``deferrable=False`` pokes, in
    ``mode="poke"`` or ``mode="reschedule"``. If the flow has no run yet, it keeps waiting.

    :param flow_id: the dataflow (templated); or ``{key: flow id}`` (the XCom of a ``for_each``
        ``AepCreateDataflowOperator``) to wait for many flows at once, polled concurrently.
    :param run_id: a run to wait for (templated); without it the flow's ``which`` run is used. With a
        ``flow_id`` dict: ``{key: run id}`` (the XCom of a ``for_each`` ``AepRunFlowOperator``), and only
        those keys are waited for.
    :param max_concurrency: with many flows, checks in flight at once.
    :param which: ``"latest"`` or ``"first"`` run of the flow when ``run_id`` is not given (one
        ``orderby=-createdAt&limit=1`` read, never the flow's whole run history).
    :param failed_record_tolerance: accepted ratio of failed to input records of an ended run (0..1).
    :param poll_interval: seconds between checks (also the poke interval).
    :return: ``{"run_id", "status", "input_records", "output_records", "failed_records"}``; with many
        flows ``{key: {...}}``. Every failed run is named in the one error.
    """

    template_fields: Sequence[str] = ("flow_id", "run_id", "aep_conn_id", "sandbox")
    ui_color = "#fa0f00"
    ui_fgcolor = "#ffffff"
    operator_extra_links = (AepFlowRunLink(),)

    def __init__(
        self,
        *,
        flow_id: str | dict[str, str],
        run_id: str | dict[str, str] | None = None,
        which: str = "latest",
        deferrable: bool = True,
        failed_record_tolerance: float = 0.0,
        poll_interval: float = 5,
        aep_conn_id: str = DEFAULT_CONN_ID,
        sandbox: str | None = None,
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        max_concurrency: int = 16,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", poll_interval)
        super().__init__(**kwargs)
        if which not in ("latest", "first"):
            raise AepConfigError(f"which={which!r} must be 'latest' or 'first'")
        if not 0.0 <= float(failed_record_tolerance) <= 1.0:
            raise AepConfigError(
                f"failed_record_tolerance={failed_record_tolerance} must be a ratio between 0 and 1 (e.g. 0.05)"
            )
        self.flow_id = flow_id
        self.run_id = run_id
        self.which = which
        self.deferrable = deferrable
        self.failed_record_tolerance = float(failed_record_tolerance)
        self.poll_interval = float(poll_interval)
        self.aep_conn_id = aep_conn_id
        self.sandbox = sandbox
        self.max_retries = max_retries
        self.retry_max_seconds = retry_max_seconds
        self.max_concurrency = int(max_concurrency)

    @cached_property
    def hook(self) -> AepHook:
        return AepHook(
            self.aep_conn_id,
            self.sandbox,
            max_retries=self.max_retries,
            retry_max_seconds=self.retry_max_seconds,
        )

    # -- which runs -------------------------------------------------------------------------------
    def _targets(self) -> list[tuple[str | None, str, str | None]]:
        """``(key, flow_id, run_id)`` of every run to wait for; ``key`` is ``None`` for one flow."""
        if not isinstance(self.flow_id, dict):
            if isinstance(self.run_id, dict):
                raise AepConfigError("run_id is a {key: run id} dict, so flow_id must be a {key: flow id} dict too.")
            return [(None, str(self.flow_id), self.run_id or None)]
        if self.run_id is not None and not isinstance(self.run_id, dict):
            raise AepConfigError("flow_id is a {key: flow id} dict, so run_id must be one too (or None).")
        runs = self.run_id if isinstance(self.run_id, dict) else None
        keys = sorted(runs) if runs is not None else sorted(self.flow_id)
        unknown = [key for key in keys if key not in self.flow_id]
        if unknown:
            raise AepConfigError(f"run_id names {unknown}, which flow_id lacks; pass the dataflow task's XCom.")
        return [(key, str(self.flow_id[key]), (runs or {}).get(key)) for key in keys]

    def _current_one(self, key: str | None, flow_id: str, run_id: str | None) -> RunSummary | None:
        if run_id:
            run = self.hook.get_object("runs", run_id)
            if run is None:
                prefix = f"[{key}] " if key is not None else ""
                raise AepConfigError(f"{prefix}run_id={run_id!r} is not a run of flow {flow_id}; check run_id.")
        else:
            run = self.hook.one_run(flow_id, self.which)  # type: ignore[arg-type]
        return RunSummary.from_run(run) if run else None

    def _current(self, targets: list[tuple[str | None, str, str | None]]) -> dict[str | None, RunSummary | None]:
        if len(targets) == 1:
            key, flow_id, run_id = targets[0]
            return {key: self._current_one(key, flow_id, run_id)}
        self.hook.get_token()  # the connection and token in this thread; the pool only makes HTTP calls
        items = [AepItem(key=key, fields={"flow_id": flow_id, "run_id": run_id}) for key, flow_id, run_id in targets]
        outcome = run_items(
            items,
            lambda item: self._current_one(item.key, item.fields["flow_id"], item.fields["run_id"]),
            max_concurrency=self.max_concurrency,
        )
        if outcome.failed:
            raise batch_error(f"AepFlowRunSensor ({self.task_id})", outcome.failed, len(outcome.results))
        return {key: outcome.results[str(key)] for key, _, _ in targets}

    # -- judging ------------------------------------------------------------------------------
    def _finish(self, context: Any, summaries: dict[str | None, dict[str, Any]]) -> dict[str, Any]:
        verdicts: dict[str | None, tuple[RunSummary, bool, str]] = {}
        for key, summary in summaries.items():
            run = RunSummary.model_validate(summary)
            ok, sentence = verdict(run, self.failed_record_tolerance)
            verdicts[key] = (run, ok, sentence if key is None else f"[{key}] {sentence}")
        if None in verdicts:
            run = verdicts[None][0]
            try:
                AepFlowRunLink.persist(
                    context,
                    self.hook.settings.ui_tenant,
                    self.hook.sandbox,
                    operator=self,
                    flow_id=str(self.flow_id),
                    id=run.id,
                )
            except Exception as exc:
                self.log.warning("Could not build the run link: %s", exc)
        failed = [sentence for _, ok, sentence in verdicts.values() if not ok]
        for _, ok, sentence in verdicts.values():
            if ok:
                self.log.info(sentence)
        if failed:
            raise AepFlowRunFailed(" ".join(failed))
        if None in verdicts:
            return verdicts[None][0].xcom()
        return {str(key): run.xcom() for key, (run, _, _) in sorted(verdicts.items(), key=lambda kv: str(kv[0]))}

    def _log_running(self, key: str | None, flow_id: str, summary: RunSummary | None) -> None:
        prefix = f"[{key}] " if key is not None else ""
        if summary is None:
            self.log.info("%sFlow %s has no run yet; waiting", prefix, flow_id)
            return
        self.log.info(
            "%sRun %s is %s (%d records in, %d out, %d failed)",
            prefix,
            summary.id,
            summary.status,
            summary.input_records,
            summary.output_records,
            summary.failed_records,
        )

    def poke(self, context: Any) -> PokeReturnValue | bool:
        targets = self._targets()
        current = self._current(targets)
        flows = {key: flow_id for key, flow_id, _ in targets}
        waiting = [key for key, summary in current.items() if summary is None or not is_terminal(summary)]
        if waiting:
            for key in waiting:
                self._log_running(key, flows[key], current[key])
            return False
        ended = {key: summary.model_dump(by_alias=True) for key, summary in current.items() if summary is not None}
        return PokeReturnValue(is_done=True, xcom_value=self._finish(context, ended))

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        targets = self._targets()
        current = self._current(targets)
        if all(summary is not None and is_terminal(summary) for summary in current.values()):
            return self._finish(
                context, {key: summary.model_dump(by_alias=True) for key, summary in current.items() if summary}
            )
        common: dict[str, Any] = {
            "which": self.which,
            "aep_conn_id": self.aep_conn_id,
            "sandbox": self.sandbox,
            "poll_interval": self.poll_interval,
            "max_retries": self.max_retries,
            "retry_max_seconds": self.retry_max_seconds,
        }
        if targets[0][0] is None:
            trigger = AepFlowRunTrigger(flow_id=targets[0][1], run_id=targets[0][2], **common)
        else:
            trigger = AepFlowRunTrigger(
                targets=[{"key": key, "flow_id": flow_id, "run_id": run_id} for key, flow_id, run_id in targets],
                max_concurrency=self.max_concurrency,
                **common,
            )
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=self.execution_timeout or timedelta(seconds=self.timeout),
        )

    @staticmethod
    def _from_event(run: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": run["run_id"],
            "status": run["status"],
            "input_records": run.get("input_records", 0),
            "output_records": run.get("output_records", 0),
            "failed_records": run.get("failed_records", 0),
            "errors": run.get("errors") or [],
        }

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        if not event or event.get("status") != "terminal":
            message = (event or {}).get("message", "the trigger ended without an event")
            what = f"the flows of {sorted(self.flow_id)}" if isinstance(self.flow_id, dict) else f"flow {self.flow_id}"
            raise AepFlowRunFailed(f"Waiting for {what} failed: {message}")
        if "runs" in event:
            return self._finish(context, {key: self._from_event(run) for key, run in dict(event["runs"]).items()})
        return self._finish(context, {None: self._from_event(dict(event["run"]))})


__all__ = ["AepFlowRunFailed", "AepFlowRunSensor", "error_codes"]
