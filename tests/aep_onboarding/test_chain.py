"""The onboarding chain as data (the registry, ``steps.py``): every step consumes only IDs made before it, in either
layout; a step the registry does not know is never wired, and a registry that breaks its own rules fails when it is
imported."""

from __future__ import annotations

from typing import Any

import pytest

from aep_onboarding.chain import SHARED, chain, wire
from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import parse_spec
from aep_onboarding.steps import STEPS, Step, Subject, _check

SPEC = """
name: chain
hubspot: {conn_id: h}
objects:
  - source: Hubspot.Contacts
    fields: {Vid: integer, Added_At: date-time}
    delta_column: Added_At
    mapping: [{source: Vid, destination: _id}]
  - source: Hubspot.Companies
    delta_column: Added_At
    mapping: [{source: Company_Id, destination: _id}]
"""
WINDOWED = SPEC.replace("hubspot: {conn_id: h}", "hubspot: {conn_id: h}\ningestion: airflow\nschedule: '@daily'")


@pytest.mark.parametrize("kind", ["listed", "listed-windows", "discovered"])
def test_every_step_consumes_only_ids_made_before_it(kind: str) -> None:
    """A typo in the step table (an ID from a later or unknown step) fails here, not at run time."""
    spec = parse_spec(WINDOWED if kind == "listed-windows" else SPEC)
    steps = chain(spec, discovered=kind == "discovered")
    assert ("ingest_window" in [step.id for step in steps]) == (kind == "listed-windows")
    assert ("target_schema" in [step.id for step in steps]) == (kind != "discovered")
    made = set(SHARED)
    for step in steps:
        for arg, (source, _) in step.ids.items():
            assert source in made, f"{step.id}.{arg} consumes {source}, made later or never"
        made.add(step.id)


def test_an_object_with_listed_fields_does_not_wait_for_the_hubspot_connection_to_make_its_class() -> None:
    dag = build_onboarding_dag(parse_spec(SPEC))
    assert dag.get_task("contacts.adhoc_class").upstream_task_ids == {"contacts.check_source", "plan"}
    assert dag.get_task("companies.adhoc_class").upstream_task_ids == {
        "companies.check_source", "hubspot_base_connection", "plan",
    }


def test_a_step_that_derives_arguments_gets_them_joined_by_key_in_either_layout() -> None:
    """One wiring: a derived argument (the discovered chain's mappings) is a {key: value} input whatever the
    number of objects, so the batched layout takes the same steps as the per-object one."""
    from airflow.sdk import DAG

    from aep_provider.operators.mapping import AepCreateMappingSetOperator

    derived = {"mappings": {"a": [{"source": "x", "destination": "_id"}], "b": []}}
    step = Step("mapping_set", AepCreateMappingSetOperator, lambda s: {"name": f"{s.key} mapping"},
                derived=lambda tasks: derived)
    for keys in (["a"], ["a", "b"]):
        with DAG(dag_id=f"wire_{len(keys)}", schedule=None):
            subjects = [Subject(key=key, source=key, names={}) for key in keys]
            task = wire([step], subjects, {}, {"schema_id": "s"})["mapping_set"]
        assert task.inputs == derived
        assert [(row.key, row.fields.name, row.fields.mappings) for row in task.rows()] == [
            (key, f"{key} mapping", derived["mappings"][key]) for key in keys
        ]


def test_an_unregistered_step_is_not_wired() -> None:
    """wire lays out the registry's steps only: a step it does not list fails the DAG's build, naming the file to
    register it in."""
    from airflow.sdk import DAG

    from aep_provider.operators.dataset import AepCreateDatasetOperator

    stray = Step("stray_dataset", AepCreateDatasetOperator, lambda s: {"name": "x"})
    with DAG(dag_id="stray", schedule=None), pytest.raises(KeyError, match=r"register it in aep_onboarding/steps\.py"):
        wire([stray], [Subject(key="a", source="a", names={})], {}, {"schema_id": "s"})


def _without(step_id: str) -> Any:
    return lambda steps: tuple(s for s in steps if s.id != step_id)


def _swap(first: str, second: str) -> Any:
    def swapped(steps: tuple[Step, ...]) -> tuple[Step, ...]:
        ids = [s.id for s in steps]
        i, j = ids.index(first), ids.index(second)
        out = list(steps)
        out[i], out[j] = out[j], out[i]
        return tuple(out)
    return swapped


def _replace(step_id: str, **changes: Any) -> Any:
    from dataclasses import replace

    return lambda steps: tuple(replace(s, **changes) if s.id == step_id else s for s in steps)


@pytest.mark.parametrize(("broken", "problem"), [
    (lambda steps: (*steps, next(s for s in steps if s.id == "dataset")), "duplicate step id 'dataset'"),
    (_swap("adhoc_class", "adhoc_schema"), "adhoc_schema.class_id consumes 'adhoc_class', not made before it"),
    (_without("target_schema"), "dataset.schema_id consumes 'target_schema', not made before it"),
    (_without("adhoc_class"), "plan refers to 'adhoc_class', not a planned step before it"),
    (_replace("dataflow", after=("ingest_window",)), "dataflow comes after 'ingest_window'"),
    (_replace("mapping_set", resource=next(s for s in STEPS if s.id == "dataset").resource),
     "exactly one step makes the object's asset dataset"),
])
def test_a_registry_that_breaks_its_rules_fails_when_imported(broken: Any, problem: str) -> None:
    """The registry checks itself at import: a step listed twice, one consuming an ID made later or never, a plan
    rule referring to a step not planned before it - each is an error naming the step, before any DAG is built."""
    with pytest.raises(TypeError, match=problem):
        _check(broken(STEPS))
