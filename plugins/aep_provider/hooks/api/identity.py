"""Identity Service calls (``/data/core/idnamespace``).

identity-service.yaml (AdobeDocs/experience-platform-apis, static/swagger-specs): base path ``/data/core/``;
``GET /idnamespace/identities`` (operationId ``getIdNamespaces``, "Lists all identity namespaces available for the
IMS Organization") answers an ARRAY of namespaces, each ``{id, code, name, description, idType, status, custom,
createTime, updateTime}`` (help/identity-service/api/list-namespaces.md). ``code`` (the identity symbol) is what a
mapping rule's ``namespaceCode`` names.
"""

from __future__ import annotations

from typing import Any

from aep_provider.hooks.api.protocol import PlatformCalls
from aep_provider.hooks.errors import AepApiError
from aep_provider.hooks.transport import service_path

NAMESPACES_PATH = service_path("idnamespace", "/identities")


class IdentityApi(PlatformCalls):
    def list_identity_namespaces(self) -> list[dict[str, Any]]:
        """Every identity namespace the sandbox has: the standard ones and the organization's own."""
        body = self.get(NAMESPACES_PATH)
        if not isinstance(body, list):
            raise AepApiError(f"Identity Service answered an unexpected body to a namespace listing: {str(body)[:200]}")
        return [item for item in body if isinstance(item, dict)]
