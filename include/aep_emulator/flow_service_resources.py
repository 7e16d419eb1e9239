"""Flow Service resources: the checks Flow Service makes on a base, source or target connection and on a
flow, and the stored objects built from a valid request (the routes are in :mod:`aep_emulator.flow_service`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema

from . import hubspot, schedule
from .common import new_uuid
from .data_prep import has_version
from .deps import RequestContext
from .errors import neutral
from .flow_service_common import BAD_SPEC_ID, metadata
from .schema_registry_resources import find_tenant
from .services import FLOW_SERVICE
from .specs import CONNECTION_SPECS, DATA_LAKE_SPEC_ID, HUBSPOT_SPEC_ID, SECRET_PARAMS, flow_spec
from .state import Container

# -- validation helpers -----------------------------------------------------------------------------------


def _spec_ref(body: dict[str, Any]) -> dict[str, Any]:
    ref = body.get("connectionSpec")
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
        raise FLOW_SERVICE.bad_request("connectionSpec.id is required")
    if ref["id"] not in CONNECTION_SPECS:
        raise FLOW_SERVICE.bad_request(f"The spec ID provided is invalid: connection spec {ref['id']}", BAD_SPEC_ID)
    return {"id": ref["id"], "version": str(ref.get("version", "1.0"))}


def _name(body: dict[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FLOW_SERVICE.bad_request("The field 'name' is required")
    return name


def masked_auth(auth: dict[str, Any]) -> dict[str, Any]:
    params = {
        k: ("<encrypted>" if k in SECRET_PARAMS else v) for k, v in (auth.get("params") or {}).items()
    }
    return {"specName": auth.get("specName"), "params": params}


def validate_auth(spec: dict[str, Any], auth: Any) -> dict[str, Any] | None:
    auth_specs = spec.get("authSpec") or []
    if not auth_specs:
        return None
    if not isinstance(auth, dict):
        raise FLOW_SERVICE.bad_request(f"auth is required for connection spec {spec['name']}")
    chosen = next((a for a in auth_specs if a["name"] == auth.get("specName")), None)
    if chosen is None:
        names = ", ".join(a["name"] for a in auth_specs)
        raise FLOW_SERVICE.bad_request(f"auth.specName {auth.get('specName')!r} is not one of: {names}")
    params = auth.get("params") or {}
    errors = list(jsonschema.Draft7Validator(chosen["spec"]).iter_errors(params))
    if errors:
        raise FLOW_SERVICE.bad_request(f"auth.params: {errors[0].message}")
    return {"specName": chosen["name"], "params": dict(params)}


def _ref(cont: Container, kind: str, ident: Any, label: str) -> dict[str, Any]:
    """A referenced resource that must exist (400 when it does not)."""
    obj = cont.items[kind].get(ident) if isinstance(ident, str) else None
    if obj is None:
        raise FLOW_SERVICE.bad_request(f"The {label} {ident} does not exist")
    return obj


# -- builders ------------------------------------------------------------------------------------------------


def build_connection(cont: Container, ctx: RequestContext, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    name = _name(body)
    spec_ref = _spec_ref(body)
    spec = CONNECTION_SPECS[spec_ref["id"]]
    auth = validate_auth(spec, body.get("auth"))
    obj: dict[str, Any] = {
        "id": new_uuid(),
        "name": name,
        "description": body.get("description", ""),
        "connectionSpec": spec_ref,
        "state": "enabled",
        "version": "1.0",
        **metadata(ctx, now_ms),
    }
    if auth is not None:
        obj["auth"] = masked_auth(auth)
        obj["__auth"] = auth
    if body.get("params"):
        obj["params"] = body["params"]
    return obj


def _schema_ref(cont: Container, body: dict[str, Any]) -> dict[str, Any] | None:
    data = body.get("data")
    if data is None:
        return None
    if not isinstance(data, dict):
        raise FLOW_SERVICE.bad_request("data must be an object")
    schema = data.get("schema")
    if schema is None:
        return None
    if not isinstance(schema, dict) or not isinstance(schema.get("id"), str):
        raise FLOW_SERVICE.bad_request("data.schema.id must be a schema $id")
    if find_tenant(cont, "schema", schema["id"]) is None:
        raise FLOW_SERVICE.bad_request(f"The schema {schema['id']} does not exist")
    return schema


def build_source_connection(cont: Container, ctx: RequestContext, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    name = _name(body)
    spec_ref = _spec_ref(body)
    base = _ref(cont, "connection", body.get("baseConnectionId"), "base connection")
    if base["connectionSpec"]["id"] != spec_ref["id"]:
        raise FLOW_SERVICE.bad_request(
            f"The connection spec {spec_ref['id']} differs from the base connection's "
            f"{base['connectionSpec']['id']}"
        )
    params = body.get("params") or {}
    if spec_ref["id"] == HUBSPOT_SPEC_ID:
        path = params.get("path")
        if not isinstance(path, str) or hubspot.table(path) is None:
            raise FLOW_SERVICE.bad_request(f"params.path: the HubSpot table {path!r} does not exist")
    _schema_ref(cont, body)
    return {
        "id": new_uuid(),
        "name": name,
        "description": body.get("description", ""),
        "baseConnectionId": base["id"],
        "data": body.get("data") or {"format": "tabular"},
        "params": params,
        "connectionSpec": spec_ref,
        "state": "enabled",
        "version": "1.0",
        **metadata(ctx, now_ms),
    }


def build_target_connection(cont: Container, ctx: RequestContext, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """A Data Lake target connection. ``baseConnectionId`` is optional: the current CRM tutorial
    (help/sources/tutorials/api/collect/crm.md, "Create a target connection") sends none; when one is
    given it must be a Data Lake base connection."""
    name = _name(body)
    spec_ref = _spec_ref(body)
    base: dict[str, Any] | None = None
    if body.get("baseConnectionId") is not None:
        base = _ref(cont, "connection", body.get("baseConnectionId"), "base connection")
        if base["connectionSpec"]["id"] != DATA_LAKE_SPEC_ID:
            raise FLOW_SERVICE.bad_request(
                f"The base connection {base['id']} is not a Data Lake (dataset) base connection; "
                "a target connection needs the dataset base connection",
            )
    params = body.get("params") or {}
    dataset = _ref(cont, "dataset", params.get("dataSetId"), "dataset")
    schema = _schema_ref(cont, body)
    ds_schema = (dataset.get("schemaRef") or {}).get("id")
    if schema is not None and ds_schema is not None:
        target = find_tenant(cont, "schema", schema["id"])
        if target is None or target["$id"] != ds_schema:
            # Adobe's 1425-400 row (flow-service-errors.md) is about a flow's mapping against its dataset, so it is
            # kept for the flow check (``_transformations``). No Adobe page gives a code for a target connection
            # whose schema differs from its dataset's: the neutral EMU-400 is ours (docs/architecture.md).
            raise FLOW_SERVICE.bad_request(
                f"The schema {schema['id']} of the target connection differs from the schema {ds_schema} "
                f"of dataset {params.get('dataSetId')}",
                neutral(400),
            )
    return {
        "id": new_uuid(),
        "name": name,
        "description": body.get("description", ""),
        **({"baseConnectionId": base["id"]} if base is not None else {}),
        "data": body.get("data") or {"format": "parquet_xdm"},
        "params": params,
        # the target lands in the Data Lake whatever spec the request named
        "connectionSpec": {"id": DATA_LAKE_SPEC_ID, "version": spec_ref["version"]},
        "state": "enabled",
        "version": "1.0",
        **metadata(ctx, now_ms),
    }


def _transformations(cont: Container, spec: dict[str, Any], raw: Any, target_schema: str | None) -> list[dict[str, Any]]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise FLOW_SERVICE.bad_request("transformations must be an array")
    specs = {t["name"]: t["spec"] for t in spec["transformationSpecs"]}
    out: list[dict[str, Any]] = []
    has_mapping = False
    for i, t in enumerate(raw):
        if not isinstance(t, dict) or t.get("name") not in specs:
            raise FLOW_SERVICE.bad_request(f"transformations[{i}]: unknown transformation {t.get('name') if isinstance(t, dict) else t!r}")
        params = t.get("params") or {}
        errors = list(jsonschema.Draft7Validator(specs[t["name"]]).iter_errors(params))
        if errors:
            path = ".".join(str(p) for p in errors[0].absolute_path)
            raise FLOW_SERVICE.bad_request(f"transformations[{i}].params{('.' + path) if path else ''}: {errors[0].message}")
        if t["name"] == "Mapping":
            has_mapping = True
            mapping = cont.items["mappingSet"].get(params.get("mappingId", ""))
            if mapping is None:
                raise FLOW_SERVICE.bad_request(f"The mapping set {params.get('mappingId')} does not exist")
            version = params.get("mappingVersion")
            if version is not None and not has_version(mapping, version):
                # help/sources/tutorials/api/update-dataflows.md ("Update mapping"): the flow names the mapping
                # set's mappingId and mappingVersion, and its runs map with that version. A version the set never
                # had is help/sources/errors/flow-service-errors.md's 1412-400 ("Invalid Mapping Version in
                # request. Please provide correct mapping version.").
                raise FLOW_SERVICE.bad_request(
                    "Invalid Mapping Version in request. Please provide correct mapping version. "
                    f"(The mapping set {mapping['id']} has no version {version}; it is at {mapping['version']}.)",
                    "1412-400",
                )
            if target_schema is not None:
                mapped = find_tenant(cont, "schema", mapping["xdmSchema"])
                if mapped is None or mapped["$id"] != target_schema:
                    raise FLOW_SERVICE.bad_request(
                        f"The mapping set {mapping['id']} targets schema {mapping['xdmSchema']}, but the target "
                        f"connection's schema is {target_schema}",
                        "1425-400",
                    )
        out.append({"name": t["name"], "params": params})
    if not has_mapping:
        raise FLOW_SERVICE.bad_request("The flow needs a Mapping transformation referencing a mapping set")
    return out


def _target_schema(cont: Container, target: dict[str, Any]) -> str | None:
    schema_id = ((target.get("data") or {}).get("schema") or {}).get("id")
    if schema_id is None:
        ds = cont.items["dataset"].get((target.get("params") or {}).get("dataSetId", ""))
        schema_id = ((ds or {}).get("schemaRef") or {}).get("id")
    if schema_id is None:
        return None
    found = find_tenant(cont, "schema", schema_id)
    return found["$id"] if found else schema_id


def _inherited(cont: Container, conns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in conns:
        base_id = c.get("baseConnectionId")
        base = cont.items["connection"].get(base_id) if base_id else None
        entry: dict[str, Any] = {"id": c["id"], "connectionSpec": c["connectionSpec"]}
        if base_id:
            entry["baseConnection"] = {"id": base_id,
                                       "connectionSpec": base["connectionSpec"] if base else c["connectionSpec"]}
        out.append(entry)
    return out


def _schedule(spec: dict[str, Any], raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        params = schedule.normalize(raw)
        schedule.validate(params, spec["scheduleSpec"]["spec"])
    except schedule.ScheduleError as exc:
        raise FLOW_SERVICE.bad_request(str(exc)) from exc
    return params


def _options(spec: dict[str, Any], raw: Any) -> dict[str, Any] | None:
    """A flow's ``options``, checked against its flow spec's ``optionSpec``.

    help/ingestion/batch-ingestion/partial.md patches ``"partialIngestionPercent": "10"`` (a string) and
    reads it back as ``10``; crm.md's optionSpec says ``number`` (exclusiveMinimum 0) while flow-service.yaml
    OptionSpecDTO says ``integer`` (example 5): an integer, a number and a string of digits are all accepted,
    a number is stored (docs/adobe-contract.md, "Contested"). ``options`` on ``POST /flows`` is not in
    flow-service.yaml's CreateFlowRequest (partial.md sets them by PATCH ``/options``): kept, and listed as
    unconfirmed against a sandbox.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FLOW_SERVICE.bad_request("options must be an object")
    options = dict(raw)
    percent = options.get("partialIngestionPercent")
    if isinstance(percent, str) and percent.strip().replace(".", "", 1).isdigit():
        options["partialIngestionPercent"] = float(percent) if "." in percent else int(percent)
    option_spec = (spec.get("optionSpec") or {}).get("spec")
    if option_spec:
        errors = sorted(jsonschema.Draft7Validator(option_spec).iter_errors(options), key=lambda e: list(e.path))
        if errors:
            where = ".".join(str(p) for p in errors[0].path)
            raise FLOW_SERVICE.bad_request(f"options{'.' + where if where else ''}: {errors[0].message}")
    return options


