"""The emulator's admin API (``/_emulator/``) answers only its own operator's tools.

It has no authentication, so a web page the developer visits must not drive it: a cross-site form or
``fetch`` can send a ``POST`` as ``text/plain`` without a preflight, and a DNS-rebinding page reaches it
under a foreign ``Host``. The admin API answers only requests addressed to a loopback or configured host,
takes writes only as ``application/json`` (which a browser sends cross-site only after a CORS preflight the
emulator never grants), refuses a foreign ``Origin``, and bounds its settings and fault patterns so one
call cannot stall every request.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aep_emulator.testing import EmulatorServer

EVIL = "http://evil.example"


def _schema_count(emulator: EmulatorServer) -> int:
    return len([r for r in emulator.admin.state()["resources"] if r["kind"] == "schema"])


def _make_a_schema(emulator: EmulatorServer) -> None:
    body = {"title": "survives", "type": "object", "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]}
    answer = httpx.post(f"{emulator.base_url}/data/foundation/schemaregistry/tenant/schemas", json=body,
                        headers={**emulator.headers(), "Content-Type": "application/json"}, timeout=30)
    answer.raise_for_status()


@pytest.mark.parametrize("headers", [
    # A cross-site form / no-cors fetch: text/plain, the page's Origin, the emulator's own Host.
    {"Content-Type": "text/plain", "Origin": EVIL},
    # The same from a DNS-rebinding page: the attacker's name in Host.
    {"Content-Type": "text/plain", "Origin": f"{EVIL}:8765", "Host": "evil.example:8765"},
    # A form post without Origin (old browsers, privacy modes strip it): still not JSON.
    {"Content-Type": "application/x-www-form-urlencoded"},
    # JSON from a foreign origin (would need a preflight the emulator never grants; refused all the same).
    {"Content-Type": "application/json", "Origin": EVIL},
])
def test_a_cross_site_reset_is_refused_and_resets_nothing(emulator: EmulatorServer, headers: dict[str, str]) -> None:
    """A web page cannot wipe the developer's emulator: cross-site and non-JSON writes are refused before they act."""
    _make_a_schema(emulator)
    answer = httpx.post(f"{emulator.base_url}/_emulator/reset", content=b"{}", headers=headers, timeout=30)
    assert answer.status_code in (403, 415), answer.text
    assert "detail" in answer.json()
    assert _schema_count(emulator) == 1, "the reset went through"


def test_a_rebinding_page_cannot_read_the_state_or_records(emulator: EmulatorServer) -> None:
    """A foreign name in Host is refused for reads too (GET needs no preflight)."""
    for path in ("/_emulator/state", "/_emulator/config", "/_emulator/faults"):
        answer = httpx.get(f"{emulator.base_url}{path}", headers={"Host": "evil.example:8765"}, timeout=30)
        assert answer.status_code == 403, (path, answer.text)
        assert "Host" in answer.json()["detail"]


def test_the_operators_own_calls_still_work(emulator: EmulatorServer) -> None:
    """localhost and loopback literals with JSON bodies (the test client, curl, the scripts) are served."""
    port = emulator.port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "127.0.0.1"):
        assert httpx.get(f"{emulator.base_url}/_emulator/state", headers={"Host": host}, timeout=30).status_code == 200
    answer = httpx.post(f"{emulator.base_url}/_emulator/reset", json={},
                        headers={"Origin": emulator.base_url}, timeout=30)
    assert answer.status_code == 200, answer.text


def test_an_allowed_host_is_served_when_configured() -> None:
    """The compose service name is served when the emulator is told so (``--allowed-host``)."""
    with EmulatorServer(allowed_hosts=("aep-emulator",)) as server:
        answer = httpx.get(f"{server.base_url}/_emulator/state", headers={"Host": "aep-emulator:8765"}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert httpx.get(f"{server.base_url}/_emulator/state", headers={"Host": "other:8765"},
                         timeout=30).status_code == 403


@pytest.mark.parametrize("settings", [
    {"latency_ms": 2**62}, {"latency_ms": 600_001}, {"token_ttl_seconds": 2**62}, {"run_duration_seconds": 1e300},
])
def test_settings_out_of_bounds_are_refused_and_change_nothing(emulator: EmulatorServer, settings: dict[str, Any]) -> None:
    """A setting that would stall every request (or overflow a sleep) is a 400 naming it; the config is unchanged."""
    before = emulator.admin._http.get("/_emulator/config").json()
    answer = emulator.admin._http.post("/_emulator/config", json=settings)
    assert answer.status_code == 400, answer.text
    assert next(iter(settings)) in answer.text
    assert emulator.admin._http.get("/_emulator/config").json() == before


@pytest.mark.parametrize(("rule", "field"), [
    ({"kind": "latency", "latency_ms": 2**62}, "latency_ms"),
    ({"kind": "429", "retry_after": 2**40}, "retry_after"),
    ({"kind": "500", "path_regex": "(a+)+$"}, "path_regex"),  # nested repetition: exponential backtracking
    ({"kind": "500", "path_regex": "(a|a)*b"}, "path_regex"),
    ({"kind": "500", "path_regex": ".*.*.*.*x"}, "path_regex"),  # polynomial blow-up
    ({"kind": "500", "path_regex": "(x)\\1"}, "path_regex"),  # back-reference
    ({"kind": "500", "path_regex": "a" * 300}, "path_regex"),
    ({"kind": "500", "path_regex": "("}, "path_regex"),  # not a regex at all
])
def test_fault_rules_out_of_bounds_are_refused(emulator: EmulatorServer, rule: dict[str, Any], field: str) -> None:
    """A fault rule that would stall or break every later request is a 400 naming its field; no rule is installed."""
    answer = emulator.admin._http.post("/_emulator/faults", json={"rules": [rule]})
    assert answer.status_code == 400, answer.text
    assert field in answer.text
    assert emulator.admin.faults()["rules"] == []


def test_the_fault_patterns_the_suites_use_still_pass(emulator: EmulatorServer) -> None:
    """The bounds keep the fault suites working: every pattern they use (anchors, a group of names, one class) passes."""
    patterns = ["^/data/", "/runs$", "^/data/foundation/schemaregistry/(tenant|global)/schemas/",
                r"/data/foundation/flowservice/flows$", "/mappingSets/", "^/data/foundation/catalog/dataSets/[0-9a-f]+$"]
    emulator.admin.set_faults([{"kind": "latency", "latency_ms": 0, "path_regex": p} for p in patterns])
    assert [r["path_regex"] for r in emulator.admin.faults()["rules"]] == patterns
