"""AepFlowRunSensor and AepFlowRunTrigger: wait for a run and judge it by what it did - its record counts against
the tolerance, whatever its status word - naming the error codes; read runs without paging a flow's history."""

from __future__ import annotations

import asyncio

import pytest
from aep_provider_chain import (
    DELTA,
    SCHEDULE,
    defer_and_rebuild,
    hubspot_conn_env,
    onboard,
    only,
    only_event_once_runs_end,
)
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


def start_run(chain, make_context, flow_id=None, **window):
    op = AepRunFlowOperator(
        task_id="run", flow_id=flow_id or chain["flow"], delta_column=DELTA, **{**WINDOW, **window}
    )
    return only(op.execute(make_context()))


def another_flow(chain, make_context, name, mapping=None, schedule=None, options=None):
    """A second dataflow on the chain's connections (optionally with its own mapping set and options)."""
    from aep_provider.operators.flow import AepCreateDataflowOperator
    from aep_provider.operators.mapping import AepCreateMappingSetOperator

    mapping_id = chain["mapping"]
    if mapping is not None:
        mapping_id = only(AepCreateMappingSetOperator(
            task_id="m", schema_id=chain["target_schema"], name=f"{name} mapping", mappings=mapping
        ).execute(make_context()))
    return only(AepCreateDataflowOperator(
        task_id="f",
        name=name,
        flow_spec_id=chain["flow_spec"],
        source_connection_id=chain["source"],
        target_connection_id=chain["target"],
        mapping_id=mapping_id,
        delta_column=DELTA,
        schedule=schedule or SCHEDULE,
        options=options,
    ).execute(make_context()))


def poke_sensor(chain, run_id=None, **kw):
    runs = {"o": run_id} if run_id else None
    return AepFlowRunSensor(task_id="wait", flow_id={"o": chain["flow"]}, run_id=runs, deferrable=False,
                            poll_interval=0.01, **kw)


def one_target(flow_id, run_id=None):
    return [{"key": "o", "flow_id": flow_id, "run_id": run_id}]


def test_success_passes_and_returns_the_record_counts(aep_conn_env, chain, make_context):
    run_id = start_run(chain, make_context)
    result = poke_sensor(chain).poke(make_context())
    assert result.is_done
    xcom = result.xcom_value["o"]
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
    assert out["o"]["status"] == "success"


def test_no_run_yet_keeps_waiting_and_in_progress_logs_progress(aep_conn_env, chain, make_context, caplog):
    """A flow without a run (a one-time flow whose own run lies ahead) keeps the sensor waiting, and so does a
    run in progress."""
    future = {"frequency": "once", "start_time": "2030-01-01T00:00:00Z"}
    flow = another_flow(chain, make_context, "flow without a run yet", schedule=future)
    sensor = AepFlowRunSensor(task_id="wait", flow_id={"o": flow}, deferrable=False, poll_interval=0.01)
    assert sensor.poke(make_context()) is False
    aep_conn_env.admin.configure(run_duration_seconds=600)
    start_run(chain, make_context, flow_id=flow,
              window_start="2030-01-01T00:00:00Z", window_end="2030-01-02T00:00:00Z")
    assert sensor.poke(make_context()) is False
    aep_conn_env.admin.advance(700)
    assert sensor.poke(make_context()).is_done


def test_failed_run_fails_the_task_with_the_runs_error_codes(aep_conn_env, chain, make_context):
    """A run whose dataset is gone fails; EMU-500 is our code (Adobe documents none)."""
    aep_conn_env.admin.configure(run_duration_seconds=600)
    run_id = start_run(chain, make_context)
    AepHook().delete_dataset(chain["dataset"])  # the run fails: its target dataset is gone
    aep_conn_env.admin.advance(700)
    with pytest.raises(AepFlowRunFailed) as info:
        poke_sensor(chain, run_id=run_id).poke(make_context())
    assert "EMU-500" in str(info.value) and run_id in str(info.value)


BIRTH_YEAR = [
    {"source": "Vid", "destination": "_id"},
    {"source": "Properties_Birthyear_Value", "destination": "person.birthYear"},
]


def _with_failed_records(chain, make_context, options=None):
    """A run where some rows cannot be converted: Birthyear strings ("unknown") into an integer field."""
    flow = another_flow(chain, make_context, "birth year flow", mapping=BIRTH_YEAR, options=options)
    run_id = start_run(chain, make_context, flow_id=flow)
    return flow, run_id, AepHook().get_object("runs", run_id)


