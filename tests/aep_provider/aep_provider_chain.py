"""The nine steps of the seed tutorial as operators, run in order against the emulator (test helper)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aep_provider.operators.base import AepRowsOperator
from aep_provider.operators.connections import (
    AepCreateDatasetBaseConnectionOperator,
    AepCreateHubSpotBaseConnectionOperator,
    AepCreateSourceConnectionOperator,
    AepCreateTargetConnectionOperator,
)
from aep_provider.operators.dataset import AepCreateDatasetOperator
from aep_provider.operators.flow import AepCreateDataflowOperator, AepGetFlowSpecOperator, AepRunFlowOperator
from aep_provider.operators.mapping import AepCreateMappingSetOperator
from aep_provider.operators.schema import (
    AepCreateAdhocClassOperator,
    AepCreateAdhocSchemaOperator,
    AepCreateTargetSchemaOperator,
)

HUBSPOT_SECRETS = {
    "clientSecret": "hs-client-secret-123",
    "accessToken": "hs-access-token-456",
    "refreshToken": "hs-refresh-789",
}

MAPPINGS = [
    {"source": "Properties_Firstname_Value", "destination": "person.name.firstName"},
    {"source": "Properties_Lastname_Value", "destination": "person.name.lastName"},
    {"source": "Properties_Email_Value", "destination": "personalEmail.address"},
    {"source": "Vid", "destination": "_id"},
]

# A one-time flow (AEP creates on-demand runs only for those). Its own run takes the rows before its start
# (our model of that run): none, the emulator's contacts were added from late 2024 on. Every later row is
# ingested by on-demand windows.
SCHEDULE = {"frequency": "once", "start_time": "2024-01-01T00:00:00Z"}
#: A HubSpot column Adobe documents (the seed tutorial's mapping): the delta column of the test flows.
DELTA = "Added_At"


def only(result: dict[str, Any]) -> Any:
    """The value of a per-object task's one row (``{key: value}`` out, one object is one row)."""
    assert isinstance(result, dict) and len(result) == 1, result
    return next(iter(result.values()))


def hubspot_conn_env(monkeypatch) -> str:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_DEFAULT",
        json.dumps(
            {
                "conn_type": "generic",
                "login": "hs-client-id",
                "password": HUBSPOT_SECRETS["clientSecret"],
                "extra": {
                    "accessToken": HUBSPOT_SECRETS["accessToken"],
                    "refreshToken": HUBSPOT_SECRETS["refreshToken"],
                },
            }
        ),
    )
    return "hubspot_default"


