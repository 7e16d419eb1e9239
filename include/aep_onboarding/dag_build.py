"""Build every spec's DAG so that no spec can hide another: the one job of both DAG files.

``dags/aep_onboarding_dags.py`` registers the DAGs that build; ``dags/aep_onboarding_spec_check.py`` raises, as
its import error, every problem with the folder or a spec - a validation error, and ANY exception raised while
a spec's DAG is built or checked as the DagBag checks it (``validate``, ``check_cycle``) - each naming its file.
Both files make the same decisions (the spec check builds the DAGs too, and drops them), so what one loads the
other does not report.

Time: Airflow stops importing a DAG file after ``[core] dagbag_import_timeout`` seconds and serializing after
``[dag_processor] dag_file_processor_timeout``, and then loses every DAG of the file with a message that names no
spec. So the cost of the folder's DAGs is estimated before any is built (:func:`estimated_seconds`, from the
number of tasks; measured in tests/aep_onboarding/test_dag_build.py) and a spec that would take the folder past
60 % of either timeout is refused with the fix (``layout: batched``); while building, a spec is not started once
:data:`STOP_SHARE` of the import timeout has passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aep_onboarding import spec_folder
from aep_onboarding.chain import chain
from aep_onboarding.loader import LoadedSpec, SpecError, iter_specs
from aep_onboarding.spec import OnboardingSpec
from aep_onboarding.steps import STEPS

#: The DAG's own tasks besides the registry's steps: select_objects, plan, apply, release_write_lease, run_summary;
#: per object in ``per_object``, its ``selected`` gate; for ``discover``, discover_tables, pick_tables and, per table,
#: names_for and the discovered mapping set's adhoc_mappings.
FRAME_TASKS, PER_OBJECT_GATE, DISCOVERY_TASKS = 5, 1, 4
#: Seconds to build a DAG of n tasks (a n + b n^2: the cost per task grows with the DAG) and to serialize it
#: (c n), fitted to `make bench`'s parse benchmark (benchmarks/results: 1304 tasks built in 0.68 s and serialized
#: in 1.83 s, 6504 tasks in 5.6 s and 8.5 s, CPU time on a quiet 2-core machine), doubled (SAFETY) for a loaded
#: or slower one.
BUILD_A, BUILD_B, SERIALIZE_C, SAFETY = 4.4e-4, 6.5e-8, 1.4e-3, 2.0
#: The share of a timeout the folder's DAGs may take by that estimate; and the share of the import timeout after
#: which no further spec is built.
BUDGET_SHARE, STOP_SHARE = 0.6, 0.8
DEFAULT_IMPORT_TIMEOUT, DEFAULT_PROCESSOR_TIMEOUT = 30.0, 50.0


def estimated_tasks(spec: OnboardingSpec) -> int:
    """The DAG's task count, from the registry's steps (``steps.py``) the spec's layout lays out."""
    shared = FRAME_TASKS + sum(1 for s in STEPS if s.shared)
    listed = len(chain(spec))
    if spec.layout == "batched":
        return shared + listed
    discovered = DISCOVERY_TASKS + len(chain(spec, discovered=True)) if spec.discover is not None else 0
    return shared + (PER_OBJECT_GATE + listed) * len(spec.objects) + discovered


def estimated_seconds(spec: OnboardingSpec) -> tuple[float, float]:
    """(to build the DAG, to build and serialize it), safety included."""
    tasks = estimated_tasks(spec)
    build = (BUILD_A * tasks + BUILD_B * tasks * tasks) * SAFETY
    return build, build + SERIALIZE_C * tasks * SAFETY


def timeouts(dag_file: str = "") -> tuple[float, float]:
    """Airflow's import timeout for ``dag_file`` (a cluster policy may set it per file) and the processor's."""
    try:
        from airflow.configuration import conf

        processor = conf.getfloat("dag_processor", "dag_file_processor_timeout", fallback=DEFAULT_PROCESSOR_TIMEOUT)
        try:
            from airflow.settings import get_dagbag_import_timeout

            return float(get_dagbag_import_timeout(dag_file)), processor
        except Exception:
            return conf.getfloat("core", "dagbag_import_timeout", fallback=DEFAULT_IMPORT_TIMEOUT), processor
    except Exception:
        return DEFAULT_IMPORT_TIMEOUT, DEFAULT_PROCESSOR_TIMEOUT


