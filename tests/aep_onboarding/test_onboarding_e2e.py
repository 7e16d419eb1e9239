"""End to end with ``dag.test()`` against the emulator: onboard, re-run, backfill by window."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone

import pytest
from expected_records import differences, expected_records, records_by_id
from expected_resources import expected_kinds

from aep_emulator.testing import EmulatorServer
from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import DEFAULT_SPECS_DIR, load_spec, parse_spec
from aep_onboarding.names import object_names
from aep_onboarding.spec import OnboardingSpec

HUBSPOT_CONN = {
    "conn_type": "generic", "login": "hubspot-client", "password": "hubspot-secret-value",
    "extra": {"access_token": "hubspot-access-value", "refresh_token": "hubspot-refresh-value"},
}
PER_OBJECT_KINDS = ("class", "schema", "sourceConnection", "targetConnection", "dataset", "mappingSet", "flow")


@pytest.fixture
def platform(airflow_db, aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", json.dumps(HUBSPOT_CONN))
    return aep_conn_env


LAYOUTS = pytest.mark.parametrize("layout", ["per_object", "batched"])


def _fast(spec: OnboardingSpec, layout: str = "per_object") -> OnboardingSpec:
    """The same spec with no task retry and quick polling, so a failure shows at once."""
    return spec.model_copy(update={"retries": 0, "sensor_poll_seconds": 0.2, "layout": layout})


def _resources(emulator: EmulatorServer) -> list[dict]:
    return [r for r in emulator.admin.state()["resources"] if r["kind"] != "run"]


def _ids_by_name(emulator: EmulatorServer) -> dict[tuple[str, str], str]:
    return {(r["kind"], r["name"]): r["id"] for r in _resources(emulator)}


def _source_rows(table: str) -> list[dict]:
    from aep_emulator import hubspot
    from aep_emulator.state import Config

    config = Config()
    return hubspot.rows(table, config.seed, config.data_end)


@LAYOUTS
def test_example_dag_onboards_three_objects_and_ingests_their_rows(platform: EmulatorServer, layout: str) -> None:
    """Both layouts create the same resources, ingest the same rows and reuse every ID on a re-run."""
    spec = _fast(load_spec(DEFAULT_SPECS_DIR / "hubspot_marketing.yaml"), layout)
    run = build_onboarding_dag(spec).test(logical_date=None)
    assert run.state == "success"

    # Every resource the registry lists, once: per object its own, and one HubSpot and one dataset base connection
    # shared by every object.
    assert Counter(r["kind"] for r in _resources(platform)) == expected_kinds(spec)
    assert expected_kinds(spec)["connection"] == 2 and expected_kinds(spec)["schema"] == 2 * len(spec.objects)

    by_name = _ids_by_name(platform)
    for obj in spec.objects:
        dataset_id = by_name[("dataset", object_names(spec, obj).dataset)]
        # The flow's first run (backfill on, start "now") ingests every row; a row whose value does
        # not fit its XDM type (birth year "unknown", employees "n/a") is the only one left out.
        actual = records_by_id(platform.admin.records(dataset_id))
        expected = expected_records(obj.source, [(m.source, m.destination) for m in obj.mapping])
        rows = _source_rows(obj.source)
        assert 0 < len(expected) <= len(rows)
        assert actual == expected, f"{obj.source}: {differences(expected, actual)}"

    # A second run is a no-op that reuses every ID.
    before = sorted((r["kind"], r["id"]) for r in _resources(platform))
    rerun = build_onboarding_dag(spec).test(logical_date=None)
    assert rerun.state == "success"
    assert sorted((r["kind"], r["id"]) for r in _resources(platform)) == before


@LAYOUTS
def test_objects_param_onboards_only_the_named_subset(platform: EmulatorServer, layout: str) -> None:
    spec = _fast(load_spec(DEFAULT_SPECS_DIR / "hubspot_marketing.yaml"), layout)
    run = build_onboarding_dag(spec).test(logical_date=None, run_conf={"objects": ["Hubspot.All_Deals"]})
    assert run.state == "success"
    flows = [r["name"] for r in _resources(platform) if r["kind"] == "flow"]
    assert flows == ["hubspot_marketing All_Deals dataflow"]


BACKFILL_SPEC = """
name: contacts_windows
hubspot: {conn_id: hubspot_default}
ingestion: airflow
schedule: "@daily"
start_date: 2025-12-01
retries: 0
sensor_poll_seconds: 0.2
objects:
  - source: Hubspot.Contacts
    delta_column: Added_At
    mapping:
      - {source: Vid, destination: _id}
      - {source: Properties_Firstname_Value, destination: person.name.firstName}
