"""Bad-input catalogue through Airflow's DagBag: whatever one spec file holds, the other specs' DAGs load, and
the broken file is an import error of ``dags/aep_onboarding_spec_check.py`` naming the file, what is wrong and
the fix - never a traceback that names no spec, never a timeout. One test per class of bad spec (issue 21)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bad_input_spec_classes import CLASSES
from minimal_spec import VALID

REPO = Path(__file__).resolve().parents[2]
GOOD = VALID.replace("name: demo", "name: good")


def _dagbag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], good: bool = True):
    from airflow.dag_processing.dagbag import DagBag

    specs = tmp_path / "specs"
    specs.mkdir(exist_ok=True)
    for name, text in ({"good.yaml": GOOD} if good else {}).items() | files.items():
        (specs / name).parent.mkdir(parents=True, exist_ok=True)
        (specs / name).write_text(text)
    dags = tmp_path / "dags"
    shutil.copytree(REPO / "dags", dags)
    monkeypatch.setenv("AEP_SPECS_DIR", str(specs))
    return DagBag(dag_folder=str(dags), safe_mode=True), specs


def _only_spec_check_error(bag) -> str:
    [(file, message)] = bag.import_errors.items()
    assert file.endswith("aep_onboarding_spec_check.py"), bag.import_errors
    assert "DagBag import timeout" not in message
    return message


@pytest.mark.parametrize("klass", sorted(CLASSES))
def test_each_class_of_bad_spec_is_an_import_error_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, klass: str,
) -> None:
    """The first case of each class, beside a valid spec: the valid DAG loads, the bad file is named with the
    field, what is wrong and the fix."""
    case = CLASSES[klass][0]
    bag, specs = _dagbag(tmp_path, monkeypatch, {"bad.yaml": case.text.replace("name: demo", "name: bad")})
    assert "aep_onboard_good" in bag.dag_ids
    message = _only_spec_check_error(bag)
    assert str(specs / "bad.yaml") in message and case.wrong in message and case.fix in message


def test_two_files_with_one_name_are_both_refused_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No DAG is built from whichever file sorts first: both are refused, each naming the other."""
    twin = VALID.replace("name: demo", "name: twin")
    bag, specs = _dagbag(tmp_path, monkeypatch, {"a_twin.yaml": twin, "b_twin.yaml": twin})
    assert "aep_onboard_good" in bag.dag_ids and "aep_onboard_twin" not in bag.dag_ids
    message = _only_spec_check_error(bag)
    assert str(specs / "a_twin.yaml") in message and "also the name of b_twin.yaml" in message
    assert str(specs / "b_twin.yaml") in message and "also the name of a_twin.yaml" in message


def test_two_files_sharing_a_dataset_are_both_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two specs naming one dataset in the same connection and sandbox would share it in silence."""
    shared = "    names: {dataset: Shared contacts}\n    delta_column"
    one = VALID.replace("name: demo", "name: one").replace("    delta_column", shared)
    two = VALID.replace("name: demo", "name: two").replace("    delta_column", shared)
    bag, _ = _dagbag(tmp_path, monkeypatch, {"one.yaml": one, "two.yaml": two})
    assert "aep_onboard_good" in bag.dag_ids and not {"aep_onboard_one", "aep_onboard_two"} & set(bag.dag_ids)
    message = _only_spec_check_error(bag)
    assert "its dataset `Shared contacts` is also two.yaml's" in message
    assert "its dataset `Shared contacts` is also one.yaml's" in message


def test_any_exception_while_a_dag_is_built_names_its_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's own error for a spec our checks let through (here: the reserved ids emptied, so an object takes
    the id of the `plan` task and Airflow raises DuplicateTaskIdFound while building) becomes that spec's import
    error; every other spec's DAG loads."""
    from aep_onboarding import spec_limits

    monkeypatch.setattr(spec_limits, "RESERVED_IDS", frozenset())
    bad = VALID.replace("name: demo", "name: clash").replace("    delta_column", "    name: plan\n    delta_column")
    bag, specs = _dagbag(tmp_path, monkeypatch, {"clash.yaml": bad})
    assert "aep_onboard_good" in bag.dag_ids and "aep_onboard_clash" not in bag.dag_ids
    message = _only_spec_check_error(bag)
    assert str(specs / "clash.yaml") in message and "(DAG) Airflow could not build this spec's DAG" in message
    assert "DuplicateTaskIdFound" in message and "the other specs' DAGs are loaded" in message


