"""The provider installs and imports without the emulator's web stack: FastAPI, uvicorn and httpx are the
`emulator` extra's (pip install '.[emulator]', which `make setup`, `make bench` and the image install), not
the provider's own dependencies."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import tomllib
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
DIST = "airflow-aep-onboarding"
EMULATOR_ONLY = {"fastapi", "uvicorn", "httpx", "starlette"}

# Imports every module of the provider and the DAG factory (but the emulator demo) with the emulator's web stack
# made unimportable, as on a machine where only `pip install airflow-aep-onboarding` ran.
BLOCKED_IMPORT_SCRIPT = """
import importlib, importlib.abc, pkgutil, sys

BLOCKED = {"fastapi", "uvicorn", "starlette"}

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: not a provider dependency)", name=name)
        return None

sys.meta_path.insert(0, Blocker())
for name in [m for m in sys.modules if m.split(".")[0] in BLOCKED]:
    del sys.modules[name]
imported = []
for package_name in ("aep_provider", "aep_onboarding"):
    package = importlib.import_module(package_name)
    for info in pkgutil.walk_packages(package.__path__, package_name + "."):
        if info.name == "aep_onboarding.demo":  # `make demo` runs the emulator: it needs the extra
            continue
        importlib.import_module(info.name)
        imported.append(info.name)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED | {"aep_emulator"})
print(len(imported), leaked)
"""


def _base_requirements(requirements: list[str]) -> set[str]:
    """Names of the requirements that come without any extra."""
    return {Requirement(r).name.lower() for r in requirements if Requirement(r).marker is None}


def _extra(requirements: list[str], extra: str) -> set[str]:
    return {
        Requirement(r).name.lower() for r in requirements
        if Requirement(r).marker is not None and Requirement(r).marker.evaluate({"extra": extra})  # type: ignore[union-attr]
    }


def test_the_installed_distribution_declares_the_web_stack_only_in_the_emulator_extra() -> None:
    installed = requires(DIST) or []
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert _base_requirements(installed) == {Requirement(r).name.lower() for r in declared["dependencies"]}, (
        "the installed distribution is stale against pyproject.toml: run `make setup`"
    )
    assert not _base_requirements(installed) & EMULATOR_ONLY
    assert {"fastapi", "uvicorn", "httpx"} <= _extra(installed, "emulator")


def test_every_provider_and_factory_module_imports_without_fastapi_or_uvicorn() -> None:
    done = subprocess.run([sys.executable, "-c", BLOCKED_IMPORT_SCRIPT], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    count, leaked = done.stdout.strip().splitlines()[-1].split(" ", 1)
    assert int(count) > 20 and leaked == "[]", done.stdout


def test_every_place_that_runs_the_emulator_installs_its_extra() -> None:
    makefile = (REPO / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line and ".[" in line]
    assert installs and all("emulator" in line.split(".[", 1)[1].split("]")[0] for line in installs), installs
    dockerfile = (REPO / "Dockerfile").read_text()
    assert '"/opt/aep[emulator]"' in dockerfile  # docker-compose.yaml's aep-emulator service runs this image
