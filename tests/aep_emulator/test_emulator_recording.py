"""Opt-in recording of Platform exchanges: off unless asked, complete when on, never a secret."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from aep_emulator.testing import EmulatorServer

FS = "/data/foundation/flowservice"
HUBSPOT_SPEC = "cc6a4487-9e91-433e-a3a3-9cf6626c1806"


def test_recording_writes_each_exchange_once_without_token_or_secrets(tmp_path: Path) -> None:
    """The contract test reads these lines: each holds the request and the answer as sent, with the
    bearer token and the HubSpot credentials replaced, and nothing is written while recording is off."""
    out = tmp_path / "exchanges.jsonl"
    with EmulatorServer(run_duration_seconds=0) as server:
        headers = server.headers()
        token = headers["Authorization"].split(" ", 1)[1]
        with httpx.Client(base_url=server.base_url, headers=headers) as http:
            http.get(f"{FS}/connections")
            assert server.recorder.path is None and not out.exists()
            server.recorder.enable(out)
            server.recorder.label = "my-test"
            body = {"name": "hs", "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"},
                    "auth": {"specName": "Basic Authentication",
                             "params": {"clientId": "id", "clientSecret": "very-secret", "accessToken": "tok-123"}}}
            created = http.post(f"{FS}/connections", json=body)
            http.get(f"{FS}/connections", params={"property": "name==hs"})
    text = out.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(x["method"], x["status"]) for x in lines] == [("POST", 201), ("GET", 200)]
    assert lines[0]["label"] == "my-test" and lines[0]["answer"] == created.json()
    assert lines[1]["query"] == "property=name%3D%3Dhs"
    assert lines[0]["headers"]["authorization"] == "Bearer <token>"
    assert token not in text and "very-secret" not in text and "tok-123" not in text
