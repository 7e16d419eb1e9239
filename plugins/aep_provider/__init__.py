"""Apache Airflow provider for Adobe Experience Platform (HubSpot -> AEP onboarding)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
