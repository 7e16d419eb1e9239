"""Schema Registry data types in the emulator (schema-registry.yaml ``createDataType``, ``listDataTypes``,
``retrieveDataType``, ``updateDataType``, ``deleteDatatype``; help/xdm/api/data-types.md) - what the sandbox write
lease is made of, so its one rule that matters must hold: a title is unique across every resource type."""

from __future__ import annotations

from urllib.parse import quote

from emulator_helpers import SR, Api

from aep_emulator.testing import EmulatorServer

XED = "application/vnd.adobe.xed+json"
XED_V1 = "application/vnd.adobe.xed+json; version=1"


def _datatype(title: str, description: str = "d") -> dict:
    return {"title": title, "description": description, "type": "object",
            "properties": {"holder": {"type": "string", "title": "Holder"}}}


def test_a_data_type_is_created_listed_by_title_read_patched_and_deleted(emulator: EmulatorServer) -> None:
    """The whole life of a tenant data type, with the answers data-types.md shows: 201 with $id, meta:altId and
    version; a title filter; a versioned single read; a JSON Patch of the description; 204 on delete, then 404."""
    api = Api(emulator)
    created = api.post(f"{SR}/tenant/datatypes", _datatype("Lease A"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["$id"].startswith("https://ns.adobe.com/") and "/datatypes/" in body["$id"]
    assert body["meta:altId"].endswith(body["$id"].rsplit("/", 1)[-1]) and body["version"] == "1.0"
    assert body["meta:resourceType"] == "datatypes"
    assert isinstance(body["meta:registryMetadata"]["repo:createdDate"], int)

    listed = api.get(f"{SR}/tenant/datatypes", params={"property": "title==Lease A"}, headers={"Accept": XED}).json()
    assert [r["$id"] for r in listed["results"]] == [body["$id"]]
    assert listed["results"][0]["description"] == "d" and "properties" in listed["results"][0]

    one = api.get(f"{SR}/tenant/datatypes/{quote(body['$id'], safe='')}", headers={"Accept": XED_V1})
    assert one.status_code == 200 and one.json()["properties"]["holder"]["type"] == "string"

    patched = api.patch(f"{SR}/tenant/datatypes/{body['meta:altId']}",
                        [{"op": "replace", "path": "/description", "value": "renewed"}])
    assert patched.status_code == 200, patched.text
    assert patched.json()["description"] == "renewed" and patched.json()["$id"] == body["$id"]

    assert api.delete(f"{SR}/tenant/datatypes/{quote(body['$id'], safe='')}").status_code == 204
    gone = api.get(f"{SR}/tenant/datatypes/{quote(body['$id'], safe='')}", headers={"Accept": XED_V1})
    assert gone.status_code == 404


def test_a_data_type_title_taken_by_any_resource_is_400_xdm_1521(emulator: EmulatorServer) -> None:
    """troubleshooting-guide.md, "Title not unique": titles are unique across all resource types - a second data
    type, or a data type titled like an existing class, is refused with XDM-1521-400 (the rule the write lease
    relies on)."""
    api = Api(emulator)
    assert api.post(f"{SR}/tenant/datatypes", _datatype("Taken")).status_code == 201
    again = api.post(f"{SR}/tenant/datatypes", _datatype("Taken"))
    assert again.status_code == 400 and again.json()["type"].endswith("XDM-1521-400")
    klass = api.post(f"{SR}/tenant/classes", {
        "title": "A class title", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"},
                  {"properties": {"_adhoc": {"type": "object", "properties": {"a": {"type": "string"}}}}}],
    })
    assert klass.status_code == 201, klass.text
    clash = api.post(f"{SR}/tenant/datatypes", _datatype("A class title"))
    assert clash.status_code == 400 and clash.json()["type"].endswith("XDM-1521-400")


def test_a_data_type_needs_type_object_or_array(emulator: EmulatorServer) -> None:
    """createDataType requires ``type`` ("Must be set to object or array")."""
    bad = Api(emulator).post(f"{SR}/tenant/datatypes", {"title": "No type"})
    assert bad.status_code == 400


def test_a_patched_data_type_answers_its_next_version_and_array_types_take_no_properties(
    emulator: EmulatorServer,
) -> None:
    """data-types.md's PATCH answer carries a higher version; createDataType's ``properties`` is "Not supported for
    array data types"; a taken title is answered in the guide's words, naming the object that holds it."""
    api = Api(emulator)
    created = api.post(f"{SR}/tenant/datatypes", _datatype("Versioned")).json()
    assert created["refs"] == []
    patched = api.patch(f"{SR}/tenant/datatypes/{created['meta:altId']}",
                        [{"op": "replace", "path": "/description", "value": "v2"}]).json()
    assert patched["version"] == "1.1"
    array = api.post(f"{SR}/tenant/datatypes", {"title": "Array", "type": "array", "properties": {}})
    assert array.status_code == 400
    again = api.post(f"{SR}/tenant/datatypes", _datatype("Versioned")).json()
    assert again["detail"] == f"Object titles must be unique. An object {created['$id']} already exists with the same title."
