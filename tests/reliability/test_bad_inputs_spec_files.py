"""Bad-input catalogue, spec files: every bad spec fails with the precise error, naming the field, what is
wrong and the fix.

The cases go through ``aep_onboarding.loader.load_spec`` on a file written to ``tmp_path``: a
``SpecError`` whose message names the file, and one problem line that starts with the field and says
both what is wrong and the fix. The loader makes no Platform call, so these cases have no write to check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_input_spec_cases import SPEC_CASES, SpecCase
from bad_input_spec_classes import CLASS_CASES
from minimal_spec import VALID


@pytest.mark.parametrize("case", SPEC_CASES + CLASS_CASES, ids=lambda c: c.id)
def test_bad_spec_file_names_file_field_and_fix(case: SpecCase, tmp_path: Path) -> None:
    """A bad spec file is refused with a ``SpecError`` naming the file, and one problem line that starts
    with the field, says what is wrong and what to write instead. (The loader makes no Platform call, so
    there is no write to check here; the DAG file reports such a spec as an import error, and the
    DAG-level test at the end checks that a spec that loads but names a missing table writes nothing.)"""
    from aep_onboarding.loader import SpecError, load_spec

    path = tmp_path / f"{case.id}.yaml"
    path.write_text(case.text)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert type(caught.value) is SpecError
    message = str(caught.value)
    assert str(path) in message, message
    lines = [problem for problem in caught.value.problems if problem.startswith(case.field)]
    assert any(case.wrong in line and case.fix in line for line in lines), (
        f"no problem line of {case.field!r} says {case.wrong!r} and {case.fix!r}: {caught.value.problems}"
    )


def test_unreadable_spec_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    from aep_onboarding.loader import SpecError, load_spec

    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path / "missing.yaml")
    assert "missing.yaml" in str(caught.value) and "check the path" in str(caught.value)


def test_two_spec_files_with_one_name_are_refused_naming_both(tmp_path: Path) -> None:
    """Two files with one `name` would build one DAG id: both are refused, each error naming both files (the
    first to sort no longer wins in silence, with the import error blaming the other)."""
    from aep_onboarding.loader import SpecError, iter_specs

    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID)
    loaded = {item.path.name: item for item in iter_specs(tmp_path)}
    for file, other in (("a.yaml", "b.yaml"), ("b.yaml", "a.yaml")):
        assert loaded[file].spec is None
        error = loaded[file].error
        assert type(error) is SpecError
        [problem] = error.problems
        assert str(tmp_path / file) in str(error) and problem.startswith("name:")
        assert f"also the name of {other}" in problem and "give one of them another `name`" in problem


def test_anchors_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    """Strict reading refuses a repeated key, not YAML's sharing: an anchored mapping reused by an alias, and a
    merge key whose keys an explicit key overrides (YAML's merge-key type), load as written."""
    from aep_onboarding.loader import load_spec

    path = tmp_path / "anchors.yaml"
    path.write_text(
        "name: anchors\nhubspot: &hub {conn_id: hubspot_default}\nobjects:\n"
        "  - &contacts\n    source: Hubspot.Contacts\n    delta_column: Added_At\n"
        "    mapping: [&id {source: Vid, destination: _id}]\n"
        "  - <<: *contacts\n    name: contacts_eu\n    mapping: [*id]\n"
    )
    spec = load_spec(path)
    assert [obj.slug for obj in spec.objects] == ["contacts", "contacts_eu"]
    assert spec.objects[1].source == "Hubspot.Contacts" and spec.objects[1].mapping[0].destination == "_id"
