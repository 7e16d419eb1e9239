"""On-demand runs start once per window; teardown removes everything; lineage names HubSpot and AEP."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from aep_provider_chain import dataflow_op, hubspot_conn_env, onboard, only

from aep_provider.hooks.aep import AepHook
from aep_provider.operators.flow import AepCreateDataflowOperator, AepRunFlowOperator
from aep_provider.operators.teardown import AepTeardownOperator


@pytest.fixture
def chain(aep_conn_env, monkeypatch, make_context):
    hubspot_conn_env(monkeypatch)
    return onboard(make_context, run=False)


OWN_RUN = 1  # the one-time flow's own run (SCHEDULE), made when the flow was created


def runs(emulator) -> list[dict]:
    return [r for r in emulator.admin.state()["resources"] if r["kind"] == "run"]


def run_op(chain, **kw):
    args = {
        "flow_id": chain["flow"], "delta_column": "Added_At",
        "window_start": "2025-01-01T00:00:00Z", "window_end": "2025-07-01T00:00:00Z", **kw,
    }
    return AepRunFlowOperator(task_id="run", **args)


def test_a_retry_reattaches_to_the_run_of_the_same_window(aep_conn_env, chain, make_context):
    first = only(run_op(chain).execute(make_context()))
    again = only(run_op(chain).execute(make_context()))
    assert first == again and len(runs(aep_conn_env)) == OWN_RUN + 1


def blind_run_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The look-up of runs by window finds nothing, so only the task state store can reattach."""
    monkeypatch.setattr(AepHook, "list_runs", lambda self, flow_id: [])


def test_the_task_state_store_remembers_the_run_across_tries(aep_conn_env, chain, make_context, monkeypatch):
    """A retry reattaches through the task state store alone (the look-up by window is made blind)."""
    ctx = make_context()
    run_id = only(run_op(chain).execute(ctx))
    assert ctx["task_state_store"]["aep_run_id"] == run_id
    blind_run_lookup(monkeypatch)
    assert only(run_op(chain).execute(ctx)) == run_id
    assert len(runs(aep_conn_env)) == OWN_RUN + 1
    # The same blind look-up without the store's entry starts a second run: the store did the work.
    assert only(run_op(chain).execute(make_context())) != run_id
    assert len(runs(aep_conn_env)) == OWN_RUN + 2


def test_an_unreadable_task_state_store_is_logged_and_the_window_look_up_still_reattaches(
    aep_conn_env, chain, make_context, caplog, capsys
):
    """An unexpected error of the state store does not vanish: it is logged with its type and message."""

    class BrokenStore(dict):
        def get(self, key, default=None):
            raise RuntimeError("state store backend unreachable")

        def set(self, key, value):
            self[key] = value

    first = only(run_op(chain).execute(make_context()))
    ctx = {**make_context(), "task_state_store": BrokenStore()}
    with caplog.at_level(logging.WARNING):
        assert only(run_op(chain).execute(ctx)) == first
    out = capsys.readouterr()
    logged = caplog.text + out.out + out.err  # the task logger writes through structlog to stdout
    assert "Could not read the task state store (RuntimeError: state store backend unreachable)" in logged
    assert len(runs(aep_conn_env)) == OWN_RUN + 1


def test_windows_accept_iso_strings_epochs_and_datetimes(aep_conn_env, chain, make_context):
    a = only(run_op(chain).execute(make_context()))
    b = only(run_op(
        chain, window_start=1735689600, window_end=dt.datetime(2025, 7, 1, tzinfo=dt.timezone.utc)
    ).execute(make_context()))
    assert a == b
    c = only(run_op(chain, window_start="2025-07-01T00:00:00Z", window_end="2026-01-01T00:00:00Z").execute(
        make_context()
    ))
    assert c != a and len(runs(aep_conn_env)) == OWN_RUN + 2


def test_a_failed_run_is_not_reattached_to(aep_conn_env, chain, make_context):
    aep_conn_env.admin.configure(run_duration_seconds=600)
    AepHook().delete_dataset(chain["dataset"])
    first = only(run_op(chain).execute(make_context()))
    aep_conn_env.admin.advance(700)  # it fails: the dataset is gone
    second = only(run_op(chain).execute(make_context()))
    assert second != first


def test_run_start_survives_commit_then_drop_without_a_second_run(aep_conn_env, chain, make_context):
    aep_conn_env.admin.set_faults(
        [{"kind": "commit_then_drop", "method": "POST", "path_regex": "/runs$", "max_hits": 1}]
    )
    only(run_op(chain).execute(make_context()))
    assert aep_conn_env.admin.faults()["rules"][0]["hits"] == 1
    assert len(runs(aep_conn_env)) == OWN_RUN + 1


