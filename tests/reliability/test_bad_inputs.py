"""Bad-input catalogue: every bad spec, connection or parameter fails with the precise error, naming
the field, what is wrong and the fix; the runtime cases fail before any write.

* Spec cases go through ``aep_onboarding.loader.load_spec`` on a file written to ``tmp_path``: a
  ``SpecError`` whose message names the file, and one problem line that starts with the field and
  says both what is wrong and the fix. The loader makes no Platform call, so these cases have no
  write to check.
* Connection and parameter cases run an operator's ``execute`` against the emulator: the exact
  exception class (``AepConfigError`` for bad settings and parameters, the ``AepApiError`` subclass
  of the Platform's answer otherwise), and the emulator's resources and write counter are the same
  afterwards. Resources a case needs (a HubSpot base connection, a schema, a dataset) are created *before* the snapshot.
* An unknown HubSpot table passes spec validation (the spec only checks the ``Hubspot.<Table>``
  form): it is found at run time. With ``fields: discover`` the ad-hoc class task explores the table
  first and fails on a 404 before it writes; the source connection task is refused by the Platform
  (400, nothing written). In a DAG the object's read-only ``check_source`` task fails first; the
  DAG-level test at the end checks that nothing at all is written for that object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aep_emulator.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_ORG_ID, EmulatorServer

# --------------------------------------------------------------------------------------------------
# spec cases
# --------------------------------------------------------------------------------------------------

VALID = """\
name: demo
hubspot: {conn_id: hubspot_default}
objects:
  - source: Hubspot.Contacts
    delta_column: Added_At
    mapping:
      - {source: Vid, destination: _id}
"""


def only(result: dict[str, Any]) -> Any:
    """The value of a per-object task's one row (rows in, ``{key: value}`` out)."""
    assert isinstance(result, dict) and len(result) == 1, result
    return next(iter(result.values()))


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


def _state(emulator: EmulatorServer) -> tuple[list[tuple[str, ...]], int]:
    state = emulator.admin.state()
    resources = sorted(tuple(str(r[k]) for k in ("org", "sandbox", "kind", "id", "name")) for r in state["resources"])
    return resources, state["counters"]["writes"]


@pytest.mark.parametrize("case", SPEC_CASES, ids=lambda c: c.id)
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
    from aep_onboarding.loader import iter_specs

    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID)
    loaded = {item.path.name: item for item in iter_specs(tmp_path)}
    assert loaded["a.yaml"].spec is not None
    error = str(loaded["b.yaml"].error)
    assert "b.yaml" in error and "already used by a.yaml" in error and "give this spec another name" in error


# --------------------------------------------------------------------------------------------------
# connection and parameter cases (operators against the emulator)
# --------------------------------------------------------------------------------------------------

HUBSPOT = {"conn_type": "generic", "login": "hs-client", "password": "hs-secret",
           "extra": {"access_token": "hs-access", "refresh_token": "hs-refresh"}}


class FakeTI:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


class World:
    """The emulator, connection helpers and the resources a case needs (made before the snapshot)."""

    def __init__(self, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.emulator = emulator
        self.monkeypatch = monkeypatch
        self.ids: dict[str, str] = {}
        self.conn("hubspot_default", HUBSPOT)

    def conn(self, conn_id: str, body: dict[str, Any]) -> str:
        self.monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(body))
        return conn_id

    def aep(self, conn_id: str, extra: dict[str, Any] | None = None, **fields: Any) -> str:
        """An AEP connection to the emulator with some fields or extras replaced (None drops one)."""
        body: dict[str, Any] = {
            "conn_type": "adobe_experience_platform", "login": DEMO_CLIENT_ID, "password": DEMO_CLIENT_SECRET,
            "host": self.emulator.base_url,
        }
        body.update(fields)
        merged = {"ims_host": self.emulator.base_url, "org_id": DEMO_ORG_ID, "sandbox": "prod", "max_retries": 1}
        merged.update(extra or {})
        body["extra"] = {k: v for k, v in merged.items() if v is not None}
        return self.conn(conn_id, {k: v for k, v in body.items() if v is not None})

    @staticmethod
    def ctx() -> dict[str, Any]:
        return {"ti": FakeTI()}

    def need(self, what: str) -> str:
        from aep_provider.operators.connections import AepCreateHubSpotBaseConnectionOperator
        from aep_provider.operators.dataset import AepCreateDatasetOperator
        from aep_provider.operators.flow import AepGetFlowSpecOperator
        from aep_provider.operators.schema import AepCreateTargetSchemaOperator

        if what not in self.ids:
            makers: dict[str, Callable[[], str]] = {
                "base": lambda: AepCreateHubSpotBaseConnectionOperator(
                    task_id="b", name="HubSpot base connection", hubspot_conn_id="hubspot_default"
                ).execute(self.ctx()),
                "schema": lambda: only(AepCreateTargetSchemaOperator(task_id="s", title="Profiles").execute(self.ctx())),
                "other_schema": lambda: only(AepCreateTargetSchemaOperator(
                    task_id="s", title="Accounts", class_ref="https://ns.adobe.com/xdm/context/account", field_groups=[]
                ).execute(self.ctx())),
                "dataset": lambda: only(AepCreateDatasetOperator(
                    task_id="d", name="Profiles dataset", schema_id=self.need("schema")
                ).execute(self.ctx())),
                "flow_spec": lambda: AepGetFlowSpecOperator(task_id="f").execute(self.ctx()),
            }
            self.ids[what] = makers[what]()
        return self.ids[what]


