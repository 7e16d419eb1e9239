"""run_summary's reading of a run: what counts as ingested by this DAG run, and where each resource links."""

from __future__ import annotations

from aep_onboarding.report import ObjectReport, describe, render


def _row(what: str, rid: str, created: bool, task: str) -> dict:
    return {**describe({"what": what, "id": rid, "created": created}, "", "prod"), "task": task}


def test_a_reused_dataflow_first_run_is_not_counted_again_so_no_asset_event_for_nothing() -> None:
    """A second DAG run that reuses the flow and asks for no window ingested nothing: zero records, hence no
    asset event for a DAG scheduled on the dataset."""
    report = ObjectReport("contacts", resources=[_row("dataflow 'x'", "f1", False, "contacts.dataflow")])
    report.runs = [{"run_id": "r1", "which": "first", "output_records": 500, "input_records": 500}]
    assert report.records()["output_records"] == 0 and report.new_runs() == []


def test_the_first_run_of_a_created_flow_and_a_window_run_asked_for_both_count() -> None:
    report = ObjectReport("contacts", resources=[
        _row("dataflow 'x'", "f1", True, "contacts.dataflow"),
        _row("run of flow f1 for window 1..2", "r2", True, "contacts.ingest_window"),
    ])
    report.runs = [
        {"run_id": "r1", "which": "first", "input_records": 10, "output_records": 9, "failed_records": 1},
        {"run_id": "r2", "which": "window", "input_records": 5, "output_records": 5, "failed_records": 0},
    ]
    assert report.records() == {"input_records": 15, "output_records": 14, "failed_records": 1}


def test_every_resource_of_the_summary_has_a_link_to_the_page_that_shows_it() -> None:
    """Source and target connections and mapping sets have no AEP UI page: they link to the page showing them."""
    report = ObjectReport("contacts", resources=[
        _row("schema 'target'", "https://ns.adobe.com/t/schemas/1", True, "contacts.target_schema"),
        _row("dataset 'd'", "ds1", True, "contacts.dataset"),
        _row("source connection 's'", "sc1", True, "contacts.source_connection"),
        _row("target connection 't'", "tc1", False, "contacts.target_connection"),
        _row("mapping set m", "m1", True, "contacts.mapping_set"),
        _row("run of flow f1 for window 1..2", "r2", True, "contacts.ingest_window"),
    ])
    report.link_the_unlinked("https://experience.adobe.com/#/sname:prod/platform/source/accounts/b1")
    links = {row["kind"]: row["link"] for row in report.resources}
    assert links["source connection"].endswith("/source/accounts/b1")
    assert links["target connection"].endswith("/dataset/browse/ds1")
    assert links["mapping set"] == links["schema"] and "schema/edit/" in links["schema"]
    assert links["flow run"].endswith("/source/dataflows/f1/runs/r2")
    table = render([], {"contacts": report})
    assert "| reused | tc1 |" in table and "contacts | none | 0 | 0 | 0" in table
