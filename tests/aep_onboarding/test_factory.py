"""The DAG a spec builds: its shape, its shared steps, and what parsing never does."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from airflow.sdk.definitions.param import ParamValidationError

from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import DEFAULT_SPECS_DIR, load_spec, parse_spec

REPO = Path(__file__).resolve().parents[2]
MARKETING = DEFAULT_SPECS_DIR / "hubspot_marketing.yaml"  # ingestion: aep
DAILY = DEFAULT_SPECS_DIR / "hubspot_contacts_daily.yaml"  # ingestion: airflow


@pytest.fixture(scope="module")
def marketing_dag():
    return build_onboarding_dag(load_spec(MARKETING), source_file=MARKETING.name)


@pytest.fixture(scope="module")
def daily_dag():
    return build_onboarding_dag(load_spec(DAILY), source_file=DAILY.name)


def _upstream(dag, task_id: str) -> set[str]:
    return set(dag.get_task(task_id).upstream_task_ids)


def test_each_task_waits_only_for_the_ids_it_consumes(marketing_dag) -> None:
    dag = marketing_dag
    g = "contacts."
    assert _upstream(dag, g + "selected") == {"select_objects"}
    assert _upstream(dag, g + "check_source") == {g + "selected", "hubspot_base_connection", "plan"}
    assert _upstream(dag, g + "adhoc_class") == {g + "check_source", "hubspot_base_connection", "plan"}
    assert _upstream(dag, g + "adhoc_schema") == {g + "adhoc_class", "plan"}
    assert _upstream(dag, g + "source_connection") == {g + "adhoc_schema", "hubspot_base_connection", "plan"}
    assert _upstream(dag, g + "target_schema") == {g + "check_source", "plan"}
    assert _upstream(dag, g + "dataset") == {g + "target_schema", "plan"}
    assert _upstream(dag, g + "mapping_set") == {g + "target_schema", "plan"}
    assert _upstream(dag, g + "target_connection") == {g + "dataset", g + "target_schema", "dataset_base_connection", "plan"}
    assert _upstream(dag, g + "dataflow") == {
        g + "source_connection", g + "target_connection", g + "mapping_set", "flow_spec", "plan",
    }
    assert _upstream(dag, g + "wait_first_run") == {g + "dataflow"}
    # no window step: the interval's runs are judged after the first run, then the summary
    assert dag.get_task(g + "wait_first_run").downstream_task_ids == {g + "judge_interval"}
    assert _upstream(dag, g + "judge_interval") == {g + "dataflow", g + "wait_first_run"}
    assert dag.get_task(g + "judge_interval").downstream_task_ids == {"run_summary"}


def test_a_flow_on_aeps_schedule_gets_no_window_run(marketing_dag) -> None:
    """`ingestion: aep`: the flow keeps its AEP schedule and the DAG lays out no window task at all (AEP would
    refuse an on-demand run against it)."""
    assert not [t for t in marketing_dag.task_ids if t.endswith((".ingest_window", ".wait_window"))]
    judge = marketing_dag.get_task("contacts.judge_interval")
    assert judge.deferrable and judge.failed_record_tolerance == 0.15
    assert "data_interval_start" in judge.data_interval_start and "data_interval_end" in judge.data_interval_end
    flow = marketing_dag.get_task("contacts.dataflow")
    assert flow.schedule["frequency"] == "hour"
    # the shipped marketing spec tolerates 15 % failed records: AEP is asked for the same (partial.md)
    assert flow.options == {"partialIngestionPercent": 15, "errorDiagnosticsEnabled": True}


def test_an_airflow_driven_flow_is_one_time_and_each_run_asks_for_its_window(daily_dag) -> None:
    """`ingestion: airflow`: a one-time flow starting at start_date, then wait for its own run, ask for the
    data interval's run, wait for it."""
    g = "contacts."
    flow = daily_dag.get_task(g + "dataflow")
    assert flow.schedule == {"frequency": "once", "start_time": "2025-12-01T00:00:00Z"}
    assert flow.delta_column == "Added_At"
    assert _upstream(daily_dag, g + "ingest_window") == {g + "wait_first_run", g + "dataflow"}
    assert _upstream(daily_dag, g + "wait_window") == {g + "ingest_window", g + "dataflow"}