def test_teardown_deletes_in_dependency_order_and_twice_is_fine(aep_conn_env, chain, make_context):
    op = AepTeardownOperator(
        task_id="teardown",
        flow_ids=[chain["flow"]],
        source_connection_ids=[chain["source"]],
        target_connection_ids=[chain["target"]],
        base_connection_ids=[chain["base"], chain["dataset_base"]],
        dataset_ids=[chain["dataset"]],
        schema_ids=[chain["adhoc_schema"], chain["target_schema"]],
        class_ids=[chain["class"]],
    )
    done = op.execute(make_context())
    assert done["flows"] == [chain["flow"]]
    left = {r["kind"] for r in aep_conn_env.admin.state()["resources"]}
    assert left <= {"mappingSet", "run"}  # mapping sets have no DELETE in the public API
    op.execute(make_context())  # already gone counts as deleted


def test_flow_and_run_operators_report_hubspot_table_in_and_aep_dataset_out(
    aep_conn_env, chain, make_context
):
    pytest.importorskip("airflow.providers.openlineage")
    op = dataflow_op(chain, {"frequency": "day", "interval": 1, "start_time": "2030-01-01T00:00:00Z"})
    op.execute(make_context())
    for task in (op, run_op(chain)):
        if isinstance(task, AepRunFlowOperator):
            task.execute(make_context())
        lineage = task.get_openlineage_facets_on_complete(None)
        assert [(d.namespace, d.name) for d in lineage.inputs] == [
            (f"hubspot://{chain['base']}", "Hubspot.Contacts")
        ]
        # The dataset's one identity (lineage.py): the org id's "@" percent-encoded, the dataset by its id.
        assert [(d.namespace, d.name) for d in lineage.outputs] == [
            ("aep://DEMO0000000000000000000%40AdobeOrg/prod", f"datasets/{chain['dataset']}")
        ]


def test_a_flow_name_taken_by_another_pipeline_is_an_error_not_a_reuse(aep_conn_env, chain, make_context):
    from aep_provider.hooks.errors import AepConflictError
    from aep_provider.operators.connections import AepCreateSourceConnectionOperator

    src2 = only(AepCreateSourceConnectionOperator(
        task_id="s",
        name="deals source",
        base_connection_id=chain["base"],
        schema_id=chain["adhoc_schema"],
        path="Hubspot.All_Deals",
    ).execute(make_context()))
    op = AepCreateDataflowOperator(
        task_id="flow",
        name="HubSpot contacts dataflow",
        flow_spec_id=chain["flow_spec"],
        source_connection_id=src2,
        target_connection_id=chain["target"],
        mapping_id=chain["mapping"],
        delta_column="Added_At",
        schedule={"frequency": "day", "interval": 1, "start_time": "2030-01-01T00:00:00Z"},
    )
    with pytest.raises(AepConflictError, match="HubSpot contacts dataflow"):
        op.execute(make_context())


def test_a_run_without_a_data_interval_skips_instead_of_guessing_a_window(aep_conn_env, chain, make_context):
    from airflow.sdk.exceptions import AirflowSkipException

    from aep_provider.hooks.errors import AepConfigError

    with pytest.raises(AirflowSkipException):
        only(run_op(chain, window_start="", window_end="").execute(make_context()))
    with pytest.raises(AepConfigError, match="both or neither"):
        only(run_op(chain, window_start="", window_end="2025-01-01T00:00:00Z").execute(make_context()))
    assert len(runs(aep_conn_env)) == OWN_RUN


def _flow(chain, make_context, name, schedule):
    return only(AepCreateDataflowOperator(
        task_id="flow", name=name, flow_spec_id=chain["flow_spec"], source_connection_id=chain["source"],
        target_connection_id=chain["target"], mapping_id=chain["mapping"], delta_column="Added_At", schedule=schedule,
    ).execute(make_context()))


def test_a_window_run_against_a_scheduled_flow_is_refused_before_any_call(aep_conn_env, chain, make_context):
    """AEP creates on-demand runs only for one-time flows: the operator says so, naming the fix."""
    from aep_provider.hooks.errors import AepConfigError

    daily = _flow(chain, make_context, "daily flow", {"frequency": "day", "interval": 1, "start_time": "2030-01-01T00:00:00Z"})
    before = len(runs(aep_conn_env))
    with pytest.raises(AepConfigError, match=r"frequency 'day'.*frequency 'once'.*ingestion: airflow"):
        only(run_op(chain, flow_id=daily).execute(make_context()))
    assert len(runs(aep_conn_env)) == before


