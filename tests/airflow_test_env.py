"""pytest plugin: give the whole test session a throwaway Airflow home.

Loaded with ``-p tests.airflow_test_env`` before any test module imports Airflow,
because Airflow reads its configuration once, at import. The metadata
database (SQLite) is created only by the tests that need it, through the
``airflow_db`` fixture.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("AEP_KEEP_AIRFLOW_ENV") == "1":
        return
    home = Path(tempfile.mkdtemp(prefix="aep-test-airflow-"))
    os.environ.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AEP_TOKEN_CACHE_DIR": str(home / "token-cache"),
    })


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """A migrated SQLite metadata database in the session's Airflow home."""
    home = Path(os.environ["AIRFLOW_HOME"])
    marker = home / ".migrated"
    if not marker.exists():
        airflow = Path(sys.executable).parent / "airflow"
        result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, env=os.environ.copy())
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        marker.touch()
    yield home