def onboard(make_context: Callable[[], dict[str, Any]], run: bool = True) -> dict[str, Any]:
    """Run every step once; return the ids and the contexts (for XCom checks)."""
    ids: dict[str, Any] = {}
    ctxs: dict[str, dict[str, Any]] = {}

    def step(key: str, op: Any) -> Any:
        ctxs[key] = make_context()
        result = op.execute(ctxs[key])
        ids[key] = only(result) if isinstance(op, AepRowsOperator) else result
        return ids[key]

    base = step(
        "base",
        AepCreateHubSpotBaseConnectionOperator(
            task_id="base", name="HubSpot account", hubspot_conn_id="hubspot_default"
        ),
    )
    cls = step(
        "class",
        AepCreateAdhocClassOperator(
            task_id="class",
            title="HubSpot contacts class",
            base_connection_id=base,
            source_path="Hubspot.Contacts",
        ),
    )
    adhoc = step(
        "adhoc_schema",
        AepCreateAdhocSchemaOperator(task_id="adhoc", title="HubSpot contacts ad-hoc schema", class_id=cls),
    )
    src = step(
        "source",
        AepCreateSourceConnectionOperator(
            task_id="src",
            name="HubSpot contacts source",
            base_connection_id=base,
            schema_id=adhoc,
            path="Hubspot.Contacts",
        ),
    )
    target_schema = step(
        "target_schema",
        AepCreateTargetSchemaOperator(
            task_id="target_schema",
            title="Target schema for marketing automation",
            field_groups=[
                "https://ns.adobe.com/xdm/context/profile-person-details",
                "https://ns.adobe.com/xdm/context/profile-personal-details",
                "https://ns.adobe.com/xdm/context/profile-personal-details",
            ],
        ),
    )
    dataset = step(
        "dataset",
        AepCreateDatasetOperator(task_id="dataset", name="HubSpot contacts", schema_id=target_schema),
    )
    ds_base = step(
        "dataset_base",
        AepCreateDatasetBaseConnectionOperator(task_id="ds_base", name="Dataset base connection"),
    )
    tgt = step(
        "target",
        AepCreateTargetConnectionOperator(
            task_id="tgt",
            name="HubSpot contacts target",
            base_connection_id=ds_base,
            schema_id=target_schema,
            dataset_id=dataset,
        ),
    )
    mapping = step(
        "mapping", AepCreateMappingSetOperator(task_id="mapping", schema_id=target_schema, mappings=MAPPINGS)
    )
    spec = step("flow_spec", AepGetFlowSpecOperator(task_id="spec"))
    flow = step(
        "flow",
        AepCreateDataflowOperator(
            task_id="flow",
            name="HubSpot contacts dataflow",
            flow_spec_id=spec,
            source_connection_id=src,
            target_connection_id=tgt,
            mapping_id=mapping,
            mapping_version=only(ctxs["mapping"]["ti"].xcom["mapping_version"]),
            delta_column=DELTA,
            schedule=SCHEDULE,
        ),
    )
    if run:
        step(
            "run",
            AepRunFlowOperator(
                task_id="run",
                flow_id=flow,
                window_start="2025-01-01T00:00:00Z",
                window_end="2026-01-01T00:00:00Z",
                delta_column=DELTA,
            ),
        )
    ids["_ctx"] = ctxs
    return ids


def resource_counts(emulator) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in emulator.admin.state()["resources"]:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    return counts


EXPECTED_COUNTS = {
    "class": 1,
    "schema": 2,
    "dataset": 1,
    "connection": 2,
    "sourceConnection": 1,
    "targetConnection": 1,
    "mappingSet": 1,
    "flow": 1,
    "run": 2,  # the one-time flow's own run and the window's on-demand run
}


def defer_and_rebuild(sensor: Any, context: dict[str, Any]) -> Any:
    """The trigger the sensor defers to, rebuilt from its serialized form as the triggerer does."""
    import importlib

    import pytest
    from airflow.sdk.exceptions import TaskDeferred

    with pytest.raises(TaskDeferred) as info:
        sensor.execute(context)
    assert info.value.method_name == "execute_complete"
    classpath, kwargs = info.value.trigger.serialize()
    module, name = classpath.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    return rebuilt


def only_event_once_runs_end(trigger: Any, admin: Any, seconds: float = 700) -> Any:
    """The trigger's one event: none while the runs go on, then one after the emulator's clock moves on."""
    import asyncio

    import pytest

    async def drive() -> Any:
        gen = trigger.run()
        task = asyncio.ensure_future(gen.__anext__())
        await asyncio.sleep(0.3)
        assert not task.done()  # still waiting while the runs are in progress
        await asyncio.to_thread(admin.advance, seconds)
        event = await asyncio.wait_for(task, 10)
        with pytest.raises(StopAsyncIteration):
            await gen.__anext__()  # exactly one event
        return event

    return asyncio.run(drive())


def dataflow_op(ids: dict[str, Any], schedule: dict[str, Any], task_id: str = "flow",
                name: str = "HubSpot contacts dataflow") -> AepCreateDataflowOperator:
    """A dataflow on the onboarded chain's connections and mapping, with another schedule."""
    return AepCreateDataflowOperator(
        task_id=task_id, name=name, flow_spec_id=ids["flow_spec"], source_connection_id=ids["source"],
        target_connection_id=ids["target"], mapping_id=ids["mapping"], delta_column=DELTA, schedule=schedule,
    )
