"""The provider is discoverable by Airflow and its operators are templated and serialisable."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import threading

import pytest

from aep_provider.get_provider_info import get_provider_info
from aep_provider.hooks.aep import AepHook


def test_provider_info_declares_connection_type_hooks_operators_sensors_triggers_links():
    info = get_provider_info()
    assert info["package-name"] == "airflow-aep-onboarding"
    (conn,) = info["connection-types"]
    assert conn["connection-type"] == "adobe_experience_platform"
    assert conn["hook-class-name"] == "aep_provider.hooks.aep.AepHook"
    assert conn["ui-field-behaviour"]["relabeling"]["login"].startswith("Client ID")
    assert {"org_id", "sandbox", "ims_host", "scopes"} <= set(conn["conn-fields"])
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for link in info["extra-links"]:
        module, name = link.rsplit(".", 1)
        assert getattr(importlib.import_module(module), name)().name


def test_providers_manager_sees_the_connection_type():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    assert "airflow-aep-onboarding" in ProvidersManager().providers
    hook_info = ProvidersManagerTaskRuntime().hooks["adobe_experience_platform"]
    assert hook_info.hook_class_name == "aep_provider.hooks.aep.AepHook" and hook_info.connection_testable


def test_hook_form_behaviour_relabels_fields():
    behaviour = AepHook.get_ui_field_behaviour()
    assert behaviour["relabeling"]["password"] == "Client secret *"
    assert "extra" in behaviour["placeholders"]


def test_connection_form_marks_org_id_required_and_suggests_values():
    """Airflow's form marks a field required when its schema type does not allow null, and shows a string
    field's examples as suggestions: org id is required, the optional fields are nullable (empty = default)."""
    from aep_provider.hooks.connection_form import CONN_FIELDS, UI_FIELD_BEHAVIOUR

    assert CONN_FIELDS["org_id"]["schema"]["type"] == "string"
    assert CONN_FIELDS["org_id"]["schema"]["examples"]
    optional = [name for name in CONN_FIELDS if name != "org_id"]
    assert all("null" in CONN_FIELDS[name]["schema"]["type"] for name in optional)
    assert {"org_id", "sandbox", "ims_host"} <= set(UI_FIELD_BEHAVIOUR["placeholders"])
    # The list page's Test button sends port 0 for "no port": the port field stays visible to hold it.
    assert "port" not in UI_FIELD_BEHAVIOUR["hidden_fields"]


def test_a_zero_port_is_no_port(monkeypatch):
    """Connections stored with port 0 (the Test button's "no port") keep their host URL as it is."""
    conn = {"conn_type": "adobe_experience_platform", "login": "c", "password": "s", "host": "http://127.0.0.1:8765",
            "port": 0, "extra": {"org_id": "ABC@AdobeOrg"}}
    monkeypatch.setenv("AIRFLOW_CONN_AEP_PORT0", json.dumps(conn))
    assert AepHook("aep_port0").settings.host == "http://127.0.0.1:8765"


def test_run_window_is_templated_from_the_data_interval(make_context):
    from aep_provider.operators.flow import AepRunFlowOperator

    op = AepRunFlowOperator(
        task_id="run",
        flow_id="{{ params.flow }}",
        window_start="{{ data_interval_start }}",
        window_end="{{ data_interval_end }}",
        delta_column="Added_At",
    )
    ctx = {
        "data_interval_start": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
        "data_interval_end": dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc),
        "params": {"flow": "f-1"},
    }
    op.render_template_fields(ctx)
    assert op.flow_id == "f-1"
    [row] = op.rows()
    assert op._window(row) == (1735689600, 1735776000)


@pytest.mark.parametrize(
    "module", ["explore", "schema", "connections", "dataset", "mapping", "flow", "teardown"]
)
def test_every_operator_templates_its_input_ids_and_sandbox(module):
    mod = importlib.import_module(f"aep_provider.operators.{module}")
    ops = [
        v
        for k, v in vars(mod).items()
        if k.startswith("Aep") and k.endswith("Operator") and v.__module__ == mod.__name__
    ]
    assert ops
    for op in ops:
        assert "sandbox" in op.template_fields and "aep_conn_id" in op.template_fields


def test_concurrent_tasks_on_one_worker_share_one_token(aep_conn_env, ims_count):
    """Eight threads with cold caches: the file lock lets exactly one of them ask IMS."""
    from aep_provider.hooks.token_cache import clear_memory_cache

    clear_memory_cache()
    tokens: list[str] = []
    errors: list[BaseException] = []

    def task() -> None:
        try:
            tokens.append(AepHook().get_token())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=task) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(tokens)) == 1 and ims_count() == 1


def test_tasks_in_separate_processes_share_one_token_through_the_file_cache(aep_conn_env):
    """Two worker processes start at once with cold caches: IMS is asked once, the file lock serialises them."""
    import os
    import subprocess
    import sys

    code = (
        "from aep_provider.hooks.aep import AepHook; "
        "h = AepHook(); h.get('/data/foundation/schemaregistry/stats'); print('ok')"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
        assert b"demo-secret" not in out + err
    assert aep_conn_env.admin.state()["counters"]["ims_token_requests"] == 1


def test_importing_a_hook_module_first_does_not_trip_provider_discovery():
    """Airflow discovers providers while it initialises; that must not re-import a half-loaded hook module."""
    import subprocess
    import sys

    code = "import aep_provider.hooks.errors, aep_provider.operators.flow; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_extra_links_come_from_the_run_and_are_empty_for_a_task_that_made_nothing(
    aep_conn_env, make_context, monkeypatch
):
    import json
    import os

    from aep_provider.links import AepSchemaLink
    from aep_provider.operators.schema import AepCreateTargetSchemaOperator

    conn = json.loads(os.environ["AIRFLOW_CONN_AEP_DEFAULT"])
    conn["extra"]["ui_tenant"] = "acme"  # the @tenant of the org's experience.adobe.com URLs
    monkeypatch.setenv("AIRFLOW_CONN_AEP_DEFAULT", json.dumps(conn))

    op = AepCreateTargetSchemaOperator(task_id="t", title="Linked")
    assert AepSchemaLink().get_link(op, ti_key=None) == ""  # e.g. skipped: no XCom look-up, no error
    ctx = make_context()
    [sid] = op.execute(ctx).values()
    url = AepSchemaLink().get_link(op, ti_key=None)
    assert url == ctx["ti"].xcom[AepSchemaLink().xcom_key]
    assert url.startswith("https://experience.adobe.com/#/@acme/sname:prod/platform/schema/edit/")
    assert sid.rsplit("/", 1)[-1] in url
