"""Spec strings are data, never templates: no spec text is ever rendered by Jinja.

Spec values become templated operator fields; ``names: {dataset: "{{ conn.aep_default.password }}"}``
would otherwise copy the client secret into an AEP resource name. The spec models refuse ``{{``, ``{%``
and ``{#`` naming the field, the factory refuses a spec built without validation, and every task field
of a DAG built from a spec, rendered as Airflow renders it, holds the spec's literal text.
"""

from __future__ import annotations

from typing import Any

import pytest

from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import SpecError, parse_spec
from aep_onboarding.spec import OnboardingSpec

SPEC = """
name: literal
description: "Costs {price} } and 100% %} #} - plain text"
hubspot: {conn_id: hubspot_default}
objects:
  - source: Hubspot.Contacts
    delta_column: Updated_At
    names: {dataset: "Contacts { {dataset} } %} #}", flow: "Flow ${AIRFLOW_CONN_AEP_DEFAULT}"}
    target_schema: {title: "Profile {0} }}"}
    mapping:
      - {source: Vid, destination: _id}
      - {source: Email, destination: "personalEmail.address"}
"""
LITERALS = ("Contacts { {dataset} } %} #}", "Flow ${AIRFLOW_CONN_AEP_DEFAULT}", "Profile {0} }}")


@pytest.mark.parametrize(("path", "extra", "mapping"), [
    ("objects[0].names.dataset", 'names: {dataset: "{{ conn.aep_default.password }}"}', "_id"),
    ("objects[0].target_schema.title", 'target_schema: {title: "{% for c in conn %}x{% endfor %}"}', "_id"),
    ("objects[0].mapping[0].destination", "", '"{# x #}_id"'),
    ("objects[0].delta_column", 'delta_column: "{{ var.value.x }}"', "_id"),
])
def test_a_spec_with_template_syntax_is_refused_naming_the_field(path: str, extra: str, mapping: str) -> None:
    text = (
        "name: templated\nhubspot: {conn_id: hubspot_default}\nobjects:\n  - source: Hubspot.Contacts\n"
        f"    mapping: [{{source: Vid, destination: {mapping}}}]\n    {extra}\n"
    )
    with pytest.raises(SpecError) as refused:
        parse_spec(text, "specs/templated.yaml")
    message = str(refused.value)
    assert f"{path}: `{{" in message and "never templates" in message, message


@pytest.mark.parametrize("top", ['sandbox: "{{ params.sandbox }}"', 'description: "{{ conn.aep_default.password }}"',
                                 'tags: ["ok", "{% raw %}"]'])
def test_top_level_strings_are_checked_too(top: str) -> None:
    text = f"name: t\nhubspot: {{conn_id: hubspot_default}}\nobjects: [{{source: Hubspot.Contacts, mapping: [{{source: Vid, destination: _id}}]}}]\n{top}\n"
    with pytest.raises(SpecError, match="never templates"):
        parse_spec(text, "specs/t.yaml")


def test_the_factory_refuses_a_spec_made_without_validation() -> None:
    valid = parse_spec(SPEC)
    obj = valid.objects[0]
    names = obj.names.model_copy(update={"dataset": "{{ conn.aep_default.password }}"})
    smuggled = valid.model_copy(update={"objects": (obj.model_copy(update={"names": names}),)})
    assert isinstance(smuggled, OnboardingSpec)
    with pytest.raises(ValueError, match=r"objects\[0\]\.names\.dataset"):
        build_onboarding_dag(smuggled)


def _strings(value: Any) -> list[str]:
    """String leaves of a template field value, XComArgs (resolved from XCom, not rendered) left out."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple, set)):
        return [s for v in value for s in _strings(v)]
    return []


def test_rendered_task_fields_of_a_dag_built_from_a_spec_hold_the_literal_text() -> None:
    """Every string a task gets from the spec renders to itself with Airflow's own template environment."""
    dag = build_onboarding_dag(parse_spec(SPEC))
    context = {"params": {}, "conn": "SECRET", "var": {"value": {}}, "data_interval_start": None, "data_interval_end": None}
    rendered: dict[str, str] = {}
    for task in dag.tasks:
        env = task.get_template_env(dag=dag)
        for field in task.template_fields:
            for text in _strings(getattr(task, field)):
                if any(marker in text for marker in ("{{", "{%", "{#")):
                    assert "data_interval" in text, f"{task.task_id}.{field}: a template not made by the factory: {text!r}"
                    continue  # the factory's own window templates
                out = task.render_template(text, context, env)
                assert out == text, f"{task.task_id}.{field}: {text!r} rendered to {out!r}"
                rendered[text] = f"{task.task_id}.{field}"
    for literal in LITERALS:
        assert literal in rendered, f"{literal!r} reached no task field"
