"""Helpers shared by the emulator tests (plain functions, no fixtures)."""

from __future__ import annotations

from typing import Any

import httpx

from aep_emulator.testing import EmulatorServer

SR = "/data/foundation/schemaregistry"
CAT = "/data/foundation/catalog"
FS = "/data/foundation/flowservice"
DP = "/data/foundation/conversion"
HUBSPOT_SPEC = "cc6a4487-9e91-433e-a3a3-9cf6626c1806"
DATA_LAKE_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
FLOW_SPEC_ID = "14518937-270c-4525-bdec-c2ba7cce3860"
XED_FULL = "application/vnd.adobe.xed-full+json; version=1"
XED_ID = "application/vnd.adobe.xed-id+json"


class Api:
    """An authenticated Platform client for one org+sandbox (what a real client sends)."""

    def __init__(self, server: EmulatorServer, sandbox: str = "prod", other_org: bool = False) -> None:
        if other_org:
            self.headers = server.headers(
                sandbox, org_id="OTHER000000000000000000@AdobeOrg", client_id="other-client",
                client_secret="other-secret",
            )
        else:
            self.headers = server.headers(sandbox)
        self.http = httpx.Client(base_url=server.base_url, headers=self.headers, timeout=30)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        """GET; Schema Registry reads get the list Accept header Adobe requires unless one is given."""
        if path.startswith(SR) and "accept" not in {k.lower() for k in kw.get("headers") or {}}:
            kw["headers"] = {**(kw.get("headers") or {}), "Accept": XED_ID}
        return self.http.get(path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.http.post(path, json=body, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.http.patch(path, json=body, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.delete(path, **kw)
