"""The emulator's state file (``--state``) keeps no credential, and only its owner can read it.

The native deployment passes ``--state`` so a restarted emulator answers as before. What it must keep for
that is its resources and records; the HubSpot auth of a base connection (which may be real credentials
pointed at the emulator) and the IMS tokens it issued stay in memory only. The file is mode 0600 in a
0700 folder; a folder other users may enter is refused at start. A client whose token the restarted
emulator no longer knows gets Adobe's ``401013`` and fetches a new one, as against the real gateway.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from aep_emulator import state as emulator_state
from aep_emulator.specs import HUBSPOT_SPEC_ID
from aep_emulator.testing import DEMO_CLIENT_ID, DEMO_ORG_ID, EmulatorServer
from aep_provider.hooks.aep import AepHook

HUBSPOT_SECRET = "hubspot-secret-5d1e0b8a-never-on-disk"
HUBSPOT_ACCESS = "hubspot-access-9c2f7e41-never-on-disk"
HUBSPOT_REFRESH = "hubspot-refresh-3a6b8d02-never-on-disk"
STATS = "/data/foundation/schemaregistry/stats"


def _base_connection(server: EmulatorServer) -> str:
    body = {
        "name": "HubSpot with real-looking credentials",
        "connectionSpec": {"id": HUBSPOT_SPEC_ID, "version": "1.0"},
        "auth": {"specName": "Basic Authentication", "params": {
            "clientId": "hubspot-client", "clientSecret": HUBSPOT_SECRET, "accessToken": HUBSPOT_ACCESS,
            "refreshToken": HUBSPOT_REFRESH,
        }},
    }
    answer = httpx.post(f"{server.base_url}/data/foundation/flowservice/connections", json=body,
                        headers={**server.headers(), "Content-Type": "application/json"}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["id"])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_state_file_holds_resources_but_no_credential_and_only_its_owner_reads_it(tmp_path: Path) -> None:
    """HubSpot credentials sent to the emulator and the tokens it issued never reach the disk; the file is
    0600 whatever the umask, so another local user cannot read what is there."""
    state = tmp_path / "aep-emulator-state.json"
    old_umask = os.umask(0o022)
    try:
        with EmulatorServer(state_file=str(state)) as server:
            connection_id = _base_connection(server)
            token = server.token()
    finally:
        os.umask(old_umask)
    text = state.read_text()
    for secret in (HUBSPOT_SECRET, HUBSPOT_ACCESS, HUBSPOT_REFRESH, token):
        assert secret not in text, "a credential was written to the state file"
    assert connection_id in text, "the resources must survive a restart"
    assert _mode(state) == 0o600, oct(_mode(state))
    assert not list(tmp_path.glob("*.tmp")), "a temporary file was left behind"


def test_a_missing_state_folder_is_made_0700(tmp_path: Path) -> None:
    """A --state path in a folder that does not exist yet works, and the emulator makes the folder 0700."""
    state = tmp_path / "run" / "emulator" / "state.json"
    with EmulatorServer(state_file=str(state)) as server:
        _base_connection(server)
    assert _mode(state.parent) == 0o700 and _mode(state) == 0o600


def test_a_state_folder_other_users_may_enter_is_refused_naming_it(tmp_path: Path) -> None:
    """The file's own mode is not enough where others may list, plant or swap files: the folder must be 0700."""
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with pytest.raises(emulator_state.StateFileError) as refused:
        emulator_state.Store(state_file=str(folder / "state.json"))
    assert str(folder) in str(refused.value) and "chmod 700" in str(refused.value)


def test_a_restarted_emulator_keeps_resources_and_clients_fetch_a_new_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a restart the base connection is still there; the hook's cached token is unknown to the new
    process, which answers 401013, and the hook fetches a new token and repeats the call once."""
    state = tmp_path / "state.json"
    with EmulatorServer(state_file=str(state)) as first:
        connection_id = _base_connection(first)
        port = first.port
        conn = {"conn_type": "adobe_experience_platform", "login": DEMO_CLIENT_ID, "password": "demo-secret",
                "host": first.base_url, "extra": {"ims_host": first.base_url, "org_id": DEMO_ORG_ID}}
        monkeypatch.setenv("AIRFLOW_CONN_AEP_RESTART", json.dumps(conn))
        monkeypatch.setenv("AEP_TOKEN_CACHE_DIR", str(tmp_path / "token-cache"))
        old_token = AepHook("aep_restart").get_token()

    with EmulatorServer(state_file=str(state), port=port) as second:
        answer = httpx.get(f"{second.base_url}/data/foundation/flowservice/connections/{connection_id}",
                           headers=second.headers(), timeout=30)
        assert answer.status_code == 200 and answer.json()["items"][0]["auth"]["params"]["clientSecret"] != HUBSPOT_SECRET
        before = second.admin.state()["counters"]["ims_token_requests"]
        hook = AepHook("aep_restart")
        assert hook.get(STATS)["tenantId"] == "demotenant"
        assert hook.get_token() != old_token
        assert second.admin.state()["counters"]["ims_token_requests"] == before + 1


def test_a_state_file_of_an_older_emulator_is_rewritten_without_its_credentials_at_start(tmp_path: Path) -> None:
    """A file written before this change holds tokens and HubSpot auth, mode 0644: the emulator reads the
    resources, drops the credentials and rewrites the file 0600 before it serves anything."""
    state = tmp_path / "state.json"
    with EmulatorServer(state_file=str(state)) as server:
        connection_id = _base_connection(server)
    data = json.loads(state.read_text())
    data["tokens"] = {"eyJold": {"client_id": DEMO_CLIENT_ID, "org_id": DEMO_ORG_ID, "expires_at": 4e9}}
    for container in data["containers"]:
        for obj in container["items"]["connection"].values():
            obj["__auth"] = {"specName": "Basic Authentication", "params": {"clientSecret": HUBSPOT_SECRET}}
    state.write_text(json.dumps(data))
    state.chmod(0o644)
    store = emulator_state.Store(state_file=str(state))
    assert store.tokens == {} and store.token_info("eyJold") is None
    assert HUBSPOT_SECRET not in state.read_text() and "eyJold" not in state.read_text()
    assert connection_id in state.read_text() and _mode(state) == 0o600
