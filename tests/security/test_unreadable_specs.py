"""One unreadable file in the specs folder never takes the onboarding DAGs down.

A UTF-16 spec, a stray binary, a directory named ``*.yaml``, a file that vanished after the folder was
listed (a dangling link) and a FIFO named ``*.yaml`` are each reported like any broken spec: an import
error of ``dags/aep_onboarding_spec_check.py`` naming the file and the fix; the valid spec still
builds its DAG. The FIFO is read in a thread with a bounded wait: opening it must not block the DAG
processor.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from aep_onboarding.loader import DEFAULT_SPECS_DIR, iter_specs

REPO = Path(__file__).resolve().parents[2]
MARKETING = DEFAULT_SPECS_DIR / "hubspot_marketing.yaml"


def _specs_folder(tmp_path: Path, bad: str) -> Path:
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(MARKETING, specs / "good.yaml")
    other = MARKETING.read_text().replace("name: hubspot_marketing", "name: other")
    target = specs / "bad.yaml"
    if bad == "utf16":
        target.write_bytes(other.encode("utf-16"))
    elif bad == "binary":
        target.write_bytes(bytes(range(256)) * 4)
    elif bad == "directory":
        target.mkdir()
    elif bad == "vanished":
        os.symlink(specs / "gone.yaml", target)
    elif bad == "fifo":
        os.mkfifo(target)
    return specs


CASES = {
    "utf16": "not UTF-8 text",
    "binary": "not UTF-8 text",
    "directory": "not a regular file",
    "vanished": "cannot be read (No such file or directory)",
    "fifo": "not a regular file",
}


@pytest.mark.parametrize("bad", sorted(CASES))
def test_an_unreadable_spec_is_reported_and_the_valid_one_still_loads(tmp_path: Path, bad: str) -> None:
    specs = _specs_folder(tmp_path, bad)
    found: dict[str, object] = {}

    def load() -> None:
        found["loaded"] = list(iter_specs(specs))

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(5.0)
    assert not reader.is_alive(), "reading the specs folder blocked"
    loaded = found["loaded"]
    assert isinstance(loaded, list)
    by_name = {item.path.name: item for item in loaded}
    assert by_name["good.yaml"].spec is not None
    error = by_name["bad.yaml"].error
    assert error is not None and "bad.yaml" in str(error) and CASES[bad] in str(error), error


@pytest.mark.parametrize("bad", sorted(CASES))
def test_the_dag_files_show_it_as_an_import_error_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    from airflow.dag_processing.dagbag import DagBag

    specs = _specs_folder(tmp_path, bad)
    dags = tmp_path / "dags"
    shutil.copytree(REPO / "dags", dags)
    monkeypatch.setenv("AEP_SPECS_DIR", str(specs))
    bag = DagBag(dag_folder=str(dags), safe_mode=True)
    assert "aep_onboard_hubspot_marketing" in bag.dag_ids
    [(file, message)] = bag.import_errors.items()
    assert file.endswith("aep_onboarding_spec_check.py")
    assert "bad.yaml" in message and CASES[bad] in message
    fixes = {"not UTF-8 text": "save it as UTF-8", "not a regular file": "remove or rename it",
             "cannot be read (No such file or directory)": "check the path"}
    assert fixes[CASES[bad]] in message
