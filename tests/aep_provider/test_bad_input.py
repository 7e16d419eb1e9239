"""Bad input fails before any write, with a message naming the field and the fix."""

from __future__ import annotations

import pytest
from aep_provider_chain import SCHEDULE, dataflow_op, hubspot_conn_env, onboard, only

from aep_provider.hooks.errors import AepConfigError, AepConflictError
from aep_provider.operators.dataset import AepCreateDatasetOperator
from aep_provider.operators.flow import AepRunFlowOperator
from aep_provider.operators.mapping import AepCreateMappingSetOperator
from aep_provider.operators.schema import AepCreateAdhocClassOperator, AepCreateTargetSchemaOperator


def writes(emulator) -> int:
    return emulator.admin.state()["counters"]["writes"]


@pytest.fixture
def chain(aep_conn_env, monkeypatch, make_context):
    hubspot_conn_env(monkeypatch)
    return onboard(make_context, run=False)


def test_unknown_mapping_destination_fails_before_writing_and_suggests_close_paths(aep_conn_env, chain, ctx):
    before = writes(aep_conn_env)
    op = AepCreateMappingSetOperator(
        task_id="m",
        schema_id=chain["target_schema"],
        mappings=[{"source": "Properties_Firstname_Value", "destination": "person.name.firstname"}],
    )
    with pytest.raises(AepConfigError) as info:
        op.execute(ctx)
    assert "person.name.firstname" in str(info.value)
    assert "person.name.firstName" in str(info.value)  # the closest valid path
    assert writes(aep_conn_env) == before


def _flow_op(chain, schedule):
    return dataflow_op(chain, schedule, task_id="f", name="another flow")


def test_minute_interval_below_fifteen_fails_naming_interval_and_minimum(aep_conn_env, chain, ctx):
    before = writes(aep_conn_env)
    with pytest.raises(AepConfigError) as info:
        only(_flow_op(chain, {**SCHEDULE, "frequency": "minute", "interval": 10}).execute(ctx))
    assert "schedule.interval" in str(info.value) and "15" in str(info.value)
    assert writes(aep_conn_env) == before


def test_schedule_is_checked_against_the_flow_specs_schedule_spec(aep_conn_env, chain, ctx):
    from aep_provider.models.flow_service import Schedule
    from aep_provider.operators.flow import check_schedule

    spec = {
        "id": "s",
        "scheduleSpec": {"spec": {"type": "object", "properties": {"frequency": {"enum": ["hour"]}}}},
    }
    with pytest.raises(AepConfigError, match=r"schedule\.frequency"):
        check_schedule(Schedule.model_validate({"frequency": "day", "interval": 1, "start_time": 0}), spec)


def test_unparseable_start_time_names_the_field(aep_conn_env, chain, ctx):
    with pytest.raises(AepConfigError, match="start_time"):
        only(_flow_op(chain, {**SCHEDULE, "start_time": "next tuesday-ish"}).execute(ctx))


def test_unknown_schema_id_for_a_dataset_fails_before_writing(aep_conn_env, ctx):
    before = writes(aep_conn_env)
    op = AepCreateDatasetOperator(
        task_id="d", name="orphan", schema_id="https://ns.adobe.com/demotenant/schemas/0000"
    )
    with pytest.raises(AepConfigError, match="schema_id"):
        op.execute(ctx)
    assert writes(aep_conn_env) == before


def test_dataset_name_taken_on_another_schema_is_an_error_naming_both(aep_conn_env, chain, make_context):
    other = only(AepCreateTargetSchemaOperator(task_id="s", title="Other schema").execute(make_context()))
    before = writes(aep_conn_env)
    with pytest.raises(AepConflictError) as info:
        only(AepCreateDatasetOperator(task_id="d", name="HubSpot contacts", schema_id=other).execute(
            make_context()
        ))
    assert chain["target_schema"] in str(info.value) and other in str(info.value)
    assert writes(aep_conn_env) == before


def test_missing_sandbox_fails_before_any_call(aep_conn_env, ctx):
    before = aep_conn_env.admin.state()["counters"]["requests"]
    with pytest.raises(AepConfigError, match="sandbox"):
        only(AepCreateTargetSchemaOperator(task_id="s", title="x", sandbox="").execute(ctx))
    assert aep_conn_env.admin.state()["counters"]["requests"] == before


def test_window_end_before_start_fails_before_any_write(aep_conn_env, chain, ctx):
    before = writes(aep_conn_env)
    op = AepRunFlowOperator(
        task_id="r",
        flow_id=chain["flow"],
        window_start="2025-02-01T00:00:00Z",
        window_end="2025-01-01T00:00:00Z",
        delta_column="Added_At",
    )
    with pytest.raises(AepConfigError, match="window_end"):
        op.execute(ctx)
    assert writes(aep_conn_env) == before


def test_unknown_field_type_for_an_adhoc_class_names_the_field(aep_conn_env, ctx):
    before = writes(aep_conn_env)
    with pytest.raises(AepConfigError, match=r"fields\.Vid"):
        only(AepCreateAdhocClassOperator(task_id="c", title="t", fields={"Vid": "varchar"}).execute(ctx))
    assert writes(aep_conn_env) == before


def test_adhoc_class_without_fields_or_source_says_what_to_pass(aep_conn_env, ctx):
    with pytest.raises(AepConfigError, match="source_path"):
        only(AepCreateAdhocClassOperator(task_id="c", title="t").execute(ctx))
