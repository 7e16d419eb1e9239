"""Bulk reads: what a sandbox already holds for many names, in as few requests as the APIs allow (the onboarding's
plan reads with them before any write).

* Flow Service: help/dataflows/api/sort-and-filter.md ("Filterable properties by resource") documents a comma
  as OR only for some properties - ``id``, ``connectionSpec.id``, ``baseConnectionId`` (source and target
  connections), ``flowSpec.id``, ``sourceConnectionIds[]`` / ``targetConnectionIds[]`` (flows) - and ``name``
  with one value only (connections and flows; none for source or target connections). flow-service.yaml's
  ``property`` is ``style: form, explode: false``, "A comma-separated list", so ``name==a,b`` may well be two
  conditions that nothing meets: the plan would then call every connection and flow missing and the create
  steps would make duplicates. So the plan lists by a documented OR filter (the base connections' specs, the
  source or target connections of their connection spec - whatever base connection they are on - and the flows of
  one flow spec), page after page with the
  filter re-sent (``hooks/paging.py``), and compares names exactly on this side.
* Catalog: the simple filter ``name=a,b`` (help/catalog/api/filter-data.md, "Using simple filters": "When
  multiple values are provided, the response returns objects whose property matches **any** of the values").
* Schema Registry: one paged listing of the tenant's classes and schemas (``Accept: application/vnd.adobe.xed+json``
  gives whole resources, help/xdm/api/appendix.md); no multi-value filter is documented there.
* Data Prep: one look-up per name (no multi-value filter is documented).

A Catalog name the simple filter cannot express exactly (a comma, a leading ``!`` or a ``*``) is looked up
alone, the way the create steps do (hooks/api/lookup.py). Flow Service listings filter on ids only, never on a
name. Every result is compared exactly by name on this side.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aep_provider.hooks.api.lookup import filter_safe
from aep_provider.models.common import XED

#: Names per Flow Service or Catalog query: keeps the URL well under common 8 KB limits.
CHUNK = 20


def _chunks(names: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(names), CHUNK):
        yield names[start : start + CHUNK]


def flow_objects_by_name(
    hook: Any, collection: str, names: Iterable[str], prop: str, values: Iterable[str | None]
) -> dict[str, list[dict[str, Any]]]:
    """``{name: [objects named so, oldest first]}`` for every name (Flow Service names are not unique), among
    the objects of ``collection`` whose ``prop`` is one of ``values`` (a documented comma-OR filter of
    sort-and-filter.md). No value (the base connection or flow spec does not exist): nothing of it exists."""
    wanted = sorted(set(names))
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in wanted}
    ids = sorted({str(v) for v in values if v and filter_safe(str(v))})
    for chunk in _chunks(ids):
        for obj in hook.iter_flow_service(collection, {"property": f"{prop}==" + ",".join(chunk)}):
            if obj.get("name") in found:
                found[obj["name"]].append(obj)
    for objects in found.values():
        objects.sort(key=lambda o: o.get("createdAt") or 0)
    return found


def catalog_safe(name: str) -> bool:
    """True when ``name=<value>`` lists exactly the datasets named ``value`` (no comma, ``!`` or ``*``)."""
    return bool(name) and not any(char in name for char in ",*") and not name.startswith("!")


def datasets_by_name(hook: Any, names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """``{name: [{id, name, schemaRef, created}]}`` for every name (Catalog names are not unique)."""
    wanted = sorted(set(names))
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in wanted}
    safe = [name for name in wanted if catalog_safe(name)]
    for chunk in _chunks(safe):
        for dataset_id, dataset in hook.iter_datasets({"name": ",".join(chunk), "properties": "name,schemaRef,created"}):
            if dataset.get("name") in found:
                found[dataset["name"]].append({"id": dataset_id, **dataset})
    for name in wanted:
        if name not in safe:
            found[name] = [{"id": dataset_id, **dataset} for dataset_id, dataset in hook.find_datasets_by_name(name)]
    return found


def tenant_by_title(hook: Any, kind: str, titles: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """``{title: [resource]}`` (titles are unique: one at most) of the tenant classes or schemas titled so, from one
    paged listing of whole resources."""
    listed = {str(item.get("title")): item for item in hook.iter_tenant(kind, None, accept=XED)}
    return {title: [listed[title]] if title in listed else [] for title in titles}


def mapping_sets_by_name(hook: Any, name: str) -> list[dict[str, Any]]:
    """Every mapping set named ``name``, oldest first, the first with its mappings (one look-up: Data Prep documents
    no multi-name filter; names are not unique there either)."""
    matches = [m for m in hook.iter_mapping_sets({"name": name}) if m.get("name") == name]
    matches.sort(key=lambda m: str(m.get("createdDate") or ""))
    if matches and "mappings" not in matches[0]:
        matches[0] = hook.get_mapping_set(str(matches[0]["id"]), matches[0].get("version")) or matches[0]
    return matches
