"""The two kinds of AEP operator.

:class:`AepBaseOperator` is a shared step, one call per DAG run whatever the objects (the HubSpot base
connection, the flow spec): it implements ``execute``. :class:`AepRowsOperator` is a per-object step:
rows in, ``{key: value}`` out (``rows.py``); it implements ``execute_row`` for one row, and the base runs
it for every row of the task. Both share the connection, the sandbox override, the hook, XCom helpers
and the record of what the task created or reused.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException

from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.params import AepHookParams
from aep_provider.links import AepLink
from aep_provider.operators.connected import AepConnected
from aep_provider.operators.rows import (
    F,
    Row,
    checked_concurrency,
    field_defaults,
    field_names,
    rows_error,
    rows_of,
    run_rows,
)
from aep_provider.outcomes import OUTCOMES_XCOM, outcome_key
from aep_provider.write_lease import Lease, LeaseHolder, SandboxWriteLease, WriteGuard
from aep_provider.write_lease.guard import DEFAULT_WAIT_SECONDS

#: The key of the one row a per-object operator makes from its own arguments (without ``for_each``).
ONE_ROW_KEY = "object"


class AepBaseOperator(AepConnected, BaseOperator):
    """Base of the AEP operators; a shared step subclasses it directly and implements ``execute``.

    :param aep_conn_id: ``adobe_experience_platform`` connection id.
    :param sandbox: overrides the connection's sandbox (templated).
    :param hook_params: the hook's other per-task overrides (``max_retries``, ``retry_max_seconds``,
        ``timeout``, ``token_cache_dir``; :class:`~aep_provider.hooks.params.AepHookParams`), the same
        dict the flow-run sensor and trigger take.
    :param write_lease: the sandbox write lease the DAG run holds (the plan's XCom ``plan.lease``; templated). A
        step that creates a resource without it (or when it is not this run's any more) takes a lease of its own
        first and gives it back when it ends (``aep_provider/write_lease``).
    :param lease_wait_seconds: how long such a step waits for a lease another run holds before it fails.
    """

    template_fields: Sequence[str] = ("aep_conn_id", "sandbox", "write_lease")
    #: Whether the step creates named resources (then each create is covered by the sandbox's write lease).
    creates: ClassVar[bool] = True
    ui_color = "#fa0f00"
    ui_fgcolor = "#ffffff"
    #: XCom key of the task's :class:`~aep_provider.outcomes.Outcome` dumps: what it created or reused.
    OUTCOMES_XCOM = OUTCOMES_XCOM

    def __init__(
        self,
        *,
        aep_conn_id: str = DEFAULT_CONN_ID,
        sandbox: str | None = None,
        hook_params: AepHookParams | None = None,
        write_lease: Any = None,
        lease_wait_seconds: float = DEFAULT_WAIT_SECONDS,
        **kwargs: Any,
    ) -> None:
        misplaced = sorted({"for_each", "inputs", "keys"} & set(kwargs)) if not isinstance(self, AepRowsOperator) else []
        if misplaced:
            raise AepConfigError(
                f"{type(self).__name__} makes one call per DAG run, shared by every object: it takes no for_each "
                f"(nor inputs or keys); remove {', '.join(misplaced)}."
            )
        super().__init__(**kwargs)
        self.connect(aep_conn_id, sandbox, hook_params, type(self).__name__)
        self.write_lease = write_lease
        self.lease_wait_seconds = float(lease_wait_seconds)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        execute = cls.__dict__.get("execute")
        if execute is not None and not getattr(execute, "_aep_guarded", False):
            cls.execute = _guarded(execute)  # type: ignore[method-assign]

    def write_guard(self, context: Any) -> WriteGuard:
        """The write-lease check of this task's creates (``hook.write_guard``)."""
        run_lease = Lease.model_validate(self.write_lease) if isinstance(self.write_lease, Mapping) and self.write_lease else None
        return WriteGuard(
            SandboxWriteLease(self.hook, log=self.log), LeaseHolder.of(context), self.task_id, run_lease,
            wait_seconds=self.lease_wait_seconds, log=self.log,
        )

    def post_execute(self, context: Any, result: Any = None) -> None:
        """After a successful ``execute`` (of any subclass): record what the task created or reused."""
        super().post_execute(context, result)
        hook = self.__dict__.get("hook")  # only if a call was made
        outcomes = hook.outcomes() if hook is not None else []
        if outcomes:
            try:
                self.push(context, OUTCOMES_XCOM, [outcome.model_dump(mode="json") for outcome in outcomes])
            except Exception as exc:  # the summary is a report: it never fails the task
                self.log.warning("Could not record what this task created: %s", exc)

    def persist_link(self, context: Any, link: type[AepLink], row: Row[Any] | None = None, **ids: str) -> None:
        """Store the AEP UI link of a task's one object; log it for each object of a task of many rows. The link
        also goes into the outcome of the row's resource (``aep_outcomes``).

        A failure here never fails the task.
        """
        try:
            settings = self.hook.settings
            if row is not None and row.many:
                url = link.build(settings.ui_tenant, settings.sandbox, **ids)
            else:
                url = link.persist(context, settings.ui_tenant, self.hook.sandbox, operator=self, **ids)
            self.hook.recorded.link(url)
            self.log.info("%s%s: %s", row.label if row else "", link.name, url)
        except Exception as exc:
            self.log.warning("Could not build the %s link: %s", link.name, exc)


def _guarded(execute: Callable[..., Any]) -> Callable[..., Any]:
    """``execute`` with the task's write guard set on its hook first and ended last (a lease the task took itself
    is given back whatever the outcome); a nested ``super().execute`` shares the outer one's guard."""

    @functools.wraps(execute)
    def run(self: AepBaseOperator, context: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.creates or self.hook.write_guard is not None:
            return execute(self, context, *args, **kwargs)
        guard = self.hook.write_guard = self.write_guard(context)
        try:
            return execute(self, context, *args, **kwargs)
        finally:
            self.hook.write_guard = None
            guard.end()

    run._aep_guarded = True  # type: ignore[attr-defined]
    return run


class AepRowsOperator(AepBaseOperator, Generic[F]):
    """Base of the per-object operators: rows in, ``{key: value}`` out (see ``rows.py``).

    A subclass sets ``Fields`` (a frozen dataclass: the arguments that describe one object, each also an
    operator argument and a templated field) and implements :meth:`execute_row`.

    :param for_each: the rows (templated): ``{"key": <object>, <field>: <value>}``; a field a row leaves out
        takes the operator's argument. Without it the operator's own arguments make one row keyed
        ``row_key``.
    :param inputs: ``{field: {key: value}}`` joined into the rows by key (templated), typically the
        XCom of an upstream per-object task.
    :param keys: only the rows with these keys run (templated); ``None`` runs them all.
    :param row_key: the key of the one row made from the operator's own arguments.
    :param max_concurrency: calls in flight at once (1..64).
    :return: ``{key: result}``; each extra XCom is ``{key: value}`` too.
    """

    Fields: ClassVar[type[Any]]
    #: The fields without which the call cannot be made (default: those whose default is ``""``).
    required_fields: Sequence[str] = ()
    #: The fields that name the resource the call creates: rows equal on them run one after another.
    identity_fields: Sequence[str] = ()
    template_fields: Sequence[str] = (*AepBaseOperator.template_fields, "for_each", "inputs", "keys")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Fields" not in cls.__dict__:
            return
        if "template_fields" not in cls.__dict__:
            cls.template_fields = (*AepRowsOperator.template_fields, *field_names(cls.Fields))
        if "required_fields" not in cls.__dict__:  # by default the fields declared ``str = ""``
            cls.required_fields = tuple(name for name, value in field_defaults(cls.Fields).items() if value == "")

    def __init__(
        self,
        *,
        for_each: Sequence[Mapping[str, Any]] | None = None,
        inputs: Mapping[str, Any] | None = None,
        keys: Sequence[str] | None = None,
        row_key: str = ONE_ROW_KEY,
        max_concurrency: int = 8,
        **kwargs: Any,
    ) -> None:
        defaults = field_defaults(self.Fields)
        own = {name: kwargs.pop(name, default) for name, default in defaults.items()}
        super().__init__(**kwargs)
        for name, value in own.items():
            setattr(self, name, value)
        self.max_concurrency = checked_concurrency(type(self).__name__, max_concurrency)
        self.for_each, self.inputs, self.keys, self.row_key = for_each, inputs, keys, row_key
        self._check_own_required()

    @property
    def _name(self) -> str:
        return f"{type(self).__name__} ({self.task_id})"

    def _own_values(self) -> dict[str, Any]:
        """The fields as this operator's own (rendered) arguments set them."""
        return {name: getattr(self, name) for name in field_names(self.Fields)}

    def _missing(self, values: Mapping[str, Any]) -> list[str]:
        """The required fields ``values`` leaves empty."""
        return [name for name in self.required_fields if values.get(name) in (None, "")]

    def _check_own_required(self) -> None:
        """One row from the operator's own arguments needs its required arguments now (unless joined)."""
        if self.for_each is not None:
            return
        missing = [name for name in self._missing(self._own_values()) if name not in (self.inputs or {})]
        if missing:
            raise AepConfigError(
                f"{type(self).__name__} (task {self.task_id}) needs {', '.join(missing)}; pass "
                f"{' and '.join(missing)}, or for_each rows that set {'them' if len(missing) > 1 else 'it'}."
            )

    def execute_row(self, context: Any, row: Row[Any]) -> Any:
        """Make this operator's call for one row; subclasses implement it."""
        raise NotImplementedError

    def rows(self) -> list[Row[Any]]:
        """The rows this task works on, each checked for its required fields."""
        rows = self.for_each if self.for_each is not None else [{"key": self.row_key}]
        planned = rows_of(
            operator=self._name, fields_type=self.Fields, defaults=self._own_values(),
            rows=rows, inputs=self.inputs, keys=self.keys,
        )
        for row in planned:
            missing = self._missing(vars(row.fields))
            if missing:
                raise AepConfigError(f"{self._name}: the row of {row.key!r} has no {', '.join(missing)}; set it in for_each.")
        return planned

    def execute(self, context: Any) -> dict[str, Any]:
        rows = self.rows()
        if not rows:
            raise AirflowSkipException(f"{self._name}: no object to work on (keys={self.keys}).")
        if len(rows) > 1:
            # Connection, secrets masking and the token in this thread: the workers only make HTTP calls.
            self.hook.get_token()
            self.log.info("%d objects, up to %d calls at once: %s", len(rows), self.max_concurrency,
                          ", ".join(row.key for row in rows))
        outcome = run_rows(
            rows,
            lambda row: self._execute_keyed(context, row),
            max_concurrency=self.max_concurrency,
            same_resource=self._same_resource if self.identity_fields else None,
        )
        for key, values in outcome.outputs.items():
            self.push(context, key, values)
        for key, reason in sorted(outcome.skipped.items()):
            self.log.info("[%s] skipped: %s", key, reason)
        if outcome.failed:
            if len(rows) == 1:
                raise next(iter(outcome.failed.values()))
            raise rows_error(self._name, outcome.failed, len(outcome.results))
        if not outcome.results:
            reason = next(iter(outcome.skipped.values())) if len(rows) == 1 else f"{self._name}: every object was skipped."
            raise AirflowSkipException(reason)
        if len(rows) > 1:
            self.log.info("%d objects done", len(outcome.results))
        return outcome.results

    def _execute_keyed(self, context: Any, row: Row[Any]) -> Any:
        outcome_key(row.key)
        try:
            return self.execute_row(context, row)
        finally:
            outcome_key(None)

    def _same_resource(self, row: Row[Any]) -> str:
        return json.dumps([getattr(row.fields, name) for name in self.identity_fields], sort_keys=True, default=str)
