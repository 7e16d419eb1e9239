"""The bad-spec half of the bad-input catalogue: each case is a spec file's text and the problem line the
loader must report for it (the field, what is wrong and the fix). Test helper of ``test_bad_inputs_*``."""

from __future__ import annotations

from dataclasses import dataclass

from minimal_spec import VALID


@dataclass(frozen=True)
class SpecCase:
    id: str
    text: str
    field: str  # the problem line starts with this field path ...
    wrong: str  # ... says what is wrong ...
    fix: str  # ... and what to write instead


def _with(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


SPEC_CASES = [
    SpecCase("invalid-yaml", "name: demo\nobjects: [\n  - source\n", "(YAML)", "line 3, column 3", "fix the YAML syntax"),
    SpecCase("not-a-mapping", "- a\n- list\n", "(top level)", "must be a YAML mapping", "with `name`, `hubspot` and `objects`"),
    SpecCase("empty-file", "", "(top level)", "must be a YAML mapping", "with `name`, `hubspot` and `objects`"),
    SpecCase("unknown-key", VALID + "schedul: '@daily'\n", "schedul", "unknown key", "correct its spelling"),
    SpecCase("unknown-key-in-object", _with("    mapping:", "    mappings: []\n    mapping:"),
             "objects[0].mappings", "unknown key", "remove this key"),
    SpecCase("wrong-type", VALID + "retries: three\n", "retries", "valid integer", "write a number"),
    SpecCase("wrong-type-bool", VALID + "catchup: maybe\n", "catchup", "valid boolean", "write true or false"),
    SpecCase("minute-interval-under-15", VALID + "flow_schedule: {frequency: minute, interval: 5}\n",
             "flow_schedule", "interval=5 is too small for frequency 'minute'", "use at least 15"),
    SpecCase("unknown-frequency", VALID + "flow_schedule: {frequency: fortnightly}\n", "flow_schedule.frequency",
             "Input should be", "use one of 'once', 'minute', 'hour', 'day' or 'week'"),
    SpecCase("interval-missing", VALID + "flow_schedule: {frequency: hour, interval: null}\n", "flow_schedule",
             "is required", "interval is required for frequency 'hour'"),
    SpecCase("same-object-name-twice",
             VALID + "  - source: Hubspot.Companies\n    name: contacts\n    delta_column: Added_At\n"
             "    mapping: [{source: Company_Id, destination: _id}]\n",
             "objects", "same name `contacts`", "give one of them a distinct `name`"),
    SpecCase("flow-start-not-a-date", VALID + "flow_schedule: {start: next monday}\n", "flow_schedule.start",
             "not an ISO-8601 date-time", "write e.g. 2026-01-01T00:00:00Z or `now`"),
    SpecCase("identity-without-namespace",
             _with("{source: Vid, destination: _id}", "{source: Vid, destination: _id, identity: true}"),
             "objects[0].mapping[0]", "an identity mapping needs `namespace`", "for example Email or ECID"),
    SpecCase("negative-retries", VALID + "retries: -1\n", "retries", "greater than or equal to 0", "fit the bound"),
    SpecCase("too-many-retries", VALID + "retries: 99\n", "retries", "less than or equal to 20", "fit the bound"),
    SpecCase("cron-not-cron", VALID + "schedule: every day at 3\n", "schedule",
             "not a cron expression", "write e.g. `0 3 * * *`"),
    SpecCase("source-not-a-hubspot-path", _with("Hubspot.Contacts", "Contacts"), "objects[0].source",
             "not a HubSpot table path", "write it like `Hubspot.Contacts`"),
    SpecCase("hubspot-two-origins", _with("{conn_id: hubspot_default}", "{conn_id: h, base_connection_id: b}"),
             "hubspot", "exactly one of", "`base_connection_id` (an existing AEP base connection) or `conn_id`"),
    SpecCase("no-objects", "name: demo\nhubspot: {conn_id: h}\nobjects: []\n", "(top level)",
             "list at least one entry under `objects`", "add `discover: {}`"),
    SpecCase("empty-mapping", _with("    mapping:\n      - {source: Vid, destination: _id}\n", "    mapping: []\n"),
             "objects[0].mapping", "at least 1 item", "give at least one item"),
    SpecCase("mapping-without-destination", _with("{source: Vid, destination: _id}", "{source: Vid}"),
             "objects[0].mapping[0].destination", "Field required", "add this key"),
    SpecCase("name-not-a-slug", _with("name: demo", "name: My Demo"), "name", "`My Demo`",
             "must be lower-case letters, digits and underscores"),
    SpecCase("object-name-not-a-slug", _with("    mapping:", "    name: Contacts-EU\n    mapping:"), "objects[0].name",
             "`Contacts-EU`", "must be lower-case letters, digits and underscores"),
    SpecCase("start-date-not-a-date", VALID + "start_date: 12/01/2025\n", "start_date", "valid date",
             "write a date as YYYY-MM-DD"),
    SpecCase("mapping-source-not-in-fields", _with("    mapping:", "    fields: {Email: string}\n    mapping:"),
             "objects[0]", "mapping sources ['Vid'] are not among the listed `fields`", "add them to `fields`"),
    SpecCase("unknown-field-type", _with("    mapping:", "    fields: {Vid: varchar}\n    mapping:"),
             "objects[0].fields.Vid", "Input should be", "use one of 'string'"),
    SpecCase("tolerance-above-one", VALID + "failed_record_tolerance: 1.5\n", "failed_record_tolerance",
             "less than or equal to 1", "fit the bound"),
    SpecCase("pool-slots-zero", VALID + "pool_slots: 0\n", "pool_slots", "greater than or equal to 1", "fit the bound"),
    SpecCase("retry-delay-zero", VALID + "retry_delay_seconds: 0\n", "retry_delay_seconds", "greater than 0",
             "fit the bound"),
    SpecCase("unknown-layout", VALID + "layout: batch\n", "layout", "Input should be", "use one of 'per_object' or 'batched'"),
    SpecCase("concurrency-zero", VALID + "max_concurrency: 0\n", "max_concurrency",
             "greater than or equal to 1", "fit the bound"),
    SpecCase("concurrency-too-high", VALID + "max_concurrency: 500\n", "max_concurrency",
             "less than or equal to 64", "fit the bound"),
    SpecCase("discover-batched", "name: demo\nhubspot: {conn_id: h}\nlayout: batched\ndiscover: {delta_column: Added_At}\n", "(top level)",
             "it needs `layout: per_object`", "list the tables under `objects` to use `layout: batched`"),
]
