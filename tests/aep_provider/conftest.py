"""Fixtures of the provider tests: a fresh token cache per test, fast retries, a minimal task context."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aep_emulator.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_ORG_ID, EmulatorServer

# Airflow (and so aep_provider) is imported inside the fixtures only: this conftest is loaded
# before ``airflow_test_env`` points AIRFLOW_HOME at the session's throwaway home.


@pytest.fixture(autouse=True)
def token_cache_dir(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test gets its own token cache directory and no in-process token."""
    from aep_provider.hooks.token_cache import clear_memory_cache

    path = str(tmp_path / "token-cache")
    monkeypatch.setenv("AEP_TOKEN_CACHE_DIR", path)
    clear_memory_cache()
    yield path
    clear_memory_cache()


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same retry rules, shorter waits, so fault tests stay fast."""
    from aep_provider.hooks.retry import RetryPolicy

    monkeypatch.setattr(
        RetryPolicy,
        "default",
        classmethod(lambda cls: cls(max_retries=6, max_seconds=30, base_delay=0.01, max_delay=0.05)),
    )


@pytest.fixture
def ims_count(emulator: EmulatorServer) -> Callable[[], int]:
    """How many token requests IMS (the emulator's) has received since the test started."""

    def received() -> int:
        return int(emulator.admin.state()["counters"]["ims_token_requests"])

    start = received()
    return lambda: received() - start


def kinds(emulator: EmulatorServer, kind: str) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.state()["resources"] if r["kind"] == kind]


@pytest.fixture
def conn_factory(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Define another AEP connection (``AIRFLOW_CONN_<ID>``) pointing at the emulator."""

    def make(conn_id: str, **extra: Any) -> str:
        conn = {
            "conn_type": "adobe_experience_platform",
            "login": extra.pop("login", DEMO_CLIENT_ID),
            "password": extra.pop("password", DEMO_CLIENT_SECRET),
            "host": emulator.base_url,
            "extra": {"ims_host": emulator.base_url, "org_id": DEMO_ORG_ID, "sandbox": "prod", **extra},
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return make


@pytest.fixture
def hubspot(monkeypatch: pytest.MonkeyPatch) -> str:
    """The HubSpot connection ``hubspot_default`` (the emulator's test account)."""
    from aep_provider_chain import hubspot_conn_env

    return hubspot_conn_env(monkeypatch)


@pytest.fixture
def chain(aep_conn_env: EmulatorServer, hubspot: str, make_context: Callable[[], dict[str, Any]]) -> Any:
    """The onboarding chain in for_each mode, run once for the three HubSpot tables (a ``Chain``)."""
    from aep_provider_for_each import for_each_chain

    return for_each_chain(make_context)