@pytest.mark.parametrize("layout", ["per_object", "batched"])
@pytest.mark.parametrize("ingestion", ["aep", "airflow"])
def test_the_factory_never_builds_a_window_run_against_a_scheduled_flow(layout: str, ingestion: str) -> None:
    """Every window task's dataflow is a one-time flow; a spec on AEP's schedule has no window task."""
    extra = "ingestion: airflow\nschedule: '@daily'\n" if ingestion == "airflow" else "flow_schedule: {frequency: day, interval: 1}\n"
    dag = build_onboarding_dag(_big_spec(3, layout, extra))
    windows = [t for t in dag.task_ids if t.endswith("ingest_window")]
    assert bool(windows) == (ingestion == "airflow")
    for task_id in windows:
        flow = dag.get_task(task_id.replace("ingest_window", "dataflow"))
        assert flow.schedule["frequency"] == "once", task_id


def test_source_branch_and_target_branch_are_parallel(marketing_dag) -> None:
    dag = marketing_dag
    source_branch = {"contacts.adhoc_class", "contacts.adhoc_schema", "contacts.source_connection"}
    target_branch = {"contacts.target_schema", "contacts.dataset", "contacts.mapping_set"}
    for task_id in source_branch:
        assert not dag.get_task(task_id).get_flat_relative_ids(upstream=True) & target_branch
    for task_id in target_branch:
        assert not dag.get_task(task_id).get_flat_relative_ids(upstream=True) & source_branch


def test_object_independent_steps_run_once_and_start_at_once(marketing_dag) -> None:
    dag = marketing_dag
    shared = {"hubspot_base_connection", "dataset_base_connection", "flow_spec"}
    assert shared <= set(dag.task_ids)
    # Every write waits for the plan (read-only) and its gate, which a dry run (plan_only) stops at.
    assert _upstream(dag, "select_objects") == set()
    assert _upstream(dag, "plan") == {"select_objects"}
    assert _upstream(dag, "apply") == {"plan"}
    # The two that create take the plan's write lease (its XCom), the flow spec look-up does not.
    assert _upstream(dag, "flow_spec") == {"apply"}
    for task_id in shared - {"flow_spec"}:
        assert _upstream(dag, task_id) == {"apply", "plan"}
    groups = {task_id.split(".")[0] for task_id in dag.task_ids if "." in task_id}
    assert groups == {"contacts", "companies", "all_deals"}
    assert len(dag.get_task("flow_spec").downstream_task_ids) == 3


def test_the_source_check_reads_every_column_the_object_uses(marketing_dag) -> None:
    check = marketing_dag.get_task("contacts.check_source")
    assert check.object_path == "Hubspot.Contacts"
    assert {"Vid", "Properties_Email_Value", "Added_At"} <= set(check.required_columns)  # Added_At: the delta column


def test_platform_tasks_use_the_pool_retry_with_backoff_and_template_their_ids(marketing_dag) -> None:
    task = marketing_dag.get_task("contacts.dataflow")
    assert task.pool == "aep_api"
    assert task.retries == 2 and task.retry_exponential_backoff  # as the spec says
    assert {"flow_spec_id", "source_connection_id", "target_connection_id", "mapping_id"} <= set(task.template_fields)


def test_window_steps_receive_the_data_interval(daily_dag) -> None:
    ingest = daily_dag.get_task("contacts.ingest_window")
    assert "data_interval_start" in ingest.window_start and "data_interval_end" in ingest.window_end