@dataclass(frozen=True)
class FlowParts:
    """The checked, normalized parts of a flow request."""

    name: str
    spec: dict[str, Any]
    sources: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    transformations: list[dict[str, Any]]
    schedule_params: dict[str, Any] | None
    options: dict[str, Any] | None


def check_flow(cont: Container, body: dict[str, Any]) -> FlowParts:
    """Validate a flow body as Flow Service does; returns the normalized parts."""
    name = _name(body)
    ref = body.get("flowSpec")
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
        raise FLOW_SERVICE.bad_request("flowSpec.id is required")
    spec = flow_spec(ref["id"])
    if spec is None:
        raise FLOW_SERVICE.bad_request(f"The spec ID provided is invalid: flow spec {ref['id']}", BAD_SPEC_ID)
    sources_ids = body.get("sourceConnectionIds")
    target_ids = body.get("targetConnectionIds")
    if not isinstance(sources_ids, list) or not sources_ids:
        raise FLOW_SERVICE.bad_request("sourceConnectionIds must be a non-empty array")
    if not isinstance(target_ids, list) or not target_ids:
        raise FLOW_SERVICE.bad_request("targetConnectionIds must be a non-empty array")
    sources = [_ref(cont, "sourceConnection", s, "source connection") for s in sources_ids]
    targets = [_ref(cont, "targetConnection", t, "target connection") for t in target_ids]
    for s in sources:
        if s["connectionSpec"]["id"] not in spec["sourceConnectionSpecIds"]:
            raise FLOW_SERVICE.bad_request(f"The source connection {s['id']} does not fit flow spec {spec['name']}")
    for t in targets:
        if t["connectionSpec"]["id"] not in spec["targetConnectionSpecIds"]:
            raise FLOW_SERVICE.bad_request(f"The target connection {t['id']} does not fit flow spec {spec['name']}")
    transformations = _transformations(cont, spec, body.get("transformations"), _target_schema(cont, targets[0]))
    for t in transformations:
        if t["name"] == "Copy":
            column = t["params"]["deltaColumn"]["name"]
            table = hubspot.table(sources[0]["params"].get("path", ""))
            if table is not None and column not in {c.name for c in table.columns}:
                raise FLOW_SERVICE.bad_request(f"The delta column {column!r} is not a column of {table.name}")
    return FlowParts(name, spec, sources, targets, transformations,
                     _schedule(spec, body.get("scheduleParams")), _options(spec, body.get("options")))


