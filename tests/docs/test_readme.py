"""The README a newcomer reads: the two commands first, short, every link alive, the code it shows real."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PAGES = [README, REPO / "SECURITY.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


def test_the_readme_opens_with_the_two_commands_ci_runs_and_stays_short() -> None:
    """``make demo`` and ``make test`` come first; CI runs the same test command; a five-minute read."""
    text = README.read_text()
    first = _blocks(text, "bash")[0]
    assert [line.split()[:2] for line in first.splitlines()] == [["make", "demo"], ["make", "test"]]
    assert text.index(first) < text.index("\n## ")
    assert re.search(r"^make test$", (REPO / ".ci" / "run").read_text(), re.M)
    assert len(text.splitlines()) <= 150


def test_every_relative_link_of_the_readme_and_docs_leads_to_a_file() -> None:
    """Nothing moved out of the README left a dead link behind."""
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#", 1)[0]).resolve()
            assert path.exists(), f"{page.relative_to(REPO)} links {target}, which does not exist"


def test_the_readme_links_every_page_of_docs() -> None:
    """The README's documentation index is complete."""
    text = README.read_text()
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in text, f"the README's index does not link docs/{page.name}"


def test_the_readmes_operator_excerpt_is_the_example_dag_file() -> None:
    """The hand-written DAG the README shows is the one the tests run: each part between ``...`` lines is a
    verbatim slice of dags/aep_example_by_hand.py."""
    [excerpt] = _blocks(README.read_text(), "python")
    example = (REPO / "dags" / "aep_example_by_hand.py").read_text()
    parts = re.split(r"^\s*\.\.\.\n", excerpt, flags=re.M)
    assert len(parts) >= 2
    for part in parts:
        assert part.strip() and part in example, f"not in dags/aep_example_by_hand.py:\n{part}"


def test_the_readmes_benchmark_table_is_the_one_make_bench_wrote() -> None:
    """The README's benchmark figures are `make bench`'s own output: its table is, verbatim, the one under "The
    README's table" in benchmarks/results/results.md (written from every section results.json holds, re-run or
    not), so a figure in the README is never typed by hand nor left behind by a new run."""
    results = (REPO / "benchmarks" / "results" / "results.md").read_text()
    assert "\n## The README's table\n" in results, "benchmarks/results/results.md has no README table: run make bench"
    after = results.split("\n## The README's table\n", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in after.splitlines() if line.startswith("|"))
    assert table.count("\n") >= 2, f"the README table of benchmarks/results/results.md has no rows:\n{after}"
    assert f"\n{table}\n" in README.read_text(), (
        f"README.md's benchmark table differs from benchmarks/results/results.md's; copy it:\n{table}"
    )
