"""The connection form of ``adobe_experience_platform``: relabelled fields, placeholders, extra fields.

Declared once here; ``get_provider_info`` publishes it declaratively (Airflow >= 3.2) and the hook's
``get_ui_field_behaviour`` / ``get_connection_form_widgets`` return the same for older UIs.

How Airflow 3.3's form reads these (its ``FlexibleForm``): a field whose JSON-schema ``type`` does not
allow ``null`` is marked required (``*``) and refused empty; a string field shows its ``examples`` as
suggestions (the closest it has to a placeholder); a field left empty is stored as ``null`` in the
extra JSON, which the hook reads as "not set" (so the defaults apply). Optional fields therefore allow
``null``; the ones with a sensible value carry it as ``default``, so a new connection starts filled in.

The port field: the Connections list's *Test* button sends ``port: Number(stored port)``, which is ``0``
for a connection saved without a port, and the API then refuses to reuse the stored secret for a
"different" endpoint (``0`` is not ``null``) before the provider's test runs. The Platform URL carries
its port in the host, so the port field is shown, labelled to hold ``0``, and the hook ignores a ``0``
port; ``make airflow-up`` stores its connections with port ``0``.
"""

from __future__ import annotations

from typing import Any

from aep_provider.constants import DEFAULT_HOST, DEFAULT_IMS_HOST, DEFAULT_SANDBOX, DEFAULT_SCOPES

CONN_TYPE = "adobe_experience_platform"
DEFAULT_CONN_ID = "aep_default"
HOOK_NAME = "Adobe Experience Platform"

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema"],
    "relabeling": {
        "login": "Client ID (API key) *",
        "password": "Client secret *",
        "host": "Platform host (URL)",
        "port": "Port (keep 0: the host URL carries it)",
    },
    "placeholders": {
        "login": "Client ID of the Developer Console OAuth server-to-server credential",
        "password": "Client secret of the same credential",
        "host": DEFAULT_HOST,
        "port": "0",
        "extra": '{"org_id": "ABC123@AdobeOrg", "sandbox": "prod"}',
        "org_id": "ABC123@AdobeOrg",
        "sandbox": DEFAULT_SANDBOX,
        "ims_host": DEFAULT_IMS_HOST,
        "scopes": DEFAULT_SCOPES,
        "ui_tenant": "mycompany",
    },
}

CONN_FIELDS: dict[str, dict[str, Any]] = {
    "org_id": {
        "label": "IMS org ID",
        "description": "Required. Your IMS organization id, ending in @AdobeOrg (sent as x-gw-ims-org-id), "
        "e.g. ABC123@AdobeOrg.",
        "schema": {"type": "string", "minLength": 1, "pattern": ".+@AdobeOrg$", "examples": ["ABC123@AdobeOrg"]},
    },
    "sandbox": {
        "label": "Sandbox",
        "description": "Sandbox name (x-sandbox-name); tasks may override it with sandbox=.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_SANDBOX, "examples": [DEFAULT_SANDBOX, "dev"]},
    },
    "ims_host": {
        "label": "IMS host",
        "description": "Adobe IMS base URL used to obtain access tokens. The client secret is sent only to "
        "Adobe's IMS, a loopback host or a host the Airflow configuration lists in [aep] allowed_ims_hosts.",
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
        "description": "Optional: the @tenant of your experience.adobe.com URLs (experience.adobe.com/#/@mycompany/...), "
        "for the tasks' links to the AEP UI.",
        "schema": {"type": ["string", "null"]},
    },
    "allow_insecure_http": {
        "label": "Allow plain http (test servers only)",
        "description": "Off: a host or IMS host that is not loopback must be https://, so the client secret and "
        "tokens never travel in clear. Turn on only for a test server on another host (e.g. the compose emulator).",
        "schema": {"type": ["boolean", "null"], "default": False},
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