def _target_schema(**kw: Any) -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.operators.schema import AepCreateTargetSchemaOperator

        conn_kw = kw.pop("conn", None)
        if conn_kw is not None:
            kw["aep_conn_id"] = world.aep("bad_aep", **conn_kw)
        return only(AepCreateTargetSchemaOperator(task_id="t", title="Never created", **kw).execute(world.ctx()))

    return run


def _hubspot(conn: dict[str, Any] | None, conn_id: str = "bad_hubspot", **kw: Any) -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.operators.connections import AepCreateHubSpotBaseConnectionOperator

        if conn is not None:
            world.conn(conn_id, conn)
        return AepCreateHubSpotBaseConnectionOperator(
            task_id="h", name="Never created", hubspot_conn_id=None if "base_connection_id" in kw else conn_id, **kw
        ).execute(world.ctx())

    return run


def _adhoc_class_of(path: str) -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.operators.schema import AepCreateAdhocClassOperator

        return only(AepCreateAdhocClassOperator(
            task_id="c", title="Never created", base_connection_id=world.need("base"), source_path=path
        ).execute(world.ctx()))

    return run


def _source_connection_of(path: str) -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.operators.connections import AepCreateSourceConnectionOperator

        return only(AepCreateSourceConnectionOperator(
            task_id="s", name="Never created", base_connection_id=world.need("base"),
            schema_id="https://ns.adobe.com/demotenant/schemas/0000", path=path,
        ).execute(world.ctx()))

    return run


def _check_source(path: str, columns: list[str]) -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.operators.explore import AepExploreSourceOperator

        return only(AepExploreSourceOperator(
            task_id="check_source", base_connection_id=world.need("base"), object_path=path,
            required_columns=columns,
        ).execute(world.ctx()))

    return run


def _mapping(destination: str) -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.operators.mapping import AepCreateMappingSetOperator

        return only(AepCreateMappingSetOperator(
            task_id="m", name="Never created", schema_id=world.need("schema"),
            mappings=[{"source": "Vid", "destination": "_id"}, {"source": "Properties_Firstname_Value",
                                                                 "destination": destination}],
        ).execute(world.ctx()))

    return run


def _dataset_on_other_schema(world: World) -> Any:
    from aep_provider.operators.dataset import AepCreateDatasetOperator

    world.need("dataset")
    return only(AepCreateDatasetOperator(
        task_id="d", name="Profiles dataset", schema_id=world.need("other_schema")
    ).execute(world.ctx()))


def _run_window(start: Any, end: Any, flow_id: str = "00000000-0000-4000-8000-000000000f10") -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.operators.flow import AepRunFlowOperator

        return only(AepRunFlowOperator(
            task_id="r", flow_id=flow_id, window_start=start, window_end=end, delta_column="Updated_At"
        ).execute(world.ctx()))

    return run


def _dataflow(schedule: dict[str, Any]) -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.operators.flow import AepCreateDataflowOperator

        return only(AepCreateDataflowOperator(
            task_id="f", name="Never created", flow_spec_id=world.need("flow_spec"),
            source_connection_id="no-source", target_connection_id="no-target", mapping_id="no-mapping",
            delta_column="Updated_At", schedule=schedule,
        ).execute(world.ctx()))

    return run


def _adhoc_fields(fields: dict[str, str]) -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.operators.schema import AepCreateAdhocClassOperator

        return only(AepCreateAdhocClassOperator(task_id="c", title="Never created", fields=fields).execute(world.ctx()))

    return run