"""


@LAYOUTS
def test_backfill_three_windows_ingests_exactly_the_rows_of_the_range(
    platform: EmulatorServer, tmp_path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    # dag.test() records the DAG from the DAG folder, so the spec goes where the DAG file reads specs.
    text = BACKFILL_SPEC + f"layout: {layout}\n"
    (tmp_path / "contacts_windows.yaml").write_text(text)
    monkeypatch.setenv("AEP_SPECS_DIR", str(tmp_path))
    spec = parse_spec(text)
    dag = build_onboarding_dag(spec)
    # A daily run's data interval is the day before its logical date: these three runs cover Dec 1-3.
    days = [datetime(2025, 12, day, tzinfo=timezone.utc) for day in (1, 2, 3)]
    for day in days:
        assert dag.test(logical_date=day.replace(day=day.day + 1)).state == "success"

    dataset_id = _ids_by_name(platform)[("dataset", object_names(spec, spec.objects[0]).dataset)]
    ingested = sorted(str(r["_id"]) for r in platform.admin.records(dataset_id))
    delta = str(spec.objects[0].delta_column)
    # The one-time flow's own run took the contacts added before start_date (our model of that run); the three
    # windows took Dec 1-3.
    expected = sorted(
        str(row["Vid"]) for row in _source_rows("Hubspot.Contacts")
        if datetime.fromisoformat(row[delta].replace("Z", "+00:00")) < datetime(2025, 12, 4, tzinfo=timezone.utc)
    )
    in_windows = [
        row for row in _source_rows("Hubspot.Contacts")
        if days[0] <= datetime.fromisoformat(row[delta].replace("Z", "+00:00")) < datetime(2025, 12, 4, tzinfo=timezone.utc)
    ]
    assert in_windows, "the emulator has contacts added in the first days of December 2025"
    assert ingested == expected  # no duplicate, no gap

    # Running a window again reattaches to its run instead of ingesting twice.
    assert dag.test(logical_date=days[2]).state == "success"
    assert len(platform.admin.records(dataset_id)) == len(expected)


DISCOVER_SPEC = """
name: everything
hubspot: {conn_id: hubspot_default}
retries: 0
sensor_poll_seconds: 0.2
discover: {include: [Hubspot.Owners, Hubspot.Blog_*], exclude: [Hubspot.Blog_Authors], delta_column: Added_At}
"""


def test_discover_mode_onboards_every_table_the_connection_exposes(
    platform: EmulatorServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aep_emulator import hubspot

    (tmp_path / "everything.yaml").write_text(DISCOVER_SPEC)
    monkeypatch.setenv("AEP_SPECS_DIR", str(tmp_path))
    dag = build_onboarding_dag(parse_spec(DISCOVER_SPEC))
    assert dag.test(logical_date=None).state == "success"

    tables = sorted(
        t["path"] for t in hubspot.root_listing() if t["path"] in {"Hubspot.Owners", "Hubspot.Blog_Comments"}
    )
    flows = sorted(r["name"] for r in _resources(platform) if r["kind"] == "flow")
    assert flows == sorted(f"everything {path.split('.', 1)[1]} dataflow" for path in tables)
    by_name = _ids_by_name(platform)
    for path in tables:
        table = path.split(".", 1)[1]
        records = platform.admin.records(by_name[("dataset", f"everything {table} dataset")])
        assert len(records) == len(_source_rows(path)), path


# The backfill spec, retried once (the first try's worker "dies").
REATTACH_SPEC = BACKFILL_SPEC.replace("name: contacts_windows", "name: contacts_reattach").replace(
    "retries: 0", "retries: 1\nretry_delay_seconds: 0.1"
)


def test_a_retried_window_reattaches_through_airflows_task_state_store_alone(
    platform: EmulatorServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that dies after starting the window's run: the retry finds the run in Airflow's own task
    state store (the real ``TaskStateStoreAccessor`` of ``dag.test()``, backed by the metadata database)
    with the look-up of runs by window made blind, so no second run ingests the window again."""
    from airflow.models.task_state_store import TaskStateStoreModel
    from airflow.utils.session import create_session

    from aep_provider.hooks.aep import AepHook
    from aep_provider.operators.flow import AepRunFlowOperator

    (tmp_path / "contacts_reattach.yaml").write_text(REATTACH_SPEC)
    monkeypatch.setenv("AEP_SPECS_DIR", str(tmp_path))
    spec = parse_spec(REATTACH_SPEC)
    dag = build_onboarding_dag(spec)

    tries: list[tuple[int, str, str]] = []
    blind = {"on": False}
    execute, list_runs = AepRunFlowOperator.execute, AepHook.list_runs

    def crash_after_the_first_try_started_its_run(self, context):
        try_number = context["ti"].try_number
        blind["on"] = try_number > 1
        try:
            [run_id] = execute(self, context).values()  # {object: run id}
        finally:
            blind["on"] = False
        tries.append((try_number, run_id, type(context["task_state_store"]).__name__))
        if try_number == 1:
            raise RuntimeError("the worker died after the run had started")
        return {"contacts": run_id}

    monkeypatch.setattr(AepRunFlowOperator, "execute", crash_after_the_first_try_started_its_run)
    monkeypatch.setattr(AepHook, "list_runs", lambda self, flow_id: [] if blind["on"] else list_runs(self, flow_id))

    assert dag.test(logical_date=datetime(2025, 12, 2, tzinfo=timezone.utc)).state == "success"
    assert [(n, store) for n, _, store in tries] == [(1, "TaskStateStoreAccessor"), (2, "TaskStateStoreAccessor")]
    assert tries[0][1] == tries[1][1], f"the retry started another run: {tries}"
    on_demand = [
        run for container in platform.store.all_containers() for run in container.items["run"].values()
        if run.get("__trigger") == "onDemand"
    ]
    assert [run["id"] for run in on_demand] == [tries[0][1]], "one run for the window, the one of the first try"
    with create_session() as session:
        stored = {row.key: json.loads(row.value) for row in session.query(TaskStateStoreModel).filter(
            TaskStateStoreModel.dag_id == spec.dag_id)}
    assert stored == {"aep_run_id": tries[0][1]}, stored
    dataset_id = _ids_by_name(platform)[("dataset", object_names(spec, spec.objects[0]).dataset)]
    # The one-time flow's own run took what was added before start_date (our model of that run), the window
    # Dec 1: together every contact added before Dec 2, once.
    window = (datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(2025, 12, 2, tzinfo=timezone.utc))
    expected = expected_records("Hubspot.Contacts", [(m.source, m.destination) for m in spec.objects[0].mapping],
                                delta_column="Added_At", window=window)
    assert expected and records_by_id(platform.admin.records(dataset_id)) == expected
