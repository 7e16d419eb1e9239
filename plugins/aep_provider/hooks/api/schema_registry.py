"""Schema Registry calls (``/data/foundation/schemaregistry``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from aep_provider.hooks.api.lookup import filter_safe
from aep_provider.hooks.api.protocol import PlatformCalls, get_or_none
from aep_provider.hooks.ids import path_segment
from aep_provider.hooks.paging import iter_schema_registry
from aep_provider.hooks.transport import service_path
from aep_provider.models.common import XED_FULL, XED_ID

Kind = Literal["classes", "schemas", "fieldgroups", "datatypes"]


def _sr(path: str) -> str:
    return service_path("schemaregistry", path)


def quote_id(resource_id: str) -> str:
    return path_segment(str(resource_id))


ADOBE_NS = "https://ns.adobe.com/"


class SchemaRegistryApi(PlatformCalls):
    #: The organization's tenant id (``GET /stats``), read once per hook when a ``$id`` needs it.
    _tenant_id: str | None = None

    def get_stats(self) -> dict[str, Any]:
        return self.get(_sr("/stats")) or {}

    def get_tenant_id(self) -> str:
        return str(self.get_stats().get("tenantId", ""))

    def container_of(self, resource_id: str) -> str:
        """``tenant`` for the organization's own resources, ``global`` for Adobe's.

        schema-registry.yaml ``containerIdLookup``: "To retrieve a core resource provided by Adobe, use
        global"; a tenant resource's ``$id`` is ``https://ns.adobe.com/<tenantId>/...`` (its ``meta:altId``
        ``_<tenantId>.``), the tenant id being ``/stats``' ``tenantId`` (schema-registry.yaml). So Adobe's field groups outside ``xdm/`` (``https://ns.adobe.com/experience/...``)
        are global too. ``xdm/`` is global whatever the tenant id, without reading ``/stats``.
        """
        rid = str(resource_id)
        if rid.startswith((ADOBE_NS + "xdm/", "_xdm.")):
            return "global"
        if self._tenant_id is None:
            self._tenant_id = self.get_tenant_id()
        tenant = self._tenant_id
        own = rid.startswith(f"{ADOBE_NS}{tenant}/") if rid.startswith(ADOBE_NS) else rid.startswith(f"_{tenant}.")
        return "tenant" if tenant and own else "global"

    def iter_tenant(
        self, kind: Kind, params: dict[str, Any] | None = None, *, accept: str = XED_ID
    ) -> Iterator[dict[str, Any]]:
        def get(path: str, p: dict[str, Any] | None) -> Any:
            return self.get(path, p, accept=accept)

        return iter_schema_registry(get, _sr(f"/tenant/{kind}"), params)

    def find_by_title(self, kind: Kind, title: str) -> dict[str, Any] | None:
        """The tenant resource whose title is exactly ``title`` (titles are unique per sandbox); a title a
        filter cannot express exactly is looked up on the whole list (hooks/api/lookup.py)."""
        params = {"property": f"title=={title}"} if filter_safe(title) else None
        for item in self.iter_tenant(kind, params):
            if item.get("title") == title:
                return item
        return None

    def get_resource(self, kind: Kind, resource_id: str, *, accept: str = XED_FULL) -> dict[str, Any] | None:
        """A tenant or global resource by ``$id`` or ``meta:altId``; ``None`` when missing."""
        container = self.container_of(resource_id)
        return get_or_none(self, _sr(f"/{container}/{kind}/{quote_id(resource_id)}"), accept=accept)

    def create_resource(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        return self.post(_sr(f"/tenant/{kind}"), body)

    def patch_resource(self, kind: Kind, resource_id: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """JSON Patch of a tenant resource (schema-registry.yaml ``updateDataType``, ``patchSchema``...): 200 with
        the updated resource. Sent as idempotent: every caller sends ``replace`` operations, which repeat harmlessly."""
        return self.request("PATCH", _sr(f"/tenant/{kind}/{quote_id(resource_id)}"), json=operations, idempotent=True)

    def delete_resource(self, kind: Kind, resource_id: str) -> bool:
        return self.delete(_sr(f"/tenant/{kind}/{quote_id(resource_id)}"))
