"""``for_each`` rows run concurrently yet give the same result as one at a time: rows naming the same
schema or dataset share one, ``max_concurrency=1`` changes nothing, and transient faults on any row end
in exactly one resource per object (retries and look-up-before-create per row)."""

from __future__ import annotations

from typing import Any

import pytest
from aep_provider_chain import only
from aep_provider_for_each import (
    FOR_EACH_STEPS,
    KEYS,
    counts,
    expected_counts,
    for_each_chain,
    kinds,
    run_flows,
)

from aep_provider.operators.dataset import AepCreateDatasetOperator
from aep_provider.operators.schema import AepCreateTargetSchemaOperator

# -- rows naming the same resource ------------------------------------------------------------------------


def _shared_rows(op_class, field: str, value: Any, **kw: Any) -> Any:
    return op_class(task_id="shared", for_each=[{"key": k, field: value} for k in "abcd"], **kw)


def test_rows_naming_the_same_resource_share_it_one_at_a_time(aep_conn_env, make_context):
    """With max_concurrency=1, objects sharing a target schema title (or dataset name) share one resource."""
    schemas = _shared_rows(
        AepCreateTargetSchemaOperator, "title", "Shared profile", max_concurrency=1
    ).execute(make_context())
    assert len(set(schemas.values())) == 1
    datasets = _shared_rows(
        AepCreateDatasetOperator, "name", "Shared dataset", schema_id=schemas["a"], max_concurrency=1
    ).execute(make_context())
    assert len(set(datasets.values())) == 1
    assert len(kinds(aep_conn_env, "schema")) == len(kinds(aep_conn_env, "dataset")) == 1


def test_rows_sharing_a_target_schema_title_share_one_schema_when_run_concurrently(
    aep_conn_env, make_context
):
    """Objects sharing ``objects[].target_schema.title`` share one schema at any concurrency: rows naming
    the same resource run one after another, so the second finds the first one's schema (otherwise every
    row would look up nothing, all would create, and all but one fail with XDM-1521-400 'Title not unique')."""
    aep_conn_env.admin.configure(latency_ms=20)  # every lookup ends before the first create does
    schemas = _shared_rows(AepCreateTargetSchemaOperator, "title", "Shared profile").execute(make_context())
    assert len(set(schemas.values())) == 1


def test_rows_sharing_a_dataset_name_share_one_dataset_when_run_concurrently(aep_conn_env, make_context):
    """Objects whose rows name the same dataset on the same schema share one dataset at any concurrency
    (otherwise every row would create its own dataset of that name: silent duplicates)."""
    schema = only(AepCreateTargetSchemaOperator(task_id="t", title="Shared profile").execute(make_context()))
    aep_conn_env.admin.configure(latency_ms=20)
    datasets = _shared_rows(AepCreateDatasetOperator, "name", "Shared dataset", schema_id=schema).execute(
        make_context()
    )
    assert len(kinds(aep_conn_env, "dataset")) == 1
    assert len(set(datasets.values())) == 1


# -- max_concurrency=1 ----------------------------------------------------------------------------------


def test_max_concurrency_one_runs_rows_one_at_a_time_with_the_same_result(
    aep_conn_env, hubspot, make_context
):
    chain = for_each_chain(make_context, max_concurrency=1)
    assert counts(aep_conn_env) == expected_counts(3)
    assert sorted(chain.ids["flow"]) == KEYS


# -- faults ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "commit_then_drop", "method": "POST", "max_hits": 16},
        # At most 6 hits: with concurrent calls the order of the seeded draws varies, and no call may
        # then meet more faults in a row than its retry budget (6 retries) absorbs.
        {"kind": "500", "method": "POST", "probability": 0.4, "max_hits": 6},
        {"kind": "drop", "probability": 0.2, "max_hits": 6},
        {"kind": "503", "probability": 0.2, "max_hits": 6},
        {"kind": "429", "probability": 0.2, "max_hits": 6, "retry_after": 0},
    ],
    ids=lambda f: f["kind"],
)
def test_transient_faults_on_for_each_steps_end_in_success_without_duplicates(
    aep_conn_env, hubspot, make_context, fault
):
    """Retries and look-up-before-create work per row inside one for_each task: every object ends
    with exactly one resource of each kind, and one run per flow."""
    aep_conn_env.admin.set_faults([{**fault, "path_regex": "^/data/"}], seed=11)
    chain = for_each_chain(make_context)
    assert aep_conn_env.admin.faults()["rules"][0]["hits"] > 0
    aep_conn_env.admin.clear_faults()
    assert counts(aep_conn_env) == expected_counts(3)
    for step in FOR_EACH_STEPS:
        assert len(set(chain.ids[step].values())) == 3, step
    # ... and the runs, started under the same faults, are one per flow.
    aep_conn_env.admin.set_faults([{**fault, "path_regex": "^/data/"}], seed=12)
    run_flows(chain, make_context)
    aep_conn_env.admin.clear_faults()
    assert len(kinds(aep_conn_env, "run")) == 3 + 3  # the flows' own runs and one window each


