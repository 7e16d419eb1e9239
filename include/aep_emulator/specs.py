"""Connection specs and flow specs the emulated Flow Service knows."""

from __future__ import annotations

import copy
from typing import Any

HUBSPOT_SPEC_ID = "cc6a4487-9e91-433e-a3a3-9cf6626c1806"
DATA_LAKE_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
CRM_TO_AEP_ID = "14518937-270c-4525-bdec-c2ba7cce3860"
DRAFT7 = "http://json-schema.org/draft-07/schema#"

CONNECTION_SPECS: dict[str, dict[str, Any]] = {
    HUBSPOT_SPEC_ID: {
        "id": HUBSPOT_SPEC_ID,
        "name": "hubspot",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "attributes": {"category": "CRM", "isSource": True, "displayName": "HubSpot"},
        "authSpec": [
            {
                "name": "Basic Authentication",
                "type": "Basic Authentication",
                "spec": {
                    "$schema": DRAFT7,
                    "type": "object",
                    "description": "defines auth params required for connecting to HubSpot",
                    "properties": {
                        "clientId": {"type": "string", "description": "client id"},
                        "clientSecret": {"type": "string", "format": "password", "description": "client secret"},
                        "accessToken": {"type": "string", "format": "password", "description": "access token"},
                        "refreshToken": {"type": "string", "format": "password", "description": "refresh token"},
                    },
                    "required": ["clientId", "clientSecret", "accessToken"],
                },
            }
        ],
        "sourceSpec": {
            "attributes": {"uiAttributes": {"isSource": True, "isPreview": True}},
            "spec": {"$schema": DRAFT7, "type": "object", "properties": {"path": {"type": "string"}},
                     "required": ["path"]},
        },
        "exploreSpec": {"name": "Tabular", "type": "Tabular"},
    },
    DATA_LAKE_SPEC_ID: {
        "id": DATA_LAKE_SPEC_ID,
        "name": "Data Lake",
        "providerId": "521eee4d-8cbe-4906-bb48-fb6bd4450033",
        "version": "1.0",
        "attributes": {"category": "Storage", "isDestination": True},
        "authSpec": [],
        "targetSpec": {
            "name": "Data Lake",
            "spec": {"$schema": DRAFT7, "type": "object", "properties": {"dataSetId": {"type": "string"}},
                     "required": ["dataSetId"]},
        },
    },
}

SECRET_PARAMS = {"clientSecret", "accessToken", "refreshToken", "password"}

_PERIODIC_SPEC: dict[str, Any] = {
    "$schema": DRAFT7,
    "type": "object",
    "properties": {
        "startTime": {"description": "epoch time", "type": "integer"},
        "endTime": {"description": "epoch time", "type": "integer"},
        "interval": {"type": "integer"},
        "frequency": {"type": "string", "enum": ["once", "minute", "hour", "day", "week"]},
        "backfill": {"type": "boolean", "default": True},
    },
    "required": ["startTime", "frequency"],
    "allOf": [
        {
            "if": {"properties": {"frequency": {"const": "once"}}},
            "then": {"not": {"anyOf": [{"required": ["interval"]}, {"required": ["backfill"]}]}},
            "else": {"required": ["interval"]},
        },
        {
            "if": {"properties": {"frequency": {"const": "minute"}}},
            "then": {"properties": {"interval": {"minimum": 15}}},
            "else": {"properties": {"interval": {"minimum": 1}}},
        },
    ],
}

# The CRMToAEP ``optionSpec`` as crm.md ("Retrieve dataflow specifications") and flow-service.yaml
# (flowSpecs example) show it; a flow sets these in its ``options`` (help/ingestion/batch-ingestion/partial.md,
# "Enable partial ingestion and error diagnostics for an existing dataflow").
_OPTION_SPEC: dict[str, Any] = {
    "$schema": DRAFT7,
    "type": "object",
    "properties": {
        "errorDiagnosticsEnabled": {
            "title": "Error diagnostics.",
            "description": "Flag to enable detailed and sample error diagnostics summary.",
            "type": "boolean",
            "default": False,
        },
        "partialIngestionPercent": {
            "title": "Partial ingestion threshold.",
            "description": "Percentage which defines the threshold of errors allowed before the run is marked as failed.",
            "type": "number",
            "exclusiveMinimum": 0,
        },
    },
}

