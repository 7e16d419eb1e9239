"""``POST /runs`` params: checked against the flow spec's ``runSpec``, and the flow's ``deltaColumn`` rules."""

from __future__ import annotations

from typing import Any

import jsonschema

from . import hubspot
from .errors import neutral
from .flow_service_common import touch
from .services import FLOW_SERVICE
from .specs import flow_spec
from .state import Container

# Ours: Adobe documents the rules but no code for them (``EMU-<status>``, errors.py; docs/architecture.md).
DELTA_COLUMN_CODE = neutral(400)
RUN_PARAMS_CODE = neutral(400)


def flow_delta_column(flow: dict[str, Any]) -> str | None:
    """The flow's Copy ``deltaColumn`` name (the source of truth once a run exists, on-demand-ingestion.md)."""
    for t in flow.get("transformations", []):
        if t.get("name") == "Copy":
            name = ((t.get("params") or {}).get("deltaColumn") or {}).get("name")
            return str(name) if name else None
    return None


#: The run params that are epoch times (the CRMToAEP runSpec types them integer).
EPOCH_PARAMS = ("startTime", "windowStartTime", "windowEndTime")


def epoch(value: int) -> float:
    """Epoch seconds. CreateFlowRunRequest's descriptions say milliseconds while its examples (and every
    tutorial's) are seconds: values above 10^11 are taken as milliseconds."""
    number = float(value)
    return number / 1000.0 if number > 1e11 else number


def run_params(flow: dict[str, Any], params: Any) -> dict[str, Any]:
    """``params`` checked against the flow spec's ``runSpec`` (crm.md, "Retrieve dataflow specifications": the
    CRMToAEP runSpec requires ``startTime``, ``windowStartTime``, ``windowEndTime`` and ``deltaColumn``), read
    together with on-demand-ingestion.md, which sends the epoch times as strings of digits and needs the
    ``deltaColumn`` on a flow's first run only: strings of digits are taken as the integers they spell, and
    ``deltaColumn`` is required only while the flow holds none in its Copy transformation. Ours: ``EMU-400``."""
    if not isinstance(params, dict):
        raise FLOW_SERVICE.bad_request("params must be an object (the flow spec's runSpec)", RUN_PARAMS_CODE)
    read = dict(params)
    for name in EPOCH_PARAMS:
        value = read.get(name)
        if isinstance(value, str) and value.strip().isdigit():
            read[name] = int(value.strip())
    spec = dict(((flow_spec(str((flow.get("flowSpec") or {}).get("id"))) or {}).get("runSpec") or {}).get("spec")
                or {})
    if spec and flow_delta_column(flow) is not None:
        spec["required"] = [r for r in spec.get("required", []) if r != "deltaColumn"]
    errors = sorted(jsonschema.Draft7Validator(spec).iter_errors(read), key=lambda e: list(e.absolute_path))
    if errors:
        where = ".".join(str(p) for p in errors[0].absolute_path)
        required = ", ".join(spec.get("required", []))
        raise FLOW_SERVICE.bad_request(
            f"params{'.' + where if where else ''}: {errors[0].message} (the flow spec's runSpec: epoch seconds as "
            f"integers or strings of digits; required: {required})", RUN_PARAMS_CODE)
    return read


def check_delta_column(cont: Container, flow: dict[str, Any], requested: Any, ctx: Any, now_ms: int) -> str:
    """on-demand-ingestion.md: the deltaColumn is needed on the first run only; "After that, ``deltaColumn`` will
    be patched as part of ``copy`` transformation in the flow and will be treated as the source of truth. Any
    attempts to change the ``deltaColumn`` value through the flow run parameters will result in an error."

    So the first run's deltaColumn is kept in the flow's Copy transformation (a Copy transformation is added when
    the flow has none, as the seed tutorial's flow), the same value is accepted again on every later run (the
    CRMToAEP runSpec requires it on every run), and another value after a run is refused."""
    current = flow_delta_column(flow)
    name = requested.get("name") if isinstance(requested, dict) else None
    if name is None:
        return current or ""
    has_run = any(r["flowId"] == flow["id"] for r in cont.where("run", "flowId", [flow["id"]]))
    if current is not None and name != current and has_run:
        raise FLOW_SERVICE.bad_request(
            f"params.deltaColumn {name!r} differs from the flow's deltaColumn {current!r}; the deltaColumn "
            "cannot be changed through flow run parameters", DELTA_COLUMN_CODE)
    if name != current:
        source = cont.items["sourceConnection"].get((flow.get("sourceConnectionIds") or [""])[0]) or {}
        table = hubspot.table((source.get("params") or {}).get("path", ""))
        if table is not None and name not in {c.name for c in table.columns}:
            raise FLOW_SERVICE.bad_request(
                f"params.deltaColumn {name!r} is not a column of {table.name}", DELTA_COLUMN_CODE)
        copy = next((t for t in flow["transformations"] if t.get("name") == "Copy"), None)
        if copy is None:
            copy = {"name": "Copy", "params": {}}
            flow["transformations"].insert(0, copy)  # crm.md's flows list Copy before Mapping
        params = copy.setdefault("params", {})
        params["deltaColumn"] = {**(params.get("deltaColumn") or {}), **requested}
        touch(flow, ctx, now_ms)  # patched into the flow: a new etag, as any flow update
        cont.touched("flow", flow["id"])
    return str(name)


