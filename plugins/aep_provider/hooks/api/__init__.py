"""Per-service call helpers mixed into :class:`~aep_provider.hooks.aep.AepHook`."""

from aep_provider.hooks.api.catalog import CatalogApi
from aep_provider.hooks.api.data_prep import DataPrepApi
from aep_provider.hooks.api.flow_service import FlowServiceApi
from aep_provider.hooks.api.identity import IdentityApi
from aep_provider.hooks.api.schema_registry import SchemaRegistryApi

__all__ = ["CatalogApi", "DataPrepApi", "FlowServiceApi", "IdentityApi", "SchemaRegistryApi"]
