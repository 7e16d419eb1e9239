"""What one org+sandbox makes is invisible from another sandbox and another org."""

from __future__ import annotations

from urllib.parse import quote

from emulator_flows import create_dataset, create_hubspot_base, create_profile_schema
from emulator_helpers import CAT, FS, SR, XED_FULL, Api

from aep_emulator.testing import EmulatorServer


def test_resources_are_invisible_from_other_sandbox_and_org(emulator: EmulatorServer) -> None:
    prod = Api(emulator)
    schema_id = create_profile_schema(prod, "Isolated")
    dataset_id = create_dataset(prod, schema_id)
    conn_id = create_hubspot_base(prod)
    for other in (Api(emulator, sandbox="dev"), Api(emulator, other_org=True)):
        assert other.get(f"{SR}/tenant/schemas/{quote(schema_id, safe='')}",
                         headers={"Accept": XED_FULL}).status_code == 404
        assert other.get(f"{SR}/tenant/schemas").json()["results"] == []
        assert other.get(f"{CAT}/dataSets/{dataset_id}").status_code == 404
        assert other.get(f"{CAT}/dataSets").json() == {}
        assert other.get(f"{FS}/connections/{conn_id}").status_code == 404
        assert other.get(f"{FS}/connections").json()["items"] == []
    # the same title is free in another sandbox
    create_profile_schema(Api(emulator, sandbox="dev"), "Isolated")
    kinds = {(r["org"], r["sandbox"], r["kind"]) for r in emulator.admin.state()["resources"]}
    assert ("DEMO0000000000000000000@AdobeOrg", "dev", "schema") in kinds


def test_other_org_has_its_own_tenant(emulator: EmulatorServer) -> None:
    assert Api(emulator, other_org=True).get(f"{SR}/stats").json()["tenantId"] == "othertenant"


def test_token_of_one_org_used_with_another_org_id_is_403025(emulator: EmulatorServer) -> None:
    headers = emulator.headers(org_id="DEMO0000000000000000000@AdobeOrg", client_id="other-client",
                               client_secret="other-secret")
    resp = Api(emulator).http.get(f"{FS}/flows", headers=headers)
    assert resp.status_code == 403 and resp.json()["error_code"] == "403025"


def test_other_org_unknown_sandbox_is_404(emulator: EmulatorServer) -> None:
    resp = Api(emulator, sandbox="dev", other_org=True).get(f"{FS}/flows")
    assert resp.status_code == 404 and resp.json()["type"].endswith("2100-404")