def _sensor(**kw: Any) -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.sensors.flow_run import AepFlowRunSensor

        return AepFlowRunSensor(task_id="w", flow_id="f", **kw)

    return run


def _flow_spec_named(name: str) -> Callable[[World], Any]:
    def run(world: World) -> Any:
        from aep_provider.operators.flow import AepGetFlowSpecOperator

        return AepGetFlowSpecOperator(task_id="f", name=name).execute(world.ctx())

    return run


@dataclass(frozen=True)
class RunCase:
    id: str
    run: Callable[[World], Any]
    error: str  # the exact exception class (aep_provider.hooks.errors)
    field: str  # the parameter or connection field named
    wrong: str  # what is wrong
    fix: str  # what to do
    needs: tuple[str, ...] = ()
    bug: str | None = None  # a product bug this case shows (strict xfail until fixed)
    marks: tuple[Any, ...] = field(default=())


CONFIG, AUTH, NOT_FOUND, CONFLICT, TRANSIENT = (
    "AepConfigError", "AepAuthError", "AepNotFoundError", "AepConflictError", "AepTransientError"
)
HUBSPOT_TABLES = "one of: Hubspot.Contacts, Hubspot.Companies"

RUN_CASES = [
    RunCase("missing-airflow-connection", _target_schema(aep_conn_id="no_such_conn"), CONFIG,
            "'no_such_conn' (aep_conn_id)", "is not defined", "create it (type adobe_experience_platform, e.g. as "
            "AIRFLOW_CONN_NO_SUCH_CONN"),
    RunCase("missing-hubspot-connection", _hubspot(None, conn_id="no_such_hubspot"), CONFIG,
            "'no_such_hubspot' (hubspot_conn_id)", "is not defined", "create it (type generic"),
    RunCase("wrong-client-secret", _target_schema(conn={"password": "not-the-secret"}), AUTH,
            "password (client secret)", "IMS refused the client credentials", "Check login (client id), password"),
    RunCase("unknown-client-id", _target_schema(conn={"login": "no-such-client"}), AUTH,
            "login (client id)", "IMS refused the client credentials", "Check login (client id)"),
    RunCase("no-login", _target_schema(conn={"login": None}), CONFIG, "'bad_aep'", "has no login",
            "set login to the client id"),
    RunCase("no-password", _target_schema(conn={"password": None}), CONFIG, "'bad_aep'", "has no password",
            "set password to the client secret"),
    RunCase("no-org-id", _target_schema(conn={"extra": {"org_id": None}}), CONFIG, "extra.org_id",
            "'bad_aep' has no extra.org_id", "set it to the IMS org id, e.g. 'ABC123@AdobeOrg'"),
    RunCase("org-id-without-adobeorg", _target_schema(conn={"extra": {"org_id": "DEMO0000000000000000000"}}), AUTH,
            "extra.org_id", "Profile is not valid (HTTP 403, code 403025", "check extra.org_id on the connection"),
    RunCase("empty-sandbox-parameter", _target_schema(sandbox=""), CONFIG, "sandbox", "sandbox is empty",
            "pass sandbox='prod'"),
    RunCase("unknown-sandbox", _target_schema(conn={"extra": {"sandbox": "staging"}}), NOT_FOUND,
            "extra.sandbox", "'staging' does not exist", "set extra.sandbox on the connection or sandbox= on the task"),
    RunCase("ims-host-refuses-connection", _target_schema(conn={"extra": {"ims_host": "http://127.0.0.1:9"}}),
            TRANSIENT, "extra.ims_host", "IMS did not answer", "check extra.ims_host"),
    RunCase("timeout-not-a-number", _target_schema(conn={"extra": {"timeout": "soon"}}), CONFIG,
            "extra 'timeout'", "got 'soon'", "must be a number"),
    RunCase("max-retries-not-a-number", _target_schema(conn={"extra": {"max_retries": "many"}}), CONFIG,
            "extra 'max_retries'", "got 'many'", "must be a whole number"),
    RunCase("hubspot-connection-without-password",
            _hubspot({"conn_type": "generic", "login": "hs", "extra": {"access_token": "t"}}), CONFIG,
            "'bad_hubspot'", "lacks password (clientSecret)", "set them to the HubSpot app's credentials"),
    RunCase("hubspot-connection-without-access-token",
            _hubspot({"conn_type": "generic", "login": "hs", "password": "p"}), CONFIG,
            "'bad_hubspot'", "lacks extra.accessToken", "set them to the HubSpot app's credentials"),
    RunCase("unknown-hubspot-base-connection-id", _hubspot(None, base_connection_id="00000000-0000-4000-8000-000000000000"),
            CONFIG, "base_connection_id='00000000-0000-4000-8000-000000000000'", "does not exist in sandbox prod",
            "pass an existing HubSpot base connection id"),
    RunCase("unknown-hubspot-table-explored", _adhoc_class_of("Hubspot.Leads"), CONFIG,
            "source_path='Hubspot.Leads'", "The table 'Hubspot.Leads' does not exist",
            f"set source_path (objects[].source of an onboarding spec) to {HUBSPOT_TABLES}", needs=("base",)),
    RunCase("unknown-hubspot-table-source-connection", _source_connection_of("Hubspot.Leads"), CONFIG,
            "path='Hubspot.Leads'", "the HubSpot table 'Hubspot.Leads' does not exist",
            f"set path (objects[].source of an onboarding spec) to {HUBSPOT_TABLES}", needs=("base",)),
    RunCase("unknown-hubspot-table-check-source", _check_source("Hubspot.Leads", ["Id"]), CONFIG,
            "object_path='Hubspot.Leads'", "is not a table",
            f"set object_path (objects[].source of an onboarding spec) to {HUBSPOT_TABLES}", needs=("base",)),
    RunCase("mapping-source-column-the-table-lacks",
            _check_source("Hubspot.Contacts", ["Vid", "Properties_Firstname", "Updated_At"]), CONFIG,
            "objects[].mapping", "has no column 'Properties_Firstname'", "closest ['Properties_Firstname_Value'",
            needs=("base",)),
    RunCase("mapping-to-a-path-the-schema-lacks", _mapping("person.name.firstname"), CONFIG,
            "destination 'person.name.firstname'", "is not in the schema", "did you mean 'person.name.firstName'",
            needs=("schema",)),
    RunCase("dataset-name-taken-on-another-schema", _dataset_on_other_schema, CONFLICT,
            "Dataset 'Profiles dataset'", "already exists on schema", "use another dataset name or delete dataset",
            needs=("dataset", "other_schema")),
    RunCase("window-end-before-start", _run_window("2025-12-02T00:00:00Z", "2025-12-01T00:00:00Z"), CONFIG,
            "window_end", "is before window_start", "swap them"),
    RunCase("one-window-bound-empty", _run_window("2025-12-01T00:00:00Z", ""), CONFIG,
            "window_end=''", "window_start='2025-12-01T00:00:00Z' and window_end=''", "give both or neither"),
    RunCase("window-start-not-a-time", _run_window("yesterday-ish", "2025-12-01T00:00:00Z"), CONFIG,
            "window_start='yesterday-ish'", "is not a time", "use an ISO 8601 string such as '2026-01-01T00:00:00Z'"),
    RunCase("unknown-flow-id", _run_window("2025-12-01T00:00:00Z", "2025-12-02T00:00:00Z"), CONFIG,
            "flow_id='00000000-0000-4000-8000-000000000f10'", "does not exist",
            "pass the id returned by AepCreateDataflowOperator"),
    RunCase("dataflow-minute-interval-under-15", _dataflow({"frequency": "minute", "interval": 5, "start_time": "now"}),
            CONFIG, "schedule.interval=5", "is too small for frequency 'minute'", "use at least 15",
            needs=("flow_spec",)),
    RunCase("dataflow-unknown-frequency", _dataflow({"frequency": "fortnight", "interval": 1, "start_time": "now"}),
            CONFIG, "frequency", "Invalid schedule", "Input should be 'once', 'minute', 'hour', 'day' or 'week'",
            needs=("flow_spec",)),
    RunCase("dataflow-start-not-a-time", _dataflow({"frequency": "day", "interval": 1, "start_time": "soonish"}),
            CONFIG, "schedule.start_time='soonish'", "is not a time", "use an ISO 8601 string",
            needs=("flow_spec",)),
    RunCase("adhoc-field-type-unknown", _adhoc_fields({"Vid": "varchar"}), CONFIG, "fields.Vid",
            "Invalid ad-hoc class", "Input should be 'string', 'number', 'integer', 'boolean', 'date' or 'date-time'"),
    RunCase("sensor-tolerance-above-one", _sensor(failed_record_tolerance=2), CONFIG, "failed_record_tolerance=2",
            "must be a ratio", "between 0 and 1 (e.g. 0.05)"),
    RunCase("sensor-which-unknown", _sensor(which="second"), CONFIG, "which='second'", "must be",
            "'latest' or 'first'"),
    RunCase("unknown-flow-spec-name", _flow_spec_named("CRMtoAEP"), NOT_FOUND, "'CRMtoAEP'", "No flow spec named",
            "for HubSpot use name='CRMToAEP'"),
]


