"""The pictures the README and docs/ show are of the code as it is.

Each picture a page links is recorded in docs/pictures.json by whoever made it (``make docs``, the browser
test): the picture's SHA-256 and a fingerprint of what it shows, computed from the code
(``scripts/doc_pictures.py``). A picture replaced by hand, or one whose DAG, form, summary or connection
changed since it was made, fails here, naming the command that makes it again.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.doc_pictures import DOCS, REPO, SUBJECTS, manifest, sha256, shows

PAGES = [REPO / "README.md", REPO / "SECURITY.md", *sorted(DOCS.glob("*.md"))]
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
#: Pictures outside docs/ that a page links, and why they are not recorded here.
NOT_RECORDED = {
    REPO / "benchmarks" / "results" / "results.png": "a measurement: `make bench` writes it with its table",
}


def _linked() -> dict[Path, list[str]]:
    """Every picture a page links -> the pages linking it."""
    found: dict[Path, list[str]] = {}
    for page in PAGES:
        for target in IMAGE.findall(page.read_text()):
            found.setdefault((page.parent / target).resolve(), []).append(page.name)
    return found


def _docs_pictures() -> list[str]:
    return sorted(path.name for path in _linked() if path.parent == DOCS.resolve())


def test_every_picture_a_page_links_exists_and_is_made_by_a_command() -> None:
    """A newcomer can make every picture again: each lives in docs/ and has a recorded maker, or is a measurement."""
    for path, pages in _linked().items():
        assert path.is_file(), f"{pages} link {path.relative_to(REPO)}, which does not exist"
        if path.parent == DOCS.resolve():
            assert path.name in SUBJECTS, f"{path.name} ({pages}): no command makes it (scripts/doc_pictures.py)"
        else:
            assert path in NOT_RECORDED, f"{path.relative_to(REPO)} ({pages}): move it to docs/ and record it"


def test_the_pictures_are_the_ones_recorded_and_no_other_is_left_behind() -> None:
    """A picture replaced by hand is caught (its hash is not the recorded one), and so is one nothing shows."""
    recorded = manifest()
    linked = _docs_pictures()
    for name in linked:
        assert name in recorded, f"docs/{name} is not in docs/pictures.json: make it with {SUBJECTS[name][0]}"
        assert sha256((DOCS / name).read_bytes()) == recorded[name]["picture_sha256"], (
            f"docs/{name} is not the picture recorded in docs/pictures.json: make it with {recorded[name]['made_by']}"
        )
    assert sorted(recorded) == linked, "docs/pictures.json records pictures no page shows"
    assert sorted(p.name for p in DOCS.glob("*.png")) == linked, "a picture in docs/ that no page shows"


@pytest.mark.parametrize("name", _docs_pictures())
def test_no_picture_is_older_than_the_code_it_shows(name: str) -> None:
    """What the picture shows (the DAG drawn from its structure, the trigger form's params, the summary table,
    the connection type, the asset event) is what the code gives now."""
    recorded = manifest().get(name, {})
    assert recorded.get("shows_sha256") == shows(name), (
        f"docs/{name} is older than the code it shows; make it again: {SUBJECTS[name][0]}"
    )
