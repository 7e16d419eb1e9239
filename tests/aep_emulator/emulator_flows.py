"""Building blocks for tests that need a complete HubSpot -> dataset flow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator_helpers import CAT, DATA_LAKE_SPEC, DP, FLOW_SPEC_ID, FS, HUBSPOT_SPEC, SR, Api

PROFILE_REFS = [
    "https://ns.adobe.com/xdm/context/profile",
    "https://ns.adobe.com/xdm/context/profile-person-details",
    "https://ns.adobe.com/xdm/context/profile-personal-details",
]

CONTACT_MAPPINGS = [
    ("Properties_Firstname_Value", "person.name.firstName"),
    ("Properties_Lastname_Value", "person.name.lastName"),
    ("Properties_Email_Value", "personalEmail.address"),
    ("Properties_Mobilephone_Value", "mobilePhone.number"),
    ("Properties_City_Value", "homeAddress.city"),
    ("Vid", "_id"),
]


@dataclass
class Flow:
    schema_id: str
    dataset_id: str
    source_id: str
    target_id: str
    mapping_id: str
    base_id: str
    dataset_base_id: str
    flow_id: str | None = None


def create_adhoc_schema(api: Api, title: str = "HubSpot contacts ad-hoc") -> str:
    cls = api.post(f"{SR}/tenant/classes", {
        "title": f"{title} class", "description": "ad-hoc", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"},
                  {"properties": {"_adhoc": {"type": "object", "properties": {
                      "Vid": {"type": "string"}, "Properties_Firstname_Value": {"type": "string"}}}}}],
    })
    assert cls.status_code == 201, cls.text
    schema = api.post(f"{SR}/tenant/schemas", {
        "title": title, "type": "object", "allOf": [{"$ref": cls.json()["$id"]}]})
    assert schema.status_code == 201, schema.text
    return str(schema.json()["$id"])


def create_profile_schema(api: Api, title: str = "Contacts target") -> str:
    resp = api.post(f"{SR}/tenant/schemas", {
        "title": title, "type": "object", "allOf": [{"$ref": r} for r in PROFILE_REFS],
        "meta:class": PROFILE_REFS[0]})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["$id"])


def create_dataset(api: Api, schema_id: str, name: str = "Contacts dataset") -> str:
    resp = api.post(f"{CAT}/dataSets?requestDataSource=true", {
        "name": name, "schemaRef": {"id": schema_id,
                                    "contentType": "application/vnd.adobe.xed-full-notext+json; version=1"}})
    assert resp.status_code == 201, resp.text
    return str(resp.json()[0].split("/")[-1])


def create_hubspot_base(api: Api, name: str = "HubSpot") -> str:
    resp = api.post(f"{FS}/connections", {
        "name": name, "description": "HubSpot base connection",
        "auth": {"specName": "Basic Authentication", "params": {
            "clientId": "hs-id", "clientSecret": "hs-secret", "accessToken": "hs-token", "refreshToken": "r"}},
        "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"}})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def create_dataset_base(api: Api, name: str = "Data Lake") -> str:
    resp = api.post(f"{FS}/connections", {
        "name": name, "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"}})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def create_mapping(api: Api, schema_id: str, mappings: list[tuple[str, str]] | None = None,
                   name: str | None = None) -> str:
    body: dict[str, Any] = {
        "version": 0, "xdmSchema": schema_id, "xdmVersion": "1.0", "id": None,
        "mappings": [{"destinationXdmPath": d, "sourceAttribute": s, "identity": False, "identityGroup": None,
                      "namespaceCode": None, "version": 0} for s, d in (mappings or CONTACT_MAPPINGS)]}
    if name:
        body["name"] = name
    resp = api.post(f"{DP}/mappingSets", body)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def build_connections(api: Api, table: str = "Hubspot.Contacts",
                      mappings: list[tuple[str, str]] | None = None) -> Flow:
    adhoc = create_adhoc_schema(api)
    schema_id = create_profile_schema(api)
    dataset_id = create_dataset(api, schema_id)
    base_id = create_hubspot_base(api)
    source = api.post(f"{FS}/sourceConnections", {
        "name": "src", "baseConnectionId": base_id,
        "data": {"format": "tabular", "schema": {"id": adhoc, "version":
                                                 "application/vnd.adobe.xed-full-notext+json; version=1"}},
        "params": {"path": table}, "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"}})
    assert source.status_code == 201, source.text
    ds_base = create_dataset_base(api)
    target = api.post(f"{FS}/targetConnections", {
        "name": "tgt", "baseConnectionId": ds_base,
        "data": {"format": "parquet_xdm", "schema": {"id": schema_id,
                                                     "version": "application/vnd.adobe.xed-full+json;version=1"}},
        "params": {"dataSetId": dataset_id}, "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"}})
    assert target.status_code == 201, target.text
    mapping_id = create_mapping(api, schema_id, mappings)
    return Flow(schema_id, dataset_id, source.json()["id"], target.json()["id"], mapping_id, base_id, ds_base)


def flow_body(f: Flow, schedule: dict[str, Any] | None = None, name: str = "Contacts flow",
              delta_column: str = "Added_At", options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A CRMToAEP flow body as crm.md writes it; ``Added_At`` is a HubSpot column Adobe documents."""
    body: dict[str, Any] = {
        "name": name, "description": "test flow",
        "flowSpec": {"id": FLOW_SPEC_ID, "version": "1.0"},
        "sourceConnectionIds": [f.source_id], "targetConnectionIds": [f.target_id],
        "transformations": [
            {"name": "Copy", "params": {"deltaColumn": {"name": delta_column, "dateFormat": "YYYY-MM-DD",
                                                        "timezone": "UTC"}}},
            {"name": "Mapping", "params": {"mappingId": f.mapping_id, "mappingVersion": "0"}},
        ],
        "scheduleParams": schedule if schedule is not None else {
            "startTime": 1767225600, "frequency": "day", "interval": 1, "backfill": False},
    }
    if options is not None:
        body["options"] = options
    return body


def create_flow(api: Api, f: Flow, schedule: dict[str, Any] | None = None, **kw: Any) -> str:
    resp = api.post(f"{FS}/flows", flow_body(f, schedule, **kw))
    assert resp.status_code == 201, resp.text
    f.flow_id = str(resp.json()["id"])
    return f.flow_id
