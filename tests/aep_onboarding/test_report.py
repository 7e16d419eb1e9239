"""run_summary's reading of a run: what counts as ingested by this DAG run, and where each resource links - read
from the outcomes the tasks recorded (fields), never from their log text."""

from __future__ import annotations

from typing import Any

from aep_onboarding.report import ObjectReport, gather, render
from aep_provider.outcomes import OUTCOMES_XCOM, Kind, Outcome, RunResult


class _TI:
    """The XComs of a DAG run's tasks, as ``ti.xcom_pull`` answers them."""

    def __init__(self, xcoms: dict[str, list[Outcome]]) -> None:
        self.xcoms = {task: [o.model_dump(mode="json") for o in outcomes] for task, outcomes in xcoms.items()}

    def xcom_pull(self, task_ids: str, key: str) -> Any:
        assert key == OUTCOMES_XCOM
        return self.xcoms.get(task_ids)


def _flow(created: bool) -> Outcome:
    return Outcome(kind=Kind.DATAFLOW, name="x dataflow", id="f1", created=created, key="contacts",
                   link="https://experience.adobe.com/#/sname:prod/platform/source/dataflows/f1")


def _run(run_id: str, *, first: bool, output: int, failed: int = 0) -> Outcome:
    return Outcome(kind=Kind.FLOW_RUN, id=run_id, key="contacts", flow_id="f1",
                   run=RunResult(status="success", input_records=output + failed, output_records=output,
                                 failed_records=failed, first=first))


def _report(xcoms: dict[str, list[Outcome]]) -> ObjectReport:
    steps_of = {"contacts.dataflow": "dataflow", "contacts.ingest_window": "ingest_window",
                "contacts.wait_first_run": "wait_first_run", "contacts.wait_window": "wait_window",
                "contacts.judge_interval": "judge_interval",
                "contacts.dataset": "dataset", "contacts.target_connection": "target_connection"}
    _, objects = gather(_TI(xcoms), steps_of, ["contacts"])
    return objects["contacts"]


def test_a_reused_dataflows_first_run_is_not_counted_again_so_no_asset_event_for_nothing() -> None:
    """A second DAG run that reuses the flow and asks for no window ingested nothing: zero records, hence no
    asset event for a DAG scheduled on the dataset."""
    report = _report({"contacts.dataflow": [_flow(created=False)],
                      "contacts.wait_first_run": [_run("r1", first=True, output=500)]})
    assert report.records()["output_records"] == 0 and report.new_runs() == []


def test_the_first_run_of_a_created_flow_and_a_window_run_asked_for_both_count() -> None:
    window = Outcome(kind=Kind.FLOW_RUN, name="window 1 .. 2", id="r2", created=True, key="contacts", flow_id="f1")
    report = _report({
        "contacts.dataflow": [_flow(created=True)],
        "contacts.ingest_window": [window],
        "contacts.wait_first_run": [_run("r1", first=True, output=9, failed=1)],
        "contacts.wait_window": [_run("r2", first=False, output=5)],
    })
    assert report.records() == {"input_records": 15, "output_records": 14, "failed_records": 1}
    assert [run.id for run in report.new_runs()] == ["r1", "r2"]


def test_the_summary_reads_kinds_and_links_from_the_outcomes_not_from_their_text() -> None:
    """Each row is the outcome's kind, name, id and the link its operator built (a target connection links to its
    dataset's page), labelled as the registry labels the step; a name that reads like another kind changes
    nothing, and a run not started by this DAG run counts no record whatever its text."""
    link = "https://experience.adobe.com/#/sname:prod/platform/dataset/browse/ds1"
    report = _report({
        "contacts.dataset": [Outcome(kind=Kind.DATASET, name="class of 2024", id="ds1", created=True, key="contacts",
                                     link=link)],
        "contacts.target_connection": [Outcome(kind=Kind.TARGET_CONNECTION, name="run of flow f1", id="tc1",
                                               key="contacts", link=link)],
        "contacts.wait_first_run": [_run("r9", first=False, output=3)],
    })
    rows = {row["step"]: row for row in report.resources}
    assert (rows["dataset"]["kind"], rows["dataset"]["label"], rows["dataset"]["link"]) == ("dataset", "dataset", link)
    assert (rows["target_connection"]["kind"], rows["target_connection"]["link"]) == ("target connection", link)
    assert report.step("dataset") == rows["dataset"] and report.records()["output_records"] == 0
    table = render([], {"contacts": report})
    assert "| target connection | run of flow f1 | reused | tc1 |" in table
    assert "contacts | none | 0 | 0 | 0" in table


def test_an_outcome_the_summary_cannot_read_is_left_out_not_fatal() -> None:
    ti = _TI({})
    ti.xcoms["contacts.dataset"] = [{"what": "dataset 'x'", "id": "ds1", "created": True}]  # an older task's shape
    shared, objects = gather(ti, {"contacts.dataset": "dataset"}, ["contacts"])
    assert shared == [] and objects["contacts"].resources == []


def _interval_run(run_id: str, output: int, first: bool = False) -> Outcome:
    return Outcome(kind=Kind.FLOW_RUN, id=run_id, key="contacts", flow_id="f1",
                   run=RunResult(status="success", input_records=output, output_records=output, first=first,
                                 interval=True))


def test_the_runs_aep_made_in_the_interval_count_once_and_an_empty_interval_counts_nothing() -> None:
    """A scheduled run of an `ingestion: aep` spec reports the runs AEP made in its data interval (ids, counts) -
    the flow's first run too when it falls in the interval, once - and an interval of empty runs ingested
    nothing, so no asset event."""
    report = _report({"contacts.dataflow": [_flow(created=False)],
                      "contacts.wait_first_run": [_run("r1", first=True, output=500)],
                      "contacts.judge_interval": [_interval_run("r1", 500), _interval_run("r2", 7)]})
    assert [run.id for run in report.new_runs()] == ["r1", "r2"]
    assert report.records() == {"input_records": 507, "output_records": 507, "failed_records": 0}
    empty = _report({"contacts.dataflow": [_flow(created=False)],
                     "contacts.judge_interval": [_interval_run("r3", 0)]})
    assert [run.id for run in empty.new_runs()] == ["r3"] and empty.records()["output_records"] == 0