def test_the_dataset_assets_are_emitted_by_run_summary_through_one_alias_per_object(marketing_dag) -> None:
    """Asset events come from run_summary only (after every object), one alias per object a DAG can schedule on;
    the sensors emit none, so a run that ingested nothing cannot trigger a downstream DAG."""
    summary = marketing_dag.get_task("run_summary")
    assert sorted(alias.name for alias in summary.outlets) == [
        "hubspot_marketing.all_deals", "hubspot_marketing.companies", "hubspot_marketing.contacts",
    ]
    assert summary.trigger_rule == "none_failed"
    # `ingestion: aep`: the last step of each object judges the runs AEP made in the DAG run's data interval.
    assert summary.upstream_task_ids == {
        "contacts.judge_interval", "companies.judge_interval", "all_deals.judge_interval", "release_write_lease"
    }
    assert not marketing_dag.get_task("contacts.wait_first_run").outlets
    assert not marketing_dag.get_task("contacts.judge_interval").outlets


def test_objects_param_is_a_described_multi_select_of_the_spec_objects(marketing_dag) -> None:
    """The trigger form shows a multi-select (array + examples) of the objects, with a description; the enum
    makes Airflow refuse any other value when the run is created."""
    param = marketing_dag.params.get_param("objects")
    assert param.value == []
    assert param.schema["type"] == ["array", "null"]  # null: every choice removed in the form = all objects
    assert param.schema["examples"] == ["Hubspot.Contacts", "Hubspot.Companies", "Hubspot.All_Deals"]
    assert "Hubspot.Contacts" in param.schema["items"]["enum"] and "contacts" in param.schema["items"]["enum"]
    assert "onboard every object" in param.description
    param.resolve(["Hubspot.Contacts"])
    with pytest.raises(ParamValidationError):
        param.resolve(["Hubspot.Contact"])


def test_dag_docs_list_objects_datasets_subset_trigger_and_spec_path(marketing_dag) -> None:
    """The DAG page tells a new user what the DAG onboards, where it lands, how to run a subset and where the spec is."""
    doc = marketing_dag.doc_md
    for text in ("`Hubspot.All_Deals`", "hubspot_marketing Contacts dataset", '{"objects": ["Hubspot.Contacts"]}',
                 "hubspot_marketing.yaml", "**Schedule:** none"):
        assert text in doc


def _dagbag(folder: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder), safe_mode=True)


def test_dagbag_loads_every_shipped_spec_without_import_error() -> None:
    """Every shipped DAG loads: one per spec, and the hand-written example the README shows."""
    bag = _dagbag(REPO / "dags")
    assert bag.import_errors == {}
    assert {"aep_onboard_hubspot_marketing", "aep_onboard_hubspot_contacts_daily", "aep_example_by_hand"} <= set(
        bag.dag_ids
    )


def test_a_broken_spec_shows_an_import_error_and_the_others_still_load(tmp_path, monkeypatch) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(MARKETING, specs / "good.yaml")
    (specs / "broken.yaml").write_text(MARKETING.read_text().replace("hubspot_marketing", "other").replace(
        "\nretries: 2 ", "\nretries: lots "))
    dags = tmp_path / "dags"
    shutil.copytree(REPO / "dags", dags)
    monkeypatch.setenv("AEP_SPECS_DIR", str(specs))
    bag = _dagbag(dags)
    assert "aep_onboard_hubspot_marketing" in bag.dag_ids
    assert "aep_onboard_other" not in bag.dag_ids
    [(file, message)] = bag.import_errors.items()
    assert file.endswith("aep_onboarding_spec_check.py")
    assert "broken.yaml" in message and "retries" in message and "write a number" in message


