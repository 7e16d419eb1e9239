"""Identity Service in the emulator: ``GET /data/core/idnamespace/identities`` answers the sandbox's identity
namespaces as identity-service.yaml (``getIdNamespaces``) and list-namespaces.md show them, through the same
gateway as every Platform call."""

from __future__ import annotations

import httpx
from emulator_helpers import Api

from aep_emulator.testing import EmulatorServer
from tests.contract import adobe_contract as ac

IDENTITIES = "/data/core/idnamespace/identities"
# help/privacy-service/api/appendix.md, "Standard identity namespaces": the code and namespaceId of each.
DOCUMENTED = {"Email": 6, "Phone": 7, "AdCloud": 411, "CORE": 0, "ECID": 4, "TNTID": 9, "IDFA": 20915, "GAID": 20914,
              "WAID": 8}


def test_the_namespace_list_is_an_array_of_the_documented_standard_namespaces(emulator: EmulatorServer) -> None:
    """A client that checks a mapping's namespace code reads the sandbox's codes here: an array (not a paged
    object), each namespace with the fields and types identity-service.yaml's ``listNamespaces`` gives, and the
    standard ones with Adobe's documented codes and ids, marked ``custom: false``."""
    resp = Api(emulator).get(IDENTITIES)
    assert resp.status_code == 200
    body = resp.json()
    assert isinstance(body, list)
    assert {item["code"]: item["id"] for item in body} == DOCUMENTED
    assert all(item["custom"] is False and item["status"] == "ACTIVE" for item in body)
    ecid = next(item for item in body if item["code"] == "ECID")
    assert ecid == {"updateTime": 1495153678000, "code": "ECID", "status": "ACTIVE", "description": "ECID Namespace",
                    "id": 4, "createTime": 1495153678000, "idType": "COOKIE", "name": "ECID", "custom": False}
    endpoint = ac.load().match("GET", IDENTITIES)
    assert endpoint is not None
    problems = ac.load().check_answer({"method": "GET", "path": IDENTITIES, "status": 200, "answer": body})
    assert problems == []


def test_the_gateway_checks_apply_and_the_sandbox_header_is_optional(emulator: EmulatorServer) -> None:
    """Authorization, x-api-key and x-gw-ims-org-id are required (identity-service.yaml); x-sandbox-name may be
    left out ("If unspecified, falls back to the default production sandbox"), and an unknown sandbox is refused
    with our code (Identity Service documents none)."""
    headers = emulator.headers("prod")
    without_token = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    assert httpx.get(f"{emulator.base_url}{IDENTITIES}", headers=without_token).status_code == 403
    no_sandbox = {k: v for k, v in headers.items() if k.lower() != "x-sandbox-name"}
    resp = httpx.get(f"{emulator.base_url}{IDENTITIES}", headers=no_sandbox)
    assert resp.status_code == 200 and {item["code"] for item in resp.json()} == set(DOCUMENTED)
    unknown = httpx.get(f"{emulator.base_url}{IDENTITIES}", headers=emulator.headers("nosuchsandbox"))
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("EMU-404")
