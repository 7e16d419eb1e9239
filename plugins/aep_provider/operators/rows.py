"""Rows in, ``{key: value}`` out: the one contract of every per-object AEP operator.

A per-object operator works on rows ``{"key": <object key>, <field>: <value>, ...}``; fields a row
leaves out take the operator's own argument. Without ``rows`` its own arguments make one row (keyed
``key``). ``inputs`` joins the ``{key: value}`` XComs of upstream per-object tasks into the rows by key
(``{field: {key: value}}``), so ``inputs={"schema_id": XComArg(target_schema)}`` gives each row the
schema its own object got. The task returns ``{key: result}`` and every extra XCom as ``{key: value}``,
whether it has one row (the per-object layout: one task group per object) or many (batched: one task
per step, its calls concurrent, so Airflow's per-task cost is paid once per step).

Each operator declares its row's fields as a frozen dataclass (``Fields``), so mypy checks every use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from airflow.sdk.exceptions import AirflowSkipException

from aep_provider.hooks.errors import AepConfigError, AepError

F = TypeVar("F")
T = TypeVar("T")
MAX_CONCURRENCY = 64


def checked_concurrency(owner: str, value: int) -> int:
    """Calls in flight at once: 1..64."""
    if not 1 <= int(value) <= MAX_CONCURRENCY:
        raise AepConfigError(f"{owner}: max_concurrency={value} must be between 1 and {MAX_CONCURRENCY}.")
    return int(value)


def field_names(fields_type: type[Any]) -> tuple[str, ...]:
    """The names of a row's fields (those of its ``Fields`` dataclass)."""
    return tuple(f.name for f in dataclasses.fields(fields_type))


def field_defaults(fields_type: type[Any]) -> dict[str, Any]:
    """Each field's default: what a row and the operator's own argument take when unset."""
    defaults: dict[str, Any] = {}
    for f in dataclasses.fields(fields_type):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
        else:
            defaults[f.name] = None
    return defaults


@dataclass
class Row(Generic[F]):
    """One object a task works on: its key, its checked fields, and the extra XComs it produces."""

    key: str
    fields: F
    #: Whether the task has other rows too: its log lines and errors then start with ``[key]``.
    many: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)

    def output(self, key: str, value: Any) -> None:
        """An extra XCom, gathered as ``{row key: value}`` under ``key``."""
        self.outputs[key] = value

    @property
    def label(self) -> str:
        """``"[contacts] "`` in a task of many rows, ``""`` otherwise: the prefix of its log lines."""
        return f"[{self.key}] " if self.many else ""


class AepRowsFailedError(AepError):
    """Some rows (objects) of a task failed; the others are done (and reused on a retry)."""


def _check_inputs(operator: str, names: Sequence[str], inputs: Mapping[str, Any]) -> None:
    for name, by_key in inputs.items():
        if name not in names:
            raise AepConfigError(f"{operator}: inputs names {name!r}, not a field of it; use some of {list(names)}.")
        if not isinstance(by_key, Mapping):
            raise AepConfigError(
                f"{operator}: inputs[{name!r}] must be a {{key: value}} dict (the XCom of a per-object task), "
                f"got {type(by_key).__name__}."
            )