def test_a_window_the_flows_own_run_covers_skips_saying_why_with_iso_dates(
    aep_conn_env, chain, make_context, caplog, capsys
):
    """The one-time flow's own run took everything before its start (2024-01-01): a 2023 window skips, and the
    task's log says why with ISO dates, before the skip."""
    import logging

    from airflow.sdk.exceptions import AirflowSkipException

    caplog.set_level(logging.INFO)
    with pytest.raises(AirflowSkipException):
        only(run_op(chain, window_start="2023-03-01T00:00:00Z", window_end="2023-03-02T00:00:00Z").execute(make_context()))
    out = capsys.readouterr()
    logged = caplog.text + out.out + out.err
    assert "Skipped:" in logged and "2023-03-01T00:00:00Z .. 2023-03-02T00:00:00Z" in logged
    assert "startTime 2024-01-01T00:00:00Z" in logged and "1677628800" not in logged


def test_every_run_sends_the_flows_delta_column_unchanged_and_a_change_is_refused(
    aep_conn_env, chain, make_context, monkeypatch
):
    """crm.md's CRMToAEP runSpec requires ``deltaColumn`` on every run; on-demand-ingestion.md needs it on the first
    run only, keeps it in the flow's Copy transformation and refuses a change: every run sends it, the first the
    task's, each later one the flow's unchanged (also when the task names none); a different one is refused here,
    before AEP sees it."""
    from aep_provider.hooks.errors import AepConfigError

    sent: list[dict] = []
    real = AepHook.create_object

    def spy(self, collection, body):
        if collection == "runs":
            sent.append(body["params"])
        return real(self, collection, body)

    monkeypatch.setattr(AepHook, "create_object", spy)
    future = _flow(chain, make_context, "future flow", {"frequency": "once", "start_time": "2030-01-01T00:00:00Z"})
    window = {"window_start": "2030-01-01T00:00:00Z", "window_end": "2030-01-02T00:00:00Z"}
    first = only(run_op(chain, flow_id=future, delta_column="Updated_At", **window).execute(make_context()))
    hook = AepHook()
    assert hook.get_object("runs", first)["flowId"] == future  # runs carry no params (FlowRunItemDTO)
    copy = next(t for t in hook.get_object("flows", future)["transformations"] if t["name"] == "Copy")
    assert copy["params"]["deltaColumn"]["name"] == "Updated_At"  # the first run set it
    later = {"window_start": "2030-01-02T00:00:00Z", "window_end": "2030-01-03T00:00:00Z"}
    with pytest.raises(AepConfigError, match="refuses a changed deltaColumn"):
        only(run_op(chain, flow_id=future, delta_column="Added_At", **later).execute(make_context()))
    assert only(run_op(chain, flow_id=future, delta_column="Updated_At", **later).execute(make_context())) != first
    third = {"window_start": "2030-01-03T00:00:00Z", "window_end": "2030-01-04T00:00:00Z"}
    only(run_op(chain, flow_id=future, delta_column=None, **third).execute(make_context()))
    assert [p.get("deltaColumn") for p in sent] == [{"name": "Updated_At"}] * 3
    assert all({"startTime", "windowStartTime", "windowEndTime"} <= set(p) for p in sent), "the runSpec's required"


def test_a_later_run_sends_the_flows_whole_delta_column_object() -> None:
    """A flow's Copy ``deltaColumn`` may carry ``dateFormat`` and ``timezone`` (crm.md's flow example): a later run
    sends it as the flow holds it, since sending only its name could read as a change (on-demand-ingestion.md)."""
    from aep_provider.operators.rows import rows_of

    held = {"name": "Updated_At", "dateFormat": "YYYY-MM-DD", "timezone": "UTC"}
    flow = {"id": "f", "transformations": [{"name": "Copy", "params": {"deltaColumn": held}}]}
    op = AepRunFlowOperator(task_id="run", flow_id="f", delta_column="Updated_At", window_start="", window_end="")
    [row] = rows_of(operator="run", fields_type=op.Fields, defaults=op._own_values(), rows=[{"key": "k"}],
                    inputs=None, keys=None)
    assert op._delta_for_run(row, flow, first=False) == held
    assert op._delta_for_run(row, flow, first=True) == held, "the first run names the flow's own column as it is"