def _over_budget(loaded: list[LoadedSpec], limits: tuple[float, float]) -> dict[Path, SpecError]:
    """The specs refused for time, in name order: those that take the folder past the budget."""
    refused: dict[Path, SpecError] = {}
    budget = tuple(BUDGET_SHARE * limit if limit > 0 else float("inf") for limit in limits)  # 0: no timeout
    spent: tuple[float, float] = (0.0, 0.0)
    before: list[str] = []
    for item in loaded:
        if item.spec is None:
            continue
        cost = estimated_seconds(item.spec)
        totals = (spent[0] + cost[0], spent[1] + cost[1])
        if totals[0] > budget[0] or totals[1] > budget[1]:
            alone = cost[0] <= budget[0] and cost[1] <= budget[1]
            together = f" with the specs before it ({', '.join(before)})" if alone else ""
            size = f"{len(item.spec.objects)} objects, about {estimated_tasks(item.spec)} tasks"
            refused[item.path] = SpecError(item.path, [
                f"(DAG) too large to build in time: its DAG ({size}, layout {item.spec.layout}){together} would take "
                f"about {max(totals):.0f} s to build and serialize, more than {BUDGET_SHARE:.0%} of Airflow's limits "
                f"(dagbag_import_timeout {limits[0]:.0f} s, dag_file_processor_timeout {limits[1]:.0f} s), and a "
                "timeout would drop every onboarding DAG: use `layout: batched` (about 17 tasks whatever the number "
                "of objects), split the objects over several specs, or raise those timeouts"
            ])
            continue
        spent, before = totals, [*before, item.path.name]
    return refused


@dataclass(frozen=True)
class Built:
    """One spec file (or the folder), with its DAG when it built, else the error naming it."""

    path: Path
    spec: OnboardingSpec | None
    dag: Any
    error: SpecError | None


def _registered() -> set[Any]:
    """The DAGs Airflow registers by itself when a ``with DAG(...)`` block ends - also when the block raised."""
    from airflow.sdk.definitions._internal.contextmanager import DagContext

    return DagContext.autoregistered_dags


def _forget(before: set[Any]) -> None:
    """Unregister the DAGs built since ``before``: a half-built DAG, or one the spec check only checks."""
    registered = _registered()
    for entry in registered - before:
        registered.discard(entry)


def _check_as_dagbag(dag: Any) -> None:
    """What the DagBag checks of each DAG before it keeps it."""
    dag.validate()
    dag.check_cycle()


def build_specs(
    folder: Path | None = None,
    *,
    wanted: str | None = None,
    shown: Callable[[Path], str] | None = None,
    check: bool = False,
    dag_file: str = "",
) -> Iterator[Built]:
    """Every spec of the folder with its DAG (``wanted``: only that DAG id is built) or its error.

    ``check``: also run the DagBag's own checks on each DAG (the spec-check file does; the DAG file leaves them
    to the DagBag). Any exception of one spec's build becomes that spec's :class:`SpecError`.
    """
    from aep_onboarding import factory

    started = time.monotonic()
    limits = timeouts(dag_file)
    loaded = list(iter_specs(folder))
    refused = _over_budget(loaded, limits)
    for item in loaded:
        if item.spec is None or item.path in refused:
            yield Built(item.path, None, None, item.error or refused[item.path])
            continue
        if wanted not in (None, item.spec.dag_id):
            continue
        if limits[0] > 0 and time.monotonic() - started > STOP_SHARE * limits[0]:
            yield Built(item.path, item.spec, None, SpecError(item.path, [
                f"(DAG) not built: the specs before it took {time.monotonic() - started:.0f} s of Airflow's "
                f"dagbag_import_timeout ({limits[0]:.0f} s); use `layout: batched` for the large specs, or raise "
                "the timeout"
            ]))
            continue
        before = set(_registered())
        try:
            dag = factory.build_onboarding_dag(item.spec, source_file=shown(item.path) if shown else None)
            if check:
                _check_as_dagbag(dag)
                _forget(before)
        except Exception as exc:  # any exception: one spec must never take the others down
            _forget(before)
            message = " ".join(str(exc).split())[:500] or "(no message)"
            yield Built(item.path, item.spec, None, SpecError(item.path, [
                f"(DAG) Airflow could not build this spec's DAG: {type(exc).__name__}: {message}; the other specs' "
                "DAGs are loaded. Correct the spec where the message points; if it names nothing in the spec, "
                "report it with the spec file"
            ]))
            continue
        yield Built(item.path, item.spec, dag, None)


def folder_warning(folder: Path | None = None) -> str | None:
    """The warning naming the files of the folder that look like specs and are not loaded."""
    return spec_folder.ignored_warning(spec_folder.scan(folder))
