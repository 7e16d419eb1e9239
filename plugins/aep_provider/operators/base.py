"""What every AEP operator shares: the connection, the sandbox override, the hook, XCom helpers,
and the ``for_each`` mode that runs one operator for many objects in one task."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException

from aep_provider.hooks.aep import AepHook, outcome_key
from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.hooks.errors import AepConfigError
from aep_provider.links import AepLink
from aep_provider.operators.batch import AepItem, batch_error, plan_items, run_items

MAX_CONCURRENCY = 64


class AepBaseOperator(BaseOperator):
    """Base of the AEP operators.

    :param aep_conn_id: ``adobe_experience_platform`` connection id.
    :param sandbox: overrides the connection's sandbox (templated).
    :param max_retries: overrides the connection's ``extra.max_retries`` for every call.
    :param retry_max_seconds: overrides ``extra.retry_max_seconds``.
    :param request_timeout: overrides ``extra.timeout`` (seconds per HTTP request).
    :param for_each: make the call for many objects in this one task (templated): rows
        ``{"key": <object>, <field>: <value>}``; a field a row leaves out takes the operator's argument.
        The task then returns ``{key: result}`` and each extra XCom as ``{key: value}``.
    :param inputs: ``{field: {key: value}}`` joined into the rows by key (templated), typically the
        XCom of an upstream ``for_each`` task.
    :param keys: only the rows with these keys run (templated); ``None`` runs them all.
    :param max_concurrency: calls in flight at once in ``for_each`` mode (1..64).
    """

    template_fields: Sequence[str] = ("aep_conn_id", "sandbox", "for_each", "inputs", "keys")
    #: The arguments that describe one object; ``for_each`` rows may set them.
    item_fields: Sequence[str] = ()
    #: The item fields without which the call cannot be made.
    required_fields: Sequence[str] = ()
    #: The item fields that name the resource the call creates: rows equal on them run one after another.
    identity_fields: Sequence[str] = ()
    ui_color = "#fa0f00"
    ui_fgcolor = "#ffffff"

    def __init__(
        self,
        *,
        aep_conn_id: str = DEFAULT_CONN_ID,
        sandbox: str | None = None,
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        request_timeout: float | None = None,
        for_each: Sequence[Mapping[str, Any]] | None = None,
        inputs: Mapping[str, Any] | None = None,
        keys: Sequence[str] | None = None,
        max_concurrency: int = 8,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aep_conn_id = aep_conn_id
        self.sandbox = sandbox
        self.max_retries = max_retries
        self.retry_max_seconds = retry_max_seconds
        self.request_timeout = request_timeout
        if not 1 <= int(max_concurrency) <= MAX_CONCURRENCY:
            raise AepConfigError(
                f"{type(self).__name__}: max_concurrency={max_concurrency} must be between 1 and {MAX_CONCURRENCY}."
            )
        if for_each is not None and not self.item_fields:
            raise AepConfigError(
                f"{type(self).__name__} makes one call per DAG run, shared by every object: it takes no for_each."
            )
        if for_each is None and (inputs is not None or keys is not None):
            raise AepConfigError(f"{type(self).__name__}: inputs and keys go with for_each; pass for_each rows too.")
        self.for_each = for_each
        self.inputs = inputs
        self.keys = keys
        self.max_concurrency = int(max_concurrency)

    def check_required(self) -> None:
        """Called at the end of a subclass ``__init__``: one object needs its required arguments now."""
        if self.for_each is not None:
            return
        missing = self._missing(self.own_item().fields)
        if missing:
            raise AepConfigError(
                f"{type(self).__name__} (task {self.task_id}) needs {', '.join(missing)}; pass "
                f"{' and '.join(missing)}, or for_each rows that set {'them' if len(missing) > 1 else 'it'}."
            )

    def _missing(self, values: Mapping[str, Any]) -> list[str]:
        """The required fields ``values`` leaves empty."""
        return [name for name in self.required_fields if values.get(name) in (None, "")]

    @cached_property
    def hook(self) -> AepHook:
        return AepHook(
            aep_conn_id=self.aep_conn_id,
            sandbox=self.sandbox,
            max_retries=self.max_retries,
            retry_max_seconds=self.retry_max_seconds,
            timeout=self.request_timeout,
        )

    # -- execution --------------------------------------------------------------------------------
    def execute_item(self, context: Any, item: AepItem) -> Any:
        """Make this operator's call for one object; subclasses implement it."""
        raise NotImplementedError

    def own_item(self) -> AepItem:
        """The object this operator's own (rendered) arguments describe."""
        return AepItem(key=None, fields={name: getattr(self, name) for name in self.item_fields})

    #: XCom key of ``[{"what", "id", "created", "key"}]``: what the task created or reused (run summary).
    OUTCOMES_XCOM = "aep_outcomes"

    def execute(self, context: Any) -> Any:
        if self.for_each is None:
            item = self.own_item()
            result = self.execute_item(context, item)
            for key, value in item.outputs.items():
                self.push(context, key, value)
            return result
        return self._execute_for_each(context)

    def post_execute(self, context: Any, result: Any = None) -> None:
        """After a successful ``execute`` (of any subclass): record what the task created or reused."""
        super().post_execute(context, result)
        hook = self.__dict__.get("hook")  # only if a call was made
        outcomes = hook.outcomes() if hook is not None else []
        if outcomes:
            try:
                self.push(context, self.OUTCOMES_XCOM, outcomes)
            except Exception as exc:  # the summary is a report: it never fails the task
                self.log.warning("Could not record what this task created: %s", exc)

    def _execute_one_of_many(self, context: Any, item: AepItem) -> Any:
        outcome_key(item.key)
        try:
            return self.execute_item(context, item)
        finally:
            outcome_key(None)

    def _execute_for_each(self, context: Any) -> dict[str, Any]:
        name = f"{type(self).__name__} ({self.task_id})"
        items = plan_items(
            operator=name,
            item_fields=self.item_fields,
            defaults=self.own_item().fields,
            for_each=self.for_each,  # type: ignore[arg-type]
            inputs=self.inputs,
            keys=self.keys,
        )
        if not items:
            raise AirflowSkipException(f"{name}: no object to work on (keys={self.keys}).")
        for item in items:
            missing = self._missing(item.fields)
            if missing:
                raise AepConfigError(f"{name}: the row of {item.key!r} has no {', '.join(missing)}; set it in for_each.")
        # Connection, secrets masking and the token in this thread: the workers only make HTTP calls.
        self.hook.get_token()
        self.log.info("%d objects, up to %d calls at once: %s", len(items), self.max_concurrency,
                      ", ".join(str(item.key) for item in items))
        outcome = run_items(
            items,
            lambda item: self._execute_one_of_many(context, item),
            max_concurrency=self.max_concurrency,
            same_resource=self._same_resource if self.identity_fields else None,
        )
        for key, values in outcome.outputs.items():
            self.push(context, key, values)
        for key, reason in sorted(outcome.skipped.items()):
            self.log.info("[%s] skipped: %s", key, reason)
        if outcome.failed:
            raise batch_error(name, outcome.failed, len(outcome.results))
        if not outcome.results:
            raise AirflowSkipException(f"{name}: every object was skipped.")
        self.log.info("%d objects done", len(outcome.results))
        return outcome.results

    def _same_resource(self, item: AepItem) -> str:
        return json.dumps([item.fields.get(name) for name in self.identity_fields], sort_keys=True, default=str)

    @staticmethod
    def push(context: Any, key: str, value: Any) -> None:
        context["ti"].xcom_push(key=key, value=value)

    def persist_link(self, context: Any, link: type[AepLink], item: AepItem | None = None, **ids: str) -> None:
        """Store the AEP UI link of one object's task; log it for each object of a ``for_each`` task.

        A failure here never fails the task.
        """
        try:
            settings = self.hook.settings
            if item is not None and item.key is not None:
                url = link.build(settings.ui_tenant, settings.sandbox, **ids)
            else:
                url = link.persist(context, settings.ui_tenant, self.hook.sandbox, operator=self, **ids)
            self.log.info("%s%s: %s", item.label if item else "", link.name, url)
        except Exception as exc:
            self.log.warning("Could not build the %s link: %s", link.name, exc)
