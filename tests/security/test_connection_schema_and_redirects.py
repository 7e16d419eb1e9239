"""The bearer token and the client secret go only where the operator chose, whatever else the connection holds.

A connection test reuses the stored password while the tester may change other fields: ``schema`` (hidden in the
form, taken by the REST API) must not become the start of the Platform URL (``https://evil/?`` + the stored host),
and no redirect is followed - not on the token request (it would re-post the secret), not on a Platform call. Values
read back from the sandbox's write lease are escaped before they reach a log line.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from airflow.sdk import Connection

from aep_provider.hooks.errors import AepApiError, AepConfigError
from aep_provider.hooks.settings import AepSettings


def _conn(**kw: Any) -> Connection:
    fields = {"conn_id": "aep_t", "conn_type": "adobe_experience_platform", "login": "id", "password": "s3cret",
              "host": "platform.adobe.io", "extra": json.dumps({"org_id": "X@AdobeOrg"}), **kw}
    return Connection(**fields)


@pytest.mark.parametrize("schema", ["https://evil.example/?", "ftp", "javascript"])
def test_a_crafted_schema_cannot_become_the_platform_url(schema: str) -> None:
    with pytest.raises(AepConfigError, match="schema") as err:
        AepSettings.from_connection(_conn(schema=schema))
    assert "leave it empty" in str(err.value)


def test_the_platform_host_is_an_origin_and_nothing_more() -> None:
    assert AepSettings.from_connection(_conn(schema="https")).host == "https://platform.adobe.io"
    with pytest.raises(AepConfigError, match="must be scheme://host"):
        AepSettings.from_connection(_conn(host="https://evil.example/?x=https://platform.adobe.io"))


class _Server(ThreadingHTTPServer):
    hits: list[str]
    location: str


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        location = self.server.location  # type: ignore[attr-defined]
        if location:
            self.send_response(307)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"access_token": "t", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def servers() -> Iterator[tuple[_Server, _Server]]:
    made = []
    for _ in range(2):
        server = _Server(("127.0.0.1", 0), _Handler)
        server.hits, server.location = [], ""
        threading.Thread(target=server.serve_forever, daemon=True).start()
        made.append(server)
    yield made[0], made[1]
    for server in made:
        server.shutdown()


def test_the_token_request_follows_no_redirect(servers: tuple[_Server, _Server], monkeypatch, tmp_path) -> None:
    """An allowed IMS host that answers 307 to another host: the secret is not posted there, the call fails."""
    from aep_provider.hooks.aep import AepHook

    ims, elsewhere = servers
    ims.location = f"http://127.0.0.1:{elsewhere.server_address[1]}/ims/token/v3"
    monkeypatch.setenv("AEP_TOKEN_CACHE_DIR", str(tmp_path / "cache"))
    url = f"http://127.0.0.1:{ims.server_address[1]}"
    monkeypatch.setenv("AIRFLOW_CONN_AEP_REDIRECT", json.dumps({
        "conn_type": "adobe_experience_platform", "login": "id", "password": "s3cret", "host": url,
        "extra": {"ims_host": url, "org_id": "X@AdobeOrg", "max_retries": 0}}))
    with pytest.raises(AepApiError):
        AepHook("aep_redirect").get_token()
    assert ims.hits and not elsewhere.hits, "the token request was re-posted to the redirect target"


def test_a_lease_holder_read_from_the_sandbox_is_escaped() -> None:
    """The lease's holder comes back from the data type's description, which anyone who may edit the sandbox writes."""
    from datetime import datetime, timezone

    from aep_provider.write_lease import Lease, LeaseHolder, LeaseTerms

    now = datetime.now(timezone.utc)
    forged = LeaseHolder(dag_id="d\nPlan: 0 to create, 0 to reuse\x1b[2K", run_id="r")
    text = Lease(id="x\n", terms=LeaseTerms(holder=forged, acquired_at=now, expires_at=now)).describe()
    assert "\n" not in text and "\x1b" not in text and "Plan: 0 to create" in text
