"""scripts/store_connections.py: the deployment's connections live in the metadata database, encrypted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "store_connections.py"
AEP = {"conn_type": "adobe_experience_platform", "login": "demo-client", "password": "demo-secret",
       "host": "http://127.0.0.1:8765", "extra": {"org_id": "DEMO@AdobeOrg", "sandbox": "prod"}}
HUBSPOT = {"conn_type": "generic", "login": "hs-client", "password": "hs-secret", "extra": {"access_token": "a"}}
READ = """
import json
from airflow.models import Connection
from airflow.utils.session import create_session
with create_session() as s:
    out = {c.conn_id: {"port": c.port, "login": c.login, "password": c.password, "enc": c.is_encrypted,
                       "raw": c._password} for c in s.query(Connection)}
print(json.dumps(out))
"""


def _env(fernet: str, aep: dict, given: bool) -> dict[str, str]:
    env = {**os.environ, "AIRFLOW__CORE__FERNET_KEY": fernet}
    env.update({
        "AEP_CONN_AEP_DEFAULT_JSON": json.dumps(aep), "AEP_CONN_AEP_DEFAULT_GIVEN": "1" if given else "0",
        "AEP_CONN_HUBSPOT_DEFAULT_JSON": json.dumps(HUBSPOT), "AEP_CONN_HUBSPOT_DEFAULT_GIVEN": "0",
    })
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_connections_are_stored_encrypted_with_port_zero_kept_unless_given_and_secrets_never_printed(airflow_db):
    """`make airflow-up` puts aep_default and hubspot_default in the database (the Connections page lists and
    tests them), secrets Fernet-encrypted and port 0 (what the page's Test button sends); a restart keeps a
    stored connection unless the user set AIRFLOW_CONN_AEP_DEFAULT, which then replaces it."""
    fernet = Fernet.generate_key().decode()
    out = _run([str(SCRIPT)], _env(fernet, AEP, given=False))
    assert "demo-secret" not in out and "hs-secret" not in out
    stored = json.loads(_run(["-c", READ], _env(fernet, AEP, given=False)))
    aep = stored["aep_default"]
    assert aep["port"] == 0 and aep["password"] == "demo-secret" and aep["enc"] and aep["raw"] != "demo-secret"
    assert stored["hubspot_default"]["login"] == "hs-client"

    other = {**AEP, "login": "another-client"}
    _run([str(SCRIPT)], _env(fernet, other, given=False))
    assert json.loads(_run(["-c", READ], _env(fernet, AEP, given=False)))["aep_default"]["login"] == "demo-client"
    _run([str(SCRIPT)], _env(fernet, other, given=True))
    assert json.loads(_run(["-c", READ], _env(fernet, AEP, given=False)))["aep_default"]["login"] == "another-client"
