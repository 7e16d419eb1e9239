"""AepIntervalRunsSensor: a scheduled DAG run of an `ingestion: aep` spec judges every run AEP made of the flow in its
data interval - by the same verdict as the window sensor - and fails naming a failed run, a run beyond the tolerance
or an interval in which the schedule had a run due and AEP made none; one listing per flow (pages keep the filter)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from aep_provider_chain import defer_and_rebuild, hubspot_conn_env, onboard, only_event_once_runs_end
from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk.exceptions import TaskDeferred
from test_sensor_trigger import another_flow

from aep_provider.hooks.aep import AepHook
from aep_provider.outcomes import OUTCOMES_XCOM
from aep_provider.sensors.flow_run import AepFlowRunFailed
from aep_provider.sensors.interval_runs import AepIntervalRunsSensor

HOUR = 3600


@pytest.fixture
def chain(aep_conn_env, monkeypatch, make_context):
    hubspot_conn_env(monkeypatch)
    return onboard(make_context, run=False)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat()


def emulator_now(emulator) -> float:
    return float(emulator.admin.advance(0)["now"])


def hourly_flow(chain, make_context, emulator, name="hourly", frequency="hour", interval=1, options=None):
    """A flow on AEP's own schedule starting now (emulator time); returns (flow id, its start)."""
    start = int(emulator_now(emulator))
    flow = another_flow(chain, make_context, name, options=options,
                        schedule={"frequency": frequency, "interval": interval, "start_time": start})
    return flow, start


def sensor(flow_id, start, end, **kw):
    return AepIntervalRunsSensor(task_id="judge", flow_id={"o": flow_id}, data_interval_start=iso(start),
                                 data_interval_end=iso(end), poll_interval=0.01, **kw)


def requests(emulator) -> int:
    return int(emulator.admin.state()["counters"]["requests"])


def test_an_interval_of_good_runs_succeeds_with_one_listing_and_reports_the_runs(chain, make_context, emulator):
    """Two hours of an hourly flow after its first run: the interval holds the two runs AEP made in it; both are
    judged and reported (ids, counts, as outcomes for the run summary), from one listing of the flow's runs."""
    flow, start = hourly_flow(chain, make_context, emulator)
    emulator.admin.advance(3 * HOUR + 60)
    AepHook().get_token()
    before = requests(emulator)
    ctx = make_context()
    result = sensor(flow, start + HOUR / 2, start + 2.5 * HOUR, deferrable=True).execute(ctx)
    assert requests(emulator) - before == 1  # one listing, one page: every run had ended
    runs = result["o"]["runs"]
    assert len(runs) == 2 and {run["status"] for run in runs} == {"success"}
    outcomes = ctx["ti"].xcom[OUTCOMES_XCOM]
    assert [o["id"] for o in outcomes] == [run["run_id"] for run in runs]
    assert all(o["run"]["interval"] and o["flow_id"] == flow for o in outcomes)


def test_a_failed_run_fails_naming_the_run_and_its_code(chain, make_context, emulator):
    """A scheduled run that fails (a fault rule) fails the interval, naming the run and its error code."""
    flow, start = hourly_flow(chain, make_context, emulator)
    emulator_now(emulator)  # the first run ends before the fault is set
    emulator.admin.set_faults([{"kind": "run_failed", "flow_id": flow, "max_hits": 1}])
    emulator.admin.advance(HOUR + 60)
    with pytest.raises(AepFlowRunFailed) as info:
        sensor(flow, start + HOUR / 2, start + 1.5 * HOUR).execute(make_context())
    runs = AepHook().interval_runs(flow, _interval(start + HOUR / 2, start + 1.5 * HOUR))
    assert len(runs) == 1 and runs[0].id in str(info.value)
    assert "[o]" in str(info.value) and "failed" in str(info.value) and "EMU-500" in str(info.value)


