"""The DAG files' one routine (``aep_onboarding.dag_build``): what it estimates before building, what it refuses
for time, and that a spec's failed build leaves nothing behind. And the ids the spec checks reserve: they must be
the factory's own, or an object could still collide with a task (and the DAG file fail) or be refused for
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from minimal_spec import VALID

from aep_onboarding import dag_build, spec_limits
from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import parse_spec
from aep_onboarding.spec import OnboardingSpec

WINDOWS = "ingestion: airflow\nschedule: '@daily'\n"


def _spec(objects: int, layout: str = "per_object", extra: str = "") -> OnboardingSpec:
    rows = "\n".join(f"  - {{source: Hubspot.T{i}, delta_column: Added_At, mapping: [{{source: Id, destination: _id}}]}}"
                     for i in range(objects))
    return parse_spec(f"name: s{objects}\nhubspot: {{conn_id: h}}\nlayout: {layout}\n{extra}objects:\n{rows}\n")


SHAPES = {
    "per-object": _spec(3), "per-object-windows": _spec(3, extra=WINDOWS), "batched": _spec(3, "batched"),
    "batched-windows": _spec(3, "batched", WINDOWS), "discover": _spec(2, extra="discover: {delta_column: Added_At}\n"),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_task_estimate_is_the_dags_task_count(shape: str) -> None:
    """The time budget is only as good as the task count it starts from: it is exact for every layout."""
    spec = SHAPES[shape]
    assert dag_build.estimated_tasks(spec) == len(build_onboarding_dag(spec).tasks)


@pytest.mark.parametrize("shape", sorted(s for s in SHAPES if not s.startswith("batched")))
def test_the_reserved_ids_and_the_longest_step_are_the_factorys(shape: str) -> None:
    """In the per-object layout (the one with a task group per object; ``batched`` has none), every id outside
    the objects' groups is reserved, and no step id inside a group is longer than the one the length limit
    assumes."""
    spec = SHAPES[shape]
    dag = build_onboarding_dag(spec)
    slugs = {obj.slug for obj in spec.objects}
    top = {task_id.split(".", 1)[0] for task_id in dag.task_ids} - slugs
    assert top <= spec_limits.RESERVED_IDS, top - spec_limits.RESERVED_IDS
    steps = {task_id.split(".", 1)[1] for task_id in dag.task_ids if task_id.split(".", 1)[0] in slugs}
    assert max(map(len, steps), default=0) <= len(spec_limits.LONGEST_STEP)


def test_a_spec_whose_build_raises_is_reported_and_leaves_no_half_built_dag(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    """Airflow registers a DAG when its ``with`` block ends, even when it raised: the half-built DAG is dropped,
    the error names the file and the exception, and the next spec still builds."""
    from airflow.sdk.definitions._internal.contextmanager import DagContext

    monkeypatch.setattr(spec_limits, "RESERVED_IDS", frozenset())
    monkeypatch.setattr(DagContext, "current_autoregister_module_name", __name__)  # as while a DagBag imports
    monkeypatch.setattr(DagContext, "autoregistered_dags", set())
    (tmp_path / "a.yaml").write_text(VALID.replace("    delta_column", "    name: apply\n    delta_column"))
    (tmp_path / "b.yaml").write_text(VALID.replace("name: demo", "name: fine"))
    built = {item.path.name: item for item in dag_build.build_specs(tmp_path)}
    assert built["b.yaml"].dag is not None and built["a.yaml"].dag is None
    [problem] = built["a.yaml"].error.problems
    assert problem.startswith("(DAG) Airflow could not build this spec's DAG: DuplicateTaskIdFound")
    registered = {dag.dag_id for dag, _ in DagContext.autoregistered_dags}
    assert registered == {"aep_onboard_fine"}


def test_the_folder_is_budgeted_in_name_order_and_a_large_spec_names_its_fix(tmp_path: Path) -> None:
    """Each spec fits alone; together they pass half the timeout: the one that tips the folder over is refused,
    naming the specs before it and `layout: batched`; a spec too large alone says so without them."""
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.yaml").write_text(VALID.replace("name: demo", f"name: {name}"))
    loaded = list(dag_build.iter_specs(tmp_path))
    one = dag_build.estimated_seconds(loaded[0].spec)
    limit = (2.5 * one[0] / dag_build.BUDGET_SHARE, 100.0)  # room for two of the three
    refused = dag_build._over_budget(loaded, limit)
    assert list(refused) == [tmp_path / "c.yaml"]
    [problem] = refused[tmp_path / "c.yaml"].problems
    assert "with the specs before it (a.yaml, b.yaml)" in problem and "use `layout: batched`" in problem
    alone = dag_build._over_budget(loaded, (0.5 * one[0] / dag_build.BUDGET_SHARE, 100.0))
    assert list(alone) == [tmp_path / f"{n}.yaml" for n in "abc"]
    assert "with the specs before it" not in alone[tmp_path / "b.yaml"].problems[0]
    assert dag_build._over_budget(loaded, (0.0, 0.0)) == {}, "a timeout of 0 (none) refuses nothing"


def test_no_spec_is_started_once_most_of_the_import_timeout_has_passed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """The estimate's backstop: a slow machine still stops before the timeout, naming each spec not built."""
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(VALID.replace("name: demo", f"name: {name}"))
    clock = iter([0.0, 0.0, 100.0, 100.0, 100.0])
    monkeypatch.setattr(dag_build.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(dag_build, "timeouts", lambda dag_file="": (30.0, 50.0))
    built = {item.path.name: item for item in dag_build.build_specs(tmp_path)}
    assert built["a.yaml"].dag is not None
    assert built["b.yaml"].dag is None and "(DAG) not built: the specs before it took 100 s" in str(built["b.yaml"].error)


def test_the_timeouts_are_airflows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "7")
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT", "11")
    assert dag_build.timeouts(__file__) == (7.0, 11.0)
