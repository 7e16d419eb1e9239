"""Shared pytest fixtures: a local AEP emulator over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from aep_emulator.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_ORG_ID, EmulatorServer


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