def test_failed_records_beyond_the_tolerance_fail_and_within_it_pass(chain, make_context, emulator):
    """The flow's first run (its backfill, in the interval it was made in) loses half its records to a fault: with a
    tolerance of 10 % the interval fails naming the counts and codes; with 60 % it passes."""
    emulator.admin.set_faults([{"kind": "run_failed_records", "failed_share": 0.5}])
    flow, start = hourly_flow(chain, make_context, emulator, options={"partialIngestionPercent": 60})
    emulator.admin.advance(60)
    window = (start - 60, start + HOUR / 2)
    with pytest.raises(AepFlowRunFailed) as info:
        sensor(flow, *window, failed_record_tolerance=0.1).execute(make_context())
    assert "records failed" in str(info.value) and "MAPPER-3700-400" in str(info.value)
    assert "Raise failed_record_tolerance" in str(info.value)
    result = sensor(flow, *window, failed_record_tolerance=0.6).execute(make_context())
    (run,) = result["o"]["runs"]
    assert run["failed_records"] and run["output_records"] and run["status"] == "success"


def test_no_run_where_the_schedule_had_one_fails_and_a_disabled_flow_says_so(chain, make_context, emulator):
    """AEP made no run in an interval where the flow's schedule had one due (the flow was disabled): the interval
    fails naming the schedule and that the flow is disabled."""
    flow, start = hourly_flow(chain, make_context, emulator)
    emulator_now(emulator)
    hook = AepHook()
    hook.request("POST", f"/data/foundation/flowservice/flows/{flow}/action", params={"op": "disable"},
                 idempotent=True)
    emulator.admin.advance(2 * HOUR + 60)
    with pytest.raises(AepFlowRunFailed) as info:
        sensor(flow, start + HOUR / 2, start + 1.5 * HOUR, missing_run_grace=0).execute(make_context())
    text = str(info.value)
    assert "AEP made no run" in text and "1 due" in text and "frequency hour" in text
    assert "disabled" in text and "enable it" in text


def test_an_interval_with_no_run_due_passes_with_nothing_to_judge(chain, make_context, emulator):
    """A daily flow under an hourly interval in which nothing was due, and an interval before the flow existed:
    nothing to judge, no failure, no run reported."""
    flow, start = hourly_flow(chain, make_context, emulator, frequency="day")
    emulator.admin.advance(3 * HOUR)
    ctx = make_context()
    assert sensor(flow, start + HOUR, start + 2 * HOUR).execute(ctx) == {
        "o": {"runs": [], "input_records": 0, "output_records": 0, "failed_records": 0}}
    assert ctx["ti"].xcom[OUTCOMES_XCOM] == []
    assert sensor(flow, start - 2 * HOUR, start - HOUR).execute(make_context())["o"]["runs"] == []


def test_runs_still_going_are_waited_for_on_the_triggerer(chain, make_context, emulator):
    """A run of the interval still in progress: the sensor defers, the trigger waits for that run by id, and the
    sensor judges it when the event comes."""
    flow, start = hourly_flow(chain, make_context, emulator)
    emulator_now(emulator)
    emulator.admin.configure(run_duration_seconds=600)
    emulator.admin.advance(HOUR + 1)
    op = sensor(flow, start + HOUR / 2, start + 1.5 * HOUR, deferrable=True)
    ctx = make_context()
    trigger = defer_and_rebuild(op, ctx)
    event = only_event_once_runs_end(trigger, emulator.admin)
    listed = [run.model_dump(by_alias=True, mode="json")
              for run in AepHook().interval_runs(flow, _interval(start + HOUR / 2, start + 1.5 * HOUR))]
    result = op.execute_complete(ctx, event.payload, runs={"o": listed})
    (run,) = result["o"]["runs"]
    assert run["status"] == "success" and run["run_id"] == listed[0]["run_id"]


def test_a_long_interval_is_listed_page_by_page_with_its_filter(chain, make_context, emulator):
    """A 15-minute flow over two days makes more runs than a page holds: the listing follows the pages (each sent
    with the flowId and createdAt filter) and judges every run, still without reading any run alone."""
    flow, start = hourly_flow(chain, make_context, emulator, frequency="minute", interval=15)
    emulator.admin.advance(2 * 24 * HOUR + 60)
    AepHook().get_object("flows", flow)  # two days on, the token has expired: a new one before counting
    before = requests(emulator)
    # The interval leaves the flow's first run out with a minute to spare (on a loaded machine the flow is created,
    # and its first run with it, seconds after `start` was read) and ends before the next due time.
    result = sensor(flow, start + 60, start + 2 * 24 * HOUR + 60).execute(make_context())
    assert len(result["o"]["runs"]) == 2 * 24 * 4  # one per due time, the first run (at start) left out
    assert requests(emulator) - before == 2  # two pages of 100