@pytest.fixture
def world(airflow_db, emulator: EmulatorServer, aep_conn_env, monkeypatch: pytest.MonkeyPatch, tmp_path) -> World:
    from aep_provider.hooks.retry import RetryPolicy
    from aep_provider.hooks.token_cache import clear_memory_cache

    monkeypatch.setenv("AEP_TOKEN_CACHE_DIR", str(tmp_path / "token-cache"))
    clear_memory_cache()
    monkeypatch.setattr(
        RetryPolicy, "default", classmethod(lambda cls: cls(max_retries=2, max_seconds=10, base_delay=0.01, max_delay=0.05))
    )
    return World(emulator, monkeypatch)


def _params() -> list[Any]:
    out = []
    for case in RUN_CASES:
        marks = list(case.marks)
        if case.bug:
            marks.append(pytest.mark.xfail(reason=f"product bug: {case.bug}", strict=True))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_bad_connection_or_parameter_fails_before_any_write(case: RunCase, world: World) -> None:
    for need in case.needs:
        world.need(need)
    from aep_provider.hooks import errors

    error = getattr(errors, case.error)
    before = _state(world.emulator)
    with pytest.raises(error) as caught:
        case.run(world)
    message = str(caught.value)
    print(f"\n[bad-input] {case.id}: {type(caught.value).__name__}: {message}")
    assert type(caught.value) is error, f"{type(caught.value).__name__}, not {case.error}: {message}"
    for what, text in (("field", case.field), ("what is wrong", case.wrong), ("fix", case.fix)):
        assert text in message, f"the {what} {text!r} is not in {case.error}: {message}"
    assert _state(world.emulator) == before, "the failing case changed the emulator's resources"


