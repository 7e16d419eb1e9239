"""Test helpers: run the emulator in a background thread and drive its admin surface."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from .app import EmulatorApp, create_app
from .recording import Recorder
from .state import DEMO_ORG, Config, Store

DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"
DEMO_ORG_ID = DEMO_ORG


class AdminClient:
    """A small client for the ``/_emulator/*`` endpoints."""

    def __init__(self, base_url: str) -> None:
        # No keep-alive: the server closes an idle connection after a few seconds (uvicorn's keep-alive timeout), and
        # a call that reuses it just then is reset ("Connection reset by peer") - seen when a test's dag.test()
        # outlasted the timeout between two admin calls. A fresh connection per call costs nothing here.
        self._http = httpx.Client(base_url=base_url, timeout=30.0, limits=httpx.Limits(max_keepalive_connections=0))

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = self._http.post(path, json=body or {})
        resp.raise_for_status()
        return resp.json()

    def _get(self, path: str) -> Any:
        resp = self._http.get(path)
        resp.raise_for_status()
        return resp.json()

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/_emulator/state")
        return result

    def records(self, dataset_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get(f"/_emulator/datasets/{dataset_id}/records")["records"]
        return result

    def set_faults(self, rules: list[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
        result: dict[str, Any] = self._post("/_emulator/faults", {"seed": seed, "rules": rules})
        return result

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/_emulator/faults")
        return result

    def clear_faults(self) -> dict[str, Any]:
        return self.set_faults([], 0)

    def reset(self) -> None:
        self._post("/_emulator/reset")

    def advance(self, seconds: float) -> dict[str, Any]:
        result: dict[str, Any] = self._post("/_emulator/clock/advance", {"seconds": seconds})
        return result

    def configure(self, **kw: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._post("/_emulator/config", kw)
        return result

    def close(self) -> None:
        self._http.close()


class EmulatorServer:
    """Run the emulator on a free local port in a background thread (context manager).

    ``EmulatorServer(run_duration_seconds=0)`` etc. take :class:`Config` fields; ``port`` (default: a free
    one) lets a test restart an emulator where its clients expect it; ``allowed_hosts`` are names the admin
    API answers besides loopback (``aep-emulator serve --allowed-host``).
    """

    def __init__(self, host: str = "127.0.0.1", state_file: str | None = None, *, port: int = 0,
                 allowed_hosts: tuple[str, ...] = (), **config: Any) -> None:
        self.host = host
        self.store = Store(config=Config(**config), state_file=state_file)
        self.app: EmulatorApp = create_app(self.store, allowed_hosts=allowed_hosts)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"http://{host}:{self.port}"
        self.admin = AdminClient(self.base_url)
        self.recorder: Recorder = self.app.state.recorder
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host=host, port=self.port, log_level="critical", lifespan="off")
        )
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="aep-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the AEP emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.store.close()  # the state file's journal folded into it, as `aep-emulator serve` does at shutdown
        self.admin.close()
        self._sock.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # convenience for tests and provider code
    def token(self, client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET) -> str:
        resp = self.admin._http.post(
            "/ims/token/v3",
            data={
                "client_id": client_id,
                "client_secret": client_secret,
                "grant_type": "client_credentials",
                "scope": "openid,AdobeID,read_organizations",
            },
        )
        resp.raise_for_status()
        token: str = resp.json()["access_token"]
        return token

    def headers(self, sandbox: str = "prod", org_id: str = DEMO_ORG_ID, client_id: str = DEMO_CLIENT_ID,
                client_secret: str = DEMO_CLIENT_SECRET) -> dict[str, str]:
        """Complete Platform headers for the given client/org/sandbox (a fresh token)."""
        return {
            "Authorization": f"Bearer {self.token(client_id, client_secret)}",
            "x-api-key": client_id,
            "x-gw-ims-org-id": org_id,
            "x-sandbox-name": sandbox,
        }