def test_success_with_failed_records_passes_below_the_tolerance_and_fails_above_it(aep_conn_env, chain, make_context):
    """monitor.md shows ``success`` runs with failed records (a flow with partial ingestion, partial.md): the
    sensor weighs failedRecordCount against
    failed_record_tolerance and names the codes and counts (from the activities' extensions) when it fails."""
    # partial.md: a flow tolerates failed records only with partial ingestion (partialIngestionPercent).
    flow, run_id, run = _with_failed_records(chain, make_context, options={"partialIngestionPercent": 50})
    summary = run["metrics"]["recordSummary"]
    failed, total = summary["failedRecordCount"], summary["inputRecordCount"]
    assert run["metrics"]["statusSummary"]["status"] == "success"
    assert 0 < failed < total, f"the contacts have no unconvertible birth year ({failed}/{total})"
    ratio = failed / total
    strict = AepFlowRunSensor(
        task_id="w", flow_id={"o": flow}, run_id={"o": run_id}, deferrable=False, failed_record_tolerance=ratio / 2
    )
    with pytest.raises(AepFlowRunFailed, match="failed_record_tolerance") as info:
        strict.poke(make_context())
    message = str(info.value)
    assert f"{failed} of {total} records failed" in message and run_id in message
    assert f"MAPPER-3700-400 ({failed} records)" in message and "INGEST-1212-400" in message
    lenient = AepFlowRunSensor(
        task_id="w", flow_id={"o": flow}, run_id={"o": run_id}, deferrable=False,
        failed_record_tolerance=min(1.0, ratio + 0.01),
    )
    xcom = lenient.poke(make_context()).xcom_value["o"]
    assert xcom["status"] == "success" and xcom["failed_records"] == failed
    assert xcom["output_records"] == total - failed


def test_aeps_own_partial_ingestion_threshold_fails_the_run_and_the_sensor(aep_conn_env, chain, make_context):
    """The flow option partialIngestionPercent (CRMToAEP optionSpec) makes AEP mark the run failed above it;
    the sensor then fails with the codes, whatever its own tolerance."""
    _flow, run_id, run = _with_failed_records(chain, make_context, options={"partialIngestionPercent": 1})
    assert run["metrics"]["statusSummary"]["status"] == "failed"
    sensor = AepFlowRunSensor(
        task_id="w", flow_id={"o": _flow}, run_id={"o": run_id}, deferrable=False, failed_record_tolerance=1.0
    )
    with pytest.raises(AepFlowRunFailed, match="MAPPER-3700-400") as info:
        sensor.poke(make_context())
    assert "records failed" in str(info.value)


def test_deferrable_sensor_defers_to_a_trigger_that_survives_serialization(aep_conn_env, chain, make_context):
    aep_conn_env.admin.configure(run_duration_seconds=600)
    start_run(chain, make_context)
    sensor = AepFlowRunSensor(task_id="wait", flow_id={"o": chain["flow"]}, deferrable=True, poll_interval=0.05)
    rebuilt = defer_and_rebuild(sensor, make_context())
    event = only_event_once_runs_end(rebuilt, aep_conn_env.admin)
    assert event.payload["status"] == "terminal"
    result = sensor.execute_complete(make_context(), event.payload)["o"]
    assert result["status"] == "success" and result["output_records"] > 0


def test_trigger_reports_an_unknown_run_as_an_error_event(aep_conn_env, chain):
    trigger = AepFlowRunTrigger(
        targets=one_target(chain["flow"], "00000000-0000-0000-0000-000000000000"), poll_interval=0.01
    )

    async def first():
        return await trigger.run().__anext__()

    event = asyncio.run(first())
    assert event.payload["status"] == "error" and "run_id" in event.payload["message"]
    with pytest.raises(AepFlowRunFailed):
        AepFlowRunSensor(task_id="w", flow_id={"o": chain["flow"]}).execute_complete({}, event.payload)


def test_trigger_survives_transient_faults(aep_conn_env, chain, make_context):
    run_id = start_run(chain, make_context)
    aep_conn_env.admin.set_faults([{"kind": "503", "method": "GET", "path_regex": "/runs", "max_hits": 2}])
    trigger = AepFlowRunTrigger(targets=one_target(chain["flow"], run_id), poll_interval=0.01)

    async def first():
        return await trigger.run().__anext__()

    event = asyncio.run(first())
    assert event.payload["status"] == "terminal" and event.payload["runs"]["o"]["run_id"] == run_id


