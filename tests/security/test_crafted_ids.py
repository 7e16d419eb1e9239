"""A crafted resource id cannot change which endpoint a request reaches (checked against the emulator).

Ids come from templated fields and XComs. Flow Service, Catalog and Data Prep ids are checked against
the shape AEP gives them before any request (the error names the argument); Schema Registry ids
(``$id`` URIs, altIds) are quoted as one path segment. Zero-latency fault rules of the emulator count
the requests that reach each path, so the test sees where a request really went; a control request
with the same id left unquoted shows the probe would catch a path change.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aep_emulator.testing import EmulatorServer
from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.errors import AepConfigError, AepNotFoundError
from aep_provider.models.common import XED_FULL

CATALOG = "^/data/foundation/catalog/dataSets"
# A crafted id is none of the tenant's (https://ns.adobe.com/<tenantId>/...): the hook reads it from global.
SCHEMAS = "^/data/foundation/schemaregistry/(tenant|global)/schemas/"
PLATFORM = "^/data/"
VICTIM = "^/data/foundation/schemaregistry/tenant/schemas/victim$"


def _probe(emulator: EmulatorServer, *patterns: str) -> None:
    emulator.admin.set_faults([{"kind": "latency", "latency_ms": 0, "path_regex": p} for p in patterns])


def _hits(emulator: EmulatorServer) -> dict[str, int]:
    return {rule["path_regex"]: rule["hits"] for rule in emulator.admin.faults()["rules"]}


def test_a_crafted_schema_id_stays_one_path_segment(aep_conn_env: EmulatorServer) -> None:
    emulator = aep_conn_env
    hook = AepHook()
    _probe(emulator, CATALOG, SCHEMAS, VICTIM)
    # Dot segments: sent as one encoded segment, so no proxy or server on the way can resolve them.
    assert hook.get_resource("schemas", "../../catalog/dataSets") is None
    # A query: the id keeps its `?`, it does not turn the rest into parameters of another request.
    assert hook.get_resource("schemas", "victim?start=x") is None
    assert _hits(emulator) == {CATALOG: 0, SCHEMAS: 2, VICTIM: 0}, "a request left its path"

    # Control: the same id unquoted reaches another path (the probe would see the change).
    with pytest.raises(AepNotFoundError):
        hook.get("/data/foundation/schemaregistry/tenant/schemas/victim?start=x", accept=XED_FULL)
    assert _hits(emulator)[VICTIM] == 1


CRAFTED: list[tuple[str, Any]] = [
    ("flow_id", lambda h: h.get_object("flows", "../connections")),
    ("flow_id", lambda h: h.delete_object("flows", "4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c?op=disable")),
    ("run_id", lambda h: h.get_object("runs", "../flows")),
    ("base_connection_id", lambda h: h.explore("../../catalog/dataSets")),
    ("flow_id", lambda h: h.list_runs("4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c,createdAt>0")),
    ("dataset_id", lambda h: h.get_dataset("5c8c3c555033b814b69f947f/../../../flowservice/flows")),
    ("dataset_id", lambda h: h.delete_dataset("5c8c3c555033b814b69f947f#")),
    ("mapping_set_id", lambda h: h.get_mapping_set("../../catalog/dataSets")),
]


@pytest.mark.parametrize(("argument", "call"), CRAFTED, ids=[f"{a}-{i}" for i, (a, _) in enumerate(CRAFTED)])
def test_a_malformed_id_is_refused_before_any_request(aep_conn_env: EmulatorServer, argument: str, call: Any) -> None:
    emulator = aep_conn_env
    _probe(emulator, PLATFORM)
    with pytest.raises(AepConfigError) as refused:
        call(AepHook())
    assert f"{argument}=" in str(refused.value) and "AEP gives them the form" in str(refused.value)
    assert _hits(emulator) == {PLATFORM: 0}, "a request was sent with the crafted id"


def test_a_well_formed_id_is_still_quoted_and_reaches_its_endpoint(aep_conn_env: EmulatorServer) -> None:
    _probe(aep_conn_env, "^/data/foundation/flowservice/flows/4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c$")
    assert AepHook().get_object("flows", "4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c") is None
    assert list(_hits(aep_conn_env).values()) == [1]


def test_a_templated_run_id_of_the_trigger_is_refused_naming_its_object(aep_conn_env: EmulatorServer) -> None:
    """The deferred sensor's trigger reports the object's key and the argument, and sends nothing."""
    from aep_provider.triggers.flow_run import AepFlowRunTrigger

    _probe(aep_conn_env, PLATFORM)
    trigger = AepFlowRunTrigger(targets=[{"key": "deals", "flow_id": "4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c",
                                          "run_id": "../flows"}], poll_interval=0.05)

    async def first_event() -> Any:
        return await trigger.run().__anext__()

    payload = asyncio.run(first_event()).payload
    assert payload["status"] == "error" and "[deals]" in payload["message"] and "run_id='../flows'" in payload["message"]
    assert _hits(aep_conn_env) == {PLATFORM: 0}


def test_an_operator_refuses_a_crafted_base_connection_id(aep_conn_env: EmulatorServer) -> None:
    from aep_provider.operators.connections import AepCreateHubSpotBaseConnectionOperator

    _probe(aep_conn_env, PLATFORM)
    op = AepCreateHubSpotBaseConnectionOperator(task_id="b", name="x", base_connection_id="../flows?x=")
    with pytest.raises(AepConfigError, match=r"base_connection_id='\.\./flows\?x='"):
        op.execute({})
    assert _hits(aep_conn_env) == {PLATFORM: 0}
