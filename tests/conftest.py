"""Shared pytest fixtures: a local AEP emulator over real HTTP, and a minimal task context."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def _import_real_aep_emulator() -> None:
    """With ``pythonpath = ["tests"]`` the directory ``tests/aep_emulator`` would shadow the
    installed ``aep_emulator`` package as a namespace package; import the real one first."""
    module = sys.modules.get("aep_emulator")
    if module is not None and getattr(module, "__file__", None):
        return
    tests_dir = str(Path(__file__).resolve().parent)
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if p and str(Path(p).resolve()) != tests_dir]
    try:
        for name in [m for m in sys.modules if m == "aep_emulator" or m.startswith("aep_emulator.")]:
            del sys.modules[name]
        importlib.import_module("aep_emulator")
    finally:
        sys.path[:] = saved


_import_real_aep_emulator()

EXCHANGES_FILE = "adobe-contract-exchanges.jsonl"

from aep_emulator.testing import (  # noqa: E402
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_ORG_ID,
    EmulatorServer,
)


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """One emulator for the whole session (runs take 0 s unless a test configures them).

    It records every Platform exchange to a JSONL file; ``tests/contract`` checks them against the
    contract derived from Adobe's documents at the end of the session."""
    with EmulatorServer(run_duration_seconds=0) as server:
        server.recorder.enable(tmp_path_factory.getbasetemp() / EXCHANGES_FILE)
        yield server


@pytest.fixture(autouse=True)
def _label_recorded_exchanges(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tag the session emulator's recorded exchanges with the id of the test that caused them."""
    if "emulator_server" not in request.fixturenames:
        yield
        return
    server: EmulatorServer = request.getfixturevalue("emulator_server")
    server.recorder.label = request.node.nodeid
    yield
    server.recorder.label = ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The recorded-exchanges contract test runs last, after every suite that talks to the emulator."""
    last = [i for i in items if i.get_closest_marker("after_all_emulator_tests")]
    items[:] = [i for i in items if i not in last] + last


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the contract coverage line (endpoints exercised / endpoints the provider calls)."""
    from tests.contract.contract_report import COVERAGE

    for line in COVERAGE:
        terminalreporter.write_line(line)


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The session emulator with state, faults, clock and config reset before the test."""
    emulator_server.admin.reset()
    yield emulator_server


@pytest.fixture
def aep_conn_env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """``AIRFLOW_CONN_AEP_DEFAULT`` pointing at the emulator (demo client, demo org, prod)."""
    conn = {
        "conn_type": "adobe_experience_platform",
        "login": DEMO_CLIENT_ID,
        "password": DEMO_CLIENT_SECRET,
        "host": emulator.base_url,
        "extra": {"ims_host": emulator.base_url, "org_id": DEMO_ORG_ID, "sandbox": "prod"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AEP_DEFAULT", json.dumps(conn))
    return emulator


# -- a minimal task context, for operators run by hand (tests/aep_provider, tests/aep_onboarding) --------
class FakeTI:
    """Records XCom pushes like a task instance would."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)  # XCom values must be serialisable
        self.xcom[key] = value


class FakeStateStore(dict):
    def set(self, key: str, value: Any) -> None:
        self[key] = value


@pytest.fixture
def make_context() -> Callable[[], dict[str, Any]]:
    def make() -> dict[str, Any]:
        return {"ti": FakeTI(), "task_state_store": FakeStateStore()}

    return make


@pytest.fixture
def ctx(make_context) -> dict[str, Any]:
    return make_context()
