"""The bad-spec catalogue, continued (issue 21): the kinds of spec that used to be accepted and then did
something other than what was written, or made every onboarding DAG disappear. One list per class; each case is
a spec file's text and the problem line the loader must report (field, what is wrong, the fix). Test helper of
``test_bad_inputs_spec_files.py`` (one file each) and ``test_bad_inputs_dagbag.py`` (the first case of each
class, among valid specs, through a DagBag)."""

from __future__ import annotations

from bad_input_spec_cases import SpecCase
from minimal_spec import VALID


def _with(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


def _second(extra: str = "", first: str = "") -> str:
    """VALID with ``first`` added to its object, and a second object (Companies) with ``extra``."""
    second = "  - source: Hubspot.Companies\n" + extra + "    delta_column: Added_At\n" \
             "    mapping: [{source: Company_Id, destination: _id}]\n"
    return _with("    delta_column", first + "    delta_column") + second


CLASSES: dict[str, list[SpecCase]] = {
    "repeated-key": [
        SpecCase("key-twice-at-the-top", VALID + "name: other\n", "name", "the key `name` is given twice in one "
                 "mapping (lines 1 and 8)", "keep one `name`"),
        SpecCase("mapping-twice-in-an-object",
                 _with("    mapping:\n", "    mapping: [{source: Email, destination: personalEmail.address}]\n    mapping:\n"),
                 "objects[0].mapping", "the key `mapping` is given twice in one mapping (lines 6 and 7)",
                 "keep one `mapping` (merge their contents into it) and delete the other"),
    ],
    "schedule": [
        SpecCase("six-field-cron", VALID + "schedule: '0 0 3 * * *'\n", "schedule",
                 "has 6 fields; Airflow's cron takes five", "write the five-field equivalent `0 3 * * *`"),
        SpecCase("seven-field-quartz-cron", VALID + "schedule: '0 30 9 ? * MON-FRI *'\n", "schedule",
                 "has 7 fields", "write the five-field equivalent `30 9 * * MON-FRI`"),
        SpecCase("quartz-weekday-numbers", VALID + "schedule: '0 0 3 ? * 2-6'\n", "schedule",
                 "would read the sixth as seconds", "`0 3 * * 1-5`"),
        SpecCase("cron-never-fires", VALID + "schedule: '0 0 31 4 *'\n", "schedule", "never fires",
                 "correct the day-of-month or month"),
    ],
    "airflow-limits": [
        SpecCase("object-named-like-a-dag-task", _with("    delta_column", "    name: plan\n    delta_column"),
                 "objects[0].name", "`plan` is the id of one of the DAG's own tasks", "give the object another `name`"),
        SpecCase("dag-id-too-long", _with("name: demo", "name: " + "a" * 239), "name", "is 239 characters",
                 "shorten `name` to 238 characters or fewer"),
        SpecCase("group-id-too-long", _with("    delta_column", "    name: " + "b" * 201 + "\n    delta_column"),
                 "objects[0].name", "is 201 characters; it is the object's task-group id", "shorten `name`"),
        SpecCase("tag-too-long", VALID + "tags: [" + "t" * 101 + "]\n", "tags[0]", "101 characters",
                 "at most 100: shorten it"),
        SpecCase("empty-tag", VALID + "tags: ['  ']\n", "tags[0]", "an empty tag", "write a word or remove it"),
        SpecCase("infinite-retry-delay", VALID + "retry_delay_seconds: .inf\n", "retry_delay_seconds",
                 "finite number", "not .inf or .nan"),
        SpecCase("retry-delay-beyond-a-day", VALID + "retry_delay_seconds: 1e300\n", "retry_delay_seconds",
                 "less than or equal to 86400", "fit the bound"),
        SpecCase("poll-beyond-an-hour", VALID + "sensor_poll_seconds: 99999\n", "sensor_poll_seconds",
                 "less than or equal to 3600", "fit the bound"),
    ],
    "unique-names": [
        SpecCase("two-objects-one-dataset", _second("    names: {dataset: shared}\n", "    names: {dataset: shared}\n"),
                 "objects[1]", "its dataset is named `shared`, as objects[0]'s", "another `names.dataset`"),
        SpecCase("two-objects-one-flow", _second("    names: {flow: f}\n", "    names: {flow: f}\n"),
                 "objects[1]", "its dataflow is named `f`, as objects[0]'s", "another `names.flow`"),
        SpecCase("two-objects-one-mapping-set", _second("    names: {mapping_set: m}\n", "    names: {mapping_set: m}\n"),
                 "objects[1]", "its mapping set is named `m`", "another `names.mapping_set`"),
        SpecCase("shared-schema-described-twice",
                 _second("    target_schema: {title: S, class: 'https://ns.adobe.com/xdm/context/experienceevent'}\n",
                         "    target_schema: {title: S}\n"),
                 "objects[1]", "its target schema `S` is also objects[0]'s, described otherwise", "describe it alike"),
    ],
    "mapping-rules": [
        SpecCase("destination-mapped-twice",
                 _with("      - {source: Vid, destination: _id}\n",
                       "      - {source: Vid, destination: _id}\n      - {source: Portal_Id, destination: _id}\n"),
                 "objects[0].mapping", "the destination `_id` is mapped 2 times", "map each destination once"),
        SpecCase("namespace-without-identity",
                 _with("{source: Vid, destination: _id}", "{source: Vid, destination: _id, namespace: ECID}"),
                 "objects[0].mapping[0]", "`namespace: ECID` is given without `identity: true`",
                 "add `identity: true`, or remove `namespace`"),
    ],
    "tolerance": [
        SpecCase("tolerance-above-half", VALID + "failed_record_tolerance: 0.8\n", "failed_record_tolerance",
                 "more than half of the records failed", "add `allow_most_records_to_fail: true`"),
        SpecCase("partial-percent-above-half", VALID + "partial_ingestion_percent: 75\n", "partial_ingestion_percent",
                 "more than half of the records failed", "lower it (e.g. 5)"),
    ],
}

CLASS_CASES = [case for cases in CLASSES.values() for case in cases]
