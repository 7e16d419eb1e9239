"""OpenAPI completeness, request ids, the admin surface, the CLI and state persistence."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
from emulator_flows import create_dataset, create_profile_schema
from emulator_helpers import CAT, Api

from aep_emulator.testing import EmulatorServer

EXPECTED_ROUTES = {
    ("post", "/ims/token/v3"),
    ("get", "/data/foundation/schemaregistry/stats"),
    ("get", "/data/foundation/schemaregistry/tenant/{resource_type}"),
    ("post", "/data/foundation/schemaregistry/tenant/{resource_type}"),
    ("get", "/data/foundation/schemaregistry/tenant/{resource_type}/{ident}"),
    ("patch", "/data/foundation/schemaregistry/tenant/{resource_type}/{ident}"),
    ("delete", "/data/foundation/schemaregistry/tenant/{resource_type}/{ident}"),
    ("get", "/data/foundation/schemaregistry/global/{resource_type}"),
    ("get", "/data/foundation/schemaregistry/global/{resource_type}/{ident}"),
    ("post", "/data/foundation/catalog/dataSets"),
    ("get", "/data/foundation/catalog/dataSets"),
    ("get", "/data/foundation/catalog/dataSets/{dataset_id}"),
    ("delete", "/data/foundation/catalog/dataSets/{dataset_id}"),
    ("get", "/data/foundation/flowservice/connectionSpecs"),
    ("get", "/data/foundation/flowservice/connectionSpecs/{spec_id}"),
    ("get", "/data/foundation/flowservice/flowSpecs"),
    ("get", "/data/foundation/flowservice/flowSpecs/{spec_id}"),
    ("post", "/data/foundation/flowservice/{collection}"),
    ("get", "/data/foundation/flowservice/{collection}"),
    ("get", "/data/foundation/flowservice/{collection}/{ident}"),
    ("patch", "/data/foundation/flowservice/{collection}/{ident}"),
    ("delete", "/data/foundation/flowservice/{collection}/{ident}"),
    ("get", "/data/foundation/flowservice/connections/{ident}/explore"),
    ("post", "/data/foundation/flowservice/flows/{ident}/action"),
    ("post", "/data/foundation/flowservice/runs"),
    ("get", "/data/foundation/flowservice/runs"),
    ("get", "/data/foundation/flowservice/runs/{run_id}"),
    ("post", "/data/foundation/conversion/mappingSets"),
    ("get", "/data/foundation/conversion/mappingSets"),
    ("get", "/data/foundation/conversion/mappingSets/{mapping_id}"),
    ("get", "/_emulator/state"),
    ("get", "/_emulator/datasets/{dataset_id}/records"),
    ("post", "/_emulator/faults"),
    ("get", "/_emulator/faults"),
    ("post", "/_emulator/reset"),
    ("post", "/_emulator/clock/advance"),
    ("get", "/_emulator/config"),
    ("post", "/_emulator/config"),
}


def test_openapi_lists_every_emulated_route(emulator: EmulatorServer) -> None:
    spec = httpx.get(f"{emulator.base_url}/openapi.json").json()
    listed = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert listed >= EXPECTED_ROUTES
    routes = {
        (m.lower(), re.sub(r"\{(\w+):path\}", r"{\1}", r.path))  # type: ignore[attr-defined]
        for r in emulator.app.routes if hasattr(r, "methods") and r.path not in (
            "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")  # type: ignore[attr-defined]
        for m in r.methods if m not in ("HEAD", "OPTIONS")  # type: ignore[attr-defined]
    }
    assert routes <= listed


def test_admin_state_and_reset(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    dataset_id = create_dataset(api, create_profile_schema(api))
    state = emulator.admin.state()
    kinds = {r["kind"] for r in state["resources"]}
    assert kinds == {"schema", "dataset"}
    assert {"requests", "faults_injected", "ims_token_requests", "writes"} <= set(state["counters"])
    assert state["counters"]["writes"] == 2
    assert httpx.get(f"{emulator.base_url}/_emulator/datasets/{dataset_id}/records").json() == {
        "datasetId": dataset_id, "count": 0, "records": []}
    emulator.admin.reset()
    assert emulator.admin.state()["resources"] == []
    assert Api(emulator).get(f"{CAT}/dataSets").json() == {}


def test_state_file_persists_across_restarts(tmp_path: Path) -> None:
    """Resources survive a restart; issued tokens do not (they stay in memory): an old token gets the gateway's
    401013, as a token Adobe no longer knows does, and a new one reads the dataset."""
    state_file = str(tmp_path / "state.json")
    with EmulatorServer(state_file=state_file, run_duration_seconds=0) as first:
        api = Api(first)
        dataset_id = create_dataset(api, create_profile_schema(api))
        token_headers = api.headers
    with EmulatorServer(state_file=state_file) as second:
        resp = httpx.get(f"{second.base_url}{CAT}/dataSets/{dataset_id}", headers=token_headers)
        assert resp.status_code == 401 and resp.json()["error_code"] == "401013", resp.text
        resp = httpx.get(f"{second.base_url}{CAT}/dataSets/{dataset_id}", headers=second.headers())
        assert resp.status_code == 200 and resp.json()[dataset_id]["name"] == "Contacts dataset"


def test_cli_serve_prints_base_url_and_serves(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("aep-emulator")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "aep_emulator.cli"]
    proc = subprocess.Popen([*cmd, "serve", "--host", "127.0.0.1", "--port", str(port), "--run-duration", "0",
                             "--token-ttl", "120", "--seed", "3", "--state", str(tmp_path / "s.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line
        deadline = time.monotonic() + 15
        while True:
            try:
                resp = httpx.post(f"http://127.0.0.1:{port}/ims/token/v3", data={
                    "client_id": "demo-client", "client_secret": "demo-secret", "grant_type": "client_credentials"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert resp.status_code == 200 and resp.json()["expires_in"] == 120
    finally:
        proc.terminate()
        proc.wait(timeout=10)
