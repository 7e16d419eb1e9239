"""Seeded faults: reproducible, per route, never on the admin surface; drops look like drops."""

from __future__ import annotations

import httpx
import pytest
import requests
from emulator_helpers import CAT, FS, Api

from aep_emulator.testing import EmulatorServer

pytestmark = pytest.mark.chaos


def _statuses(emulator: EmulatorServer, n: int = 30) -> list[int]:
    api = Api(emulator)
    return [api.get(f"{CAT}/dataSets").status_code for _ in range(n)]


def test_same_seed_same_faults(emulator: EmulatorServer) -> None:
    rules = [{"kind": "503", "probability": 0.3, "path_regex": "/dataSets"},
             {"kind": "500", "probability": 0.2, "path_regex": "/dataSets"}]
    emulator.admin.set_faults(rules, seed=7)
    first = _statuses(emulator)
    emulator.admin.set_faults(rules, seed=7)
    second = _statuses(emulator)
    assert first == second
    assert {200, 503, 500} <= set(first)
    emulator.admin.set_faults(rules, seed=8)
    assert _statuses(emulator) != first
    hits = emulator.admin.faults()["rules"]
    assert hits[0]["hits"] > 0


def test_429_carries_retry_after_and_max_hits_limits_rule(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    emulator.admin.set_faults([{"kind": "429", "retry_after": 3, "max_hits": 2, "method": "GET"}])
    r1, r2, r3 = (api.get(f"{FS}/flows") for _ in range(3))
    assert r1.status_code == r2.status_code == 429
    assert r1.headers["Retry-After"] == "3" and r1.headers["x-request-id"]
    assert r3.status_code == 200
    assert emulator.admin.state()["counters"]["faults_injected"] == 2


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_an_injected_fault_answers_the_emulators_own_code(emulator: EmulatorServer, status: int) -> None:
    """Adobe documents no code for a throttled or failing call of these services: an injected fault says EMU-<status>
    (ours), never a made-up Adobe-looking code."""
    api = Api(emulator)
    emulator.admin.set_faults([{"kind": str(status), "path_regex": "/flowservice/flows", "max_hits": 1}])
    answer = api.get(f"{FS}/flows")
    assert answer.status_code == status
    assert answer.json()["type"].endswith(f"EMU-{status}") and answer.json()["status"] == status, answer.text


def test_route_rule_only_hits_matching_method_and_path(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    emulator.admin.set_faults([{"kind": "502", "method": "POST", "path_regex": r"/flowservice/connections$"}])
    assert api.get(f"{FS}/connections").status_code == 200
    assert api.post(f"{FS}/connections", {"name": "x"}).status_code == 502


def test_ims_is_faultable_but_admin_never_is(emulator: EmulatorServer) -> None:
    emulator.admin.set_faults([{"kind": "503"}])
    resp = httpx.post(f"{emulator.base_url}/ims/token/v3", data={"client_id": "demo-client"})
    assert resp.status_code == 503
    assert emulator.admin.state()["counters"]["faults_injected"] == 1  # admin call went through


def test_drop_closes_connection_without_answer(emulator: EmulatorServer) -> None:
    headers = emulator.headers()
    emulator.admin.set_faults([{"kind": "drop", "path_regex": "/dataSets"}])
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{emulator.base_url}{CAT}/dataSets", headers=headers)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{emulator.base_url}{CAT}/dataSets", headers=headers, timeout=10)


def test_commit_then_drop_applies_the_write(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    emulator.admin.set_faults([{"kind": "commit_then_drop", "method": "POST", "max_hits": 1}])
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"{FS}/connections", {"name": "committed",
                                       "connectionSpec": {"id": "c604ff05-7f1a-43c0-8e18-33bf874cb11c"}})
    items = Api(emulator).get(f"{FS}/connections", params={"property": "name==committed"}).json()["items"]
    assert len(items) == 1


def test_latency_fault_delays_answer(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    emulator.admin.set_faults([{"kind": "latency", "latency_ms": 300}])
    resp = api.get(f"{FS}/flows")
    assert resp.status_code == 200 and resp.elapsed.total_seconds() >= 0.3
    emulator.admin.clear_faults()
    emulator.admin.configure(latency_ms=200)
    assert api.get(f"{FS}/flows").elapsed.total_seconds() >= 0.2
