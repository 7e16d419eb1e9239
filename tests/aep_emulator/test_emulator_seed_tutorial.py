"""The Spanish seed tutorial's requests (typos corrected), in order, get the documented answers."""

from __future__ import annotations

import re
import time

import httpx
from emulator_flows import create_adhoc_schema, create_dataset_base, create_hubspot_base
from emulator_helpers import CAT, DP, FS, HUBSPOT_SPEC, SR, Api

from aep_emulator.testing import EmulatorServer

TARGET_SCHEMA_BODY = {
    "type": "object",
    "title": "Target schema for marketing automation",
    "description": "Target schema for marketing automation",
    "allOf": [
        {"$ref": "https://ns.adobe.com/xdm/context/profile"},
        {"$ref": "https://ns.adobe.com/xdm/context/profile-person-details"},
        {"$ref": "https://ns.adobe.com/xdm/context/profile-personal-details"},
        {"$ref": "https://ns.adobe.com/xdm/context/profile-personal-details"},
    ],
    "meta:containerId": "tenant",
    "meta:resourceType": "schemas",
    "meta:xdmType": "object",
    "meta:class": "https://ns.adobe.com/xdm/context/profile",
}


def test_seed_tutorial_walkthrough_gets_documented_status_codes(emulator: EmulatorServer) -> None:
    """Source connection 201, target schema 201, dataset 201, target connection 201, mapping 200,
    flow spec look-up 200, flow 201 — and the flow then ingests the contacts."""
    api = Api(emulator)
    adhoc_id = create_adhoc_schema(api)
    hubspot_base = create_hubspot_base(api)

    source = api.post(f"{FS}/sourceConnections", {
        "name": "Marketing automation source connection",
        "baseConnectionId": hubspot_base,
        "description": "Marketing automation source connection",
        "data": {"format": "parquet_xdm", "schema": {
            "id": adhoc_id, "version": "application/vnd.adobe.xed-full-notext+json; version=1"}},
        "params": {"path": "Hubspot.Contacts"},
        "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"},
    })
    assert source.status_code == 201
    assert set(source.json()) == {"id", "etag"}
    assert re.fullmatch(r'"[^"]+"', source.json()["etag"])

    schema = api.post(f"{SR}/tenant/schemas", TARGET_SCHEMA_BODY)
    assert schema.status_code == 201, schema.text
    s = schema.json()
    assert re.fullmatch(r"https://ns\.adobe\.com/demotenant/schemas/[0-9a-f]+", s["$id"])
    assert s["meta:altId"] == "_demotenant.schemas." + s["$id"].rsplit("/", 1)[1]
    assert s["version"] == "1.0"
    assert len(s["allOf"]) == 4
    assert s["refs"] == [
        "https://ns.adobe.com/xdm/context/profile-person-details",
        "https://ns.adobe.com/xdm/context/profile-personal-details",
        "https://ns.adobe.com/xdm/context/profile",
    ]
    assert s["meta:extends"] == [
        "https://ns.adobe.com/xdm/context/profile-person-details",
        "https://ns.adobe.com/xdm/context/profile-personal-details",
        "https://ns.adobe.com/xdm/common/auditable",
        "https://ns.adobe.com/xdm/data/record",
        "https://ns.adobe.com/xdm/context/profile",
    ]
    assert s["meta:class"] == "https://ns.adobe.com/xdm/context/profile"
    assert s["meta:containerId"] == "tenant"
    assert s["meta:tenantNamespace"] == "_demotenant"
    assert s["imsOrg"] == "DEMO0000000000000000000@AdobeOrg"
    meta = s["meta:registryMetadata"]
    assert meta["repo:createdDate"] > 10**12 and meta["eTag"]

    dataset = api.post(f"{CAT}/dataSets?requestDataSource=true", {
        "name": "Target dataset for marketing automation",
        "schemaRef": {"id": s["$id"], "contentType": "application/vnd.adobe.xed-full-notext+json; version=1"},
    })
    assert dataset.status_code == 201
    assert re.fullmatch(r"@/dataSets/[0-9a-f]{24}", dataset.json()[0])
    dataset_id = dataset.json()[0].split("/")[-1]

    dataset_base = create_dataset_base(api)
    target = api.post(f"{FS}/targetConnections", {
        "baseConnectionId": dataset_base,
        "name": "Target Connection for marketing automation",
        "description": "Target Connection for marketing automation",
        "data": {"format": "parquet_xdm", "schema": {
            "id": s["$id"], "version": "application/vnd.adobe.xed-full+json;version=1.0"}},
        "params": {"dataSetId": dataset_id},
        # the seed names the HubSpot spec here; the base connection is the Data Lake one
        "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"},
    })
    assert target.status_code == 201, target.text

    mapping = api.post(f"{DP}/mappingSets", {
        "version": 0, "xdmSchema": s["$id"], "xdmVersion": "1.0", "id": None,
        "mappings": [
            {"destinationXdmPath": d, "sourceAttribute": src, "identity": False, "identityGroup": None,
             "namespaceCode": None, "version": 0}
            for d, src in [("person.name.firstName", "Properties_Firstname_Value"),
                           ("person.name.lastName", "Properties_Lastname_Value"),
                           ("repositoryCreatedBy", "Added_At"), ("_id", "Portal_Id")]
        ],
    })
    assert mapping.status_code == 200, mapping.text
    m = mapping.json()
    assert re.fullmatch(r"[0-9a-f]{32}", m["id"])
    assert m["version"] == 0
    assert {"createdDate", "modifiedDate", "createdBy", "modifiedBy"} <= set(m)

    specs = httpx.get(f"{emulator.base_url}{FS}/flowSpecs?property=name==%22CRMToAEP%22", headers=api.headers)
    assert specs.status_code == 200
    [spec] = specs.json()["items"]
    assert spec["id"] == "14518937-270c-4525-bdec-c2ba7cce3860"
    assert spec["providerId"] == "0ed90a81-07f4-4586-8190-b40eccef1c5a"
    assert [t["name"] for t in spec["transformationSpecs"]] == ["Copy", "Mapping"]
    assert spec["scheduleSpec"]["name"] == "PeriodicSchedule"

    flow = api.post(f"{FS}/flows", {
        "name": "Dataflow for marketing automation",
        "description": "Dataflow for marketing automation",
        "flowSpec": {"id": spec["id"], "version": "1.0"},
        "sourceConnectionIds": [source.json()["id"]],
        "targetConnectionIds": [target.json()["id"]],
        "transformations": [{"name": "Mapping", "params": {"mappingId": m["id"], "mappingVersion": "0"}}],
        "scheduleParams": {"startTime": int(time.time()) - 60, "frequency": "minute", "interval": "30"},
    })
    assert flow.status_code == 201, flow.text
    flow_id = flow.json()["id"]

    runs = api.get(f"{FS}/runs", params={"property": f"flowId=={flow_id}"}).json()["items"]
    assert len(runs) == 1
    assert runs[0]["metrics"]["statusSummary"]["status"] == "success"
    assert runs[0]["metrics"]["recordSummary"]["outputRecordCount"] == 3000
    records = emulator.admin.records(dataset_id)
    assert len(records) == 3000
    assert set(records[0]) == {"person", "repositoryCreatedBy", "_id"}
    assert records[0]["_id"] == "6212345"
