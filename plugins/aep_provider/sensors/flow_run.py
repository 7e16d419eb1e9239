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
from aep_provider.hooks.runs import error_codes, is_terminal, pick_run, verdict
from aep_provider.links import AepFlowRunLink
from aep_provider.models.flow_service import RunSummary
from aep_provider.triggers.flow_run import AepFlowRunTrigger


class AepFlowRunFailed(AepError):
    """The flow run failed, or partially succeeded beyond the failed-record tolerance."""


class AepFlowRunSensor(BaseSensorOperator):
    """Wait for a flow run to end: ``success`` passes, ``failed`` fails with the run's error codes,
    ``partialSuccess`` passes when failed/input records <= ``failed_record_tolerance``.

    Deferrable by default (``AepFlowRunTrigger`` on the triggerer); ``deferrable=False`` pokes, in
    ``mode="poke"`` or ``mode="reschedule"``. If the flow has no run yet, it keeps waiting.

    :param flow_id: the dataflow (templated).
    :param run_id: a run to wait for (templated); without it the flow's ``which`` run is used.
    :param which: ``"latest"`` or ``"first"`` run of the flow when ``run_id`` is not given.
    :param failed_record_tolerance: accepted failed-record ratio for ``partialSuccess`` (0..1).
    :param poll_interval: seconds between checks (also the poke interval).
    :return: ``{"run_id", "status", "input_records", "output_records", "failed_records"}``.
    """

    template_fields: Sequence[str] = ("flow_id", "run_id", "aep_conn_id", "sandbox")
    ui_color = "#fa0f00"
    ui_fgcolor = "#ffffff"
    operator_extra_links = (AepFlowRunLink(),)

    def __init__(
        self,
        *,
        flow_id: str,
        run_id: str | None = None,
        which: str = "latest",
        deferrable: bool = True,
        failed_record_tolerance: float = 0.0,
        poll_interval: float = 5,
        aep_conn_id: str = DEFAULT_CONN_ID,
        sandbox: str | None = None,
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
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

    @cached_property
    def hook(self) -> AepHook:
        return AepHook(
            self.aep_conn_id,
            self.sandbox,
            max_retries=self.max_retries,
            retry_max_seconds=self.retry_max_seconds,
        )

    def _current(self) -> RunSummary | None:
        if self.run_id:
            run = self.hook.get_object("runs", self.run_id)
            if run is None:
                raise AepConfigError(
                    f"run_id={self.run_id!r} is not a run of flow {self.flow_id}; check run_id."
                )
        else:
            run = pick_run(self.hook.list_runs(self.flow_id), self.which)  # type: ignore[arg-type]
        return RunSummary.from_run(run) if run else None

    def _finish(self, context: Any, summary: dict[str, Any]) -> dict[str, Any]:
        run = RunSummary.model_validate(summary)
        ok, sentence = verdict(run, self.failed_record_tolerance)
        try:
            AepFlowRunLink.persist(
                context,
                self.hook.settings.ui_tenant,
                self.hook.sandbox,
                operator=self,
                flow_id=self.flow_id,
                id=run.id,
            )
        except Exception as exc:
            self.log.warning("Could not build the run link: %s", exc)
        if not ok:
            raise AepFlowRunFailed(sentence)
        self.log.info(sentence)
        return run.xcom()

    def poke(self, context: Any) -> PokeReturnValue | bool:
        summary = self._current()
        if summary is None:
            self.log.info("Flow %s has no run yet; waiting", self.flow_id)
            return False
        if not is_terminal(summary):
            self.log.info(
                "Run %s is %s (%d records in, %d out, %d failed)",
                summary.id,
                summary.status,
                summary.input_records,
                summary.output_records,
                summary.failed_records,
            )
            return False
        return PokeReturnValue(
            is_done=True, xcom_value=self._finish(context, {**summary.model_dump(by_alias=True)})
        )

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        summary = self._current()
        if summary is not None and is_terminal(summary):
            return self._finish(context, summary.model_dump(by_alias=True))
        self.defer(
            trigger=AepFlowRunTrigger(
                flow_id=self.flow_id,
                run_id=self.run_id,
                which=self.which,
                aep_conn_id=self.aep_conn_id,
                sandbox=self.sandbox,
                poll_interval=self.poll_interval,
                max_retries=self.max_retries,
                retry_max_seconds=self.retry_max_seconds,
            ),
            method_name="execute_complete",
            timeout=self.execution_timeout or timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        if not event or event.get("status") != "terminal":
            message = (event or {}).get("message", "the trigger ended without an event")
            raise AepFlowRunFailed(f"Waiting for flow {self.flow_id} failed: {message}")
        run = dict(event["run"])
        summary = {
            "id": run["run_id"],
            "status": run["status"],
            "input_records": run.get("input_records", 0),
            "output_records": run.get("output_records", 0),
            "failed_records": run.get("failed_records", 0),
            "errors": run.get("errors") or [],
        }
        return self._finish(context, summary)


__all__ = ["AepFlowRunFailed", "AepFlowRunSensor", "error_codes"]
