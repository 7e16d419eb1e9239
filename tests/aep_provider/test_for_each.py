"""``for_each``: one operator task makes its Platform call for many objects, joined by key.

Every test runs against the emulator: the onboarding chain for several HubSpot objects, each step's
``{key: id}`` XCom feeding the next through ``inputs``; the same chain run again; ``keys``; one bad
row among good ones; bad ``for_each`` input; faults; the flow-run sensor/trigger over many flows; and
``AepRunFlowOperator`` starting one run per flow, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aep_provider_chain import SCHEDULE, defer_and_rebuild, hubspot_conn_env, only, only_event_once_runs_end
from airflow.sdk.exceptions import AirflowSkipException

from aep_provider.flow_runs import run_window
from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.transport import XED_SINGLE
from aep_provider.operators.connections import (
    AepCreateDatasetBaseConnectionOperator,
    AepCreateHubSpotBaseConnectionOperator,
    AepCreateSourceConnectionOperator,
    AepCreateTargetConnectionOperator,
)
from aep_provider.operators.dataset import AepCreateDatasetOperator
from aep_provider.operators.flow import AepCreateDataflowOperator, AepGetFlowSpecOperator, AepRunFlowOperator
from aep_provider.operators.mapping import AepCreateMappingSetOperator
from aep_provider.operators.rows import AepRowsFailedError
from aep_provider.operators.schema import (
    AepCreateAdhocClassOperator,
    AepCreateAdhocSchemaOperator,
    AepCreateTargetSchemaOperator,
)
from aep_provider.sensors.flow_run import AepFlowRunFailed, AepFlowRunSensor
from aep_provider.triggers.flow_run import AepFlowRunTrigger

WINDOW = {"window_start": "2025-01-01T00:00:00Z", "window_end": "2026-01-01T00:00:00Z"}
ACCOUNT = "https://ns.adobe.com/xdm/context/account"
OPPORTUNITY = "https://ns.adobe.com/xdm/context/opportunity"

# Three HubSpot tables, each onboarded to its own XDM class (columns and paths of the emulator).
OBJECTS: dict[str, dict[str, Any]] = {
    "contacts": {
        "path": "Hubspot.Contacts",
        "fields": {
            "Vid": "long",
            "Properties_Firstname_Value": "string",
            "Properties_Lastname_Value": "string",
            "Properties_Email_Value": "string",
            "Updated_At": "date-time",
        },
        "class_ref": "https://ns.adobe.com/xdm/context/profile",
        "field_groups": ["profile-person-details", "profile-personal-details"],
        "mappings": [
            {"source": "Vid", "destination": "_id"},
            {"source": "Properties_Firstname_Value", "destination": "person.name.firstName"},
            {"source": "Properties_Lastname_Value", "destination": "person.name.lastName"},
            {"source": "Properties_Email_Value", "destination": "personalEmail.address"},
        ],
    },
    "companies": {
        "path": "Hubspot.Companies",
        "fields": {
            "Company_Id": "long",
            "Properties_Name_Value": "string",
            "Properties_Industry_Value": "string",
            "Updated_At": "date-time",
        },
        "class_ref": ACCOUNT,
        "field_groups": [],
        "mappings": [
            {"source": "Company_Id", "destination": "_id"},
            {"source": "Properties_Name_Value", "destination": "accountName"},
            {"source": "Properties_Industry_Value", "destination": "accountOrganization.industry"},
        ],
    },
    "deals": {
        "path": "Hubspot.All_Deals",
        "fields": {
            "Deal_Id": "long",
            "Properties_Dealname_Value": "string",
            "Properties_Dealstage_Value": "string",
            "Updated_At": "date-time",
        },
        "class_ref": OPPORTUNITY,
        "field_groups": [],
        "mappings": [
            {"source": "Deal_Id", "destination": "_id"},
            {"source": "Properties_Dealname_Value", "destination": "opportunityName"},
            {"source": "Properties_Dealstage_Value", "destination": "opportunityStage"},
        ],
    },
}
KEYS = sorted(OBJECTS)

# What one object leaves in the emulator (the two base connections are shared by all objects).
PER_OBJECT = {
    "class": 1,
    "schema": 2,
    "dataset": 1,
    "sourceConnection": 1,
    "targetConnection": 1,
    "mappingSet": 1,
    "flow": 1,
}


def expected_counts(n: int) -> dict[str, int]:
    """Resources of ``n`` onboarded objects; each one-time flow has made its own run (SCHEDULE)."""
    return {**{kind: count * n for kind, count in PER_OBJECT.items()}, "connection": 2, "run": n}


def kinds(emulator, kind: str) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.state()["resources"] if r["kind"] == kind]


def counts(emulator) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in emulator.admin.state()["resources"]:
        out[r["kind"]] = out.get(r["kind"], 0) + 1
    return out


def names_of(emulator, kind: str) -> set[str]:
    return {r["name"] for r in kinds(emulator, kind)}


def rows(make: Callable[[str, dict[str, Any]], dict[str, Any]], objects=None) -> list[dict[str, Any]]:
    objects = OBJECTS if objects is None else objects
    return [{"key": key, **make(key, spec)} for key, spec in objects.items()]


class Chain:
    """The onboarding chain in for_each mode: shared steps once, every other step for all objects."""

    def __init__(self, make_context: Callable[[], dict[str, Any]]) -> None:
        self.make_context = make_context
        self.ids: dict[str, Any] = {}
        self.ctx: dict[str, dict[str, Any]] = {}
        self.ops: dict[str, Any] = {}

    def step(self, name: str, op: Any) -> Any:
        self.ops[name] = op
        self.ctx[name] = self.make_context()
        self.ids[name] = op.execute(self.ctx[name])
        return self.ids[name]

    def xcom(self, name: str, key: str) -> Any:
        return self.ctx[name]["ti"].xcom[key]


def for_each_chain(
    make_context: Callable[[], dict[str, Any]],
    *,
    keys: list[str] | None = None,
    objects: dict[str, dict[str, Any]] | None = None,
    **common: Any,
) -> Chain:
    """The whole chain for ``objects`` (default: the three HubSpot tables), ``keys`` selecting some."""
    chain = Chain(make_context)
    common = {"keys": keys, **common}
    base = chain.step(
        "base",
        AepCreateHubSpotBaseConnectionOperator(
            task_id="base", name="HubSpot account", hubspot_conn_id="hubspot_default"
        ),
    )
    classes = chain.step(
        "class",
        AepCreateAdhocClassOperator(
            task_id="class",
            for_each=rows(lambda k, o: {"title": f"HubSpot {k} class", "fields": o["fields"]}, objects),
            **common,
        ),
    )
    adhoc = chain.step(
        "adhoc_schema",
        AepCreateAdhocSchemaOperator(
            task_id="adhoc_schema",
            for_each=rows(lambda k, o: {"title": f"HubSpot {k} ad-hoc schema"}, objects),
            inputs={"class_id": classes},
            **common,
        ),
    )
    sources = chain.step(
        "source",
        AepCreateSourceConnectionOperator(
            task_id="source",
            base_connection_id=base,
            for_each=rows(lambda k, o: {"name": f"HubSpot {k} source", "path": o["path"]}, objects),
            inputs={"schema_id": adhoc},
            **common,
        ),
    )
    targets = chain.step(
        "target_schema",
        AepCreateTargetSchemaOperator(
            task_id="target_schema",
            for_each=rows(
                lambda k, o: {
                    "title": f"HubSpot {k} target schema",
                    "class_ref": o["class_ref"],
                    "field_groups": o["field_groups"],
                },
                objects,
            ),
            **common,
        ),
    )
    datasets = chain.step(
        "dataset",
        AepCreateDatasetOperator(
            task_id="dataset",
            for_each=rows(lambda k, o: {"name": f"HubSpot {k}"}, objects),
            inputs={"schema_id": targets},
            **common,
        ),
    )
    ds_base = chain.step(
        "dataset_base",
        AepCreateDatasetBaseConnectionOperator(task_id="ds_base", name="Dataset base connection"),
    )
    tgt = chain.step(
        "target",
        AepCreateTargetConnectionOperator(
            task_id="target",
            base_connection_id=ds_base,
            for_each=rows(lambda k, o: {"name": f"HubSpot {k} target"}, objects),
            inputs={"schema_id": targets, "dataset_id": datasets},
            **common,
        ),
    )
    mapping = chain.step(
        "mapping",
        AepCreateMappingSetOperator(
            task_id="mapping",
            for_each=rows(lambda k, o: {"mappings": o["mappings"]}, objects),
            inputs={"schema_id": targets},
            **common,
        ),
    )
    spec = chain.step("flow_spec", AepGetFlowSpecOperator(task_id="spec"))
    chain.step(
        "flow",
        AepCreateDataflowOperator(
            task_id="flow",
            flow_spec_id=spec,
            delta_column="Added_At",
            schedule=SCHEDULE,
            for_each=rows(lambda k, o: {"name": f"HubSpot {k} dataflow"}, objects),
            inputs={
                "source_connection_id": sources,
                "target_connection_id": tgt,
                "mapping_id": mapping,
                "mapping_version": chain.xcom("mapping", "mapping_version"),
            },
            **common,
        ),
    )
    return chain


FOR_EACH_STEPS = ["class", "adhoc_schema", "source", "target_schema", "dataset", "target", "mapping", "flow"]


@pytest.fixture
def hubspot(monkeypatch):
    return hubspot_conn_env(monkeypatch)


@pytest.fixture
def chain(aep_conn_env, hubspot, make_context) -> Chain:
    return for_each_chain(make_context)


def run_flows(chain: Chain, make_context, ctx=None, **kw: Any) -> dict[str, str]:
    op = AepRunFlowOperator(
        task_id="run",
        delta_column="Added_At",
        for_each=[{"key": key} for key in sorted(chain.ids["flow"])],
        inputs={"flow_id": chain.ids["flow"]},
        **{**WINDOW, **kw},
    )
    return op.execute(make_context() if ctx is None else ctx)


# -- the chain ----------------------------------------------------------------------------------------


def test_for_each_chain_onboards_every_object_with_each_steps_dict_feeding_the_next(aep_conn_env, chain):
    """Each step returns {key: id}, distinct per object, and the next step joins them by key."""
    ids = chain.ids
    for step in FOR_EACH_STEPS:
        assert sorted(ids[step]) == KEYS, step
        assert len(set(ids[step].values())) == len(KEYS), step
    assert counts(aep_conn_env) == expected_counts(len(KEYS))
    hook = AepHook()
    for key, obj in OBJECTS.items():
        cls = hook.get_resource("classes", ids["class"][key], accept=XED_SINGLE)
        assert cls["title"] == f"HubSpot {key} class"
        adhoc = hook.get_resource("schemas", ids["adhoc_schema"][key], accept=XED_SINGLE)
        assert adhoc["meta:class"] == ids["class"][key]
        src = hook.get_object("sourceConnections", ids["source"][key])
        assert src["params"]["path"] == obj["path"]
        assert src["data"]["schema"]["id"] == ids["adhoc_schema"][key]
        assert src["baseConnectionId"] == ids["base"]
        target = hook.get_resource("schemas", ids["target_schema"][key], accept=XED_SINGLE)
        assert target["meta:class"] == obj["class_ref"]
        assert hook.get_dataset(ids["dataset"][key])["schemaRef"]["id"] == ids["target_schema"][key]
        tgt = hook.get_object("targetConnections", ids["target"][key])
        assert tgt["params"]["dataSetId"] == ids["dataset"][key]
        assert tgt["baseConnectionId"] == ids["dataset_base"]
        mset = hook.get_mapping_set(ids["mapping"][key])
        assert mset["xdmSchema"] == ids["target_schema"][key]
        assert {m["destinationXdmPath"] for m in mset["mappings"]} == {
            m["destination"] for m in obj["mappings"]
        }
        flow = hook.get_object("flows", ids["flow"][key])
        assert flow["sourceConnectionIds"] == [ids["source"][key]]
        assert flow["targetConnectionIds"] == [ids["target"][key]]
        mapping = next(t["params"] for t in flow["transformations"] if t["name"] == "Mapping")
        assert mapping["mappingId"] == ids["mapping"][key]
        assert str(mapping["mappingVersion"]) == chain.xcom("mapping", "mapping_version")[key]

    # Extra XComs are pushed once each, as {key: value}.
    assert sorted(chain.xcom("mapping", "mapping_version")) == KEYS
    assert sorted(chain.xcom("flow", "etag")) == KEYS and all(chain.xcom("flow", "etag").values())
    alt_ids = chain.xcom("class", "meta_alt_id")
    assert sorted(alt_ids) == KEYS and len(set(alt_ids.values())) == len(KEYS)
    assert chain.xcom("class", "fields")["deals"]["Deal_Id"] == "integer"  # synonyms normalised per row
    assert sorted(chain.xcom("target_schema", "meta_alt_id")) == KEYS
    # The shared steps still push their own (non-dict) XCom.
    assert chain.xcom("flow_spec", "schedule_spec")["name"] == "PeriodicSchedule"

    # Lineage of a for_each dataflow task covers every flow it handled.
    inputs, outputs = chain.ops["flow"].flow_lineage()
    assert sorted(name for _, name in inputs) == sorted(o["path"] for o in OBJECTS.values())
    assert sorted(name for _, name in outputs) == sorted(ids["dataset"].values())


def test_running_the_for_each_chain_again_creates_nothing_new(aep_conn_env, chain, make_context):
    """A second run (or a retry) of every for_each task reuses every object's resources."""
    second = for_each_chain(make_context)
    assert counts(aep_conn_env) == expected_counts(len(KEYS))
    for step in ["base", "dataset_base", "flow_spec", *FOR_EACH_STEPS]:
        assert second.ids[step] == chain.ids[step], step
    assert second.xcom("mapping", "mapping_version") == chain.xcom("mapping", "mapping_version")


