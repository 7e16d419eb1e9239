"""The deployment's virtualenv holds only what the deployment runs."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_no_benchmark_tool_registers_an_airflow_plugin_in_the_deployment_environment() -> None:
    """dag-factory (a benchmark reference) registers an Airflow plugin whose import fills every task log with
    deprecation warnings; `make bench` installs it in its own virtualenv, never in the deployment's."""
    plugins = {ep.value.split(".", 1)[0] for ep in entry_points(group="airflow.plugins")}
    assert not plugins & {"dagfactory", "aepp"}, f"benchmark-only plugins in the deployment venv: {plugins}"


def test_make_bench_installs_into_its_own_virtualenv() -> None:
    """`make bench` must not pip-install the bench extra into the deployment's .venv."""
    makefile = (REPO / "Makefile").read_text()
    bench_lines = [line for line in makefile.splitlines() if ".[" in line and "bench" in line]
    assert bench_lines and all("$(BENCH_VENV)/bin/pip" in line for line in bench_lines), bench_lines
