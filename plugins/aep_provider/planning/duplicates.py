"""The plan refuses names the sandbox holds more than once, before any write (``hooks/duplicates.py``)."""

from __future__ import annotations

from aep_provider.hooks.duplicates import Copies, Copy, flow_service_copies, refuse_copies
from aep_provider.planning.differ import Found
from aep_provider.planning.models import PlanRow


def refuse_duplicates(rows: list[PlanRow], found: Found) -> None:
    """Fail naming every copy of every dataset, connection, flow or mapping set the rows name that exists more than
    once (Schema Registry titles are unique: XDM-1521-400, nothing to check there)."""
    entries: dict[tuple[str, str], Copies] = {}
    for row in rows:
        name = row.name
        for kind, copies in (
            ("dataset", Copies("dataset", name("dataset"), [
                Copy(dataset_id, dataset.get("created")) for dataset_id, dataset in found.datasets.get(name("dataset"), [])
            ])),
            ("source connection", flow_service_copies(
                "source connection", name("source_connection"), found.source_connections.get(name("source_connection"), []))),
            ("target connection", flow_service_copies(
                "target connection", name("target_connection"), found.target_connections.get(name("target_connection"), []))),
            ("dataflow", flow_service_copies("dataflow", name("dataflow"), found.flows.get(name("dataflow"), []))),
            ("mapping set", Copies("mapping set", name("mapping_set"), [
                Copy(str(m.get("id")), m.get("createdDate")) for m in found.mapping_set_copies.get(name("mapping_set"), [])
            ])),
        ):
            entries.setdefault((kind, copies.name), copies)
    refuse_copies(entries.values())