def test_catalogue_has_at_least_25_cases() -> None:
    assert len(SPEC_CASES) + len(RUN_CASES) >= 25
    assert len({c.id for c in SPEC_CASES} | {c.id for c in RUN_CASES}) == len(SPEC_CASES) + len(RUN_CASES)


# --------------------------------------------------------------------------------------------------
# product bugs found while building the catalogue
# --------------------------------------------------------------------------------------------------


def test_hubspot_connection_without_refresh_token_is_accepted(world: World) -> None:
    """The refresh token is optional (operator docs; the connection spec requires clientId, clientSecret,
    accessToken only), yet the body sent ``"refreshToken": null`` and the Platform refused it (400)."""
    from aep_provider.operators.connections import AepCreateHubSpotBaseConnectionOperator

    world.conn("hs_no_refresh", {"conn_type": "generic", "login": "hs", "password": "p",
                                 "extra": {"access_token": "t"}})
    base_id = AepCreateHubSpotBaseConnectionOperator(
        task_id="h", name="No refresh token", hubspot_conn_id="hs_no_refresh"
    ).execute(world.ctx())
    assert base_id


UNKNOWN_TABLE_SPEC = """\
name: unknown_table
hubspot: {conn_id: hubspot_default}
retries: 0
sensor_poll_seconds: 0.2
objects:
  - source: Hubspot.Leads
    delta_column: Added_At
    mapping: [{source: Id, destination: _id}]
"""


def test_unknown_hubspot_table_in_a_dag_fails_before_any_write_of_that_object(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Until 82eee90 the factory wired ``gate >> [adhoc_class, target_schema]``, so the target schema,
    dataset, mapping set and target connection of an object whose table does not exist were created while
    adhoc_class failed on the explore 404. Now the read-only ``check_source`` task runs first."""
    from aep_onboarding.factory import build_onboarding_dag
    from aep_onboarding.loader import load_spec
    from aep_onboarding.names import object_names

    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "unknown_table.yaml").write_text(UNKNOWN_TABLE_SPEC)
    monkeypatch.setenv("AEP_SPECS_DIR", str(specs))
    spec = load_spec(specs / "unknown_table.yaml")  # the spec is valid: only the table's form is checked
    run = build_onboarding_dag(spec).test(logical_date=None)
    assert run.state == "failed"

    names = object_names(spec, spec.objects[0])
    written = sorted(
        f"{r['kind']} {r['name']!r}" for r in world.emulator.admin.state()["resources"]
        if r["name"] in set(vars(names).values())
    )
    assert written == [], f"resources of the unknown table's object were written: {written}"
