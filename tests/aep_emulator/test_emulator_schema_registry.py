"""Schema Registry: stats, ad-hoc classes, schemas, title uniqueness, reads, full views, paging."""

from __future__ import annotations

from urllib.parse import quote

from emulator_flows import PROFILE_REFS, create_profile_schema
from emulator_helpers import SR, XED_FULL, Api

from aep_emulator.testing import EmulatorServer


def test_stats_gives_tenant_id_and_org(emulator: EmulatorServer) -> None:
    body = Api(emulator).get(f"{SR}/stats").json()
    assert body["tenantId"] == "demotenant"
    assert body["imsOrg"] == "DEMO0000000000000000000@AdobeOrg"


def test_adhoc_class_renames_adhoc_namespace(emulator: EmulatorServer) -> None:
    resp = Api(emulator).post(f"{SR}/tenant/classes", {
        "title": "Raw contacts", "description": "d", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"},
                  {"properties": {"_adhoc": {"type": "object", "properties": {"a": {"type": "string"}}}}}]})
    assert resp.status_code == 201
    body = resp.json()
    ns = body["meta:datasetNamespace"]
    assert ns.startswith("_") and len(ns) == 33 and int(ns[1:], 16) >= 0
    assert body["allOf"][1]["properties"] == {ns: {"type": "object", "properties": {"a": {"type": "string"}}}}
    hexid = body["$id"].rsplit("/", 1)[1]
    assert body["$id"] == f"https://ns.adobe.com/demotenant/classes/{hexid}"
    assert body["meta:altId"] == f"_demotenant.classes.{hexid}"
    assert body["meta:extends"] == ["https://ns.adobe.com/xdm/data/adhoc"]


def test_adhoc_schema_inherits_namespace_and_shows_fields_in_full_view(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    cls = api.post(f"{SR}/tenant/classes", {
        "title": "c", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"},
                  {"properties": {"_adhoc": {"type": "object", "properties": {"Vid": {"type": "string"}}}}}]}).json()
    schema = api.post(f"{SR}/tenant/schemas", {"title": "s", "type": "object",
                                               "allOf": [{"$ref": cls["$id"]}]}).json()
    assert schema["meta:class"] == cls["$id"]
    assert schema["meta:extends"] == [cls["$id"], "https://ns.adobe.com/xdm/data/adhoc"]
    assert schema["meta:datasetNamespace"] == cls["meta:datasetNamespace"]
    full = api.get(f"{SR}/tenant/schemas/{quote(schema['$id'], safe='')}", headers={"Accept": XED_FULL}).json()
    assert full["properties"][cls["meta:datasetNamespace"]]["properties"]["Vid"]["type"] == "string"


def test_title_reuse_is_400_xdm_1521_across_resource_types(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    create_profile_schema(api, "Same title")
    again = api.post(f"{SR}/tenant/schemas", {"title": "Same title", "type": "object",
                                              "allOf": [{"$ref": PROFILE_REFS[0]}]})
    assert again.status_code == 400
    assert again.json()["type"].endswith("XDM-1521-400")
    assert again.json()["title"] == "Title not unique"
    cls = api.post(f"{SR}/tenant/classes", {"title": "Same title", "type": "object",
                                            "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"}]})
    assert cls.status_code == 400 and cls.json()["type"].endswith("XDM-1521-400")


