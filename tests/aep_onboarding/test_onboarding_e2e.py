"""End to end with ``dag.test()`` against the emulator: onboard, re-run, backfill by window."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone

import pytest

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

    kinds = Counter(r["kind"] for r in _resources(platform))
    objects = len(spec.objects)
    assert kinds["schema"] == 2 * objects
    assert kinds["connection"] == 2, "one HubSpot and one dataset base connection, shared by every object"
    for kind in ("class", "sourceConnection", "targetConnection", "dataset", "mappingSet", "flow"):
        assert kinds[kind] == objects, kind

    by_name = _ids_by_name(platform)
    for obj in spec.objects:
        dataset_id = by_name[("dataset", object_names(spec, obj).dataset)]
        records = platform.admin.records(dataset_id)
        rows = _source_rows(obj.source)
        record_ids = [str(r["_id"]) for r in records]
        assert len(record_ids) == len(set(record_ids)), f"{obj.source}: a record was ingested twice"
        assert set(record_ids) <= {str(row[obj.mapping[0].source]) for row in rows}
        # Records whose values do not fit their XDM type fail; the tolerance admits at most 15 %.
        assert len(rows) * (1 - spec.failed_record_tolerance) <= len(records) <= len(rows), obj.source

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
