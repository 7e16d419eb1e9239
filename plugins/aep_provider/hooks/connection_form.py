"""The connection form of ``adobe_experience_platform``: relabelled fields, placeholders, extra fields.

Declared once here; ``get_provider_info`` publishes it declaratively (Airflow >= 3.2) and the hook's
``get_ui_field_behaviour`` / ``get_connection_form_widgets`` return the same for older UIs.
"""

from __future__ import annotations

from typing import Any

from aep_provider.constants import DEFAULT_HOST, DEFAULT_IMS_HOST, DEFAULT_SANDBOX, DEFAULT_SCOPES

CONN_TYPE = "adobe_experience_platform"
DEFAULT_CONN_ID = "aep_default"
HOOK_NAME = "Adobe Experience Platform"

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "port"],
    "relabeling": {
        "login": "Client ID (API key)",
        "password": "Client secret",
        "host": "Platform host",
    },
    "placeholders": {
        "login": "Client ID of the Developer Console OAuth server-to-server credential",
        "password": "Client secret of the same credential",
        "host": DEFAULT_HOST,
        "extra": '{"org_id": "ABC123@AdobeOrg", "sandbox": "prod"}',
    },
}

CONN_FIELDS: dict[str, dict[str, Any]] = {
    "org_id": {
        "label": "IMS org ID",
        "description": "Your IMS organization id, ending in @AdobeOrg (sent as x-gw-ims-org-id).",
        "schema": {"type": ["string", "null"], "pattern": ".+@AdobeOrg$"},
    },
    "sandbox": {
        "label": "Sandbox",
        "description": "Sandbox name (x-sandbox-name); tasks may override it with sandbox=.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_SANDBOX},
    },
    "ims_host": {
        "label": "IMS host",
        "description": "Adobe IMS base URL used to obtain access tokens.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_IMS_HOST, "format": "url"},
    },
    "scopes": {
        "label": "Scopes",
        "description": "Comma-separated OAuth scopes.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_SCOPES},
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Retries of one call on 429, 5xx, dropped connections and timeouts.",
        "schema": {"type": ["integer", "null"], "minimum": 0},
    },
    "retry_max_seconds": {
        "label": "Retry time budget (s)",
        "description": "Total time one call may spend retrying.",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "ui_tenant": {
        "label": "Experience Cloud tenant (links)",
        "description": "Optional: the @tenant of your experience.adobe.com URLs, for the tasks' links to the AEP UI.",
        "schema": {"type": ["string", "null"]},
    },
    "timeout": {
        "label": "Request timeout (s)",
        "description": "Timeout of one HTTP request.",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
}


def declarative_behaviour() -> dict[str, Any]:
    """``ui-field-behaviour`` in the kebab-case form provider info uses."""
    return {
        "hidden-fields": UI_FIELD_BEHAVIOUR["hidden_fields"],
        "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
        "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
    }