def test_keys_restricts_every_step_to_the_selected_objects(aep_conn_env, hubspot, make_context):
    """Objects outside ``keys`` get no resource at all; the selected ones get one of each."""
    chain = for_each_chain(make_context, keys=["contacts", "deals"])
    for step in FOR_EACH_STEPS:
        assert sorted(chain.ids[step]) == ["contacts", "deals"], step
    assert counts(aep_conn_env) == expected_counts(2)
    every_name = set().union(*(names_of(aep_conn_env, kind) for kind in PER_OBJECT))
    assert not [name for name in every_name if name and "companies" in name]
    # Later selecting the third object adds exactly its resources and reuses the others'.
    full = for_each_chain(make_context)
    assert counts(aep_conn_env) == expected_counts(3)
    for step in FOR_EACH_STEPS:
        assert {k: full.ids[step][k] for k in ["contacts", "deals"]} == chain.ids[step], step


def test_keys_selecting_no_row_skips_the_task_without_any_call(aep_conn_env, make_context):
    op = AepCreateTargetSchemaOperator(
        task_id="t", for_each=[{"key": "a", "title": "A"}, {"key": "b", "title": "B"}], keys=[]
    )
    with pytest.raises(AirflowSkipException):
        op.execute(make_context())
    assert aep_conn_env.admin.state()["resources"] == []


