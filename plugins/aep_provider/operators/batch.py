"""One operator, many objects: the ``for_each`` mode every AEP operator shares.

A task that onboards one object pays Airflow's per-task cost (scheduling, a worker slot, a process
that parses the DAG file) for one Platform call. With ``for_each`` the same operator makes its call
for every object of the list, concurrently, in one task: the per-task cost is paid once per step
instead of once per step and object.

Each row of ``for_each`` is ``{"key": <object key>, <field>: <value>, ...}``; fields a row leaves out
take the operator's own argument. ``inputs`` joins the dict XComs of upstream ``for_each`` tasks
(``{field: {key: value}}``), so ``inputs={"schema_id": XComArg(target_schema)}`` gives each row the
schema its own object got. The task returns ``{key: result}`` and every extra XCom as ``{key: value}``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowSkipException

from aep_provider.hooks.errors import AepConfigError, AepError


@dataclass
class AepItem:
    """The fields of one object a task works on, and the extra XComs it produces."""

    key: str | None
    fields: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        fields = self.__dict__.get("fields") or {}
        if name in fields:
            return fields[name]
        raise AttributeError(name)

    def output(self, key: str, value: Any) -> None:
        """An extra XCom: pushed under ``key`` (one object) or gathered as ``{object key: value}``."""
        self.outputs[key] = value

    @property
    def label(self) -> str:
        """``"[contacts] "`` in a many-object task, ``""`` otherwise: the prefix of its log lines."""
        return f"[{self.key}] " if self.key is not None else ""


class AepBatchError(AepError):
    """Some objects of a ``for_each`` task failed; the others are done (and reused on a retry)."""


def plan_items(
    *,
    operator: str,
    item_fields: Sequence[str],
    defaults: Mapping[str, Any],
    for_each: Sequence[Mapping[str, Any]],
    inputs: Mapping[str, Mapping[str, Any]] | None,
    keys: Sequence[str] | None,
) -> list[AepItem]:
    """The items of a ``for_each`` task, with every input joined by key; errors name the bad field."""
    if isinstance(for_each, (str, bytes)) or not isinstance(for_each, Sequence):
        raise AepConfigError(
            f"{operator}: for_each must be a list of {{'key': ..., <field>: ...}} rows, got {type(for_each).__name__}."
        )
    inputs = dict(inputs or {})
    for name, by_key in inputs.items():
        if name not in item_fields:
            raise AepConfigError(f"{operator}: inputs names {name!r}, not a field of it; use some of {list(item_fields)}.")
        if not isinstance(by_key, Mapping):
            raise AepConfigError(
                f"{operator}: inputs[{name!r}] must be a {{key: value}} dict (the XCom of a for_each task), "
                f"got {type(by_key).__name__}."
            )
    wanted = None if keys is None else {str(k) for k in keys}
    items, seen = [], set()
    for index, row in enumerate(for_each):
        if not isinstance(row, Mapping) or row.get("key") in (None, ""):
            raise AepConfigError(f"{operator}: for_each[{index}] needs a non-empty 'key' (the object it is for).")
        key = str(row["key"])
        if key in seen:
            raise AepConfigError(f"{operator}: for_each has two rows with key {key!r}; keys must be unique.")
        seen.add(key)
        unknown = sorted(set(row) - {"key", *item_fields})
        if unknown:
            raise AepConfigError(
                f"{operator}: for_each[{index}] ({key}) has unknown field(s) {unknown}; use some of {list(item_fields)}."
            )
        if wanted is not None and key not in wanted:
            continue
        values = {name: defaults.get(name) for name in item_fields}
        values.update({name: value for name, value in row.items() if name != "key"})
        for name, by_key in inputs.items():
            if key not in by_key:
                raise AepConfigError(
                    f"{operator}: inputs[{name!r}] has no value for {key!r} (it has {sorted(by_key)}); the "
                    "upstream task must handle the same keys."
                )
            values[name] = by_key[key]
        items.append(AepItem(key=key, fields=values))
    return items


@dataclass
class BatchOutcome:
    results: dict[str, Any]
    outputs: dict[str, dict[str, Any]]
    skipped: dict[str, str]
    failed: dict[str, BaseException]


def run_items(
    items: Sequence[AepItem],
    work: Callable[[AepItem], Any],
    *,
    max_concurrency: int,
    same_resource: Callable[[AepItem], Hashable] | None = None,
) -> BatchOutcome:
    """Run ``work`` on every item, ``max_concurrency`` at a time; one item's failure stops no other.

    Items for which ``same_resource`` gives the same value (say, two objects sharing one target schema
    title) run one after another, so the second finds what the first created instead of racing it.
    """
    outcome = BatchOutcome(results={}, outputs={}, skipped={}, failed={})
    groups: dict[Hashable, list[AepItem]] = {}
    for item in items:
        groups.setdefault(same_resource(item) if same_resource else id(item), []).append(item)

    def run_group(group: list[AepItem]) -> list[tuple[AepItem, str, Any]]:
        done: list[tuple[AepItem, str, Any]] = []
        for item in group:
            try:
                done.append((item, "ok", work(item)))
            except AirflowSkipException as exc:
                done.append((item, "skipped", str(exc)))
            except Exception as exc:
                done.append((item, "failed", exc))
        return done

    workers = max(1, min(max_concurrency, len(groups)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aep") as pool:
        futures = [pool.submit(run_group, group) for group in groups.values()]
        for future in as_completed(futures):
            for item, how, value in future.result():
                key = str(item.key)
                if how == "skipped":
                    outcome.skipped[key] = value
                elif how == "failed":
                    outcome.failed[key] = value
                else:
                    outcome.results[key] = value
                    for name, extra in item.outputs.items():
                        outcome.outputs.setdefault(name, {})[key] = extra
    # Stable order in XCom and logs, whatever order the calls ended in.
    outcome.results = dict(sorted(outcome.results.items()))
    outcome.outputs = {name: dict(sorted(values.items())) for name, values in outcome.outputs.items()}
    return outcome


def batch_error(operator: str, failed: Mapping[str, BaseException], done: int) -> Exception:
    """One error for the failed objects: a config error when every failure is one (retrying cannot help)."""
    lines = "; ".join(f"{key}: {type(exc).__name__}: {exc}" for key, exc in sorted(failed.items()))
    message = f"{operator}: {len(failed)} of {len(failed) + done} objects failed ({done} done) - {lines}"
    if all(isinstance(exc, AepConfigError) for exc in failed.values()):
        return AepConfigError(message)
    return AepBatchError(message)