# The CRMToAEP ``runSpec`` as help/sources/tutorials/api/collect/crm.md shows it ("Retrieve dataflow
# specifications", the flow spec's payload): the params of ``POST /runs``, ``startTime``, ``windowStartTime``,
# ``windowEndTime`` and ``deltaColumn`` all required. on-demand-ingestion.md says the ``deltaColumn`` is only
# needed on a flow's first run and sends the times as strings: runs.py reads the two together
# (tests/contract/adobe_contract_notes.yaml).
_EPOCH = "The value is represented in Unix epoch time."
_RUN_SPEC: dict[str, Any] = {
    "$schema": DRAFT7,
    "type": "object",
    "description": "defines various params required for creating flow run.",
    "properties": {
        "startTime": {"type": "integer", "description": f"An integer that defines the start time of the run. {_EPOCH}"},
        "windowStartTime": {"type": "integer", "description": "An integer that defines the start time of the window "
                            f"against which data is to be pulled. {_EPOCH}"},
        "windowEndTime": {"type": "integer", "description": "An integer that defines the end time of the window "
                          f"against which data is to be pulled. {_EPOCH}"},
        "deltaColumn": {
            "type": "object",
            "description": "The delta column is required to partition the data and separate newly ingested data "
                           "from historic data.",
            "properties": {"name": {"type": "string"}, "dateFormat": {"type": "string"},
                           "timezone": {"type": "string"}},
            "required": ["name"],
        },
    },
    "required": ["startTime", "windowStartTime", "windowEndTime", "deltaColumn"],
}

FLOW_SPECS: dict[str, dict[str, Any]] = {
    CRM_TO_AEP_ID: {
        "id": CRM_TO_AEP_ID,
        "name": "CRMToAEP",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "version": "1.0",
        "sourceConnectionSpecIds": [HUBSPOT_SPEC_ID],
        "targetConnectionSpecIds": [DATA_LAKE_SPEC_ID],
        "transformationSpecs": [
            {
                "name": "Copy",
                "spec": {
                    "$schema": DRAFT7,
                    "type": "object",
                    "properties": {
                        "deltaColumn": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "dateFormat": {"type": "string"},
                                "timezone": {"type": "string"},
                            },
                            "required": ["name"],
                        }
                    },
                    "required": ["deltaColumn"],
                },
            },
            {
                "name": "Mapping",
                "spec": {
                    "$schema": DRAFT7,
                    "type": "object",
                    "description": "defines various params required for different mapping from source to target",
                    # mappingVersion: a string in the CRM flow spec and the tutorials' examples, an
                    # integer from clients such as aepp; Adobe's documents disagree, so both pass.
                    "properties": {"mappingId": {"type": "string"},
                                   "mappingVersion": {"type": ["string", "integer"]}},
                },
            },
        ],
        "optionSpec": {"name": "OptionSpec", "spec": _OPTION_SPEC},
        "scheduleSpec": {"name": "PeriodicSchedule", "type": "Periodic", "spec": _PERIODIC_SPEC},
        "runSpec": {"name": "ProviderParams", "spec": _RUN_SPEC},
        "attributes": {"isSourceFlow": True, "flacValidationSupported": False},
        "permissionsInfo": {"view": [{"@type": "lowLevel", "name": "EnterpriseSource", "permissions": ["read"]}],
                            "manage": [{"@type": "lowLevel", "name": "EnterpriseSource",
                                        "permissions": ["write"]}]},
    }
}


def connection_spec(spec_id: str) -> dict[str, Any] | None:
    found = CONNECTION_SPECS.get(spec_id)
    return copy.deepcopy(found) if found else None


def flow_spec(spec_id: str) -> dict[str, Any] | None:
    found = FLOW_SPECS.get(spec_id)
    return copy.deepcopy(found) if found else None


FREQUENCY_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