def rows_of(
    *,
    operator: str,
    fields_type: type[F],
    defaults: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    inputs: Mapping[str, Mapping[str, Any]] | None,
    keys: Sequence[str] | None,
) -> list[Row[F]]:
    """The rows of a task, with every input joined by key; errors name the bad field."""
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise AepConfigError(
            f"{operator}: for_each must be a list of {{'key': ..., <field>: ...}} rows, got {type(rows).__name__}."
        )
    names = field_names(fields_type)
    inputs = dict(inputs or {})
    _check_inputs(operator, names, inputs)
    wanted = None if keys is None else {str(k) for k in keys}
    planned: list[Row[F]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping) or row.get("key") in (None, ""):
            raise AepConfigError(f"{operator}: for_each[{index}] needs a non-empty 'key' (the object it is for).")
        key = str(row["key"])
        if key in seen:
            raise AepConfigError(f"{operator}: for_each has two rows with key {key!r}; keys must be unique.")
        seen.add(key)
        unknown = sorted(set(row) - {"key", *names})
        if unknown:
            raise AepConfigError(
                f"{operator}: for_each[{index}] ({key}) has unknown field(s) {unknown}; use some of {list(names)}."
            )
        if wanted is not None and key not in wanted:
            continue
        values = {name: defaults.get(name) for name in names}
        values.update({name: value for name, value in row.items() if name != "key"})
        for name, by_key in inputs.items():
            if key not in by_key:
                raise AepConfigError(
                    f"{operator}: inputs[{name!r}] has no value for {key!r} (it has {sorted(by_key)}); the "
                    "upstream task must handle the same keys."
                )
            values[name] = by_key[key]
        planned.append(Row(key=key, fields=fields_type(**values)))
    for row_ in planned:
        row_.many = len(planned) > 1
    return planned


@dataclass
class RowsOutcome(Generic[T]):
    results: dict[str, T]
    outputs: dict[str, dict[str, Any]]
    skipped: dict[str, str]
    failed: dict[str, BaseException]


def run_rows(
    rows: Sequence[Row[F]],
    work: Callable[[Row[F]], T],
    *,
    max_concurrency: int,
    same_resource: Callable[[Row[F]], Hashable] | None = None,
) -> RowsOutcome[T]:
    """Run ``work`` on every row, ``max_concurrency`` at a time; one row's failure stops no other.

    Rows for which ``same_resource`` gives the same value (say, two objects sharing one target schema
    title) run one after another, so the second finds what the first created instead of racing it.
    """
    outcome: RowsOutcome[T] = RowsOutcome(results={}, outputs={}, skipped={}, failed={})
    groups: dict[Hashable, list[Row[F]]] = {}
    for row in rows:
        groups.setdefault(same_resource(row) if same_resource else id(row), []).append(row)

    def run_group(group: list[Row[F]]) -> list[tuple[Row[F], str, Any]]:
        done: list[tuple[Row[F], str, Any]] = []
        for row in group:
            try:
                done.append((row, "ok", work(row)))
            except AirflowSkipException as exc:
                done.append((row, "skipped", str(exc)))
            except Exception as exc:
                done.append((row, "failed", exc))
        return done

    if len(groups) == 1:  # one object (or one resource): in this thread, as a plain call
        finished = [run_group(next(iter(groups.values())))]
    else:
        workers = max(1, min(max_concurrency, len(groups)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aep") as pool:
            futures = [pool.submit(run_group, group) for group in groups.values()]
            finished = [future.result() for future in as_completed(futures)]
    for done in finished:
        for row, how, value in done:
            if how == "skipped":
                outcome.skipped[row.key] = value
            elif how == "failed":
                outcome.failed[row.key] = value
            else:
                outcome.results[row.key] = value
                for name, extra in row.outputs.items():
                    outcome.outputs.setdefault(name, {})[row.key] = extra
    # Stable order in XCom and logs, whatever order the calls ended in.
    outcome.results = dict(sorted(outcome.results.items()))
    outcome.outputs = {name: dict(sorted(values.items())) for name, values in outcome.outputs.items()}
    return outcome


def rows_error(operator: str, failed: Mapping[str, BaseException], done: int) -> BaseException:
    """One error for the failed rows: a config error when every failure is one (retrying cannot help)."""
    lines = "; ".join(f"{key}: {type(exc).__name__}: {exc}" for key, exc in sorted(failed.items()))
    message = f"{operator}: {len(failed)} of {len(failed) + done} objects failed ({done} done) - {lines}"
    if all(isinstance(exc, AepConfigError) for exc in failed.values()):
        return AepConfigError(message)
    return AepRowsFailedError(message)
