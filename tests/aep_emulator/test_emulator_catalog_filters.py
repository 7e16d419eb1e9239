"""Catalog's simple filter with several values (help/catalog/api/filter-data.md, "Using simple filters"): the
plan reads the datasets of many objects in one request."""

from __future__ import annotations

from emulator_flows import create_dataset, create_profile_schema
from emulator_helpers import CAT, Api

from aep_emulator.testing import EmulatorServer


def test_catalog_simple_filter_takes_several_names_and_their_inversion(emulator: EmulatorServer) -> None:
    """help/catalog/api/filter-data.md, "Using simple filters": ``name=a,b`` matches any; ``name=!a,b`` none."""
    api = Api(emulator)
    schema_id = create_profile_schema(api)
    ids = {name: create_dataset(api, schema_id, name) for name in ("alpha", "beta", "gamma")}
    both = api.get(f"{CAT}/dataSets", params={"name": "alpha,gamma", "properties": "name"}).json()
    assert sorted(both) == sorted([ids["alpha"], ids["gamma"]])
    rest = api.get(f"{CAT}/dataSets", params={"name": "!alpha,gamma", "properties": "name"}).json()
    assert list(rest) == [ids["beta"]]
    assert api.get(f"{CAT}/dataSets", params={"name": "alpha"}).json().keys() == {ids["alpha"]}
