"""What a task did, as data: each AEP task records its outcomes (kind, name, id, created or reused, the link of
the resource's page; a flow run's counts) in the XCom ``aep_outcomes`` - the fields the run summary and the asset
events read, never log text - and an AEP dataset has one identity for its Airflow asset and its OpenLineage
dataset."""

from __future__ import annotations

from typing import Any

import pytest
from aep_provider_chain import DELTA, hubspot_conn_env, onboard, only

from aep_emulator.testing import DEMO_ORG_ID
from aep_provider.outcomes import OUTCOMES_XCOM, Kind, Outcome


@pytest.fixture
def chain(aep_conn_env: Any, monkeypatch: pytest.MonkeyPatch, make_context: Any) -> dict[str, Any]:
    hubspot_conn_env(monkeypatch)
    return onboard(make_context, run=False)


def _outcomes(op: Any, context: dict[str, Any]) -> list[Outcome]:
    """Run the task as Airflow does (``execute``, then ``post_execute``) and read its ``aep_outcomes``."""
    context["result"] = op.execute(context)
    op.post_execute(context, context["result"])
    return [Outcome.model_validate(o) for o in context["ti"].xcom.get(OUTCOMES_XCOM, [])]


def test_a_create_step_records_kind_name_id_created_and_the_link_it_built(chain: dict[str, Any], make_context: Any) -> None:
    """A dataset made, then the same dataset reused: each run of the task records one outcome with the fields
    the summary reads, the link being the one the task built for its page."""
    from aep_provider.operators.dataset import AepCreateDatasetOperator

    def dataset(name: str) -> list[Outcome]:
        return _outcomes(AepCreateDatasetOperator(task_id="ds", name=name, schema_id=chain["target_schema"]),
                         make_context())

    [made] = dataset("outcome dataset")
    assert (made.kind, made.name, made.created, made.key) == (Kind.DATASET, "outcome dataset", True, "object")
    assert made.id and made.link.endswith(f"/platform/dataset/browse/{made.id}")
    [again] = dataset("outcome dataset")
    assert (again.id, again.created) == (made.id, False)


def test_a_target_connection_links_to_the_page_that_shows_it(chain: dict[str, Any], make_context: Any) -> None:
    """A target connection has no AEP page of its own: its outcome links to its dataset's, as its task link does."""
    from aep_provider.operators.connections import AepCreateTargetConnectionOperator

    [outcome] = _outcomes(AepCreateTargetConnectionOperator(
        task_id="tgt", name="HubSpot contacts target", base_connection_id=chain["dataset_base"],
        schema_id=chain["target_schema"], dataset_id=chain["dataset"]), make_context())
    assert (outcome.kind, outcome.id, outcome.created) == (Kind.TARGET_CONNECTION, chain["target"], False)
    assert outcome.link.endswith(f"/platform/dataset/browse/{chain['dataset']}")


def test_the_run_step_and_the_sensor_record_the_run_its_flow_and_its_counts(
    chain: dict[str, Any], make_context: Any
) -> None:
    """The window's run is recorded as a flow run of its flow, created; the sensor records how it ended, with its
    record counts, and whether it was the flow's own first run."""
    from aep_provider.operators.flow_run import AepRunFlowOperator
    from aep_provider.sensors.flow_run import AepFlowRunSensor

    run_op = AepRunFlowOperator(task_id="run", flow_id=chain["flow"], delta_column=DELTA,
                                window_start="2025-01-01T00:00:00Z", window_end="2026-01-01T00:00:00Z")
    context = make_context()
    [started] = _outcomes(run_op, context)
    assert (started.kind, started.flow_id, started.created) == (Kind.FLOW_RUN, chain["flow"], True)
    assert started.id == only(context["result"])

    sensor = AepFlowRunSensor(task_id="wait", flow_id={"contacts": chain["flow"]}, run_id={"contacts": started.id},
                              deferrable=False, sandbox="prod")
    context = make_context()
    assert sensor.poke(context).is_done
    [ended] = [Outcome.model_validate(o) for o in context["ti"].xcom[OUTCOMES_XCOM]]
    assert (ended.kind, ended.id, ended.key, ended.flow_id) == (Kind.FLOW_RUN, started.id, "contacts", chain["flow"])
    assert ended.run is not None and ended.run.status == "success" and ended.run.output_records > 0
    assert ended.run.first is False, "a run the DAG asked for is not the flow's own first run"
    assert ended.link.endswith(f"/source/dataflows/{chain['flow']}/runs/{started.id}")
    first = AepFlowRunSensor(task_id="first", flow_id={"contacts": chain["flow"]}, which="first", deferrable=False)
    context = make_context()
    assert first.poke(context).is_done
    assert Outcome.model_validate(context["ti"].xcom[OUTCOMES_XCOM][0]).run.first  # type: ignore[union-attr]


def test_the_sensor_takes_the_sandbox_as_the_operators_do_and_hands_it_to_its_trigger() -> None:
    """One way in for the sandbox: ``sandbox=`` (templated) for operators and the sensor alike; the trigger gets it
    with the hook's other settings."""
    from aep_provider.sensors.flow_run import AepFlowRunSensor

    sensor = AepFlowRunSensor(task_id="wait", flow_id={"o": "f"}, sandbox="dev", hook_params={"max_retries": 2})
    assert "sandbox" in sensor.template_fields
    assert sensor.effective_hook_params() == {"max_retries": 2, "sandbox": "dev"}


def test_a_dataset_has_one_identity_for_its_asset_and_its_lineage(chain: dict[str, Any], make_context: Any) -> None:
    """The asset the run summary emits on and the OpenLineage output of the flow operators are one dataset:
    Airflow's OpenLineage integration converts the ``aep://`` asset (the provider registers the scheme) to the very
    namespace and name the flow operator reports, so a lineage tool shows one node. Named by id, not by name."""
    pytest.importorskip("airflow.providers.openlineage")
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk import Asset

    from aep_provider.lineage import dataset_uri
    from aep_provider.operators.flow import AepCreateDataflowOperator

    op = AepCreateDataflowOperator(
        task_id="flow", name="HubSpot contacts dataflow", flow_spec_id=chain["flow_spec"],
        source_connection_id=chain["source"], target_connection_id=chain["target"], mapping_id=chain["mapping"],
        delta_column=DELTA, schedule={"frequency": "once", "start_time": "2030-01-01T00:00:00Z"})
    op.execute(make_context())
    [output] = op.get_openlineage_facets_on_complete(None).outputs
    asset = Asset(uri=dataset_uri(DEMO_ORG_ID, "prod", chain["dataset"]))
    converter = ProvidersManager().asset_to_openlineage_converters["aep"]
    converted = converter(Asset(uri=asset.normalized_uri or ""), None)
    assert (converted.namespace, converted.name) == (output.namespace, output.name)
    assert asset.uri == f"{output.namespace}/{output.name}" and chain["dataset"] in asset.uri