def test_a_spec_too_large_for_the_import_timeout_is_refused_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a 2 s dagbag_import_timeout a 150-object per-object spec would time the DAG file out and drop every
    DAG: it is refused from its estimate, naming `layout: batched`, and the others load; no timeout happens."""
    monkeypatch.setenv("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "2")
    rows = "\n".join(f"  - {{source: Hubspot.T{i}, delta_column: Added_At, mapping: [{{source: Id, destination: _id}}]}}"
                     for i in range(150))
    big = f"name: big\nhubspot: {{conn_id: h}}\nobjects:\n{rows}\n"
    bag, specs = _dagbag(tmp_path, monkeypatch, {"big.yaml": big})
    assert "aep_onboard_good" in bag.dag_ids and "aep_onboard_big" not in bag.dag_ids
    message = _only_spec_check_error(bag)
    assert str(specs / "big.yaml") in message and "too large to build in time" in message
    assert "dagbag_import_timeout 2 s" in message and "use `layout: batched`" in message


@pytest.mark.parametrize("kind", ["missing", "a-file", "empty"])
def test_a_specs_folder_that_is_missing_a_file_or_empty_is_an_import_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str,
) -> None:
    """Zero DAGs and no message is not an outcome: the folder's problem is the import error, with the fix."""
    from airflow.dag_processing.dagbag import DagBag

    target = tmp_path / "specz"
    if kind == "a-file":
        target.write_text(GOOD)
    elif kind == "empty":
        target.mkdir()
    dags = tmp_path / "dags"
    shutil.copytree(REPO / "dags", dags)
    monkeypatch.setenv("AEP_SPECS_DIR", str(target))
    bag = DagBag(dag_folder=str(dags), safe_mode=True)
    assert not [d for d in bag.dag_ids if d.startswith("aep_onboard_")]
    message = _only_spec_check_error(bag)
    wrong = {"missing": "does not exist", "a-file": "is a file, not a folder", "empty": "no spec file"}[kind]
    assert str(target) in message and wrong in message and "point AEP_SPECS_DIR at the folder" in message


def test_a_misspelt_specs_dir_setting_is_named_and_the_default_specs_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`AEP_SPEC_DIR` set, `AEP_SPECS_DIR` not: the default folder is read (its DAGs load) and the import error
    says which variable to rename, instead of the user's folder being ignored in silence."""
    from airflow.dag_processing.dagbag import DagBag

    dags = tmp_path / "dags"
    shutil.copytree(REPO / "dags", dags)
    monkeypatch.delenv("AEP_SPECS_DIR", raising=False)
    monkeypatch.setenv("AEP_SPEC_DIR", str(tmp_path / "mine"))
    bag = DagBag(dag_folder=str(dags), safe_mode=True)
    assert "aep_onboard_hubspot_marketing" in bag.dag_ids
    message = _only_spec_check_error(bag)
    assert "AEP_SPEC_DIR is set but the setting is AEP_SPECS_DIR" in message and "rename AEP_SPEC_DIR" in message


def test_spec_look_alikes_are_loaded_or_named_in_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`.yml` and `.YAML` files are specs; hidden files, editor and backup copies and subfolders are not loaded,
    and the spec-check file names each of them in a warning (the DagBag's captured warnings, the processor log)."""
    files = {
        "second.yml": VALID.replace("name: demo", "name: second"),
        "third.YAML": VALID.replace("name: demo", "name: third"),
        "good.yaml~": GOOD, "good.yaml.bak": GOOD, "._good.yaml": "\x00\x05binary", ".#good.yaml": GOOD,
        "archive/old.yaml": VALID.replace("name: demo", "name: old"),
    }
    bag, _ = _dagbag(tmp_path, monkeypatch, files)
    assert {"aep_onboard_good", "aep_onboard_second", "aep_onboard_third"} <= set(bag.dag_ids)
    assert "aep_onboard_old" not in bag.dag_ids
    assert bag.import_errors == {}
    warned = " ".join(w for ws in bag.captured_warnings.values() for w in ws)
    for name in ("good.yaml~", "good.yaml.bak", "._good.yaml", ".#good.yaml", "archive/old.yaml"):
        assert name in warned, warned
    assert "SpecFolderWarning" in warned and "rename or move a file there to load it" in warned
