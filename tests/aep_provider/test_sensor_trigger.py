"""AepFlowRunSensor and AepFlowRunTrigger: wait for a run, judge success / failed / partialSuccess."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from aep_provider_chain import hubspot_conn_env, onboard
from airflow.sdk.exceptions import TaskDeferred

from aep_provider.hooks.aep import AepHook
from aep_provider.operators.flow import AepRunFlowOperator
from aep_provider.sensors.flow_run import AepFlowRunFailed, AepFlowRunSensor
from aep_provider.triggers.flow_run import AepFlowRunTrigger

WINDOW = {"window_start": "2025-01-01T00:00:00Z", "window_end": "2026-01-01T00:00:00Z"}


@pytest.fixture
def chain(aep_conn_env, monkeypatch, make_context):
    hubspot_conn_env(monkeypatch)
    return onboard(make_context, run=False)


def start_run(chain, make_context, **window):
    op = AepRunFlowOperator(
        task_id="run", flow_id=chain["flow"], delta_column="Updated_At", **{**WINDOW, **window}
    )
    return op.execute(make_context())


def poke_sensor(chain, **kw):
    return AepFlowRunSensor(task_id="wait", flow_id=chain["flow"], deferrable=False, poll_interval=0.01, **kw)


def test_success_passes_and_returns_the_record_counts(aep_conn_env, chain, make_context):
    run_id = start_run(chain, make_context)
    result = poke_sensor(chain).poke(make_context())
    assert result.is_done
    xcom = result.xcom_value
    assert xcom["run_id"] == run_id and xcom["status"] == "success"
    assert (
        xcom["input_records"] > 0
        and xcom["output_records"] == xcom["input_records"]
        and xcom["failed_records"] == 0
    )


def test_poke_mode_execute_returns_the_summary(aep_conn_env, chain, make_context):
    start_run(chain, make_context)
    sensor = poke_sensor(chain, mode="poke", timeout=30)
    out = sensor.execute(make_context())
    assert out["status"] == "success"


def test_no_run_yet_keeps_waiting_and_in_progress_logs_progress(aep_conn_env, chain, make_context, caplog):
    sensor = poke_sensor(chain)
    assert sensor.poke(make_context()) is False
    aep_conn_env.admin.configure(run_duration_seconds=600)
    start_run(chain, make_context)
    assert sensor.poke(make_context()) is False
    aep_conn_env.admin.advance(700)
    assert sensor.poke(make_context()).is_done


def test_failed_run_fails_the_task_with_the_runs_error_codes(aep_conn_env, chain, make_context):
    aep_conn_env.admin.configure(run_duration_seconds=600)
    run_id = start_run(chain, make_context)
    AepHook().delete_dataset(chain["dataset"])  # the run fails: its target dataset is gone
    aep_conn_env.admin.advance(700)
    with pytest.raises(AepFlowRunFailed) as info:
        poke_sensor(chain, run_id=run_id).poke(make_context())
    assert "CONNECTOR-1001-500" in str(info.value) and run_id in str(info.value)


def _partial(chain, make_context, aep_conn_env):
    """A run where some rows cannot be converted: Birthyear strings into an integer field."""
    from aep_provider_chain import SCHEDULE

    from aep_provider.operators.flow import AepCreateDataflowOperator
    from aep_provider.operators.mapping import AepCreateMappingSetOperator

    mctx = make_context()
    mapping = AepCreateMappingSetOperator(
        task_id="m",
        schema_id=chain["target_schema"],
        name="partial mapping",
        mappings=[
            {"source": "Vid", "destination": "_id"},
            {"source": "Properties_Birthyear_Value", "destination": "person.birthYear"},
        ],
    ).execute(mctx)
    flow = AepCreateDataflowOperator(
        task_id="f",
        name="partial flow",
        flow_spec_id=chain["flow_spec"],
        source_connection_id=chain["source"],
        target_connection_id=chain["target"],
        mapping_id=mapping,
        delta_column="Updated_At",
        schedule=SCHEDULE,
    ).execute(make_context())
    run_id = AepRunFlowOperator(task_id="r", flow_id=flow, delta_column="Updated_At", **WINDOW).execute(
        make_context()
    )
    summary = AepHook().get_object("runs", run_id)["metrics"]["recordSummary"]
    return flow, run_id, summary


def test_partial_success_passes_within_tolerance_and_fails_beyond_it(aep_conn_env, chain, make_context):
    flow, run_id, summary = _partial(chain, make_context, aep_conn_env)
    failed, total = summary["failedRecordCount"], summary["inputRecordCount"]
    if not 0 < failed < total:
        pytest.skip(f"emulator data gave no partial success ({failed}/{total})")
    ratio = failed / total
    strict = AepFlowRunSensor(
        task_id="w", flow_id=flow, run_id=run_id, deferrable=False, failed_record_tolerance=ratio / 2
    )
    with pytest.raises(AepFlowRunFailed, match="failed_record_tolerance"):
        strict.poke(make_context())
    lenient = AepFlowRunSensor(
        task_id="w",
        flow_id=flow,
        run_id=run_id,
        deferrable=False,
        failed_record_tolerance=min(1.0, ratio + 0.01),
    )
    assert lenient.poke(make_context()).xcom_value["status"] == "partialSuccess"


def test_deferrable_sensor_defers_to_a_trigger_that_survives_serialization(aep_conn_env, chain, make_context):
    aep_conn_env.admin.configure(run_duration_seconds=600)
    start_run(chain, make_context)
    sensor = AepFlowRunSensor(task_id="wait", flow_id=chain["flow"], poll_interval=0.05)
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(make_context())
    trigger = info.value.trigger
    classpath, kwargs = trigger.serialize()
    module, name = classpath.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert info.value.method_name == "execute_complete"

    async def wait_for_event():
        gen = rebuilt.run()
        task = asyncio.ensure_future(gen.__anext__())
        await asyncio.sleep(0.3)
        assert not task.done()  # still waiting while the run is in progress
        await asyncio.to_thread(aep_conn_env.admin.advance, 700)
        return await asyncio.wait_for(task, 10)

    event = asyncio.run(wait_for_event())
    assert event.payload["status"] == "terminal"
    result = sensor.execute_complete(make_context(), event.payload)
    assert result["status"] == "success" and result["output_records"] > 0


def test_trigger_reports_an_unknown_run_as_an_error_event(aep_conn_env, chain):
    trigger = AepFlowRunTrigger(
        flow_id=chain["flow"], run_id="00000000-0000-0000-0000-000000000000", poll_interval=0.01
    )

    async def first():
        return await trigger.run().__anext__()

    event = asyncio.run(first())
    assert event.payload["status"] == "error" and "run_id" in event.payload["message"]
    with pytest.raises(AepFlowRunFailed):
        AepFlowRunSensor(task_id="w", flow_id=chain["flow"]).execute_complete({}, event.payload)


def test_trigger_survives_transient_faults(aep_conn_env, chain, make_context):
    run_id = start_run(chain, make_context)
    aep_conn_env.admin.set_faults([{"kind": "503", "method": "GET", "path_regex": "/runs", "max_hits": 2}])
    trigger = AepFlowRunTrigger(flow_id=chain["flow"], run_id=run_id, poll_interval=0.01)

    async def first():
        return await trigger.run().__anext__()

    event = asyncio.run(first())
    assert event.payload["status"] == "terminal" and event.payload["run"]["run_id"] == run_id


def test_deferral_timeout_honours_execution_timeout(aep_conn_env, chain, make_context):
    import datetime as dt

    aep_conn_env.admin.configure(run_duration_seconds=600)
    start_run(chain, make_context)
    sensor = AepFlowRunSensor(task_id="w", flow_id=chain["flow"], execution_timeout=dt.timedelta(minutes=3))
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(make_context())
    assert info.value.timeout == dt.timedelta(minutes=3)