def test_explore_for_each_checks_every_table_and_names_the_one_missing_a_column(
    aep_conn_env, hubspot, make_context
):
    """The read-only check before anything is written: one bad row is named, the others return columns."""
    from aep_provider.operators.explore import AepExploreSourceOperator

    base = AepCreateHubSpotBaseConnectionOperator(
        task_id="b", name="hs", hubspot_conn_id="hubspot_default"
    ).execute(make_context())
    good = [
        {"key": key, "object_path": obj["path"], "required_columns": [*obj["fields"]]}
        for key, obj in OBJECTS.items()
    ]
    ctx = make_context()
    columns = AepExploreSourceOperator(
        task_id="e", base_connection_id=base, for_each=good, preview=True
    ).execute(ctx)
    assert sorted(columns) == KEYS and "Deal_Id" in [c["name"] for c in columns["deals"]]
    assert sorted(ctx["ti"].xcom["preview"]) == KEYS and ctx["ti"].xcom["preview"]["companies"]
    bad = [*good[:2], {"key": "deals", "object_path": "Hubspot.All_Deals", "required_columns": ["Deal_ID"]}]
    with pytest.raises(
        AepConfigError, match=r"1 of 3 objects failed.*deals: .*no column 'Deal_ID'.*'Deal_Id'"
    ):
        AepExploreSourceOperator(task_id="e", base_connection_id=base, for_each=bad).execute(make_context())


