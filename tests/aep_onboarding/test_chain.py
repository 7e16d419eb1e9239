"""The onboarding chain as data: every step consumes only IDs made before it, in either layout."""

from __future__ import annotations

import pytest

from aep_onboarding.chain import SHARED, Step, Subject, discovered_chain, listed_chain, wire
from aep_onboarding.factory import adhoc_mappings, build_onboarding_dag
from aep_onboarding.loader import parse_spec

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


@pytest.mark.parametrize("chain", ["listed", "listed-windows", "discovered"])
def test_every_step_consumes_only_ids_made_before_it(chain: str) -> None:
    """A typo in the step table (an ID from a later or unknown step) fails here, not at run time."""
    spec = parse_spec(WINDOWED if chain == "listed-windows" else SPEC)
    steps = discovered_chain(spec, "Added_At", adhoc_mappings) if chain == "discovered" else listed_chain(spec)
    assert ("ingest_window" in [step.task_id for step in steps]) == (chain == "listed-windows")
    made = set(SHARED)
    for step in steps:
        for arg, (source, _) in step.ids.items():
            assert source in made, f"{step.task_id}.{arg} consumes {source}, made later or never"
        made.add(step.task_id)


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
