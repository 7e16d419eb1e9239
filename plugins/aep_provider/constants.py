"""Defaults of the connection; no imports, so provider discovery can read them without Airflow."""

from __future__ import annotations

DEFAULT_HOST = "https://platform.adobe.io"
DEFAULT_IMS_HOST = "https://ims-na1.adobelogin.com"
DEFAULT_SANDBOX = "prod"
DEFAULT_SCOPES = "openid,session,AdobeID,read_organizations,additional_info.projectedProductContext"
DEFAULT_TIMEOUT = 60.0