def test_ad_hoc_class_rows_may_list_fields_or_discover_them(aep_conn_env, hubspot, make_context):
    """A row without ``fields`` explores its own ``source_path``; a row with them uses them."""
    base = AepCreateHubSpotBaseConnectionOperator(
        task_id="b", name="hs", hubspot_conn_id="hubspot_default"
    ).execute(make_context())
    ctx = make_context()
    AepCreateAdhocClassOperator(
        task_id="c",
        base_connection_id=base,
        for_each=[
            {"key": "contacts", "title": "Listed", "fields": OBJECTS["contacts"]["fields"]},
            {"key": "deals", "title": "Discovered", "source_path": "Hubspot.All_Deals"},
        ],
    ).execute(ctx)
    fields = ctx["ti"].xcom["fields"]
    assert sorted(fields["contacts"]) == sorted(OBJECTS["contacts"]["fields"])
    assert (
        fields["deals"]["Properties_Closedate_Value"] == "date-time" and "Associated_Vid" in fields["deals"]
    )


def _shared_rows(op_class, field: str, value: Any, **kw: Any) -> Any:
    return op_class(task_id="shared", for_each=[{"key": k, field: value} for k in "abcd"], **kw)


def test_rows_naming_the_same_resource_share_it_one_at_a_time(aep_conn_env, make_context):
    """With max_concurrency=1, objects sharing a target schema title (or dataset name) share one resource."""
    schemas = _shared_rows(
        AepCreateTargetSchemaOperator, "title", "Shared profile", max_concurrency=1
    ).execute(make_context())
    assert len(set(schemas.values())) == 1
    datasets = _shared_rows(
        AepCreateDatasetOperator, "name", "Shared dataset", schema_id=schemas["a"], max_concurrency=1
    ).execute(make_context())
    assert len(set(datasets.values())) == 1
    assert len(kinds(aep_conn_env, "schema")) == len(kinds(aep_conn_env, "dataset")) == 1


def test_rows_sharing_a_target_schema_title_share_one_schema_when_run_concurrently(
    aep_conn_env, make_context
):
    """Objects sharing ``objects[].target_schema.title`` share one schema at any concurrency: rows naming
    the same resource run one after another, so the second finds the first one's schema (otherwise every
    row would look up nothing, all would create, and all but one fail with XDM-1521-400 'Title not unique')."""
    aep_conn_env.admin.configure(latency_ms=20)  # every lookup ends before the first create does
    schemas = _shared_rows(AepCreateTargetSchemaOperator, "title", "Shared profile").execute(make_context())
    assert len(set(schemas.values())) == 1


def test_rows_sharing_a_dataset_name_share_one_dataset_when_run_concurrently(aep_conn_env, make_context):
    """Objects whose rows name the same dataset on the same schema share one dataset at any concurrency
    (otherwise every row would create its own dataset of that name: silent duplicates)."""
    schema = only(AepCreateTargetSchemaOperator(task_id="t", title="Shared profile").execute(make_context()))
    aep_conn_env.admin.configure(latency_ms=20)
    datasets = _shared_rows(AepCreateDatasetOperator, "name", "Shared dataset", schema_id=schema).execute(
        make_context()
    )
    assert len(kinds(aep_conn_env, "dataset")) == 1
    assert len(set(datasets.values())) == 1


# -- one bad row among good ones -----------------------------------------------------------------------


def test_one_bad_mapping_row_fails_the_task_naming_that_key_and_the_others_are_created(
    aep_conn_env, hubspot, make_context
):
    """A destination missing from one object's schema: AepConfigError naming only that key."""
    bad = {
        **OBJECTS,
        "companies": {
            **OBJECTS["companies"],
            "mappings": [
                {"source": "Company_Id", "destination": "_id"},
                # a profile path, not one of the account class
                {"source": "Properties_Name_Value", "destination": "person.name.fullName"},
            ],
        },
    }
    with pytest.raises(AepConfigError) as info:
        for_each_chain(make_context, objects=bad)
    message = str(info.value)
    assert "companies" in message and "person.name.fullName" in message
    assert "1 of 3 objects failed (2 done)" in message
    assert not isinstance(info.value, AepRowsFailedError)
    assert "contacts:" not in message and "deals:" not in message
    schemas = {r["id"] for r in kinds(aep_conn_env, "mappingSet")}
    assert len(schemas) == 2  # the good rows' mapping sets exist
    # Fixing the row: the retry creates only the missing mapping set (and the rest of the chain).
    chain = for_each_chain(make_context)
    assert counts(aep_conn_env) == expected_counts(3)
    assert schemas < set(chain.ids["mapping"].values())


