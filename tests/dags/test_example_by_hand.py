"""The hand-written example DAG (``dags/aep_example_by_hand.py``): it parses, it is wired as the README
says, and it onboards a table and ingests day windows against the emulator with ``dag.test()``."""

from __future__ import annotations

import importlib.util
import json
import socket
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from expected_records import expected_records

from aep_emulator.testing import EmulatorServer

REPO = Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "dags" / "aep_example_by_hand.py"
HUBSPOT_CONN = {
    "conn_type": "generic", "login": "hubspot-client", "password": "hubspot-secret-value",
    "extra": {"access_token": "hubspot-access-value", "refresh_token": "hubspot-refresh-value"},
}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _load() -> ModuleType:
    """The DAG file as Airflow imports it: a fresh module, so each test gets its own DAG object."""
    module_spec = importlib.util.spec_from_file_location("aep_example_by_hand_under_test", DAG_FILE)
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_the_example_parses_with_no_network_call_and_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copying the example is safe: importing it makes no Platform call and reads no connection."""
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("parsing the example DAG opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    for name in ("AIRFLOW_CONN_AEP_DEFAULT", "AIRFLOW_CONN_HUBSPOT_DEFAULT"):
        monkeypatch.delenv(name, raising=False)
    dag = _load().dag
    assert dag.dag_id == "aep_example_by_hand"


def test_each_step_waits_for_the_ids_it_consumes() -> None:
    """The IDs passed as XComArgs (plain or through ``inputs``) are the DAG's only edges: nothing waits
    for a step whose output it does not use, and every consumer waits for its producers."""
    dag = _load().dag
    upstream = {task.task_id: set(task.upstream_task_ids) for task in dag.tasks}
    assert upstream == {
        "hubspot_base_connection": set(),
        "source_class": {"hubspot_base_connection"},
        "source_schema": {"source_class"},
        "source_connection": {"hubspot_base_connection", "source_schema"},
        "target_schema": set(),
        "dataset": {"target_schema"},
        "dataset_base_connection": set(),
        "target_connection": {"dataset_base_connection", "target_schema", "dataset"},
        "mapping_set": {"target_schema"},
        "flow_spec": set(),
        "dataflow": {"flow_spec", "source_connection", "target_connection", "mapping_set"},
        "ingest_window": {"dataflow"},
        "wait_window": {"dataflow", "ingest_window"},
    }
    assert dag.get_task("wait_window").deferrable is True


@pytest.fixture
def example(airflow_db: Path, aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The example DAG against the emulator, with no retries and quick polling so a failure shows at once."""
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", json.dumps(HUBSPOT_CONN))
    module = _load()
    for task in module.dag.tasks:
        task.retries = 0
    sensor = module.dag.get_task("wait_window")
    sensor.poll_interval = sensor.poke_interval = 0.2
    module.dag.get_task("ingest_window").own_run_poll_seconds = 0.2
    return module


def _resources(emulator: EmulatorServer) -> list[tuple[str, str]]:
    return sorted((r["kind"], r["id"]) for r in emulator.admin.state()["resources"] if r["kind"] != "run")


def _dataset_ids(emulator: EmulatorServer) -> dict[str, str]:
    return {r["name"]: r["id"] for r in emulator.admin.state()["resources"] if r["kind"] == "dataset"}


def test_the_example_onboards_contacts_and_each_daily_run_ingests_its_day_once(
    example: ModuleType, aep_conn_env: EmulatorServer
) -> None:
    """Run as a user would schedule it: the first daily run creates the nine resources and ingests the
    table up to the flow's start plus its own day; a later day's run creates nothing and adds only that
    day; running a day again ingests nothing twice."""
    emulator, dag = aep_conn_env, example.dag
    rules = [(m["source"], m["destination"]) for m in example.MAPPING]

    def rows(start: datetime, end: datetime) -> set[str]:
        return set(expected_records(example.TABLE, rules, delta_column=example.DELTA_COLUMN, window=(start, end)))

    def day(n: int) -> set[str]:
        """The contacts added on December ``n``."""
        return rows(example.START.replace(day=n), example.START.replace(day=n + 1))

    def ingested() -> set[str]:
        records = emulator.admin.records(_dataset_ids(emulator)["by_hand Contacts dataset"])
        ids = [str(r["_id"]) for r in records]
        assert len(ids) == len(set(ids)), "a record was ingested twice"
        return set(ids)

    before_start = rows(EPOCH, example.START)  # the one-time flow's own run
    assert day(2) and day(5), "the emulator's contacts include some added on Dec 2 and Dec 5"
    # A daily run's data interval is the day before its logical date.
    assert dag.test(logical_date=example.START.replace(day=3)).state == "success"
    kinds = Counter(kind for kind, _ in _resources(emulator))
    assert kinds == {"class": 1, "schema": 2, "dataset": 1, "connection": 2, "sourceConnection": 1,
                     "targetConnection": 1, "mappingSet": 1, "flow": 1}
    assert ingested() == before_start | day(2)

    made = _resources(emulator)
    assert dag.test(logical_date=example.START.replace(day=6)).state == "success"
    assert _resources(emulator) == made, "a later day's run reuses every resource"
    assert ingested() == before_start | day(2) | day(5)

    assert dag.test(logical_date=example.START.replace(day=6)).state == "success"
    assert ingested() == before_start | day(2) | day(5), "running a day again reattaches to its run"
