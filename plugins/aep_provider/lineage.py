"""OpenLineage datasets of the flow and run operators (only when the OpenLineage provider is installed)."""

from __future__ import annotations

import threading
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


_lock = threading.Lock()


class FlowLineageMixin:
    """Records the flows a task worked on while ``execute`` runs; reports their HubSpot tables and AEP
    datasets after, when OpenLineage asks for them.

    The source and target connections are read only then, so a deployment without OpenLineage makes no
    call for lineage. A ``for_each`` task records every flow it handled.
    """

    log: Any
    hook: Any

    def record_flow_lineage(self, hook: Any, flow: dict[str, Any]) -> None:
        entry = {
            "id": flow.get("id"),
            "sourceConnectionIds": list(flow.get("sourceConnectionIds") or []),
            "targetConnectionIds": list(flow.get("targetConnectionIds") or []),
        }
        with _lock:
            self.__dict__.setdefault("_lineage_flows", []).append(entry)

    def flow_lineage(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """``(inputs, outputs)`` of the recorded flows, read from their source and target connections."""
        inputs: list[tuple[str, str]] = []
        outputs: list[tuple[str, str]] = []
        hook = self.hook
        for flow in self.__dict__.get("_lineage_flows", []):
            try:
                for sc_id in flow["sourceConnectionIds"]:
                    sc = hook.get_object("sourceConnections", sc_id) or {}
                    path = (sc.get("params") or {}).get("path")
                    if path:
                        inputs.append((hubspot_namespace(str(sc.get("baseConnectionId"))), str(path)))
                for tc_id in flow["targetConnectionIds"]:
                    tc = hook.get_object("targetConnections", tc_id) or {}
                    dataset_id = (tc.get("params") or {}).get("dataSetId")
                    if dataset_id:
                        outputs.append((aep_namespace(hook.org_id, hook.sandbox), str(dataset_id)))
            except Exception as exc:  # lineage never fails a task
                self.log.warning("Could not read lineage of flow %s: %s", flow.get("id"), exc)
        return inputs, outputs

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        if operator_lineage([], []) is None:
            return None
        return operator_lineage(*self.flow_lineage())