def build_flow(cont: Container, ctx: RequestContext, body: dict[str, Any], now_ms: int, now: float) -> dict[str, Any]:
    if "state" in body:
        raise FLOW_SERVICE.bad_request("The field 'state' cannot be set when creating a flow", "1410-400")
    parts = check_flow(cont, body)
    spec = parts.spec
    return {
        "id": new_uuid(),
        "name": parts.name,
        "description": body.get("description", ""),
        "flowSpec": {"id": spec["id"], "version": str(body["flowSpec"].get("version", "1.0"))},
        "state": "enabled",
        "version": "1.0",
        "sourceConnectionIds": [s["id"] for s in parts.sources],
        "targetConnectionIds": [t["id"] for t in parts.targets],
        "inheritedAttributes": {
            "sourceConnections": _inherited(cont, parts.sources),
            "targetConnections": _inherited(cont, parts.targets),
            "properties": {"isSourceFlow": True},
        },
        "transformations": parts.transformations,
        "scheduleParams": parts.schedule_params,
        **({"options": parts.options} if parts.options is not None else {}),
        "runs": "",
        **metadata(ctx, now_ms),
        "__timetable": schedule.init_timetable(parts.schedule_params, now),
    }


BUILDERS = {
    "connection": build_connection,
    "sourceConnection": build_source_connection,
    "targetConnection": build_target_connection,
}
