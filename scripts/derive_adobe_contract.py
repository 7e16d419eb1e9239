"""Derive the facts the onboarding depends on from Adobe's OpenAPI specs, in this project's format.

Reads a local copy of ``static/swagger-specs/{flow-service,catalog,data-prep,schema-registry,identity-service}.yaml`` of
the public repository AdobeDocs/experience-platform-apis (a directory, or a git directory read at a
commit) and writes ``tests/contract/adobe_spec_facts.yaml``: for every endpoint the provider calls,
its method and path, required headers, query parameters, required body fields and types, documented
statuses and answer shapes (simplified JSON Schema, ``$ref`` resolved to a fixed depth). Adobe's
files are never copied: only these derived facts are committed.

    python scripts/derive_adobe_contract.py --git-dir <experience-platform-apis git dir> [--commit HEAD]
    python scripts/derive_adobe_contract.py --spec-dir <dir with the five yaml files> --commit <sha>
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPOSITORY = "AdobeDocs/experience-platform-apis"
SPEC_DIR = "static/swagger-specs"
OUT = Path(__file__).resolve().parent.parent / "tests" / "contract" / "adobe_spec_facts.yaml"
MAX_DEPTH = 4
KEEP = ("type", "enum", "format", "nullable")

SERVICES = {
    "flowservice": ("flow-service.yaml", "/data/foundation/flowservice"),
    "catalog": ("catalog.yaml", "/data/foundation/catalog"),
    "conversion": ("data-prep.yaml", "/data/foundation/conversion"),
    "schemaregistry": ("schema-registry.yaml", "/data/foundation/schemaregistry"),
    # Identity Service's base path is /data/core/ (identity-service.yaml); its paths start with /idnamespace.
    "idnamespace": ("identity-service.yaml", "/data/core/idnamespace"),
}

# (service, method, our path template, the spec's path) for every call of the provider's hook
# (plugins/aep_provider/hooks/api/*.py and hooks/aep_async.py).
ENDPOINTS: list[tuple[str, str, str, str]] = [
    ("schemaregistry", "GET", "/stats", "/stats"),
    ("schemaregistry", "GET", "/tenant/schemas", "/{CONTAINER_ID}/schemas"),
    ("schemaregistry", "GET", "/tenant/classes", "/{CONTAINER_ID}/classes"),
    ("schemaregistry", "GET", "/{CONTAINER_ID}/schemas/{SCHEMA_ID}", "/{CONTAINER_ID}/schemas/{SCHEMA_ID}"),
    ("schemaregistry", "GET", "/{CONTAINER_ID}/classes/{CLASS_ID}", "/{CONTAINER_ID}/classes/{CLASS_ID}"),
    ("schemaregistry", "GET", "/{CONTAINER_ID}/fieldgroups/{FIELD_GROUP_ID}",
     "/{CONTAINER_ID}/fieldgroups/{FIELD_GROUP_ID}"),
    ("schemaregistry", "POST", "/tenant/schemas", "/tenant/schemas"),
    ("schemaregistry", "POST", "/tenant/classes", "/tenant/classes"),
    ("schemaregistry", "DELETE", "/tenant/schemas/{SCHEMA_ID}", "/tenant/schemas/{SCHEMA_ID}"),
    ("schemaregistry", "DELETE", "/tenant/classes/{CLASS_ID}", "/tenant/classes/{CLASS_ID}"),
    # The sandbox's write lease (aep_provider/write_lease): a tenant data type.
    ("schemaregistry", "GET", "/tenant/datatypes", "/{CONTAINER_ID}/datatypes"),
    ("schemaregistry", "POST", "/tenant/datatypes", "/tenant/datatypes"),
    ("schemaregistry", "PATCH", "/tenant/datatypes/{DATA_TYPE_ID}", "/tenant/datatypes/{DATA_TYPE_ID}"),
    ("schemaregistry", "DELETE", "/tenant/datatypes/{DATA_TYPE_ID}", "/tenant/datatypes/{DATA_TYPE_ID}"),
    ("catalog", "GET", "/dataSets", "/dataSets"),
    ("catalog", "POST", "/dataSets", "/dataSets"),
    ("catalog", "GET", "/dataSets/{DATASET_ID}", "/dataSets/{DATASET_ID}"),
    ("catalog", "DELETE", "/dataSets/{DATASET_ID}", "/dataSets/{DATASET_ID}"),
    ("conversion", "GET", "/mappingSets", "/mappingSets"),
    ("conversion", "POST", "/mappingSets", "/mappingSets"),
    ("conversion", "GET", "/mappingSets/{MAPPING_SET_ID}", "/mappingSets/{MAPPING_SET_ID}"),
    ("conversion", "PUT", "/mappingSets/{MAPPING_SET_ID}", "/mappingSets/{MAPPING_SET_ID}"),
    ("flowservice", "GET", "/connections", "/connections"),
    ("flowservice", "POST", "/connections", "/connections"),
    ("flowservice", "GET", "/connections/{BASE_CONNECTION_ID}", "/connections/{BASE_CONNECTION_ID}"),
    ("flowservice", "DELETE", "/connections/{BASE_CONNECTION_ID}", "/connections/{BASE_CONNECTION_ID}/"),
    ("flowservice", "GET", "/connections/{BASE_CONNECTION_ID}/explore", "/connections/{BASE_CONNECTION_ID}/explore"),
    ("flowservice", "GET", "/sourceConnections", "/sourceConnections"),
    ("flowservice", "POST", "/sourceConnections", "/sourceConnections"),
    ("flowservice", "GET", "/sourceConnections/{SOURCE_CONNECTION_ID}", "/sourceConnections/{SOURCE_CONNECTION_ID}"),
    ("flowservice", "DELETE", "/sourceConnections/{SOURCE_CONNECTION_ID}",
     "/sourceConnections/{SOURCE_CONNECTION_ID}"),
    ("flowservice", "GET", "/targetConnections", "/targetConnections"),
    ("flowservice", "POST", "/targetConnections", "/targetConnections"),
    ("flowservice", "GET", "/targetConnections/{TARGET_CONNECTION_ID}", "/targetConnections/{TARGET_CONNECTION_ID}"),
    ("flowservice", "DELETE", "/targetConnections/{TARGET_CONNECTION_ID}",
     "/targetConnections/{TARGET_CONNECTION_ID}"),
    ("flowservice", "GET", "/flows", "/flows"),
    ("flowservice", "POST", "/flows", "/flows"),
    ("flowservice", "GET", "/flows/{FLOW_ID}", "/flows/{FLOW_ID}"),
    ("flowservice", "PATCH", "/flows/{FLOW_ID}", "/flows/{FLOW_ID}"),
    ("flowservice", "DELETE", "/flows/{FLOW_ID}", "/flows/{FLOW_ID}"),
    ("flowservice", "POST", "/flows/{FLOW_ID}/action", "/flows/{FLOW_ID}/action"),
    ("flowservice", "GET", "/flowSpecs", "/flowSpecs"),
    ("flowservice", "GET", "/flowSpecs/{FLOW_SPEC_ID}", "/flowSpecs/{FLOW_SPEC_ID}"),
    ("flowservice", "GET", "/runs", "/runs"),
    ("flowservice", "POST", "/runs", "/runs"),
    ("flowservice", "GET", "/runs/{RUN_ID}", "/runs/{RUN_ID}"),
    ("idnamespace", "GET", "/identities", "/idnamespace/identities"),
]


class Spec:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            target: Any = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
        return node

    def shape(self, node: Any, depth: int = 0) -> dict[str, Any]:
        """A simplified JSON Schema: types, enums, properties, items, required; deeper levels are open."""
        node = self.resolve(node)
        if not isinstance(node, dict) or depth > MAX_DEPTH:
            return {}
        out: dict[str, Any] = {k: node[k] for k in KEEP if k in node}
        for combiner in ("allOf", "oneOf", "anyOf"):
            if combiner in node:
                parts = [self.shape(p, depth + 1) for p in node[combiner]]
                merged: dict[str, Any] = {}
                if combiner == "allOf":
                    for p in parts:
                        merged.setdefault("properties", {}).update(p.get("properties", {}))
                        if "type" in p:
                            merged["type"] = p["type"]
                    out.update(merged)
                else:
                    out[combiner] = parts
        if isinstance(node.get("properties"), dict):
            out["properties"] = {k: self.shape(v, depth + 1) for k, v in node["properties"].items()}
        if isinstance(node.get("required"), list):
            out["required"] = list(node["required"])
        if "items" in node:
            out["items"] = self.shape(node["items"], depth + 1)
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = self.shape(node["additionalProperties"], depth + 1)
        return out


def _parameters(spec: Spec, op: dict[str, Any], path_item: dict[str, Any]) -> list[dict[str, Any]]:
    raw = list(path_item.get("parameters", [])) + list(op.get("parameters", []))
    return [p for p in (spec.resolve(r) for r in raw) if isinstance(p, dict)]


def _param_type(p: dict[str, Any]) -> dict[str, Any]:
    schema = p.get("schema") or p
    out: dict[str, Any] = {"type": schema.get("type", "string")}
    if "enum" in schema:
        out["enum"] = list(schema["enum"])
    if schema.get("type") == "array":
        out["items"] = {"type": (schema.get("items") or {}).get("type", "string")}
    return out


def _body(spec: Spec, op: dict[str, Any], params: list[dict[str, Any]]) -> dict[str, Any] | None:
    if "requestBody" in op:
        content = (spec.resolve(op["requestBody"]).get("content") or {})
        media = content.get("application/json") or next(iter(content.values()), {})
        return spec.shape(media.get("schema"))
    for p in params:
        if p.get("in") == "body":
            return spec.shape(p.get("schema"))
    return None


def _responses(spec: Spec, op: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, resp in (op.get("responses") or {}).items():
        if str(status) == "default":
            continue
        resp = spec.resolve(resp)
        schema: Any = resp.get("schema")
        if schema is None:
            content = resp.get("content") or {}
            media = content.get("application/json") or next(iter(content.values()), {}) if content else {}
            schema = (media or {}).get("schema")
        out[str(status)] = {"shape": spec.shape(schema) if schema is not None else None}
    return out


def derive(specs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    endpoints: list[dict[str, Any]] = []
    for service, method, ours, theirs in ENDPOINTS:
        file_name, base = SERVICES[service]
        spec = Spec(specs[file_name])
        path_item = spec.doc["paths"][theirs]
        op = path_item[method.lower()]
        params = _parameters(spec, op, path_item)
        headers = sorted({p["name"] for p in params if p.get("in") == "header" and p.get("required")}, key=str.lower)
        query = {p["name"]: {**_param_type(p), "required": bool(p.get("required"))}
                 for p in params if p.get("in") == "query"}
        endpoints.append({
            "id": f"{service} {method} {ours}",
            "service": service,
            "method": method,
            "path": base + ours,
            "source": f"{SPEC_DIR}/{file_name} paths['{theirs}'].{method.lower()} ({op.get('operationId')})",
            "required_headers": headers,
            "query": query,
            "body": _body(spec, op, params) if method in ("POST", "PUT", "PATCH") else None,
            "responses": _responses(spec, op),
        })
    return endpoints


def _read(args: argparse.Namespace) -> tuple[dict[str, dict[str, Any]], str]:
    specs: dict[str, dict[str, Any]] = {}
    commit = args.commit
    for file_name, _ in SERVICES.values():
        if args.git_dir:
            text = subprocess.run(["git", "-C", args.git_dir, "show", f"{commit}:{SPEC_DIR}/{file_name}"],
                                  check=True, capture_output=True, text=True).stdout
        else:
            text = (Path(args.spec_dir) / file_name).read_text()
        specs[file_name] = yaml.safe_load(text)
    if args.git_dir:
        commit = subprocess.run(["git", "-C", args.git_dir, "rev-parse", commit], check=True,
                                capture_output=True, text=True).stdout.strip()
    return specs, commit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--git-dir", help="git directory of AdobeDocs/experience-platform-apis")
    source.add_argument("--spec-dir", help="directory holding the five swagger-specs yaml files")
    parser.add_argument("--commit", default="HEAD", help="commit to read (and to cite)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    specs, commit = _read(args)
    doc = {
        "source": {
            "repository": REPOSITORY,
            "commit": commit,
            "files": [f"{SPEC_DIR}/{f}" for f, _ in SERVICES.values()],
            "derived_by": "scripts/derive_adobe_contract.py (do not edit by hand; rerun it)",
        },
        "endpoints": derive(specs),
    }
    Path(args.out).write_text(
        f"# Facts derived from Adobe's OpenAPI specs: {REPOSITORY} @ {commit}, {SPEC_DIR}/*.yaml.\n"
        "# Regenerate with"
        " scripts/derive_adobe_contract.py. Where Adobe's documents disagree, see adobe_contract_notes.yaml.\n"
        + yaml.safe_dump(doc, sort_keys=False, width=120)
    )
    print(f"wrote {len(doc['endpoints'])} endpoints from {REPOSITORY}@{commit} to {args.out}")


if __name__ == "__main__":
    main()