def test_a_run_without_a_data_interval_is_skipped(chain, make_context):
    """A manual run of Airflow 3 has no data interval: nothing of AEP's schedule to judge, the task skips."""
    from airflow.sdk.exceptions import AirflowSkipException

    op = AepIntervalRunsSensor(task_id="judge", flow_id={"o": chain["flow"]})
    with pytest.raises(AirflowSkipException):
        op.execute(make_context())


def test_an_empty_interval_is_skipped_without_a_request(chain, make_context, emulator):
    """A DAG without a data-interval timetable (schedule None, as the example specs) gives a run with a logical date
    the interval [t, t): no run can fall in it, so the step costs the run no Platform call (it sits on the path of
    the run that onboards)."""
    from airflow.sdk.exceptions import AirflowSkipException

    flow, start = hourly_flow(chain, make_context, emulator)
    before = requests(emulator)
    with pytest.raises(AirflowSkipException, match="is empty"):
        sensor(flow, start + HOUR, start + HOUR).execute(make_context())
    assert requests(emulator) == before


def _interval(start, end):
    from aep_provider.flow_runs.interval import Interval

    return Interval(start, end)


def _late_run(chain, make_context, emulator, delay: float) -> tuple[str, float, float]:
    """An hourly flow whose first run is due 2 s from now inside the interval [now, now + 3 s), and AEP recording
    its runs ``delay`` seconds after their due time (the emulator's ``scheduled_run_delay_seconds``)."""
    emulator.admin.configure(scheduled_run_delay_seconds=delay)
    now = emulator_now(emulator)
    flow = another_flow(chain, make_context, "late", schedule={"frequency": "hour", "interval": 1,
                                                               "start_time": int(now) + 2})
    return flow, now, now + 3


def test_a_due_run_recorded_after_the_interval_within_the_grace_period_is_late_not_missing(
    chain, make_context, emulator, capsys
):
    """AEP records a run due inside the interval only after the interval's end (Adobe documents no bound on the
    delay): the sensor waits out ``missing_run_grace`` - deferred on a DateTimeTrigger, not in a worker slot - finds the
    run created since the end and passes, saying the next DAG run judges it."""
    flow, start, end = _late_run(chain, make_context, emulator, delay=2)
    judge = sensor(flow, start, end, deferrable=True, missing_run_grace=3)
    ctx = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        judge.execute(ctx)
    trigger = deferred.value.trigger
    assert isinstance(trigger, DateTimeTrigger) and deferred.value.method_name == "resume_after_grace"
    assert abs(trigger.moment.timestamp() - (end + 3)) < 0.01
    time.sleep(max(0.0, end + 3 - time.time()))
    capsys.readouterr()
    result = judge.resume_after_grace(ctx)
    assert result == {"o": {"runs": [], "input_records": 0, "output_records": 0, "failed_records": 0}}
    logged = capsys.readouterr().out
    assert "recorded the run due" in logged and "the next DAG run judges it" in logged


def test_a_due_run_still_missing_after_the_grace_period_fails_or_warns_as_the_spec_says(
    chain, make_context, emulator, capsys
):
    """The same interval with AEP recording nothing within the grace period: the default fails naming the schedule
    and the grace period; ``on_missing_run: warn`` logs the same and passes."""
    flow, start, end = _late_run(chain, make_context, emulator, delay=60)
    with pytest.raises(AepFlowRunFailed) as info:
        sensor(flow, start, end, missing_run_grace=1).execute(make_context())
    assert "AEP made no run" in str(info.value) and "grace period" in str(info.value)
    capsys.readouterr()
    result = sensor(flow, start, end, missing_run_grace=1, on_missing_run="warn").execute(make_context())
    assert result["o"]["runs"] == [] and "on_missing_run is warn" in capsys.readouterr().out