def test_parsing_makes_no_network_call_and_reads_no_connection(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("DAG parsing opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("AIRFLOW_CONN_AEP_DEFAULT", raising=False)
    bag = _dagbag(REPO / "dags")
    assert bag.import_errors == {}


def test_every_object_of_a_large_spec_gets_its_group() -> None:
    dag = build_onboarding_dag(_big_spec(25, "per_object"))
    assert len([t for t in dag.task_ids if t.endswith(".dataflow")]) == 25


def test_discover_mode_adds_a_mapped_group_fed_by_the_explored_tables() -> None:
    spec = parse_spec("name: all\nhubspot: {conn_id: h}\ndiscover: {exclude: ['Hubspot.Blog_*'], delta_column: Added_At}\n")
    dag = build_onboarding_dag(spec)
    assert _upstream(dag, "discover_tables") == {"hubspot_base_connection"}
    assert _upstream(dag, "pick_tables") == {"discover_tables"}
    assert _upstream(dag, "discovered.dataflow") >= {"discovered.source_connection", "flow_spec"}
    from airflow.sdk.definitions.taskgroup import MappedTaskGroup

    assert isinstance(dag.get_task("discovered.adhoc_class").task_group, MappedTaskGroup)


def test_a_task_process_builds_only_its_own_dag(monkeypatch) -> None:
    import importlib.util

    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "aep_onboard_hubspot_contacts_daily")
    module_spec = importlib.util.spec_from_file_location("dagfile_under_test", REPO / "dags" / "aep_onboarding_dags.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    built = {name for name in vars(module) if name.startswith("aep_onboard_")}
    assert built == {"aep_onboard_hubspot_contacts_daily"}


def _big_spec(objects: int, layout: str, extra: str = ""):
    rows = "\n".join(
        f"  - {{source: Hubspot.Table{i}, delta_column: Added_At, mapping: [{{source: Id, destination: _id}}]}}"
        for i in range(objects)
    )
    return parse_spec(
        f"name: big\nhubspot: {{conn_id: h}}\nlayout: {layout}\nmax_concurrency: 12\n{extra}objects:\n{rows}\n"
    )


WINDOWS = "ingestion: airflow\nschedule: '@daily'\n"


def test_batched_layout_has_the_same_steps_whatever_the_number_of_objects() -> None:
    """`layout: batched` keeps the DAG at one task per step, so 50 objects cost Airflow about 20 tasks, not 700
    (the registry's steps; `ingestion: airflow` has its two window steps instead of `judge_interval`)."""
    from aep_onboarding.chain import chain

    small, large = build_onboarding_dag(_big_spec(2, "batched")), build_onboarding_dag(_big_spec(50, "batched"))
    assert sorted(small.task_ids) == sorted(large.task_ids)
    # one task per registered step, plus select_objects, plan, apply, release_write_lease, run_summary
    assert len(large.task_ids) == len(chain(_big_spec(50, "batched"))) + 3 + 5 < 25
    assert len(build_onboarding_dag(_big_spec(50, "batched", WINDOWS)).task_ids) == len(large.task_ids) + 1
    dataflow = large.get_task("dataflow")
    assert [row["key"] for row in dataflow.for_each] == [f"table{i}" for i in range(50)]
    assert dataflow.max_concurrency == 12


def test_batched_layout_wires_the_same_dependencies_through_dict_xcoms() -> None:
    dag = build_onboarding_dag(_big_spec(3, "batched", WINDOWS))
    assert _upstream(dag, "check_source") == {"select_objects", "hubspot_base_connection", "plan"}
    assert _upstream(dag, "adhoc_schema") == {"adhoc_class", "select_objects", "plan"}
    assert _upstream(dag, "target_connection") == {
        "dataset", "target_schema", "dataset_base_connection", "select_objects", "plan",
    }
    assert _upstream(dag, "dataflow") == {
        "source_connection", "target_connection", "mapping_set", "flow_spec", "select_objects", "plan",
    }
    assert _upstream(dag, "wait_window") == {"ingest_window", "dataflow"}
    # Source and target branches stay parallel.
    assert not dag.get_task("dataset").get_flat_relative_ids(upstream=True) & {"adhoc_class", "source_connection"}
    assert len(dag.get_task("run_summary").outlets) == 3


def test_discover_needs_the_per_object_layout() -> None:
    from aep_onboarding.loader import SpecError

    with pytest.raises(SpecError, match="layout: per_object"):
        parse_spec("name: all\nhubspot: {conn_id: h}\nlayout: batched\ndiscover: {delta_column: Added_At}\n")
