"""The same onboarding as our DAG, written the way a user would with aepp: one sequential script.

    python -m benchmarks.aepp_onboarding --base-url http://127.0.0.1:8765 --spec spec.yaml [--threads 8]

With ``--threads N`` the per-object calls run N objects at a time in a thread pool (the same concurrency as
our batched tasks' ``max_concurrency``): the fairer baseline of a user who knows threads.

It reads one of our onboarding specs (same objects, same resource names, same
fields and mappings) and, with aepp's service classes, makes the Platform calls
of the tutorial: once per run the HubSpot base connection, the dataset (Data
Lake) base connection and the ``CRMToAEP`` flowSpec look-up; then per object,
in order, ad-hoc class, ad-hoc schema, source connection, target schema,
dataset, target connection, mapping set and dataflow. A user hoists the
object-independent calls out of the loop, and so does this script (our DAG
shares them too). Like a typical aepp script it does not look anything up
before creating it (aepp offers no idempotent create); our operators do, which
costs them a GET per step, and that shows in the requests benchmark.

Every call's answer is checked (aepp returns error bodies as dicts instead of
raising), so a run that prints a result really created everything.

Pointing aepp at the emulator (benchmark-only, documented here): aepp 0.6 has
no IMS endpoint setting. ``aepp.configure(environment="support",
endpoint=<emulator>)`` sets the Platform host, but the IMS token endpoint stays
``https://ims-na1.adobelogin.com``; this script overwrites
``imsEndpoint``/``oauthTokenEndpointV1``/``oauthTokenEndpointV2`` in the
``ConnectObject``'s config and in ``aepp.config.config_object``, and
``aepp.config.endpoints["global"]``, before any service object is built.
Nothing outside this process is patched.

Prints one JSON line: total seconds, per-object seconds and the created ids.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

DEMO_ORG = "DEMO0000000000000000000@AdobeOrg"
HUBSPOT_SPEC = "cc6a4487-9e91-433e-a3a3-9cf6626c1806"
DATALAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
ADHOC = "https://ns.adobe.com/xdm/data/adhoc"
PROFILE = "https://ns.adobe.com/xdm/context/profile"
FIELD_GROUPS = ("https://ns.adobe.com/xdm/context/profile-person-details",
                "https://ns.adobe.com/xdm/context/profile-personal-details")
SCOPES = "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext"


class AeppCallFailed(RuntimeError):
    pass


def _ok(what: str, answer: Any) -> Any:
    """aepp hands errors back as dicts; a user's script has to look."""
    if isinstance(answer, dict) and (
        "error_code" in answer or "errorMessage" in answer or "error" in answer
        or ("status" in answer and isinstance(answer["status"], int) and answer["status"] >= 400)
        or ("title" in answer and "type" in answer and str(answer.get("type", "")).startswith("http://ns.adobe.com/aep/errors"))
    ):
        raise AeppCallFailed(f"{what}: {json.dumps(answer)[:500]}")
    return answer


def _field(kind: str) -> dict[str, str]:
    if kind in ("date", "date-time"):
        return {"type": "string", "format": kind}
    return {"type": kind}


def create_tenant(sch: Any, kind: str, body: dict[str, Any]) -> Any:
    """``Schema.createClass``/``createSchema`` without their trailing slash.

    aepp posts to ``/tenant/classes/`` and ``/tenant/schemas/``; the emulator
    routes only ``/tenant/classes`` (405 on the slash form). Same request
    otherwise, through the same aepp connector (token, headers, retries).
    """
    return sch.connector.postData(f"{sch.endpoint}/tenant/{kind}", data=body)


def connect(base_url: str, client_id: str, secret: str) -> Any:
    import aepp
    from aepp import config as aepp_config

    conn = aepp.configure(org_id=DEMO_ORG, client_id=client_id, secret=secret, scopes=SCOPES, sandbox="prod",
                          environment="support", endpoint=base_url, connectInstance=True)
    # --- benchmark-only: aepp has no IMS endpoint setting (see the module docstring) ---
    for target in (conn.getConfigObject(), aepp_config.config_object):
        target["imsEndpoint"] = base_url
        target["oauthTokenEndpointV1"] = f"{base_url}/ims/token/v1"
        target["oauthTokenEndpointV2"] = f"{base_url}/ims/token/v3"
    conn.imsEndpoint = base_url
    conn.oauthEndpointV1 = f"{base_url}/ims/token/v1"
    conn.oauthEndpointV2 = f"{base_url}/ims/token/v3"
    aepp_config.endpoints["global"] = base_url
    return conn


