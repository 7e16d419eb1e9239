"""A broken spec is refused with a message naming the file, the field path and the fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from minimal_spec import VALID

from aep_onboarding.loader import SpecError, iter_specs, load_spec, parse_spec

AIRFLOW = VALID + "ingestion: airflow\nschedule: '@daily'\n"


def _error(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse_spec(textwrap.dedent(text), "specs/broken.yaml")
    return caught.value


def test_minimal_spec_is_about_ten_lines_and_gets_defaults() -> None:
    spec = parse_spec(VALID)
    assert spec.dag_id == "aep_onboard_demo"
    assert spec.objects[0].slug == "contacts"
    assert spec.objects[0].fields == "discover"
    assert spec.flow_schedule.frequency == "day" and spec.ingestion == "aep"
    assert spec.pool == "aep_api"
    assert len(VALID.strip().splitlines()) <= 10


@pytest.mark.parametrize(
    ("text", "field", "fix"),
    [
        ("name: demo\nhubspot: {conn_id: h}\nobjects: [{source: Hubspot.Contacts, delta_column: a, mapping: [{source: a, destination: b}]}]\nshedule: '@daily'\n",
         "shedule", "remove this key or correct its spelling"),
        (VALID + "flow_schedule: {frequency: minute, interval: 10}\n", "flow_schedule", "use at least 15"),
        (VALID + "flow_schedule: {frequency: fortnight}\n", "flow_schedule.frequency", "use one of"),
        (VALID + "retries: many\n", "retries", "write a number"),
        (VALID.replace("Hubspot.Contacts", "Salesforce.Contacts"), "objects[0].source", "like `Hubspot.Contacts`"),
        (VALID.replace("hubspot: {conn_id: hubspot_default}", "hubspot: {}"), "hubspot", "give exactly one of"),
        (VALID.replace("name: demo", "name: Demo DAG"), "name", "lower-case letters"),
        (VALID.replace("name: demo\n", ""), "name", "add this key"),
        ("name: demo\nhubspot: {conn_id: h}\nobjects: []\n", "(top level)", "list at least one entry under `objects`"),
        (VALID + "  - source: Hubspot.Contacts\n    delta_column: Added_At\n    mapping: [{source: Vid, destination: _id}]\n",
         "objects", "have the same name `contacts`"),
        (VALID.replace("- {source: Vid, destination: _id}", "- {source: Vid}"), "objects[0].mapping[0].destination", "add this key"),
        (VALID.replace("- {source: Vid, destination: _id}", "- {source: Vid, destination: _id, identity: true}"),
         "objects[0].mapping[0]", "needs `namespace`"),
        (VALID.replace("    mapping:", "    fields: {Email: string}\n    mapping:"), "objects[0]", "not among the listed `fields`"),
        (VALID.replace("    mapping:", "    fields: {Vid: text}\n    mapping:"), "objects[0].fields", "use one of"),
        (VALID + "flow_schedule: {start: yesterday}\n", "flow_schedule.start", "ISO-8601"),
        (VALID + "failed_record_tolerance: 2\n", "failed_record_tolerance", "fit the bound"),
        (VALID + "start_date: 01/12/2025\n", "start_date", "YYYY-MM-DD"),
        (VALID + "schedule: every day\n", "schedule", "not a cron expression"),
        (VALID.replace("    delta_column: Added_At\n", ""), "objects[0]", "`delta_column` is required"),
        (AIRFLOW + "flow_schedule: {frequency: day, interval: 1}\n", "flow_schedule.frequency",
         "flow_schedule.frequency: `day` cannot go with `ingestion: airflow`"),
        (VALID + "ingestion: airflow\n", "schedule", "needs a `schedule` with data intervals"),
        (AIRFLOW + "discover: {delta_column: Added_At}\n", "discover", "list the tables under `objects`"),
        (VALID + "discover: {}\n", "discover", "`delta_column` is required"),
        (VALID + "partial_ingestion_percent: 0\n", "partial_ingestion_percent", "fit the bound"),
        (VALID + "partial_ingestion_percent: 2.5\n", "partial_ingestion_percent", "integer"),
        (VALID + "ingestion: cron\n", "ingestion", "use one of"),
    ],
    ids=[
        "unknown-key", "minute-interval-under-15", "unknown-frequency", "wrong-type", "not-hubspot-source",
        "no-hubspot-origin", "bad-dag-name", "missing-name", "no-objects", "same-object-twice", "mapping-without-destination",
        "identity-without-namespace", "mapping-source-not-in-fields", "unknown-field-type", "bad-flow-start",
        "tolerance-out-of-range", "bad-start-date", "bad-cron", "no-delta-column", "airflow-with-a-scheduled-flow",
        "airflow-without-intervals", "airflow-with-discover", "discover-without-delta-column", "zero-percent",
        "fractional-percent",
        "unknown-ingestion",
    ],
)
def test_each_spec_error_names_file_field_and_fix(text: str, field: str, fix: str) -> None:
    error = _error(text)
    message = str(error)
    assert "specs/broken.yaml" in message
    assert any(problem.startswith(field) for problem in error.problems), error.problems
    assert fix in message


def test_invalid_yaml_names_the_line() -> None:
    error = _error("name: demo\nobjects: [\n  - source\n")
    assert "(YAML) line" in str(error)
    assert "fix the YAML syntax" in str(error)


def test_a_spec_that_is_not_a_mapping_is_refused() -> None:
    assert "must be a YAML mapping" in str(_error("- just\n- a list\n"))


def test_unreadable_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot be read"):
        load_spec(tmp_path / "missing.yaml")


def test_broken_spec_never_hides_the_valid_ones(tmp_path: Path) -> None:
    """A broken spec is reported and the valid one loads; two files sharing a `name` are both refused, each
    naming the other (which one would win only depends on how the files sort)."""
    (tmp_path / "a_good.yaml").write_text(VALID)
    (tmp_path / "b_broken.yaml").write_text(VALID.replace("name: demo", "name: other") + "retries: -1\n")
    (tmp_path / "c_same.yaml").write_text(VALID.replace("name: demo", "name: same"))
    (tmp_path / "d_same.yaml").write_text(VALID.replace("name: demo", "name: same"))
    loaded = {item.path.name: item for item in iter_specs(tmp_path)}
    assert loaded["a_good.yaml"].spec is not None
    assert loaded["b_broken.yaml"].error is not None and "retries" in str(loaded["b_broken.yaml"].error)
    for file, other in (("c_same.yaml", "d_same.yaml"), ("d_same.yaml", "c_same.yaml")):
        error = loaded[file].error
        assert error is not None and f"also the name of {other}" in str(error) and "neither is loaded" in str(error)


def test_shipped_specs_are_valid() -> None:
    loaded = list(iter_specs())
    assert loaded, "include/onboarding ships at least one spec"
    assert [item.error for item in loaded if item.error] == []
    marketing = next(item.spec for item in loaded if item.spec and item.spec.name == "hubspot_marketing")
    assert {obj.source for obj in marketing.objects} >= {"Hubspot.Contacts", "Hubspot.Companies", "Hubspot.All_Deals"}


def test_one_table_can_be_onboarded_twice_under_two_names() -> None:
    from aep_onboarding.names import object_names

    spec = parse_spec(
        VALID + "  - source: Hubspot.Contacts\n    name: contacts_eu\n    delta_column: Added_At\n"
        "    mapping: [{source: Vid, destination: _id}]\n"
    )
    first, second = (object_names(spec, obj) for obj in spec.objects)
    assert first.dataset != second.dataset and first.dataflow != second.dataflow


def test_who_owns_the_clock_sets_the_flow_schedule() -> None:
    """`ingestion: airflow` makes a one-time flow starting at start_date (AEP creates on-demand runs only for
    one-time flows); `ingestion: aep` keeps the written schedule, and a one-time load by AEP is allowed too."""
    airflow = parse_spec(AIRFLOW + "start_date: 2025-12-01\npartial_ingestion_percent: 5\n")
    assert airflow.flow_schedule_params() == {"frequency": "once", "start_time": "2025-12-01T00:00:00Z"}
    assert airflow.flow_options() == {"partialIngestionPercent": 5, "errorDiagnosticsEnabled": True}
    explicit = parse_spec(AIRFLOW + "flow_schedule: {frequency: once, start: '2025-06-01T00:00:00Z'}\n")
    assert explicit.flow_schedule_params() == {"frequency": "once", "start_time": "2025-06-01T00:00:00Z"}
    aep = parse_spec(VALID + "flow_schedule: {frequency: hour, interval: 2}\n")
    assert aep.flow_schedule_params()["frequency"] == "hour" and aep.flow_options() is None
    once_by_aep = parse_spec(VALID + "flow_schedule: {frequency: once}\n")
    assert once_by_aep.flow_schedule_params() == {"frequency": "once", "start_time": "now"}


def test_a_failed_record_tolerance_asks_aep_for_partial_ingestion() -> None:
    """partial.md: without partial ingestion a flow tolerates no failed record, so a tolerance the sensor would
    accept must be AEP's too: `failed_record_tolerance` > 0 sends `partialIngestionPercent` (the share x 100,
    rounded up to an integer, flow-service.yaml OptionSpecDTO `type: integer`) unless the spec sets it."""
    derived = {0.05: 5, 0.15: 15, 0.021: 3, 0.001: 1, 1.0: 100}
    for tolerance, percent in derived.items():
        spec = parse_spec(VALID + f"failed_record_tolerance: {tolerance}\nallow_most_records_to_fail: true\n")
        assert spec.flow_options() == {"partialIngestionPercent": percent, "errorDiagnosticsEnabled": True}
    chosen = parse_spec(VALID + "failed_record_tolerance: 0.15\npartial_ingestion_percent: 20\n")
    assert chosen.flow_options() == {"partialIngestionPercent": 20, "errorDiagnosticsEnabled": True}
    assert parse_spec(VALID).flow_options() is None
    assert isinstance(parse_spec(VALID + "failed_record_tolerance: 0.05\n").flow_options()["partialIngestionPercent"], int)
