"""``for_each``: one operator task makes its Platform call for many objects, each step's ``{key: id}``
XCom joined into the next by key through ``inputs``.

Against the emulator: the onboarding chain for three HubSpot objects; the same chain run again creates
nothing; ``keys`` selects some objects; the read-only explore and the ad-hoc class per row.
"""

from __future__ import annotations

import pytest
from aep_provider_for_each import (
    FOR_EACH_STEPS,
    KEYS,
    OBJECTS,
    PER_OBJECT,
    counts,
    expected_counts,
    for_each_chain,
    names_of,
)
from airflow.sdk.exceptions import AirflowSkipException

from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.errors import AepConfigError
from aep_provider.models.common import XED_SINGLE
from aep_provider.operators.connections import AepCreateHubSpotBaseConnectionOperator
from aep_provider.operators.schema import AepCreateAdhocClassOperator, AepCreateTargetSchemaOperator

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
    assert sorted(name for _, name in outputs) == sorted(f"datasets/{i}" for i in ids["dataset"].values())


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


