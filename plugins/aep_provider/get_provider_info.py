"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from aep_provider.hooks.connection_form import CONN_FIELDS, CONN_TYPE, HOOK_NAME, declarative_behaviour

INTEGRATION = "Adobe Experience Platform"
DOCS = "https://experienceleague.adobe.com/en/docs/experience-platform/landing/platform-apis/api-guides"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-aep-onboarding",
        "name": "Adobe Experience Platform",
        "description": "Adobe Experience Platform provider: onboard marketing-automation (HubSpot) data into "
        "AEP with schemas, datasets, connections, mapping sets, dataflows and flow runs.",
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": DOCS,
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": INTEGRATION,
                "python-modules": ["aep_provider.hooks.aep", "aep_provider.hooks.aep_async"],
            }
        ],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "aep_provider.operators.explore",
                    "aep_provider.operators.schema",
                    "aep_provider.operators.connections",
                    "aep_provider.operators.dataset",
                    "aep_provider.operators.mapping",
                    "aep_provider.operators.flow",
                    "aep_provider.operators.flow_run",
                    "aep_provider.operators.teardown",
                    "aep_provider.operators.write_lease",
                ],
            }
        ],
        "sensors": [{"integration-name": INTEGRATION, "python-modules": ["aep_provider.sensors.flow_run", "aep_provider.sensors.interval_runs"]}],
        "triggers": [{"integration-name": INTEGRATION, "python-modules": ["aep_provider.triggers.flow_run", "aep_provider.triggers.write_lease"]}],
        "connection-types": [
            {
                "connection-type": CONN_TYPE,
                "hook-class-name": "aep_provider.hooks.aep.AepHook",
                "hook-name": HOOK_NAME,
                "ui-field-behaviour": declarative_behaviour(),
                "conn-fields": CONN_FIELDS,
            }
        ],
        # An AEP dataset's asset (aep://<org>/<sandbox>/datasets/<id>) is the same OpenLineage dataset the flow
        # operators report (lineage.py): one node in a lineage tool.
        "asset-uris": [
            {"schemes": ["aep"], "handler": None,
             "to_openlineage_converter": "aep_provider.lineage.convert_asset_to_openlineage"},
        ],
        "extra-links": [
            "aep_provider.links.AepSchemaLink",
            "aep_provider.links.AepClassLink",
            "aep_provider.links.AepDatasetLink",
            "aep_provider.links.AepAccountLink",
            "aep_provider.links.AepDataflowLink",
            "aep_provider.links.AepFlowRunLink",
            "aep_provider.links.AepSourceConnectionLink",
            "aep_provider.links.AepTargetConnectionLink",
            "aep_provider.links.AepMappingSetLink",
        ],
    }