def test_a_dataset_name_taken_on_another_schema_fails_only_that_key(aep_conn_env, hubspot, make_context):
    """The clash is named with its key; the other datasets are created. A conflict (not a config
    error) makes the task's error an AepRowsFailedError."""
    chain = for_each_chain(make_context, keys=["contacts"])
    targets = AepCreateTargetSchemaOperator(
        task_id="t",
        for_each=[{"key": "a", "title": "Other A"}, {"key": "b", "title": "Other B"}],
    ).execute(make_context())
    op = AepCreateDatasetOperator(
        task_id="d",
        for_each=[{"key": "a", "name": "HubSpot contacts"}, {"key": "b", "name": "Fresh dataset"}],
        inputs={"schema_id": targets},
    )
    with pytest.raises(AepRowsFailedError) as info:
        op.execute(make_context())
    message = str(info.value)
    assert "1 of 2 objects failed (1 done) - a: AepConflictError" in message
    assert chain.ids["dataset"]["contacts"] in message
    assert names_of(aep_conn_env, "dataset") == {"HubSpot contacts", "Fresh dataset"}


def test_a_config_error_and_a_transient_error_give_an_aep_batch_error_naming_both(
    aep_conn_env, hubspot, make_context
):
    chain = for_each_chain(make_context)
    deals_schema = chain.ids["target_schema"]["deals"].rsplit("/", 1)[-1]
    aep_conn_env.admin.set_faults([{"kind": "503", "method": "GET", "path_regex": deals_schema}])
    op = AepCreateMappingSetOperator(
        task_id="m",
        name="second mappings",
        hook_params={"max_retries": 1},
        for_each=[
            {"key": "companies", "mappings": [{"source": "Company_Id", "destination": "nope"}]},
            {"key": "contacts", "mappings": OBJECTS["contacts"]["mappings"]},
            {"key": "deals", "mappings": OBJECTS["deals"]["mappings"]},
        ],
        inputs={"schema_id": chain.ids["target_schema"]},
    )
    with pytest.raises(AepRowsFailedError) as info:
        op.execute(make_context())
    message = str(info.value)
    assert "2 of 3 objects failed (1 done)" in message
    assert "companies: AepConfigError" in message and "deals: AepTransientError" in message
    assert "contacts:" not in message


def test_rows_that_skip_are_left_out_and_a_task_whose_rows_all_skip_is_skipped(
    aep_conn_env, chain, make_context
):
    """A row without a window (a manual run) skips; the other rows still start their run."""
    op = AepRunFlowOperator(
        task_id="run",
        delta_column="Added_At",
        for_each=[
            {"key": "contacts"},
            {"key": "companies", "window_start": None, "window_end": None},
            {"key": "deals"},
        ],
        inputs={"flow_id": chain.ids["flow"]},
        **WINDOW,
    )
    result = op.execute(make_context())
    assert sorted(result) == ["contacts", "deals"]
    assert len(kinds(aep_conn_env, "run")) == len(KEYS) + 2  # the flows' own runs and two windows
    none = AepRunFlowOperator(
        task_id="run",
        delta_column="Added_At",
        for_each=[{"key": key} for key in KEYS],
        inputs={"flow_id": chain.ids["flow"]},
    )
    with pytest.raises(AirflowSkipException, match="every object was skipped"):
        none.execute(make_context())


# -- bad for_each input ---------------------------------------------------------------------------


def _dataset_op(**kw: Any) -> AepCreateDatasetOperator:
    return AepCreateDatasetOperator(task_id="d", **kw)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"for_each": [{"key": "a", "name": "A"}, {"name": "B"}]}, r"for_each\[1\] needs a non-empty 'key'"),
        ({"for_each": [{"key": "", "name": "A"}]}, r"for_each\[0\] needs a non-empty 'key'"),
        ({"for_each": [{"key": "a", "name": "A"}, {"key": "a", "name": "B"}]}, r"two rows with key 'a'"),
        (
            {"for_each": [{"key": "a", "name": "A", "schema": "x"}]},
            r"for_each\[0\] \(a\) has unknown field\(s\) \['schema'\].*'schema_id'",
        ),
        (
            {
                "for_each": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}],
                "inputs": {"schema_id": {"a": "s"}},
            },
            r"inputs\['schema_id'\] has no value for 'b' \(it has \['a'\]\)",
        ),
        (
            {"for_each": [{"key": "a", "name": "A"}], "inputs": {"schemaid": {"a": "s"}}},
            r"inputs names 'schemaid'",
        ),
        (
            {"for_each": [{"key": "a", "name": "A"}], "inputs": {"schema_id": ["s"]}},
            r"inputs\['schema_id'\] must be a \{key: value\} dict",
        ),
        ({"for_each": "contacts"}, r"for_each must be a list"),
        ({"for_each": [{"key": "a", "name": "A"}]}, r"the row of 'a' has no schema_id"),
    ],
    ids=[
        "row-without-key",
        "empty-key",
        "duplicate-key",
        "unknown-field",
        "inputs-missing-a-key",
        "inputs-unknown-field",
        "inputs-not-a-dict",
        "for-each-not-a-list",
        "required-field-missing",
    ],
)
def test_bad_for_each_input_fails_before_any_call_naming_the_field(aep_conn_env, make_context, kwargs, match):
    with pytest.raises(AepConfigError, match=match):
        _dataset_op(**kwargs).execute(make_context())
    assert aep_conn_env.admin.state()["resources"] == []


