"""``for_each`` with one bad row among good ones: the task fails naming only that object's key (and why),
the other objects' resources are created, and a fixed retry creates only what is missing. Rows that skip
are left out; a task whose rows all skip is skipped."""

from __future__ import annotations

import pytest
from aep_provider_for_each import (
    KEYS,
    OBJECTS,
    WINDOW,
    counts,
    expected_counts,
    for_each_chain,
    kinds,
    names_of,
    run_flow_op,
)
from airflow.sdk.exceptions import AirflowSkipException

from aep_provider.hooks.errors import AepConfigError
from aep_provider.operators.dataset import AepCreateDatasetOperator
from aep_provider.operators.mapping import AepCreateMappingSetOperator
from aep_provider.operators.rows import AepRowsFailedError
from aep_provider.operators.schema import AepCreateTargetSchemaOperator

# -- one bad row among good ones -----------------------------------------------------------------------


def test_one_bad_mapping_row_fails_the_task_naming_that_key_and_the_others_are_created(
    aep_conn_env, hubspot, make_context
):
    """A destination missing from one object's schema: AepConfigError naming only that key."""
    bad = {
        **OBJECTS,
        "companies": {
            **OBJECTS["companies"],
            "mappings": [
                {"source": "Company_Id", "destination": "_id"},
                # a profile path, not one of the account class
                {"source": "Properties_Name_Value", "destination": "person.name.fullName"},
            ],
        },
    }
    with pytest.raises(AepConfigError) as info:
        for_each_chain(make_context, objects=bad)
    message = str(info.value)
    assert "companies" in message and "person.name.fullName" in message
    assert "1 of 3 objects failed (2 done)" in message
    assert not isinstance(info.value, AepRowsFailedError)
    assert "contacts:" not in message and "deals:" not in message
    schemas = {r["id"] for r in kinds(aep_conn_env, "mappingSet")}
    assert len(schemas) == 2  # the good rows' mapping sets exist
    # Fixing the row: the retry creates only the missing mapping set (and the rest of the chain).
    chain = for_each_chain(make_context)
    assert counts(aep_conn_env) == expected_counts(3)
    assert schemas < set(chain.ids["mapping"].values())


def test_a_dataset_name_taken_on_another_schema_fails_only_that_key(aep_conn_env, hubspot, make_context):
    """The clash is named with its key; the other datasets are created. A conflict (not a config
    error) makes the task's error an AepRowsFailedError."""
    chain = for_each_chain(make_context, keys=["contacts"])
    targets = AepCreateTargetSchemaOperator(
        task_id="t",
        for_each=[{"key": "a", "title": "Other A"}, {"key": "b", "title": "Other B"}],
    ).execute(make_context())
    op = AepCreateDatasetOperator(
        task_id="d",
        for_each=[{"key": "a", "name": "HubSpot contacts"}, {"key": "b", "name": "Fresh dataset"}],
        inputs={"schema_id": targets},
    )
    with pytest.raises(AepRowsFailedError) as info:
        op.execute(make_context())
    message = str(info.value)
    assert "1 of 2 objects failed (1 done) - a: AepConflictError" in message
    assert chain.ids["dataset"]["contacts"] in message
    assert names_of(aep_conn_env, "dataset") == {"HubSpot contacts", "Fresh dataset"}


def test_a_config_error_and_a_transient_error_give_an_aep_batch_error_naming_both(
    aep_conn_env, hubspot, make_context
):
    chain = for_each_chain(make_context)
    deals_schema = chain.ids["target_schema"]["deals"].rsplit("/", 1)[-1]
    aep_conn_env.admin.set_faults([{"kind": "503", "method": "GET", "path_regex": deals_schema}])
    op = AepCreateMappingSetOperator(
        task_id="m",
        name="second mappings",
        hook_params={"max_retries": 1},
        for_each=[
            {"key": "companies", "mappings": [{"source": "Company_Id", "destination": "nope"}]},
            {"key": "contacts", "mappings": OBJECTS["contacts"]["mappings"]},
            {"key": "deals", "mappings": OBJECTS["deals"]["mappings"]},
        ],
        inputs={"schema_id": chain.ids["target_schema"]},
    )
    with pytest.raises(AepRowsFailedError) as info:
        op.execute(make_context())
    message = str(info.value)
    assert "2 of 3 objects failed (1 done)" in message
    assert "companies: AepConfigError" in message and "deals: AepTransientError" in message
    assert "contacts:" not in message


def test_rows_that_skip_are_left_out_and_a_task_whose_rows_all_skip_is_skipped(
    aep_conn_env, chain, make_context
):
    """A row without a window (a manual run) skips; the other rows still start their run."""
    op = run_flow_op(
        chain,
        [
            {"key": "contacts"},
            {"key": "companies", "window_start": None, "window_end": None},
            {"key": "deals"},
        ],
        **WINDOW,
    )
    result = op.execute(make_context())
    assert sorted(result) == ["contacts", "deals"]
    assert len(kinds(aep_conn_env, "run")) == len(KEYS) + 2  # the flows' own runs and two windows
    none = run_flow_op(chain, [{"key": key} for key in KEYS])
    with pytest.raises(AirflowSkipException, match="every object was skipped"):
        none.execute(make_context())