def onboard(base_url: str, spec: dict[str, Any], client_id: str = "demo-client", secret: str = "demo-secret",
            hubspot: dict[str, str] | None = None, threads: int = 1) -> dict[str, Any]:
    from aepp import catalog, dataprep, flowservice, schema

    started = time.perf_counter()
    conn = connect(base_url, client_id, secret)
    # One service object per API, as in aepp's docs; each fetches its own IMS token.
    sch = schema.Schema(config=conn)
    fs = flowservice.FlowService(config=conn)
    cat = catalog.Catalog(config=conn)
    prep = dataprep.DataPrep(config=conn)

    name = spec["name"]
    hubspot = hubspot or {"clientId": "bench-hubspot-client", "clientSecret": "bench-hubspot-secret",
                          "accessToken": "bench-hubspot-access", "refreshToken": "bench-hubspot-refresh"}
    flow_spec_id = fs.getFlowSpecIdFromNames("CRMToAEP")
    hubspot_base = _ok("HubSpot base connection", fs.createConnection(data={
        "name": (spec.get("hubspot") or {}).get("name", "HubSpot base connection"),
        "auth": {"specName": "Basic Authentication", "params": hubspot},
        "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"},
    }))["id"]
    dataset_base = _ok("dataset base connection", fs.createConnection(data={
        "name": f"{name} dataset base connection",
        "connectionSpec": {"id": DATALAKE_SPEC, "version": "1.0"},
    }))["id"]
    shared_seconds = time.perf_counter() - started

    def one(obj: dict[str, Any]) -> tuple[str, float]:
        t0 = time.perf_counter()
        table = obj["source"].split(".", 1)[1]
        stem = f"{name} {table}"
        fields = obj["fields"]
        adhoc_class = _ok("ad-hoc class", create_tenant(sch, "classes", {
            "title": f"{stem} source class", "description": "", "type": "object",
            "allOf": [{"$ref": ADHOC},
                      {"properties": {"_adhoc": {"type": "object",
                                                 "properties": {c: _field(t) for c, t in fields.items()}}}}],
        }))
        adhoc_schema = _ok("ad-hoc schema", create_tenant(sch, "schemas", {
            "title": f"{stem} source schema", "description": "", "type": "object",
            "allOf": [{"$ref": adhoc_class["$id"]}],
        }))
        source = _ok("source connection", fs.createSourceConnection(data={
            "name": f"{stem} source connection", "baseConnectionId": hubspot_base, "description": "",
            "data": {"format": "tabular", "schema": {
                "id": adhoc_schema["$id"], "version": "application/vnd.adobe.xed-full-notext+json; version=1"}},
            "params": {"path": obj["source"]},
            "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"},
        }))
        target_schema = _ok("target schema", create_tenant(sch, "schemas", {
            "title": f"{stem} target schema", "description": "", "type": "object",
            "allOf": [{"$ref": PROFILE}, *({"$ref": fg} for fg in FIELD_GROUPS)],
        }))
        created = _ok("dataset", cat.createDataSet(data={
            "name": f"{stem} dataset",
            "schemaRef": {"id": target_schema["$id"],
                          "contentType": "application/vnd.adobe.xed-full-notext+json; version=1"},
        }, requestDataSource=True))
        dataset_id = str(created[0]).split("/")[-1]
        target = _ok("target connection", fs.createTargetConnection(data={
            "name": f"{stem} target connection", "baseConnectionId": dataset_base, "description": "",
            "data": {"format": "parquet_xdm", "schema": {
                "id": target_schema["$id"], "version": "application/vnd.adobe.xed-full+json;version=1"}},
            "params": {"dataSetId": dataset_id},
            "connectionSpec": {"id": DATALAKE_SPEC, "version": "1.0"},
        }))
        mapping = _ok("mapping set", prep.createMappingSet(mappingSet={
            "version": 0, "xdmSchema": target_schema["$id"], "xdmVersion": "1.0", "id": None,
            "mappings": [{"destinationXdmPath": m["destination"], "sourceAttribute": m["source"],
                          "identity": False, "identityGroup": None, "namespaceCode": None, "version": 0}
                         for m in obj["mapping"]],
        }))
        # aepp's createFlow(...) parameters cannot express a `day` schedule: pass the whole body.
        flow = _ok("dataflow", fs.createFlow(flow_spec_id=flow_spec_id, obj={
            "name": f"{stem} dataflow", "description": "",
            "flowSpec": {"id": flow_spec_id, "version": "1.0"},
            "sourceConnectionIds": [source["id"]], "targetConnectionIds": [target["id"]],
            "transformations": [
                {"name": "Copy", "params": {"deltaColumn": {
                    "name": obj["delta_column"], "dateFormat": "YYYY-MM-DD", "timezone": "UTC"}}},
                {"name": "Mapping", "params": {"mappingId": mapping["id"], "mappingVersion": str(mapping.get("version", 0))}},
            ],
            "scheduleParams": {"startTime": int(time.time()), "frequency": "day", "interval": 1, "backfill": True},
        }))
        return str(flow["id"]), time.perf_counter() - t0

    if threads > 1:
        # What a user who knows threads writes: the same calls, objects ``threads`` at a time.
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="aepp") as pool:
            done = list(pool.map(one, spec["objects"]))
    else:
        done = [one(obj) for obj in spec["objects"]]
    flows = [flow for flow, _ in done]
    per_object = [seconds for _, seconds in done]
    return {"total_seconds": time.perf_counter() - started, "shared_seconds": shared_seconds,
            "per_object_seconds": per_object, "flows": flows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base-url", required=True, help="the emulator (Platform and IMS on one host)")
    parser.add_argument("--spec", type=Path, required=True, help="an onboarding spec YAML (ours)")
    parser.add_argument("--objects", type=int, default=None, help="onboard only the first N objects")
    parser.add_argument("--threads", type=int, default=1,
                        help="objects onboarded at once (default 1: the sequential script)")
    args = parser.parse_args(argv)
    spec = yaml.safe_load(args.spec.read_text())
    if args.objects is not None:
        spec["objects"] = spec["objects"][: args.objects]
    result = onboard(args.base_url.rstrip("/"), spec, threads=args.threads)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