def test_a_key_outside_keys_needs_no_input(aep_conn_env, make_context):
    """Rows left out by ``keys`` are not checked against ``inputs``: upstream handled the same keys."""
    schemas = AepCreateTargetSchemaOperator(task_id="t", for_each=[{"key": "a", "title": "Only A"}]).execute(
        make_context()
    )
    op = _dataset_op(
        for_each=[{"key": "a", "name": "A"}, {"key": "b", "name": "B"}],
        inputs={"schema_id": schemas},
        keys=["a"],
    )
    assert sorted(op.execute(make_context())) == ["a"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: AepGetFlowSpecOperator(task_id="s", for_each=[{"key": "a"}]),
        lambda: AepCreateHubSpotBaseConnectionOperator(task_id="b", name="hs", for_each=[{"key": "a"}]),
        lambda: AepCreateDatasetBaseConnectionOperator(task_id="b", name="ds", for_each=[{"key": "a"}]),
    ],
    ids=["flow-spec", "hubspot-base", "dataset-base"],
)
def test_shared_steps_refuse_for_each_at_construction(make):
    with pytest.raises(AepConfigError, match="takes no for_each"):
        make()


@pytest.mark.parametrize("value", [0, -1, 65])
def test_max_concurrency_out_of_range_is_refused(value):
    with pytest.raises(AepConfigError, match=rf"max_concurrency={value} must be between 1 and 64"):
        _dataset_op(for_each=[{"key": "a", "name": "A", "schema_id": "s"}], max_concurrency=value)


def test_max_concurrency_bounds_and_misplaced_inputs_or_keys():
    assert _dataset_op(for_each=[], max_concurrency=1).max_concurrency == 1
    assert _dataset_op(for_each=[], max_concurrency=64).max_concurrency == 64
    # Without for_each the operator's own arguments are one row (keyed row_key) that inputs join into.
    joined = _dataset_op(name="A", inputs={"schema_id": {"a": "s"}}, row_key="a").rows()
    assert [(row.key, row.fields.name, row.fields.schema_id) for row in joined] == [("a", "A", "s")]
    with pytest.raises(AepConfigError, match=r"inputs\['schema_id'\] has no value for 'object'"):
        _dataset_op(name="A", inputs={"schema_id": {"a": "s"}}).rows()
    assert _dataset_op(name="A", schema_id="s", keys=["a"]).rows() == []
    # One object still needs its required arguments at construction; for_each rows may set them later.
    with pytest.raises(AepConfigError, match="needs schema_id"):
        _dataset_op(name="A")
    _dataset_op(for_each=[{"key": "a", "name": "A", "schema_id": "s"}])


def test_max_concurrency_one_runs_rows_one_at_a_time_with_the_same_result(
    aep_conn_env, hubspot, make_context
):
    chain = for_each_chain(make_context, max_concurrency=1)
    assert counts(aep_conn_env) == expected_counts(3)
    assert sorted(chain.ids["flow"]) == KEYS


# -- faults ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "commit_then_drop", "method": "POST", "max_hits": 16},
        # At most 6 hits: with concurrent calls the order of the seeded draws varies, and no call may
        # then meet more faults in a row than its retry budget (6 retries) absorbs.
        {"kind": "500", "method": "POST", "probability": 0.4, "max_hits": 6},
        {"kind": "drop", "probability": 0.2, "max_hits": 6},
        {"kind": "503", "probability": 0.2, "max_hits": 6},
        {"kind": "429", "probability": 0.2, "max_hits": 6, "retry_after": 0},
    ],
    ids=lambda f: f["kind"],
)
def test_transient_faults_on_for_each_steps_end_in_success_without_duplicates(
    aep_conn_env, hubspot, make_context, fault
):
    """Retries and look-up-before-create work per row inside one for_each task: every object ends
    with exactly one resource of each kind, and one run per flow."""
    aep_conn_env.admin.set_faults([{**fault, "path_regex": "^/data/"}], seed=11)
    chain = for_each_chain(make_context)
    assert aep_conn_env.admin.faults()["rules"][0]["hits"] > 0
    aep_conn_env.admin.clear_faults()
    assert counts(aep_conn_env) == expected_counts(3)
    for step in FOR_EACH_STEPS:
        assert len(set(chain.ids[step].values())) == 3, step
    # ... and the runs, started under the same faults, are one per flow.
    aep_conn_env.admin.set_faults([{**fault, "path_regex": "^/data/"}], seed=12)
    run_flows(chain, make_context)
    aep_conn_env.admin.clear_faults()
    assert len(kinds(aep_conn_env, "run")) == 3 + 3  # the flows' own runs and one window each


