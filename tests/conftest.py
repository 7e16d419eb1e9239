"""Shared pytest fixtures: a local AEP emulator over real HTTP."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

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

from aep_emulator.testing import (  # noqa: E402
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_ORG_ID,
    EmulatorServer,
)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    """One emulator for the whole session (runs take 0 s unless a test configures them)."""
    with EmulatorServer(run_duration_seconds=0) as server:
        yield server


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