def test_deferral_timeout_honours_execution_timeout(aep_conn_env, chain, make_context):
    import datetime as dt

    aep_conn_env.admin.configure(run_duration_seconds=600)
    start_run(chain, make_context)
    sensor = AepFlowRunSensor(
        task_id="w", flow_id={"o": chain["flow"]}, deferrable=True, execution_timeout=dt.timedelta(minutes=3)
    )
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(make_context())
    assert info.value.timeout == dt.timedelta(minutes=3)


class _Recording:
    """Records the query of every run listing, and (like a real ``_links.next.href``, which carries only the
    continuation token) drops everything but the token from the next links the emulator answers."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def seen(self, path: str, params) -> None:
        from urllib.parse import urlencode

        self.queries.append(path.split("?", 1)[1] if "?" in path else urlencode(params or {}))

    @staticmethod
    def token_only(body):
        from urllib.parse import parse_qs, quote, urlsplit

        href = ((body or {}).get("_links") or {}).get("next", {}).get("href")
        if href:
            token = parse_qs(urlsplit(href).query)["continuationToken"][0]
            body["_links"]["next"]["href"] = f"/runs?continuationToken={quote(token, safe='')}"
        return body


def test_async_run_listing_keeps_the_flow_filter_on_every_page(aep_conn_env, chain, make_context):
    """The trigger lists a flow's runs page after page with ``property=flowId==<id>`` on each page, even when the
    next link carries only the continuation token; "the latest run" is one ``orderby=-createdAt&limit=1`` read."""
    from aep_provider.hooks.aep_async import AepAsyncHook
    from aep_provider.models.flow_service import RunCreate

    hook = AepHook()
    other = another_flow(chain, make_context, "other flow")
    ids = set()
    for day in range(101):  # more than one page of 100
        start = 1893456000 + day * 86400  # empty windows in 2030: cheap runs
        body = RunCreate.build(chain["flow"], start, start + 86400, start_time=start).to_body()
        ids.add(hook.create_object("runs", body)["id"])
    hook.create_object("runs", RunCreate.build(other, 1893456000, 1893542400, start_time=0).to_body())
    recording = _Recording()

    class Hook(AepAsyncHook):
        async def get(self, path, params=None):
            recording.seen(path, params)
            return recording.token_only(await super().get(path, params))

    runs = asyncio.run(Hook().list_runs(chain["flow"]))
    own = [r.id for r in runs if r.id not in ids]
    assert len(runs) == 102 and len(own) == 1 and all(r.flow_id == chain["flow"] for r in runs)
    assert len(recording.queries) == 2
    assert all(f"property=flowId%3D%3D{chain['flow']}" in q for q in recording.queries), recording.queries

    recording.queries.clear()
    latest = asyncio.run(Hook().one_run(chain["flow"], "latest"))
    assert latest is not None and latest.id in ids and recording.queries == [
        f"property=flowId%3D%3D{chain['flow']}&orderby=-createdAt&limit=1"
    ]


def test_trigger_past_its_deadline_fires_an_error_event_naming_the_runs(aep_conn_env, chain, make_context):
    """The sensor gives its trigger a deadline (its timeout): a run still going then ends the wait with a
    clear error event, and the sensor fails with it."""
    import time

    aep_conn_env.admin.configure(run_duration_seconds=600)
    run_id = start_run(chain, make_context)
    trigger = AepFlowRunTrigger(targets=one_target(chain["flow"], run_id), poll_interval=0.01, end_time=time.time())

    event = asyncio.run(trigger.run().__anext__())
    assert event.payload["status"] == "error" and "deadline" in event.payload["message"]
    assert "['o']" in event.payload["message"]
    with pytest.raises(AepFlowRunFailed, match="deadline"):
        AepFlowRunSensor(task_id="w", flow_id={"o": chain["flow"]}).execute_complete({}, event.payload)


def test_any_trigger_failure_becomes_an_error_event(aep_conn_env, chain):
    """Whatever goes wrong on the triggerer (here: a connection that does not exist) ends in an error event
    the sensor reports, never in a trigger that dies without one."""
    trigger = AepFlowRunTrigger(targets=one_target(chain["flow"]), aep_conn_id="no_such_connection")

    event = asyncio.run(trigger.run().__anext__())
    assert event.payload["status"] == "error" and "no_such_connection" in event.payload["message"]