# -- AepRunFlowOperator -----------------------------------------------------------------------------------


def test_run_flow_for_each_starts_one_run_per_flow_once_and_reattaches(aep_conn_env, chain, make_context, monkeypatch):
    ctx = make_context()
    runs = run_flows(chain, make_context, ctx)
    assert sorted(runs) == KEYS and len(set(runs.values())) == 3
    hook = AepHook()
    for key, run_id in runs.items():
        run = hook.get_object("runs", run_id)
        assert run["flowId"] == chain.ids["flow"][key]
        assert run_window(run) == (1735689600, 1767225600)  # the copy activity's window (monitor.md)
    # One task-state entry per object, never the single-object key.
    store = ctx["task_state_store"]
    assert {k: v for k, v in store.items()} == {f"aep_run_id:{key}": runs[key] for key in KEYS}
    # A fresh try without state (another worker, Airflow < 3.3): found by window, no new run.
    assert run_flows(chain, make_context) == runs
    # Second try with the state store and the look-up by window made blind: the store alone reattaches.
    with monkeypatch.context() as blind:
        blind.setattr(AepHook, "list_runs", lambda self, flow_id: [])
        assert run_flows(chain, make_context, ctx) == runs
    assert len(kinds(aep_conn_env, "run")) == 3 + 3  # the flows' own runs and one window each


def test_run_flow_for_each_one_bad_window_fails_naming_it_and_the_others_run(
    aep_conn_env, chain, make_context
):
    op = AepRunFlowOperator(
        task_id="run",
        delta_column="Added_At",
        for_each=[
            {"key": "contacts"},
            {
                "key": "companies",
                "window_start": "2026-01-01T00:00:00Z",
                "window_end": "2025-01-01T00:00:00Z",
            },
            {"key": "deals"},
        ],
        inputs={"flow_id": chain.ids["flow"]},
        **WINDOW,
    )
    with pytest.raises(AepConfigError, match=r"1 of 3 objects failed.*companies: .*before window_start"):
        op.execute(make_context())
    assert len(kinds(aep_conn_env, "run")) == 3 + 2  # the flows' own runs and two windows


# -- AepFlowRunSensor / AepFlowRunTrigger over many flows ------------------------------------------------


def test_sensor_with_a_flow_id_dict_waits_for_every_run_and_returns_each_summary(
    aep_conn_env, chain, make_context
):
    sensor = AepFlowRunSensor(task_id="wait", flow_id=chain.ids["flow"], deferrable=False, poll_interval=0.01)
    aep_conn_env.admin.configure(run_duration_seconds=600)
    runs = run_flows(chain, make_context)
    assert sensor.poke(make_context()) is False  # each flow's latest run, the window's, is in progress
    aep_conn_env.admin.advance(700)
    result = sensor.poke(make_context())
    assert result.is_done
    summaries = result.xcom_value
    assert sorted(summaries) == KEYS
    for key in KEYS:
        assert summaries[key]["run_id"] == runs[key] and summaries[key]["status"] == "success"
        assert summaries[key]["input_records"] > 0
    # mode="poke" execute returns the same dict.
    out = AepFlowRunSensor(
        task_id="wait",
        flow_id=chain.ids["flow"],
        run_id=runs,
        deferrable=False,
        poll_interval=0.01,
        mode="poke",
        timeout=30,
    ).execute(make_context())
    assert out == summaries


def test_sensor_waits_until_the_last_of_the_runs_ends(aep_conn_env, chain, make_context):
    """One run still going keeps the whole sensor waiting."""
    runs = run_flows(chain, make_context, keys=["contacts", "deals"])
    aep_conn_env.admin.configure(run_duration_seconds=600)
    late = run_flows(chain, make_context, keys=["companies"])
    sensor = AepFlowRunSensor(
        task_id="wait",
        flow_id=chain.ids["flow"],
        run_id={**runs, **late},
        deferrable=False,
        poll_interval=0.01,
    )
    assert sensor.poke(make_context()) is False
    aep_conn_env.admin.advance(700)
    assert sorted(sensor.poke(make_context()).xcom_value) == KEYS


def test_sensor_with_a_run_id_dict_waits_only_for_those_keys(aep_conn_env, chain, make_context):
    runs = run_flows(chain, make_context, keys=["contacts", "deals"])
    sensor = AepFlowRunSensor(
        task_id="wait", flow_id=chain.ids["flow"], run_id=runs, deferrable=False, poll_interval=0.01
    )
    result = sensor.poke(make_context())
    assert sorted(result.xcom_value) == ["contacts", "deals"]


def test_sensor_refuses_mismatched_flow_and_run_dicts(aep_conn_env, chain, make_context):
    flows = chain.ids["flow"]
    with pytest.raises(AepConfigError, match=r"run_id names \['tickets'\]"):
        AepFlowRunSensor(task_id="w", flow_id=flows, run_id={"tickets": "r"}, deferrable=False).poke(
            make_context()
        )
    with pytest.raises(AepConfigError, match="flow_id must be a"):
        AepFlowRunSensor(task_id="w", flow_id=flows["deals"], run_id={"deals": "r"}, deferrable=False).poke(
            make_context()
        )
    with pytest.raises(AepConfigError, match="run_id must be a"):
        AepFlowRunSensor(task_id="w", flow_id=flows, run_id="r", deferrable=False).poke(make_context())


