"""The one identity of an AEP dataset, and the OpenLineage datasets of the flow and run operators.

A dataset is named by what never changes while it exists - its org, its sandbox and its id, not its name, which a
user may change - and by that one identity everywhere: the OpenLineage dataset the flow operators report
(namespace ``aep://<org id>/<sandbox>``, name ``datasets/<dataset id>``) and the Airflow asset the run summary emits
events on (URI ``aep://<org id>/<sandbox>/datasets/<dataset id>``, the namespace and the name joined), which the
provider's ``aep`` asset scheme converts back to that OpenLineage dataset: a lineage tool shows one node. Each
part is percent-encoded (an org id holds an ``@``, which a URI would read as user info).

OpenLineage itself is optional: without its provider no lineage is reported and no call is made for it.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any

SCHEME = "aep"


def aep_namespace(org_id: str, sandbox: str) -> str:
    """The OpenLineage namespace of a sandbox's datasets."""
    return f"{SCHEME}://{urllib.parse.quote(org_id, safe='')}/{urllib.parse.quote(sandbox, safe='')}"


def dataset_name(dataset_id: str) -> str:
    """The OpenLineage name of a dataset in its sandbox's namespace."""
    return f"datasets/{urllib.parse.quote(dataset_id, safe='')}"


def dataset_uri(org_id: str, sandbox: str, dataset_id: str) -> str:
    """The Airflow asset URI of a dataset: its OpenLineage namespace and name joined."""
    return f"{aep_namespace(org_id, sandbox)}/{dataset_name(dataset_id)}"


def convert_asset_to_openlineage(asset: Any, lineage_context: Any = None) -> Any:
    """The OpenLineage dataset of an ``aep://`` asset (registered for the scheme in ``get_provider_info``): the
    namespace and name :func:`dataset_uri` joined."""
    from openlineage.client.event_v2 import Dataset

    parts = urllib.parse.urlsplit(asset.uri)
    sandbox, _, name = parts.path.lstrip("/").partition("/")
    return Dataset(namespace=f"{SCHEME}://{parts.netloc}/{sandbox}", name=name)


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
                        outputs.append((aep_namespace(hook.org_id, hook.sandbox), dataset_name(str(dataset_id))))
            except Exception as exc:  # lineage never fails a task
                self.log.warning("Could not read lineage of flow %s: %s", flow.get("id"), exc)
        return inputs, outputs

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        if operator_lineage([], []) is None:
            return None
        return operator_lineage(*self.flow_lineage())
