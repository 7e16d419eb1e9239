"""Every step of the seed tutorial is one operator: right bodies, right ids, safe to run twice."""

from __future__ import annotations

import logging

import pytest
from aep_provider_chain import (
    EXPECTED_COUNTS,
    HUBSPOT_SECRETS,
    MAPPINGS,
    dataflow_op,
    hubspot_conn_env,
    onboard,
    only,
    resource_counts,
)

from aep_provider.hooks.aep import AepHook
from aep_provider.models.common import XED_FULL


@pytest.fixture
def hubspot(monkeypatch):
    return hubspot_conn_env(monkeypatch)


def test_the_whole_tutorial_runs_and_each_operator_returns_the_created_id(
    aep_conn_env, hubspot, make_context
):
    ids = onboard(make_context)
    hook = AepHook()
    assert resource_counts(aep_conn_env) == EXPECTED_COUNTS
    ctx = ids["_ctx"]

    # ad-hoc class derived from explored columns, with XCom keys
    cls = hook.get_resource("classes", ids["class"], accept="application/vnd.adobe.xed+json; version=1")
    assert ids["class"].startswith("https://ns.adobe.com/demotenant/classes/")
    assert only(ctx["class"]["ti"].xcom["meta_alt_id"]) == cls["meta:altId"]
    assert only(ctx["class"]["ti"].xcom["dataset_namespace"]) == cls["meta:datasetNamespace"]
    assert only(ctx["adhoc_schema"]["ti"].xcom["meta_alt_id"]).startswith("_demotenant.schemas.")

    # target schema: duplicate field-group refs removed
    target = hook.get_resource(
        "schemas", ids["target_schema"], accept="application/vnd.adobe.xed+json; version=1"
    )
    refs = [part["$ref"] for part in target["allOf"]]
    assert len(refs) == len(set(refs)) == 3

    # dataset on the target schema
    assert hook.get_dataset(ids["dataset"])["schemaRef"]["id"] == ids["target_schema"]

    # source: HubSpot base connection, table path, ad-hoc schema, tabular
    src = hook.get_object("sourceConnections", ids["source"])
    assert src["baseConnectionId"] == ids["base"]
    assert src["params"]["path"] == "Hubspot.Contacts"
    assert src["data"]["schema"]["id"] == ids["adhoc_schema"] and src["data"]["format"] == "tabular"

    # target: the *dataset* base connection, never the HubSpot one
    tgt = hook.get_object("targetConnections", ids["target"])
    assert tgt["baseConnectionId"] == ids["dataset_base"] != ids["base"]
    assert tgt["params"]["dataSetId"] == ids["dataset"]

    # flow: one-time (on-demand runs need it), Copy with deltaColumn + Mapping, etag in XCom
    flow = hook.get_object("flows", ids["flow"])
    assert flow["scheduleParams"] == {"frequency": "once", "startTime": 1704067200}
    names = {t["name"]: t["params"] for t in flow["transformations"]}
    assert names["Copy"]["deltaColumn"]["name"] == "Added_At"
    assert names["Mapping"]["mappingId"] == ids["mapping"]
    assert only(ctx["flow"]["ti"].xcom["etag"])
    assert ids["flow_spec"] == "14518937-270c-4525-bdec-c2ba7cce3860"
    assert ctx["flow_spec"]["ti"].xcom["schedule_spec"]["name"] == "PeriodicSchedule"

    # the run for the window
    run = hook.get_run(ids["run"])
    assert run is not None and run.flow_id == ids["flow"]
    assert run.window == (1735689600, 1767225600)  # the copy activity's window (monitor.md)

    # links point at the AEP UI (no ui_tenant in the connection: the user's current org)
    assert (
        ctx["dataset"]["ti"]
        .xcom["_link_AepDatasetLink"]
        .startswith("https://experience.adobe.com/#/sname:prod/platform/dataset/browse/")
    )


def test_running_every_operator_twice_leaves_exactly_one_of_each_resource(
    aep_conn_env, hubspot, make_context
):
    first = onboard(make_context)
    second = onboard(make_context)
    assert resource_counts(aep_conn_env) == EXPECTED_COUNTS
    for key, value in first.items():
        if key != "_ctx":
            assert second[key] == value, key


def test_mapping_set_body_carries_the_documented_fields(aep_conn_env, hubspot, make_context):
    ids = onboard(make_context, run=False)
    mset = AepHook().get_mapping_set(ids["mapping"])
    assert mset["xdmSchema"] == ids["target_schema"]
    by_dest = {m["destinationXdmPath"]: m for m in mset["mappings"]}
    assert {m["destination"] for m in MAPPINGS} == set(by_dest)
    assert by_dest["_id"]["sourceAttribute"] == "Vid" and by_dest["_id"]["identity"] is False


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "commit_then_drop", "method": "POST", "max_hits": 11},
        {"kind": "drop", "method": "POST", "probability": 0.5},
        {"kind": "500", "method": "POST", "probability": 0.5},
        {"kind": "503", "probability": 0.3},
        {"kind": "429", "probability": 0.3, "retry_after": 0},
    ],
    ids=lambda f: f["kind"],
)
def test_faults_on_every_call_end_in_success_without_duplicates(aep_conn_env, hubspot, make_context, fault):
    """commit-then-drop on each create: the operator looks up, finds the applied write, reuses it."""
    rule = {**fault, "path_regex": "^/data/"}
    aep_conn_env.admin.set_faults([rule], seed=7)
    onboard(make_context)
    assert aep_conn_env.admin.faults()["rules"][0]["hits"] > 0
    aep_conn_env.admin.clear_faults()
    assert resource_counts(aep_conn_env) == EXPECTED_COUNTS