def test_an_unknown_run_id_in_the_dict_fails_naming_its_key(aep_conn_env, chain, make_context):
    runs = run_flows(chain, make_context)
    bad = {**runs, "deals": "00000000-0000-0000-0000-000000000000"}
    sensor = AepFlowRunSensor(task_id="w", flow_id=chain.ids["flow"], run_id=bad, deferrable=False)
    with pytest.raises(AepConfigError, match=r"deals: .*\[deals\] run_id="):
        sensor.poke(make_context())


def test_one_failed_run_fails_the_sensor_naming_its_key_and_run(aep_conn_env, chain, make_context):
    aep_conn_env.admin.configure(run_duration_seconds=600)
    runs = run_flows(chain, make_context)
    AepHook().delete_dataset(chain.ids["dataset"]["companies"])  # that run fails: its dataset is gone
    aep_conn_env.admin.advance(700)
    sensor = AepFlowRunSensor(task_id="wait", flow_id=chain.ids["flow"], deferrable=False, poll_interval=0.01)
    with pytest.raises(AepFlowRunFailed) as info:
        sensor.poke(make_context())
    message = str(info.value)
    # EMU-500 is our code (Adobe documents none for a run whose dataset is gone).
    assert "[companies]" in message and runs["companies"] in message and "EMU-500" in message
    assert "[contacts]" not in message and "[deals]" not in message


def test_deferrable_sensor_defers_one_trigger_for_every_flow(aep_conn_env, chain, make_context):
    aep_conn_env.admin.configure(run_duration_seconds=600)
    runs = run_flows(chain, make_context)
    sensor = AepFlowRunSensor(
        task_id="wait", flow_id=chain.ids["flow"], run_id=runs, deferrable=True, poll_interval=0.05
    )
    rebuilt = defer_and_rebuild(sensor, make_context())
    assert isinstance(rebuilt, AepFlowRunTrigger)
    kwargs = rebuilt.serialize()[1]
    assert sorted(t["key"] for t in kwargs["targets"]) == KEYS
    assert {t["key"]: t["run_id"] for t in kwargs["targets"]} == runs
    assert {t["key"]: t["flow_id"] for t in kwargs["targets"]} == chain.ids["flow"]

    payload = only_event_once_runs_end(rebuilt, aep_conn_env.admin).payload
    assert payload["status"] == "terminal" and sorted(payload["runs"]) == KEYS
    assert {key: run["run_id"] for key, run in payload["runs"].items()} == runs
    result = sensor.execute_complete(make_context(), payload)
    assert sorted(result) == KEYS
    assert all(
        summary["status"] == "success" and summary["output_records"] > 0 for summary in result.values()
    )


def test_trigger_names_the_object_whose_run_does_not_exist_and_the_sensor_names_its_flows(
    aep_conn_env, chain, make_context
):
    """A wrong run id on the deferred path ends in one error naming the object's key, not a bare run id."""
    runs = run_flows(chain, make_context)
    wrong = {**runs, KEYS[0]: "no-such-run"}
    trigger = AepFlowRunTrigger(
        targets=[{"key": k, "flow_id": chain.ids["flow"][k], "run_id": r} for k, r in wrong.items()],
        poll_interval=0.05,
    )

    async def first_event():
        return await trigger.run().__anext__()

    payload = asyncio.run(first_event()).payload
    assert payload["status"] == "error" and f"[{KEYS[0]}] Run no-such-run" in payload["message"]
    sensor = AepFlowRunSensor(task_id="wait", flow_id=chain.ids["flow"], run_id=wrong)
    with pytest.raises(AepFlowRunFailed, match=r"the flows of \[") as failed:
        sensor.execute_complete(make_context(), payload)
    assert KEYS[0] in str(failed.value)


def test_deferrable_sensor_with_every_run_ended_returns_at_once(aep_conn_env, chain, make_context):
    runs = run_flows(chain, make_context)
    result = AepFlowRunSensor(task_id="wait", flow_id=chain.ids["flow"], poll_interval=0.05).execute(
        make_context()
    )
    assert {key: summary["run_id"] for key, summary in result.items()} == runs


def test_trigger_event_with_a_failed_run_fails_the_sensor_naming_that_key(aep_conn_env, chain, make_context):
    aep_conn_env.admin.configure(run_duration_seconds=600)
    runs = run_flows(chain, make_context)
    AepHook().delete_dataset(chain.ids["dataset"]["deals"])
    aep_conn_env.admin.advance(700)
    trigger = AepFlowRunTrigger(
        targets=[{"key": key, "flow_id": chain.ids["flow"][key], "run_id": runs[key]} for key in KEYS],
        poll_interval=0.01,
    )

    async def first():
        return await trigger.run().__anext__()

    event = asyncio.run(first())
    assert event.payload["runs"]["deals"]["status"] == "failed"
    sensor = AepFlowRunSensor(task_id="w", flow_id=chain.ids["flow"], run_id=runs)
    with pytest.raises(AepFlowRunFailed, match=r"\[deals\]") as info:
        sensor.execute_complete(make_context(), event.payload)
    assert "[contacts]" not in str(info.value)
