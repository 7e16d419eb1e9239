"""The UI's connection test cannot send the stored client secret to a host the tester chose.

Airflow 3.3's ``POST /api/v2/connections/test`` reuses the stored password when host and port are
unchanged, but a submitted ``extra`` replaces the stored one: a tester who may only *test* connections
could point ``extra.ims_host`` at a listener of theirs and receive the client secret in the token
request. The hook sends the secret only to an IMS host the operator chose outside the form (Adobe's IMS
hosts, loopback, or ``[aep] allowed_ims_hosts`` in the Airflow configuration), checked before any request.

The test replays Airflow's own route function with the stored connection in the metadata database, the
password masked as the UI sends it, the host unchanged and only ``ims_host`` moved to a listener on a
non-loopback name (resolved to a local socket by a patched resolver).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from airflow.api_fastapi.core_api.datamodels.connections import ConnectionBody
from airflow.api_fastapi.core_api.routes.public.connections import test_connection as connection_test_route
from airflow.models.connection import Connection
from airflow.sdk import Connection as SdkConnection
from airflow.utils.session import create_session

from aep_emulator.state import Client
from aep_emulator.testing import DEMO_ORG_ID, EmulatorServer
from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.settings import AepSettings

SECRET = "stored-secret-7f3a9c1e-only-in-the-database"
ATTACKER = "ims.attacker.test"
CONN_ID = "aep_stored_for_test"
CLIENT_ID = "stored-client"


class _Listener(ThreadingHTTPServer):
    received: list[bytes]


class _Record(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append(body)  # type: ignore[attr-defined]
        answer = json.dumps({"access_token": "stolen", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Listener]:
    """An attacker's HTTP listener reachable as ``ims.attacker.test`` (the resolver maps that name to it)."""
    server = _Listener(("127.0.0.1", 0), _Record)
    server.received = []
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == ATTACKER else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def stored_connection(airflow_db: Any, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The deployment's stored AEP connection (metadata database), pointing at the emulator, whose IMS knows
    its client and distinctive secret."""
    monkeypatch.setenv("AIRFLOW__CORE__TEST_CONNECTION", "Enabled")
    monkeypatch.setitem(emulator.store.clients, CLIENT_ID, Client(CLIENT_ID, SECRET, DEMO_ORG_ID))
    extra = {"org_id": DEMO_ORG_ID, "sandbox": "prod", "ims_host": emulator.base_url}
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == CONN_ID).delete()
        session.add(Connection(conn_id=CONN_ID, conn_type="adobe_experience_platform", login=CLIENT_ID,
                               password=SECRET, host=emulator.base_url, port=0, extra=json.dumps(extra)))
    yield emulator.base_url
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == CONN_ID).delete()


class _AllowAll:
    def is_authorized_connection(self, **_: Any) -> bool:
        return True


def _ui_test(host: str, extra: dict[str, Any]) -> tuple[bool, str]:
    """What the Connections page's Test button posts: every field, the password masked."""
    body = ConnectionBody.model_validate({
        "connection_id": CONN_ID, "conn_type": "adobe_experience_platform", "host": host, "port": 0,
        "login": CLIENT_ID, "password": "***", "schema": "", "description": "", "extra": json.dumps(extra),
    })
    answer = connection_test_route(body, user=None, auth_manager=_AllowAll())  # type: ignore[arg-type]
    return answer.status, answer.message


def test_a_tester_cannot_send_the_stored_secret_to_an_ims_host_of_their_choice(
    stored_connection: str, listener: _Listener
) -> None:
    """Anyone allowed to test connections points extra.ims_host at their listener: nothing is sent to it,
    and the test result says which setting refused the host and where the operator allows another."""
    attacker_ims = f"http://{ATTACKER}:{listener.server_address[1]}"
    ok, message = _ui_test(stored_connection, {"org_id": DEMO_ORG_ID, "sandbox": "prod", "ims_host": attacker_ims,
                                               "allow_insecure_http": True})
    assert listener.received == [], f"the listener received {listener.received!r}"
    assert ok is False
    assert "extra.ims_host" in message and ATTACKER in message and "allowed_ims_hosts" in message, message
    assert SECRET not in message


def test_the_stored_connection_still_tests_green(stored_connection: str, listener: _Listener) -> None:
    """The same route with the stored IMS host (loopback emulator) tests as before: the guard is no outage."""
    ok, message = _ui_test(stored_connection, {"org_id": DEMO_ORG_ID, "sandbox": "prod",
                                               "ims_host": stored_connection})
    assert ok, message
    assert "demotenant" in message and listener.received == []


def _settings(ims_host: str, **extra: Any) -> AepSettings:
    conn = SdkConnection(conn_id="aep_ims", conn_type="adobe_experience_platform", login="id", password=SECRET,
                         host="https://platform.adobe.io",
                         extra=json.dumps({"org_id": "X@AdobeOrg", "ims_host": ims_host, **extra}))
    return AepSettings.from_connection(conn)


@pytest.mark.parametrize("ims_host", [
    "https://ims-na1.adobelogin.com.attacker.test",  # Adobe's name as a prefix of another
    "https://ims-na1.adobelogin.com@attacker.test",  # user info: the request goes to attacker.test
    "https://attacker.test\\@ims-na1.adobelogin.com",  # parsers disagree on the backslash
    "https://ims-na1.adobelogin.com:8443",  # Adobe's name on another port
    "https://ims-na1.adobelogin.com/ims/token/v3?x=",  # more than an origin
    "https://aep.localhost:8765",  # a DNS name, not loopback
])
def test_only_adobes_ims_loopback_or_configured_hosts_get_the_secret(ims_host: str) -> None:
    """Look-alike names, user info, another port, a path or a .localhost name are refused, naming the setting."""
    with pytest.raises(AepConfigError, match="allowed_ims_hosts") as refused:
        _settings(ims_host)
    assert SECRET not in str(refused.value)


def test_the_operator_allows_another_ims_through_the_airflow_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """[aep] allowed_ims_hosts (here its environment variable) widens the list; the connection form cannot."""
    assert _settings("https://ims-na1.adobelogin.com").ims_host == "https://ims-na1.adobelogin.com"
    assert _settings("http://127.0.0.1:8765").ims_host == "http://127.0.0.1:8765"
    monkeypatch.setenv("AIRFLOW__AEP__ALLOWED_IMS_HOSTS", "https://ims.example.test, aep-emulator:8765")
    assert _settings("https://ims.example.test").ims_host == "https://ims.example.test"
    assert _settings("http://aep-emulator:8765", allow_insecure_http=True).ims_host == "http://aep-emulator:8765"
    with pytest.raises(AepConfigError, match="allowed_ims_hosts"):
        _settings("https://ims.example.test:444")
    with pytest.raises(AepConfigError, match="allowed_ims_hosts"):
        _settings("http://aep-emulator:8766", allow_insecure_http=True)


def test_a_task_sends_nothing_to_an_ims_host_that_is_not_allowed(
    emulator: EmulatorServer, listener: _Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only the UI test: a task's hook refuses before any request, whatever asks it for a token."""
    conn = {"conn_type": "adobe_experience_platform", "login": "id", "password": SECRET, "host": emulator.base_url,
            "extra": {"org_id": DEMO_ORG_ID, "ims_host": f"http://{ATTACKER}:{listener.server_address[1]}",
                      "allow_insecure_http": True}}
    monkeypatch.setenv("AIRFLOW_CONN_AEP_ATTACKER", json.dumps(conn))
    with pytest.raises(AepConfigError, match="allowed_ims_hosts"):
        AepHook("aep_attacker").get_token()
    assert listener.received == []
