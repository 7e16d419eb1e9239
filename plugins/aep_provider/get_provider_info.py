"""Provider metadata read by Airflow's ProvidersManager (filled in by the provider work)."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-aep-onboarding",
        "name": "Adobe Experience Platform",
        "description": "Adobe Experience Platform provider: onboard marketing-automation data into AEP.",
        "versions": ["0.1.0"],
    }
