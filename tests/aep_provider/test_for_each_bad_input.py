"""Bad ``for_each``, ``inputs``, ``keys`` or ``max_concurrency`` fails before any Platform call, naming
the field and the row; shared steps refuse ``for_each`` at construction."""

from __future__ import annotations

from typing import Any

import pytest

from aep_provider.hooks.errors import AepConfigError
from aep_provider.operators.connections import (
    AepCreateDatasetBaseConnectionOperator,
    AepCreateHubSpotBaseConnectionOperator,
)
from aep_provider.operators.dataset import AepCreateDatasetOperator
from aep_provider.operators.flow import AepGetFlowSpecOperator
from aep_provider.operators.schema import AepCreateTargetSchemaOperator

# -- bad for_each input ---------------------------------------------------------------------------


def _dataset_op(**kw: Any) -> AepCreateDatasetOperator:
    return AepCreateDatasetOperator(task_id="d", **kw)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"for_each": [{"key": "a", "name": "A"}, {"name": "B"}]}, r"for_each\[1\] needs a non-empty 'key'"),
        ({"for_each": [{"key": "", "name": "A"}]}, r"for_each\[0\] needs a non-empty 'key'"),
        ({"for_each": [{"key": "a", "name": "A"}, {"key": "a", "name": "B"}]}, r"two rows with key 'a'"),
        (
            {"for_each": [{"key": "a", "name": "A", "schema": "x"}]},
            r"for_each\[0\] \(a\) has unknown field\(s\) \['schema'\].*'schema_id'",
        ),
        (
            {
                "for_each": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}],
                "inputs": {"schema_id": {"a": "s"}},
            },
            r"inputs\['schema_id'\] has no value for 'b' \(it has \['a'\]\)",
        ),
        (
            {"for_each": [{"key": "a", "name": "A"}], "inputs": {"schemaid": {"a": "s"}}},
            r"inputs names 'schemaid'",
        ),
        (
            {"for_each": [{"key": "a", "name": "A"}], "inputs": {"schema_id": ["s"]}},
            r"inputs\['schema_id'\] must be a \{key: value\} dict",
        ),
        ({"for_each": "contacts"}, r"for_each must be a list"),
        ({"for_each": [{"key": "a", "name": "A"}]}, r"the row of 'a' has no schema_id"),
    ],
    ids=[
        "row-without-key",
        "empty-key",
        "duplicate-key",
        "unknown-field",
        "inputs-missing-a-key",
        "inputs-unknown-field",
        "inputs-not-a-dict",
        "for-each-not-a-list",
        "required-field-missing",
    ],
)
def test_bad_for_each_input_fails_before_any_call_naming_the_field(aep_conn_env, make_context, kwargs, match):
    with pytest.raises(AepConfigError, match=match):
        _dataset_op(**kwargs).execute(make_context())
    assert aep_conn_env.admin.state()["resources"] == []


def test_a_key_outside_keys_needs_no_input(aep_conn_env, make_context):
    """Rows left out by ``keys`` are not checked against ``inputs``: upstream handled the same keys."""
    schemas = AepCreateTargetSchemaOperator(task_id="t", for_each=[{"key": "a", "title": "Only A"}]).execute(
        make_context()
    )
    op = _dataset_op(
        for_each=[{"key": "a", "name": "A"}, {"key": "b", "name": "B"}],
        inputs={"schema_id": schemas},
        keys=["a"],
    )
    assert sorted(op.execute(make_context())) == ["a"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: AepGetFlowSpecOperator(task_id="s", for_each=[{"key": "a"}]),
        lambda: AepCreateHubSpotBaseConnectionOperator(task_id="b", name="hs", for_each=[{"key": "a"}]),
        lambda: AepCreateDatasetBaseConnectionOperator(task_id="b", name="ds", for_each=[{"key": "a"}]),
    ],
    ids=["flow-spec", "hubspot-base", "dataset-base"],
)
def test_shared_steps_refuse_for_each_at_construction(make):
    with pytest.raises(AepConfigError, match="takes no for_each"):
        make()


@pytest.mark.parametrize("value", [0, -1, 65])
def test_max_concurrency_out_of_range_is_refused(value):
    with pytest.raises(AepConfigError, match=rf"max_concurrency={value} must be between 1 and 64"):
        _dataset_op(for_each=[{"key": "a", "name": "A", "schema_id": "s"}], max_concurrency=value)


def test_max_concurrency_bounds_and_misplaced_inputs_or_keys():
    assert _dataset_op(for_each=[], max_concurrency=1).max_concurrency == 1
    assert _dataset_op(for_each=[], max_concurrency=64).max_concurrency == 64
    # Without for_each the operator's own arguments are one row (keyed row_key) that inputs join into.
    joined = _dataset_op(name="A", inputs={"schema_id": {"a": "s"}}, row_key="a").rows()
    assert [(row.key, row.fields.name, row.fields.schema_id) for row in joined] == [("a", "A", "s")]
    with pytest.raises(AepConfigError, match=r"inputs\['schema_id'\] has no value for 'object'"):
        _dataset_op(name="A", inputs={"schema_id": {"a": "s"}}).rows()
    assert _dataset_op(name="A", schema_id="s", keys=["a"]).rows() == []
    # One object still needs its required arguments at construction; for_each rows may set them later.
    with pytest.raises(AepConfigError, match="needs schema_id"):
        _dataset_op(name="A")
    _dataset_op(for_each=[{"key": "a", "name": "A", "schema_id": "s"}])


