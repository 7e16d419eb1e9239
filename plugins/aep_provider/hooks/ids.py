"""Resource ids that go into a request path or a ``property`` filter: checked, then quoted.

Ids reach the hook from templated operator fields (XComs, Jinja, user arguments), so a value such as
``../flows`` or ``x?op=delete`` must never change which endpoint a request reaches. Each id is first
checked against the shape AEP gives it, then quoted as one path segment
(``urllib.parse.quote(id, safe="")``), so even an id that passed the check cannot add a segment or a
query.

Shapes, from Adobe's OpenAPI specs (AdobeDocs/experience-platform-apis, commit 16c60cd,
``static/swagger-specs/``):

* Flow Service (connections, source/target connections, flows, runs, flow and connection specs): UUIDs,
  e.g. ``69f188b6-af07-4587-8061-e94d34637b41`` (flow-service.yaml, the create-connection answer example);
* Catalog datasets: 24 hex digits, e.g. ``67b3077efa10d92ab7a71858`` (catalog.yaml, the create-dataset
  answer ``"@/dataSets/<id>"``);
* Data Prep mapping sets: 32 hex digits, e.g. ``394bec970d54410b98e1d4c55a3843ca`` (data-prep.yaml,
  mapping set examples);
* Schema Registry: ``$id`` URIs or ``meta:altId`` values (quoted whole, not shape-checked: both forms are
  legitimate; schema-registry.yaml: "The `meta:altId` or URL-encoded `$id`" of each path parameter).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from aep_provider.hooks.errors import AepConfigError

# Checked with fullmatch: ``match`` with ``$`` would let a trailing newline through into the path.
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
HEX24 = re.compile(r"[0-9a-fA-F]{24}")
HEX32 = re.compile(r"[0-9a-fA-F]{32}")

#: collection -> (the argument that usually supplies its ids, pattern, example)
SHAPES: dict[str, tuple[str, re.Pattern[str], str]] = {
    "connections": ("base_connection_id", UUID, "4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c"),
    "sourceConnections": ("source_connection_id", UUID, "4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c"),
    "targetConnections": ("target_connection_id", UUID, "4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c"),
    "flows": ("flow_id", UUID, "4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c"),
    "runs": ("run_id", UUID, "4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c"),
    "flowSpecs": ("flow_spec_id", UUID, "6499120c-0b15-42dc-936e-847ea3c24d72"),
    "connectionSpecs": ("connection_spec_id", UUID, "cc6a4487-9e91-433e-a3a3-9cf6626c1806"),
    "dataSets": ("dataset_id", HEX24, "5c8c3c555033b814b69f947f"),
    "mappingSets": ("mapping_set_id", HEX32, "bf5286a9c1ad4266baca76ba3adc9366"),
}


def checked_id(collection: str, value: object) -> str:
    """``value`` if it has the shape AEP gives ids of ``collection``; else :class:`AepConfigError`."""
    argument, pattern, example = SHAPES[collection]
    text = str(value) if value is not None else ""
    if not pattern.fullmatch(text):
        raise AepConfigError(
            f"{argument}={text!r} is not an id of AEP {collection}: AEP gives them the form {example!r}. "
            "Pass the id AEP returned (a templated value or XCom must render to exactly that)."
        )
    return text


def path_id(collection: str, value: object) -> str:
    """A shape-checked id of ``collection``, quoted as one path segment."""
    return quote(checked_id(collection, value), safe="")


def path_segment(value: str) -> str:
    """Any id (Schema Registry ``$id`` or altId) quoted as one path segment: ``/``, ``?``, ``#`` and ``%`` encoded."""
    return quote(value, safe="")
