"""``for_each`` flow runs: ``AepRunFlowOperator`` starts one run per flow, once (reattaching on a retry),
and the flow-run sensor and trigger wait for every object's run, naming the key of a run that fails."""

from __future__ import annotations

import asyncio

import pytest
from aep_provider_chain import defer_and_rebuild, only_event_once_runs_end
from aep_provider_for_each import KEYS, WINDOW, kinds, run_flow_op, run_flows

from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.errors import AepConfigError
from aep_provider.sensors.flow_run import AepFlowRunFailed, AepFlowRunSensor
from aep_provider.triggers.flow_run import AepFlowRunTrigger

# -- AepRunFlowOperator -----------------------------------------------------------------------------------


def test_run_flow_for_each_starts_one_run_per_flow_once_and_reattaches(aep_conn_env, chain, make_context, monkeypatch):
    ctx = make_context()
    runs = run_flows(chain, make_context, ctx)
    assert sorted(runs) == KEYS and len(set(runs.values())) == 3
    hook = AepHook()
    for key, run_id in runs.items():
        run = hook.get_run(run_id)
        assert run is not None and run.flow_id == chain.ids["flow"][key]
        assert run.window == (1735689600, 1767225600)  # the copy activity's window (monitor.md)
    # One task-state entry per object, never the single-object key.
    store = ctx["task_state_store"]
    assert {k: v for k, v in store.items()} == {f"aep_run_id:{key}": runs[key] for key in KEYS}
    # A fresh try without state (another worker, Airflow < 3.3): found by window, no new run.
    assert run_flows(chain, make_context) == runs
    # Second try with the state store and the look-up by window made blind: the store alone reattaches.
    with monkeypatch.context() as blind:
        blind.setattr(AepHook, "list_runs", lambda self, flow_id: [])
        assert run_flows(chain, make_context, ctx) == runs
    assert len(kinds(aep_conn_env, "run")) == 3 + 3  # the flows' own runs and one window each


def test_run_flow_for_each_one_bad_window_fails_naming_it_and_the_others_run(
    aep_conn_env, chain, make_context
):
    op = run_flow_op(
        chain,
        [
            {"key": "contacts"},
            {
                "key": "companies",
                "window_start": "2026-01-01T00:00:00Z",
                "window_end": "2025-01-01T00:00:00Z",
            },
            {"key": "deals"},
        ],
        **WINDOW,
    )
    with pytest.raises(AepConfigError, match=r"1 of 3 objects failed.*companies: .*before window_start"):
        op.execute(make_context())
    assert len(kinds(aep_conn_env, "run")) == 3 + 2  # the flows' own runs and two windows


# -- AepFlowRunSensor / AepFlowRunTrigger over many flows ------------------------------------------------


def test_sensor_with_a_flow_id_dict_waits_for_every_run_and_returns_each_summary(
    aep_conn_env, chain, make_context
):
    sensor = AepFlowRunSensor(task_id="wait", flow_id=chain.ids["flow"], deferrable=False, poll_interval=0.01)
    aep_conn_env.admin.configure(run_duration_seconds=600)
    runs = run_flows(chain, make_context)
    assert sensor.poke(make_context()) is False  # each flow's latest run, the window's, is in progress
    aep_conn_env.admin.advance(700)
    result = sensor.poke(make_context())
    assert result.is_done
    summaries = result.xcom_value
    assert sorted(summaries) == KEYS
    for key in KEYS:
        assert summaries[key]["run_id"] == runs[key] and summaries[key]["status"] == "success"
        assert summaries[key]["input_records"] > 0
    # mode="poke" execute returns the same dict.
    out = AepFlowRunSensor(
        task_id="wait",
        flow_id=chain.ids["flow"],
        run_id=runs,
        deferrable=False,
        poll_interval=0.01,
        mode="poke",
        timeout=30,
    ).execute(make_context())
    assert out == summaries


def test_sensor_waits_until_the_last_of_the_runs_ends(aep_conn_env, chain, make_context):
    """One run still going keeps the whole sensor waiting."""
    runs = run_flows(chain, make_context, keys=["contacts", "deals"])
    aep_conn_env.admin.configure(run_duration_seconds=600)
    late = run_flows(chain, make_context, keys=["companies"])
    sensor = AepFlowRunSensor(
        task_id="wait",
        flow_id=chain.ids["flow"],
        run_id={**runs, **late},
        deferrable=False,
        poll_interval=0.01,
    )
    assert sensor.poke(make_context()) is False
    aep_conn_env.admin.advance(700)
    assert sorted(sensor.poke(make_context()).xcom_value) == KEYS


def test_sensor_with_a_run_id_dict_waits_only_for_those_keys(aep_conn_env, chain, make_context):
    runs = run_flows(chain, make_context, keys=["contacts", "deals"])
    sensor = AepFlowRunSensor(
        task_id="wait", flow_id=chain.ids["flow"], run_id=runs, deferrable=False, poll_interval=0.01
    )
    result = sensor.poke(make_context())
    assert sorted(result.xcom_value) == ["contacts", "deals"]


def test_sensor_refuses_mismatched_flow_and_run_dicts(aep_conn_env, chain, make_context):
    flows = chain.ids["flow"]
    with pytest.raises(AepConfigError, match=r"run_id names \['tickets'\]"):
        AepFlowRunSensor(task_id="w", flow_id=flows, run_id={"tickets": "r"}, deferrable=False).poke(
            make_context()
        )
    with pytest.raises(AepConfigError, match="flow_id must be a"):
        AepFlowRunSensor(task_id="w", flow_id=flows["deals"], run_id={"deals": "r"}, deferrable=False).poke(
            make_context()
        )
    with pytest.raises(AepConfigError, match="run_id must be a"):
        AepFlowRunSensor(task_id="w", flow_id=flows, run_id="r", deferrable=False).poke(make_context())


