"""Values read from the sandbox (or written in a spec) cannot forge lines in the logs, tables and DAG docs.

Whoever can edit the sandbox controls the names, ids, statuses and mapping rules the plan and the run
summary print. A mapping rule whose source holds a newline and an ANSI escape used to print a forged
"Plan: ..." line inside the dry-run table. Every such value is escaped where it is printed (control
characters, newlines, terminal escapes shown as ``\\n``, ``\\x1b``...), and table cells cannot add a column.
"""

from __future__ import annotations

from typing import Any

from aep_onboarding.dag_docs import onboarding_doc
from aep_onboarding.loader import parse_spec
from aep_onboarding.planning.decide import plan_object
from aep_onboarding.planning.models import Found, PlanRow
from aep_onboarding.planning.table import render as render_plan
from aep_onboarding.report import ObjectReport
from aep_onboarding.report import render as render_summary
from aep_onboarding.steps import object_resources, planned
from aep_provider.outcomes import Kind, Outcome, RunResult

FORGED = "Plan: 0 to create, 24 to reuse, 0 differ."
# Clear the line, go back to its start, print a forged summary, hide the rest (SGR 8: concealed).
CRAFTED = f"email\n\x1b[2K\r{FORGED}\x1b[8m"

ROW: dict[str, Any] = {
    "key": "contacts", "source": "Hubspot.Contacts",
    "names": {step: f"p {step}" for step, _ in object_resources()}, "columns": ["email", "lastmodifieddate"],
    "class_ref": "https://ns.adobe.com/xdm/context/profile", "field_groups": [],
    "mappings": [{"source": "email", "destination": "personalEmail.address"}], "delta_column": "lastmodifieddate",
    "schedule": {"frequency": "once", "start_time": "now"},
}


def _no_control_characters(text: str) -> None:
    assert "\x1b" not in text and "\r" not in text, repr(text)
    assert not [c for c in text if ord(c) < 32 and c != "\n"], repr(text)


def test_a_crafted_mapping_rule_cannot_forge_a_line_of_the_plan_table() -> None:
    """The sandbox's mapping set has a rule whose source holds a newline and terminal escapes: the table shows
    it on its own difference line, escaped, and the only summary line is the real one."""
    names = ROW["names"]
    found = Found(named={
        Kind.SCHEMA: {names["target_schema"]: [{"$id": "ts", "meta:class": ROW["class_ref"], "allOf": [
            {"$ref": ROW["class_ref"]}]}]},
        Kind.MAPPING_SET: {names["mapping_set"]: [{"id": "m1", "version": 1, "xdmSchema": "ts", "mappings": [
            {"sourceAttribute": CRAFTED, "destinationXdmPath": "personalEmail.address"}]}]},
    })
    plan = {"contacts": {r: e.model_dump(mode="json") for r, e in plan_object(PlanRow(**ROW), found, planned()).items()}}
    assert any(CRAFTED in d for d in plan["contacts"]["mapping_set"]["differences"]), "the plan data is unchanged"
    text = render_plan(plan)
    _no_control_characters(text)
    assert [line for line in text.splitlines() if line.startswith("Plan:")] == [text.splitlines()[-1]]
    assert text.splitlines()[-1] != FORGED
    assert any("email\\n\\x1b[2K\\r" + FORGED in line for line in text.splitlines()), text


def test_sandbox_values_cannot_forge_rows_or_columns_of_the_run_summary() -> None:
    """Ids, names and run statuses come back from the Platform: each stays in its own cell of its own row."""
    from aep_onboarding.report import row_of

    report = ObjectReport("contacts")
    report.resources = [
        row_of(Outcome(kind=Kind.DATASET, name=f"crafted\n{CRAFTED}", id="abc | forged | cell", created=True,
                       key="contacts"), "contacts.dataset", "dataset"),
        row_of(Outcome(kind=Kind.DATAFLOW, name="x | y", id="f1", created=True, key="contacts"), "contacts.dataflow",
               "dataflow"),
    ]
    report.runs = [Outcome(kind=Kind.FLOW_RUN, id="r1\x1b[2K", key="contacts", flow_id="f1", run=RunResult(
        status="success\nforged | 1 | 1 | 0", input_records=1, output_records=1, first=True))]
    text = render_summary([], {"contacts": report})
    _no_control_characters(text)
    lines = text.splitlines()
    assert len(lines) == 2 + 2 + 1 + 2, text  # header, rule, 2 resources, blank, header, 1 object
    assert all(line.count(" | ") == (5 if index < 4 else 4) for index, line in enumerate(lines)
               if line and not line.startswith("---")), text


def test_spec_values_are_escaped_in_the_dag_docs() -> None:
    """The DAG docs (markdown) show the spec's values as text: no terminal escape, no extra table column."""
    spec = parse_spec(
        "name: demo\n"
        "description: \"Demo \\e[31mred\\e[0m\"\n"
        "hubspot: {conn_id: hubspot_default}\n"
        "objects:\n"
        "  - source: Hubspot.Contacts\n"
        "    delta_column: Added_At\n"
        "    names: {dataset: \"contacts | forged column\\nsecond line\"}\n"
        "    mapping:\n"
        "      - {source: Vid, destination: _id}\n"
    )
    doc = onboarding_doc(spec, None)
    _no_control_characters(doc)
    row = next(line for line in doc.splitlines() if line.startswith("| `contacts`"))
    assert "contacts \\| forged column\\nsecond line" in row, row
    assert row.count(" | ") == 4, row


def test_the_escaping_keeps_ordinary_text_and_escapes_what_can_hide_or_reorder_it() -> None:
    """Accents, emoji and spaces print as they are; DEL, C1 controls and bidi overrides (which reorder what a
    reader sees) are escaped like newlines and ESC."""
    from aep_provider.printable import cell, printable

    assert printable("Données clients 👍 (prod)") == "Données clients 👍 (prod)"
    assert printable("a\x7fb\x9bc\u202ed\u2028e") == "a\\x7fb\\x9bc\\u202ed\\u2028e"
    assert printable(None) == "" and printable(42) == "42"
    assert cell("a|b\nc") == "a\\|b\\nc"
