"""OpenLineage datasets of the flow and run operators (only when the OpenLineage provider is installed)."""

from __future__ import annotations

from typing import Any


def aep_namespace(org_id: str, sandbox: str) -> str:
    return f"aep://{org_id}/{sandbox}"


def hubspot_namespace(base_connection_id: str) -> str:
    return f"hubspot://{base_connection_id}"


def operator_lineage(inputs: list[tuple[str, str]], outputs: list[tuple[str, str]]) -> Any:
    """``OperatorLineage`` from ``(namespace, name)`` pairs, or ``None`` without OpenLineage."""
    try:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import Dataset
    except ImportError:
        return None
    return OperatorLineage(
        inputs=[Dataset(namespace=ns, name=name) for ns, name in inputs],
        outputs=[Dataset(namespace=ns, name=name) for ns, name in outputs],
    )


class FlowLineageMixin:
    """Records the flow's HubSpot table and AEP dataset while ``execute`` runs, reports them after."""

    log: Any
    _lineage_inputs: list[tuple[str, str]]
    _lineage_outputs: list[tuple[str, str]]

    def record_flow_lineage(self, hook: Any, flow: dict[str, Any]) -> None:
        inputs, outputs = [], []
        try:
            for sc_id in flow.get("sourceConnectionIds") or []:
                sc = hook.get_object("sourceConnections", sc_id) or {}
                path = (sc.get("params") or {}).get("path")
                if path:
                    inputs.append((hubspot_namespace(str(sc.get("baseConnectionId"))), str(path)))
            for tc_id in flow.get("targetConnectionIds") or []:
                tc = hook.get_object("targetConnections", tc_id) or {}
                dataset_id = (tc.get("params") or {}).get("dataSetId")
                if dataset_id:
                    outputs.append((aep_namespace(hook.org_id, hook.sandbox), str(dataset_id)))
        except Exception as exc:  # lineage never fails a task
            self.log.warning("Could not read lineage of flow %s: %s", flow.get("id"), exc)
        # Appended, not replaced: a for_each task records the lineage of every flow it handles.
        self.__dict__.setdefault("_lineage_inputs", []).extend(inputs)
        self.__dict__.setdefault("_lineage_outputs", []).extend(outputs)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return operator_lineage(getattr(self, "_lineage_inputs", []), getattr(self, "_lineage_outputs", []))
