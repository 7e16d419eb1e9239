"""IMS token endpoint and the gateway header checks (reference section 1)."""

from __future__ import annotations

import httpx
import pytest
from emulator_helpers import CAT, FS, SR

from aep_emulator.testing import EmulatorServer

TOKEN_FORM = {
    "client_id": "demo-client",
    "client_secret": "demo-secret",
    "grant_type": "client_credentials",
    "scope": "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext",
}


def test_token_exchange_returns_bearer_token_with_seconds_lifetime(emulator: EmulatorServer) -> None:
    resp = httpx.post(f"{emulator.base_url}/ims/token/v3", data=TOKEN_FORM)
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399
    assert body["access_token"]
    assert resp.headers["x-request-id"]
    assert emulator.admin.state()["counters"]["ims_token_requests"] == 1


def test_wrong_secret_gets_oauth_invalid_client(emulator: EmulatorServer) -> None:
    resp = httpx.post(f"{emulator.base_url}/ims/token/v3", data={**TOKEN_FORM, "client_secret": "nope"})
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client"
    assert "error_description" in resp.json()


def test_wrong_grant_type_is_rejected(emulator: EmulatorServer) -> None:
    resp = httpx.post(f"{emulator.base_url}/ims/token/v3", data={**TOKEN_FORM, "grant_type": "password"})
    assert resp.status_code == 400


def _call(emulator: EmulatorServer, headers: dict[str, str], path: str = f"{CAT}/dataSets") -> httpx.Response:
    return httpx.get(emulator.base_url + path, headers=headers)


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda h: h.pop("Authorization"), 403, "403010"),
        (lambda h: h.update(Authorization="Bearer not-a-token"), 401, "401013"),
        (lambda h: h.pop("x-api-key"), 403, "403000"),
        (lambda h: h.update({"x-api-key": "unknown-key"}), 403, "403003"),
        (lambda h: h.pop("x-gw-ims-org-id"), 400, "400003"),
        (lambda h: h.update({"x-gw-ims-org-id": "OTHER000000000000000000@AdobeOrg"}), 403, "403025"),
    ],
    ids=["no-auth", "bad-token", "no-api-key", "wrong-api-key", "no-org", "other-org"],
)
def test_gateway_rejects_bad_credential_headers(emulator: EmulatorServer, mutate, status, code) -> None:  # type: ignore[no-untyped-def]
    headers = emulator.headers()
    mutate(headers)
    resp = _call(emulator, headers)
    assert resp.status_code == status
    assert resp.json()["error_code"] == code
    assert resp.json()["message"]


def test_gateway_messages_match_reference(emulator: EmulatorServer) -> None:
    headers = emulator.headers()
    headers.pop("Authorization")
    assert _call(emulator, headers).json()["message"] == "Oauth token is missing."


def test_expired_token_is_401013(emulator: EmulatorServer) -> None:
    emulator.admin.configure(token_ttl_seconds=60)
    headers = emulator.headers()
    assert _call(emulator, headers).status_code == 200
    emulator.admin.advance(61)
    resp = _call(emulator, headers)
    assert resp.status_code == 401
    assert resp.json()["error_code"] == "401013"


def test_configured_token_ttl_is_reported(emulator: EmulatorServer) -> None:
    emulator.admin.configure(token_ttl_seconds=5)
    resp = httpx.post(f"{emulator.base_url}/ims/token/v3", data=TOKEN_FORM)
    assert resp.json()["expires_in"] == 5


def test_flow_service_without_sandbox_header_is_2105(emulator: EmulatorServer) -> None:
    headers = emulator.headers()
    headers.pop("x-sandbox-name")
    resp = _call(emulator, headers, f"{FS}/flows")
    assert resp.status_code == 400
    body = resp.json()
    assert body["type"].endswith("2105-400")
    assert body["report"]["request-id"] == resp.headers["x-request-id"]


def test_unknown_sandbox_is_2100_404(emulator: EmulatorServer) -> None:
    resp = _call(emulator, emulator.headers("nosuchbox"), f"{FS}/flows")
    assert resp.status_code == 404
    assert resp.json()["type"].endswith("2100-404")


def test_post_without_json_content_type_is_400(emulator: EmulatorServer) -> None:
    resp = httpx.post(
        f"{emulator.base_url}{FS}/flows",
        headers={**emulator.headers(), "Content-Type": "text/plain"},
        content=b'{"name": "x"}',
    )
    assert resp.status_code == 400
    assert "content-type" in resp.json()["detail"].lower()


def test_schema_registry_errors_carry_registry_request_id(emulator: EmulatorServer) -> None:
    resp = httpx.get(
        f"{emulator.base_url}{SR}/tenant/schemas/nope",
        headers={**emulator.headers(), "Accept": "application/vnd.adobe.xed-full+json; version=1"},
    )
    assert resp.status_code == 404
    assert resp.json()["report"]["registryRequestId"] == resp.headers["x-request-id"]