def test_an_unknown_run_id_in_the_dict_fails_naming_its_key(aep_conn_env, chain, make_context):
    runs = run_flows(chain, make_context)
    bad = {**runs, "deals": "00000000-0000-0000-0000-000000000000"}
    sensor = AepFlowRunSensor(task_id="w", flow_id=chain.ids["flow"], run_id=bad, deferrable=False)
    with pytest.raises(AepConfigError, match=r"deals: .*\[deals\] run_id="):
        sensor.poke(make_context())


def test_one_failed_run_fails_the_sensor_naming_its_key_and_run(aep_conn_env, chain, make_context):
    aep_conn_env.admin.configure(run_duration_seconds=600)
    runs = run_flows(chain, make_context)
    AepHook().delete_dataset(chain.ids["dataset"]["companies"])  # that run fails: its dataset is gone
    aep_conn_env.admin.advance(700)
    sensor = AepFlowRunSensor(task_id="wait", flow_id=chain.ids["flow"], deferrable=False, poll_interval=0.01)
    with pytest.raises(AepFlowRunFailed) as info:
        sensor.poke(make_context())
    message = str(info.value)
    # EMU-500 is our code (Adobe documents none for a run whose dataset is gone).
    assert "[companies]" in message and runs["companies"] in message and "EMU-500" in message
    assert "[contacts]" not in message and "[deals]" not in message


def test_deferrable_sensor_defers_one_trigger_for_every_flow(aep_conn_env, chain, make_context):
    aep_conn_env.admin.configure(run_duration_seconds=600)
    runs = run_flows(chain, make_context)
    sensor = AepFlowRunSensor(
        task_id="wait", flow_id=chain.ids["flow"], run_id=runs, deferrable=True, poll_interval=0.05
    )
    rebuilt = defer_and_rebuild(sensor, make_context())
    assert isinstance(rebuilt, AepFlowRunTrigger)
    kwargs = rebuilt.serialize()[1]
    assert sorted(t["key"] for t in kwargs["targets"]) == KEYS
    assert {t["key"]: t["run_id"] for t in kwargs["targets"]} == runs
    assert {t["key"]: t["flow_id"] for t in kwargs["targets"]} == chain.ids["flow"]

    payload = only_event_once_runs_end(rebuilt, aep_conn_env.admin).payload
    assert payload["status"] == "terminal" and sorted(payload["runs"]) == KEYS
    assert {key: run["run_id"] for key, run in payload["runs"].items()} == runs
    result = sensor.execute_complete(make_context(), payload)
    assert sorted(result) == KEYS
    assert all(
        summary["status"] == "success" and summary["output_records"] > 0 for summary in result.values()
    )


def test_trigger_names_the_object_whose_run_does_not_exist_and_the_sensor_names_its_flows(
    aep_conn_env, chain, make_context
):
    """A wrong run id on the deferred path ends in one error naming the object's key, not a bare run id."""
    runs = run_flows(chain, make_context)
    wrong = {**runs, KEYS[0]: "no-such-run"}
    trigger = AepFlowRunTrigger(
        targets=[{"key": k, "flow_id": chain.ids["flow"][k], "run_id": r} for k, r in wrong.items()],
        poll_interval=0.05,
    )

    async def first_event():
        return await trigger.run().__anext__()

    payload = asyncio.run(first_event()).payload
    assert payload["status"] == "error" and f"[{KEYS[0]}] Run no-such-run" in payload["message"]
    sensor = AepFlowRunSensor(task_id="wait", flow_id=chain.ids["flow"], run_id=wrong)
    with pytest.raises(AepFlowRunFailed, match=r"the flows of \[") as failed:
        sensor.execute_complete(make_context(), payload)
    assert KEYS[0] in str(failed.value)


def test_deferrable_sensor_with_every_run_ended_returns_at_once(aep_conn_env, chain, make_context):
    runs = run_flows(chain, make_context)
    result = AepFlowRunSensor(task_id="wait", flow_id=chain.ids["flow"], poll_interval=0.05).execute(
        make_context()
    )
    assert {key: summary["run_id"] for key, summary in result.items()} == runs


def test_trigger_event_with_a_failed_run_fails_the_sensor_naming_that_key(aep_conn_env, chain, make_context):
    aep_conn_env.admin.configure(run_duration_seconds=600)
    runs = run_flows(chain, make_context)
    AepHook().delete_dataset(chain.ids["dataset"]["deals"])
    aep_conn_env.admin.advance(700)
    trigger = AepFlowRunTrigger(
        targets=[{"key": key, "flow_id": chain.ids["flow"][key], "run_id": runs[key]} for key in KEYS],
        poll_interval=0.01,
    )

    async def first():
        return await trigger.run().__anext__()

    event = asyncio.run(first())
    assert event.payload["runs"]["deals"]["status"] == "failed"
    sensor = AepFlowRunSensor(task_id="w", flow_id=chain.ids["flow"], run_id=runs)
    with pytest.raises(AepFlowRunFailed, match=r"\[deals\]") as info:
        sensor.execute_complete(make_context(), event.payload)
    assert "[contacts]" not in str(info.value)
