"""The runtime half of the bad-input catalogue: bad connections and parameters, each a case that runs an
operator against the emulator and the exact error it must raise (class, field, what is wrong, fix).

Resources a case needs (a HubSpot base connection, a schema, a dataset) are made by ``World.need``
*before* the test snapshots the emulator. Test helper of ``test_bad_inputs_*``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from aep_emulator.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_ORG_ID, EmulatorServer


def only(result: dict[str, Any]) -> Any:
    """The value of a per-object task's one row (rows in, ``{key: value}`` out)."""
    assert isinstance(result, dict) and len(result) == 1, result
    return next(iter(result.values()))


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


def _row_of(module: str, op_name: str, needs: dict[str, str] | None = None, **kw: Any) -> Callable[[World], Any]:
    """A case running ``aep_provider.<module>.<op_name>(**kw)`` for its one row; ``needs`` maps arguments to
    the resources the case makes first (``World.need``)."""

    def run(world: World) -> Any:
        op_class = getattr(importlib.import_module(f"aep_provider.{module}"), op_name)
        made = {arg: world.need(what) for arg, what in (needs or {}).items()}
        return only(op_class(**kw, **made).execute(world.ctx()))

    return run


def _adhoc_class_of(path: str) -> Callable[[World], Any]:
    return _row_of("operators.schema", "AepCreateAdhocClassOperator", {"base_connection_id": "base"},
                   task_id="c", title="Never created", source_path=path)


def _source_connection_of(path: str) -> Callable[[World], Any]:
    return _row_of("operators.connections", "AepCreateSourceConnectionOperator", {"base_connection_id": "base"},
                   task_id="s", name="Never created", schema_id="https://ns.adobe.com/demotenant/schemas/0000",
                   path=path)


def _check_source(path: str, columns: list[str]) -> Callable[[World], Any]:
    return _row_of("operators.explore", "AepExploreSourceOperator", {"base_connection_id": "base"},
                   task_id="check_source", object_path=path, required_columns=columns)


def _mapping(destination: str) -> Callable[[World], Any]:
    return _row_of("operators.mapping", "AepCreateMappingSetOperator", {"schema_id": "schema"},
                   task_id="m", name="Never created",
                   mappings=[{"source": "Vid", "destination": "_id"},
                             {"source": "Properties_Firstname_Value", "destination": destination}])


def _dataset_on_other_schema(world: World) -> Any:
    from aep_provider.operators.dataset import AepCreateDatasetOperator

    world.need("dataset")
    return only(AepCreateDatasetOperator(
        task_id="d", name="Profiles dataset", schema_id=world.need("other_schema")
    ).execute(world.ctx()))


def _run_window(start: Any, end: Any, flow_id: str = "00000000-0000-4000-8000-000000000f10") -> Callable[[World], Any]:
    return _row_of("operators.flow", "AepRunFlowOperator", task_id="r", flow_id=flow_id, window_start=start,
                   window_end=end, delta_column="Updated_At")


def _dataflow(schedule: dict[str, Any]) -> Callable[[World], Any]:
    return _row_of("operators.flow", "AepCreateDataflowOperator", {"flow_spec_id": "flow_spec"},
                   task_id="f", name="Never created", source_connection_id="no-source",
                   target_connection_id="no-target", mapping_id="no-mapping", delta_column="Updated_At",
                   schedule=schedule)


def _adhoc_fields(fields: dict[str, str]) -> Callable[[World], Any]:
    return _row_of("operators.schema", "AepCreateAdhocClassOperator", task_id="c", title="Never created",
                   fields=fields)


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