def test_read_by_encoded_id_and_by_alt_id(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    by_id = api.get(f"{SR}/tenant/schemas/{quote(schema_id, safe='')}", headers={"Accept": XED_FULL})
    assert by_id.status_code == 200
    alt = by_id.json()["meta:altId"]
    by_alt = api.get(f"{SR}/tenant/schemas/{alt}",
                     headers={"Accept": "application/vnd.adobe.xed+json; version=1"})
    assert by_alt.status_code == 200 and by_alt.json()["$id"] == schema_id
    assert "properties" not in by_alt.json()


def test_single_read_needs_versioned_accept(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    for accept in ("application/json", "application/vnd.adobe.xed-full+json"):
        resp = api.get(f"{SR}/tenant/schemas/{quote(schema_id, safe='')}", headers={"Accept": accept})
        assert resp.status_code == 400
        assert resp.json()["type"].endswith("XDM-1007-400")  # schema-registry.yaml acceptErrorLookup


def test_missing_schema_is_404(emulator: EmulatorServer) -> None:
    resp = Api(emulator).get(f"{SR}/tenant/schemas/{quote('https://ns.adobe.com/demotenant/schemas/00', safe='')}",
                             headers={"Accept": XED_FULL})
    assert resp.status_code == 404
    assert resp.json()["type"].endswith("XDM-1010-404")


def test_full_view_expands_profile_class_and_field_groups(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    props = api.get(f"{SR}/tenant/schemas/{quote(schema_id, safe='')}", headers={"Accept": XED_FULL}).json()[
        "properties"]
    assert props["person"]["properties"]["name"]["properties"]["firstName"]["type"] == "string"
    assert "lastName" in props["person"]["properties"]["name"]["properties"]
    assert props["personalEmail"]["properties"]["address"]["type"] == "string"
    assert "number" in props["mobilePhone"]["properties"]
    assert {"street1", "city", "postalCode", "country", "stateProvince"} <= set(props["homeAddress"]["properties"])
    assert {"_id", "identityMap", "repositoryCreatedBy"} <= set(props)
    notext = api.get(f"{SR}/tenant/schemas/{quote(schema_id, safe='')}",
                     headers={"Accept": "application/vnd.adobe.xed-full-notext+json; version=1"}).json()
    assert "title" not in notext["properties"]["_id"]


def test_account_schema_with_tenant_fields(emulator: EmulatorServer) -> None:
    """Companies go to the XDM Business Account class; extra fields live under _<tenant>."""
    api = Api(emulator)
    resp = api.post(f"{SR}/tenant/schemas", {
        "title": "Companies", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/account"},
                  {"properties": {"_demotenant": {"type": "object", "properties": {
                      "hubspotCompanyId": {"type": "integer"}}}}}]})
    assert resp.status_code == 201, resp.text
    props = api.get(f"{SR}/tenant/schemas/{quote(resp.json()['$id'], safe='')}",
                    headers={"Accept": XED_FULL}).json()["properties"]
    assert {"accountName", "accountKey", "accountOrganization"} <= set(props)
    assert props["_demotenant"]["properties"]["hubspotCompanyId"]["type"] == "integer"
    bad = api.post(f"{SR}/tenant/schemas", {
        "title": "Bad custom", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/account"},
                  {"properties": {"loose": {"type": "string"}}}]})
    assert bad.status_code == 400


def test_field_group_must_fit_class(emulator: EmulatorServer) -> None:
    resp = Api(emulator).post(f"{SR}/tenant/schemas", {
        "title": "Mismatch", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/account"}, {"$ref": PROFILE_REFS[1]}]})
    assert resp.status_code == 400


def test_unknown_ref_is_400(emulator: EmulatorServer) -> None:
    resp = Api(emulator).post(f"{SR}/tenant/schemas", {
        "title": "Nope", "type": "object", "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/nope"}]})
    assert resp.status_code == 400


def test_list_pages_with_orderby_limit_and_start(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    titles = [f"Schema {i:02d}" for i in range(7)]
    for t in titles:
        create_profile_schema(api, t)
    seen: list[str] = []
    params: dict[str, str] = {"orderby": "title", "limit": "3"}
    pages = 0
    while True:
        body = api.get(f"{SR}/tenant/schemas", params=params,
                       headers={"Accept": "application/vnd.adobe.xed-id+json"}).json()
        pages += 1
        seen += [r["title"] for r in body["results"]]
        assert set(body["results"][0]) == {"$id", "meta:altId", "version", "title"}
        assert body["_page"]["count"] == len(body["results"])
        if body["_page"]["next"] is None:
            assert "next" not in body["_links"]
            break
        assert "start=" in body["_links"]["next"]["href"]
        params = {"orderby": "title", "limit": "3", "start": body["_page"]["next"]}
    assert seen == titles and pages == 3


def test_list_property_filters_and_full_objects(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    create_profile_schema(api, "Alpha")
    create_profile_schema(api, "Beta")
    cls = api.post(f"{SR}/tenant/classes", {"title": "adhoc c", "type": "object",
                                            "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"}]}).json()
    api.post(f"{SR}/tenant/schemas", {"title": "Adhoc s", "type": "object", "allOf": [{"$ref": cls["$id"]}]})
    only = api.get(f"{SR}/tenant/schemas", params={"property": "title==Beta"}).json()["results"]
    assert [r["title"] for r in only] == ["Beta"]
    non_adhoc = api.get(f"{SR}/tenant/schemas",
                        params={"property": "meta:extends!=https://ns.adobe.com/xdm/data/adhoc"},
                        headers={"Accept": "application/vnd.adobe.xed+json"}).json()["results"]
    assert sorted(r["title"] for r in non_adhoc) == ["Alpha", "Beta"]
    assert "meta:extends" in non_adhoc[0]
    desc = api.get(f"{SR}/tenant/schemas", params={"orderby": "-title"}).json()["results"]
    assert [r["title"] for r in desc] == ["Beta", "Alpha", "Adhoc s"]


def test_patch_adds_field_group_and_delete_is_204(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    enc = quote(schema_id, safe="")
    resp = api.patch(f"{SR}/tenant/schemas/{enc}", [
        {"op": "add", "path": "/allOf/-", "value": {"$ref": "https://ns.adobe.com/xdm/context/profile-work-details"}}])
    assert resp.status_code == 200, resp.text
    assert "https://ns.adobe.com/xdm/context/profile-work-details" in resp.json()["meta:extends"]
    props = api.get(f"{SR}/tenant/schemas/{enc}", headers={"Accept": XED_FULL}).json()["properties"]
    assert "address" in props["workEmail"]["properties"]
    assert api.delete(f"{SR}/tenant/schemas/{enc}").status_code == 204
    assert api.get(f"{SR}/tenant/schemas/{enc}", headers={"Accept": XED_FULL}).status_code == 404


def test_global_field_group_readable(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    ref = quote("https://ns.adobe.com/xdm/context/profile-personal-details", safe="")
    resp = api.get(f"{SR}/global/fieldgroups/{ref}", headers={"Accept": XED_FULL})
    assert resp.status_code == 200
    assert "personalEmail" in resp.json()["properties"]
    listing = api.get(f"{SR}/global/classes").json()["results"]
    assert "https://ns.adobe.com/xdm/context/profile" in [r["$id"] for r in listing]


def test_collection_paths_accept_a_trailing_slash_like_the_real_service(emulator):
    """Clients written for AEP (aepp among them) POST and list on `/tenant/classes/`."""
    import httpx

    headers = {**emulator.headers(), "Content-Type": "application/json"}
    base = f"{emulator.base_url}/data/foundation/schemaregistry/tenant"
    body = {
        "title": "Slash class", "type": "object",
        "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"},
                  {"properties": {"_adhoc": {"type": "object", "properties": {"a": {"type": "string"}}}}}],
    }
    created = httpx.post(f"{base}/classes/", json=body, headers=headers)
    assert created.status_code == 201, created.text
    listed = httpx.get(f"{base}/classes/", headers={**headers, "Accept": "application/vnd.adobe.xed-id+json"})
    assert listed.status_code == 200
    assert "Slash class" in [item["title"] for item in listed.json()["results"]]


def test_a_page_extends_through_entries_tying_on_the_sort_value(emulator: EmulatorServer) -> None:
    """appendix.md ("Paging"): the limit "is not strictly honored ... as constrained by the need to provide the
    reliable operation of the start parameter". ``start`` is exclusive on the sort value, so a page cut inside a
    group of equal values would lose the rest of the group: walking the pages lists every schema once."""
    api = Api(emulator)
    ids = {create_profile_schema(api, f"Tied {i}") for i in range(5)}
    seen: list[str] = []
    params: dict[str, str] = {"orderby": "version", "limit": "2"}  # every schema is version 1.0
    for _ in range(10):
        body = api.get(f"{SR}/tenant/schemas", params=params,
                       headers={"Accept": "application/vnd.adobe.xed-id+json"}).json()
        seen += [r["$id"] for r in body["results"]]
        if body["_page"]["next"] is None:
            break
        params = {"orderby": "version", "limit": "2", "start": body["_page"]["next"]}
    assert sorted(seen) == sorted(ids)


def test_a_list_refuses_a_versioned_accept(emulator: EmulatorServer) -> None:
    """schema-registry.yaml ``acceptErrorList``: a list asked with ``application/vnd.adobe.xed+json;version=1``
    is refused with XDM-1006-400; the same list without the version answers."""
    api = Api(emulator)
    create_profile_schema(api)
    for accept in ("application/vnd.adobe.xed+json;version=1", "application/vnd.adobe.xed-id+json; version=1"):
        resp = api.get(f"{SR}/tenant/schemas", headers={"Accept": accept})
        assert resp.status_code == 400, resp.text
        assert resp.json()["type"].endswith("XDM-1006-400")
    assert api.get(f"{SR}/tenant/schemas", headers={"Accept": "application/vnd.adobe.xed+json"}).status_code == 200
