"""SECURITY.md says exactly which address every listener of the native deployment binds.

The native scripts bind the api-server and the emulator to 127.0.0.1, but Airflow's worker and triggerer
log servers (``airflow.utils.serve_logs``) listen on every interface whatever the configuration: the
document must not promise loopback for them, and the check fails if Airflow starts honouring a bind
setting (then the scripts should use it) or a listener's port changes.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECURITY = (REPO / "SECURITY.md").read_text()
ENV_SCRIPT = (REPO / "scripts" / "airflow-env.sh").read_text()


def _default(variable: str) -> str:
    found = re.search(rf'^: "\$\{{{variable}:=([^}}]*)\}}"', ENV_SCRIPT, re.M)
    assert found, variable
    return found.group(1)


def _row(port: str) -> str:
    rows = [line for line in SECURITY.splitlines() if line.startswith("|") and f"`{port}`" in line]
    assert len(rows) == 1, f"SECURITY.md has no single row for port {port}: {rows}"
    return rows[0]


def test_loopback_listeners_are_documented_with_their_bind() -> None:
    """The api-server and the emulator bind 127.0.0.1 by default, and SECURITY.md says so with the variable."""
    for host_var, port_var in (("AEP_API_HOST", "AEP_API_PORT"), ("AEP_EMULATOR_HOST", "AEP_EMULATOR_PORT")):
        row = _row(_default(port_var))
        assert _default(host_var) == "127.0.0.1" and "127.0.0.1" in row and host_var in row, row


def test_the_log_servers_are_documented_as_listening_on_every_interface() -> None:
    """SECURITY.md does not promise loopback for Airflow's log servers, which listen on every interface (JWT)."""
    from airflow.utils.serve_logs import core

    assert 'host=""' in inspect.getsource(core.serve_logs), "Airflow's log server bind changed: update the scripts"
    for port_var in ("AEP_WORKER_LOG_PORT", "AEP_TRIGGERER_LOG_PORT"):
        row = _row(_default(port_var))
        assert "every interface" in row and "JWT" in row, row
    assert "the native scripts bind 127.0.0.1 by default" not in SECURITY
