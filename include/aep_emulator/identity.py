"""Identity Service (``/data/core/idnamespace``): the identity namespaces of a sandbox.

``GET /idnamespace/identities`` (identity-service.yaml, operationId ``getIdNamespaces``, "Lists all identity
namespaces available for the IMS Organization") answers an array of ``{updateTime, code, status, createTime,
description, idType, name, id, custom}``; ``custom: false`` marks Adobe's standard namespaces
(help/identity-service/api/list-namespaces.md).

The emulator serves the standard namespaces whose identity symbol (``code``) and ``id`` Adobe documents:
``Email`` 6, ``Phone`` 7, ``AdCloud`` 411, ``CORE`` 0, ``ECID`` 4, ``TNTID`` 9, ``IDFA`` 20915, ``GAID`` 20914,
``WAID`` 8 (help/privacy-service/api/appendix.md, "Standard identity namespaces"). CORE, ECID and AdCloud are as
list-namespaces.md shows them. For the six others, ``name`` is the display name of
help/identity-service/features/namespaces.md ("Standard namespaces") and ``idType`` its identity type (email,
phone, cookie for Target, device for the advertising ids); their ``description`` and times are OURS. The other
standard namespaces that page names (hashed emails and phones, push tokens, Analytics) have no documented code,
and are not served. The same in every sandbox: the emulator has no custom namespaces.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from .services import IDENTITY

router = APIRouter(prefix=IDENTITY.prefix, tags=["Identity Service"])

#: Our times for the namespaces Adobe's example does not show (epoch milliseconds).
_OURS_MS = 1441122419000


def _namespace(id_: int, code: str, name: str, description: str, id_type: str, ms: int = _OURS_MS) -> dict[str, Any]:
    return {
        "updateTime": ms, "code": code, "status": "ACTIVE", "description": description, "id": id_,
        "createTime": ms, "idType": id_type, "name": name, "custom": False,
    }


STANDARD_NAMESPACES: tuple[dict[str, Any], ...] = (
    _namespace(0, "CORE", "CORE", "CORE Namespace", "COOKIE", 1441122419000),
    _namespace(4, "ECID", "ECID", "ECID Namespace", "COOKIE", 1495153678000),
    _namespace(411, "AdCloud", "AdCloud", "Adobe AdCloud - ID Syncing Partner", "COOKIE", 1522783145000),
    _namespace(6, "Email", "Email", "Email addresses", "Email"),
    _namespace(7, "Phone", "Phone", "Phone numbers", "Phone"),
    _namespace(9, "TNTID", "TNTID", "Adobe Target ID", "COOKIE"),
    _namespace(20915, "IDFA", "Apple IDFA (ID for Advertisers)", "Apple ID for Advertisers", "Device"),
    _namespace(20914, "GAID", "Google Ad ID (GAID)", "Google Advertising ID", "Device"),
    _namespace(8, "WAID", "Windows AID", "Windows Advertising ID", "Device"),
)


@router.get("/identities", summary="List the identity namespaces (an array)")
def list_namespaces() -> list[dict[str, Any]]:
    return [dict(namespace) for namespace in STANDARD_NAMESPACES]
