"""The registry of services (aep_emulator.services): every Platform route belongs to a registered service, a route
whose service is missing from it stops the app from building, and the gateway and the error bodies follow each
service's entry."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter

from aep_emulator import services
from aep_emulator.app import UnregisteredServiceError, check_platform_routes, create_app
from aep_emulator.services import DATA_PREP, SERVICES, Service
from aep_emulator.testing import EmulatorServer


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(run_duration_seconds=0) as running:
        yield running


def test_every_platform_route_is_served_under_its_service_prefix() -> None:
    app = create_app()
    platform = [str(getattr(r, "path", "")) for r in app.routes if services.is_platform_path(str(getattr(r, "path", "")))]
    assert platform
    for service in SERVICES:
        assert [p for p in platform if p.startswith(service.prefix)], f"{service.name} serves no route"
    assert all(services.service_of_path(p) is not None for p in platform)


def test_kinds_are_registered_once() -> None:
    assert len(services.KINDS) == len(set(services.KINDS))


def test_a_route_of_an_unregistered_service_stops_the_app_from_building() -> None:
    app = create_app()
    toy = APIRouter(prefix=f"{services.PLATFORM_PREFIX}unregisteredservice")

    @toy.get("/things")
    def things() -> list[str]:
        return []

    app.include_router(toy)
    with pytest.raises(UnregisteredServiceError, match="/data/foundation/unregisteredservice/things"):
        check_platform_routes(app)


def test_forgetting_a_service_entry_fails_create_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """Data Prep's routes mounted while its entry is missing from the registry: the app refuses to build instead
    of serving them without the gateway's sandbox and Content-Type checks."""
    monkeypatch.setattr(services, "SERVICES", tuple(s for s in SERVICES if s is not DATA_PREP))
    with pytest.raises(UnregisteredServiceError, match="/data/foundation/conversion/"):
        create_app()


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_gateway_refuses_a_non_json_write_with_the_services_code(server: EmulatorServer, service: Service) -> None:
    resp = httpx.post(f"{server.base_url}{service.prefix}/anything", content=b"a=1",
                      headers={**server.headers("prod"), "Content-Type": "text/plain"})
    assert resp.status_code == 400
    body = resp.json()
    assert body["type"].endswith(service.content_type_code)
    assert service.request_id_key in body["report"]
    assert ("errorDetails" in body) == service.legacy_error_fields


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_an_unknown_sandbox_gets_the_services_code(server: EmulatorServer, service: Service) -> None:
    resp = httpx.get(f"{server.base_url}{service.prefix}/anything", headers=server.headers("nosuchsandbox"))
    assert resp.status_code == 404
    assert resp.json()["type"].endswith(service.unknown_sandbox_code)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_a_missing_sandbox_header_follows_the_services_rule(server: EmulatorServer, service: Service) -> None:
    headers = {k: v for k, v in server.headers("prod").items() if k.lower() != "x-sandbox-name"}
    resp = httpx.get(f"{server.base_url}{service.prefix}/nosuchcollection", headers=headers)
    if service.missing_sandbox_code is None:  # the prod sandbox is used: the route's own 404
        assert resp.status_code == 404 and resp.json()["type"].endswith(service.not_found_code)
    else:
        assert resp.status_code == 400 and resp.json()["type"].endswith(service.missing_sandbox_code)