def test_hubspot_secrets_and_aep_tokens_never_reach_the_logs(
    aep_conn_env, hubspot, make_context, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    aep_conn_env.admin.set_faults(
        [{"kind": "commit_then_drop", "method": "POST", "path_regex": "^/data/", "max_hits": 3}]
    )
    onboard(make_context)
    token = AepHook().get_token()
    out = capsys.readouterr()
    text = caplog.text + out.out + out.err
    for secret in [*HUBSPOT_SECRETS.values(), "demo-secret", token]:
        assert secret not in text


def test_existing_base_connection_id_is_checked_and_reused(aep_conn_env, hubspot, make_context):
    from aep_provider.operators.connections import AepCreateHubSpotBaseConnectionOperator

    ids = onboard(make_context, run=False)
    op = AepCreateHubSpotBaseConnectionOperator(task_id="b", name="ignored", base_connection_id=ids["base"])
    assert op.execute(make_context()) == ids["base"]
    bad = AepCreateHubSpotBaseConnectionOperator(task_id="b", name="x", base_connection_id="0000-missing")
    with pytest.raises(Exception, match="base_connection_id"):
        bad.execute(make_context())


def test_explore_lists_tables_then_columns_with_preview(aep_conn_env, hubspot, make_context):
    from aep_provider.operators.connections import AepCreateHubSpotBaseConnectionOperator
    from aep_provider.operators.explore import AepExploreSourceOperator

    base = AepCreateHubSpotBaseConnectionOperator(
        task_id="b", name="hs", hubspot_conn_id="hubspot_default"
    ).execute(make_context())
    tables = only(AepExploreSourceOperator(task_id="e", base_connection_id=base).execute(make_context()))
    assert "Hubspot.Contacts" in [t["path"] for t in tables]
    ctx = make_context()
    columns = only(AepExploreSourceOperator(
        task_id="e", base_connection_id=base, object_path="Hubspot.Contacts", preview=True
    ).execute(ctx))
    assert "Vid" in [c["name"] for c in columns]
    assert ctx["ti"].xcom["preview"]


def test_explore_check_fails_on_a_missing_table_or_column_naming_the_closest(
    aep_conn_env, hubspot, make_context, emulator
):
    from aep_provider.hooks.errors import AepConfigError
    from aep_provider.operators.connections import AepCreateHubSpotBaseConnectionOperator
    from aep_provider.operators.explore import AepExploreSourceOperator

    base = AepCreateHubSpotBaseConnectionOperator(
        task_id="b", name="hs", hubspot_conn_id="hubspot_default"
    ).execute(make_context())
    before = emulator.admin.state()["resources"]
    with pytest.raises(AepConfigError, match=r"'Hubspot.Contact' is not a table.*Hubspot.Contacts"):
        only(AepExploreSourceOperator(task_id="e", base_connection_id=base, object_path="Hubspot.Contact").execute(
            make_context()
        ))
    with pytest.raises(AepConfigError, match=r"no column 'Properties_Firstname'.*closest \['Properties_Firstname_Value'"):
        only(AepExploreSourceOperator(
            task_id="e", base_connection_id=base, object_path="Hubspot.Contacts",
            required_columns=["Vid", "Properties_Firstname"],
        ).execute(make_context()))
    assert emulator.admin.state()["resources"] == before


def test_target_schema_full_view_holds_the_mapped_paths(aep_conn_env, hubspot, make_context):
    ids = onboard(make_context, run=False)
    full = AepHook().get_resource("schemas", ids["target_schema"], accept=XED_FULL)
    assert "person" in full["properties"]


def test_short_field_group_names_and_type_synonyms_are_accepted(aep_conn_env, make_context):
    from aep_provider.operators.schema import AepCreateAdhocClassOperator, AepCreateTargetSchemaOperator

    hook = AepHook()
    sid = only(AepCreateTargetSchemaOperator(
        task_id="t", title="Short refs", field_groups=["profile-person-details"]
    ).execute(make_context()))
    schema = hook.get_resource("schemas", sid, accept="application/vnd.adobe.xed+json; version=1")
    assert "https://ns.adobe.com/xdm/context/profile-person-details" in [p["$ref"] for p in schema["allOf"]]
    cid = only(AepCreateAdhocClassOperator(
        task_id="c", title="Synonyms", fields={"Vid": "long", "At": "datetime"}
    ).execute(make_context()))
    assert cid.startswith("https://ns.adobe.com/demotenant/classes/")


def test_an_existing_dataflow_with_another_schedule_is_reused_with_a_warning(
    aep_conn_env, hubspot, make_context, caplog, capsys
):
    ids = onboard(make_context, run=False)
    caplog.set_level(logging.WARNING)
    op = dataflow_op(ids, {"frequency": "day", "interval": 2, "start_time": "2030-01-01T00:00:00Z"})
    assert only(op.execute(make_context())) == ids["flow"]
    assert resource_counts(aep_conn_env)["flow"] == 1
    out = capsys.readouterr()
    assert "schedule.frequency" in caplog.text + out.out + out.err


def test_operator_retry_settings_override_the_connection(aep_conn_env, make_context):
    from aep_provider.hooks.errors import AepTransientError
    from aep_provider.operators.schema import AepCreateTargetSchemaOperator

    aep_conn_env.admin.set_faults([{"kind": "503", "method": "GET", "path_regex": "/tenant/schemas"}])
    op = AepCreateTargetSchemaOperator(task_id="t", title="Retry budget", hook_params={"max_retries": 1})
    with pytest.raises(AepTransientError):
        op.execute(make_context())
    assert aep_conn_env.admin.faults()["rules"][0]["hits"] == 2
