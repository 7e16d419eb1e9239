"""Re-express Adobe's own sample requests (Postman collections) for the endpoints in scope.

Reads ``apis/experience-platform/{Flow Service,Catalog Service,Data Prep,Schema Registry} API
.postman_collection.json`` of the public repository adobe/experience-platform-postman-samples (a git
directory, at a commit) and writes ``tests/contract/adobe_samples.yaml``: per sample its method,
path template, literal query parameters, headers and the collection and folder it comes from.
Placeholders (``{{ACCESS_TOKEN}}``, ``:FLOW_ID``...) are kept as names; the replay test fills them.
Only the derived facts are committed, never Adobe's files.

    python scripts/derive_adobe_samples.py --git-dir <experience-platform-postman-samples git dir>
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPOSITORY = "adobe/experience-platform-postman-samples"
COLLECTIONS = {
    "flowservice": "apis/experience-platform/Flow Service API.postman_collection.json",
    "catalog": "apis/experience-platform/Catalog Service API.postman_collection.json",
    "conversion": "apis/experience-platform/Data Prep API.postman_collection.json",
    "schemaregistry": "apis/experience-platform/Schema Registry API.postman_collection.json",
}
OUT = Path(__file__).resolve().parent.parent / "tests" / "contract" / "adobe_samples.yaml"
# The endpoints in scope: those the provider calls (tests/contract/adobe_spec_facts.yaml).
IN_SCOPE = re.compile(
    r"^/data/foundation/(flowservice/(connections|sourceConnections|targetConnections|flows|flowSpecs|runs)"
    r"(/:[A-Z_]+(/explore)?)?/?|catalog/dataSets(/:[A-Z_]+)?|conversion/mappingSets(/:[A-Z_]+)?"
    r"|schemaregistry/(stats|(:CONTAINER_ID|tenant)/(schemas|classes)(/:[A-Z_]+)?))$"
)
PLACEHOLDER = re.compile(r"^\{\{[^}]+\}\}$")
KEPT_HEADERS = {"accept", "content-type", "authorization", "x-api-key", "x-gw-ims-org-id", "x-sandbox-name"}


def _walk(items: list[dict[str, Any]], folder: str = "") -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for item in items:
        if "item" in item:
            out += _walk(item["item"], f"{folder}{item['name']}/")
        else:
            out.append((folder + item["name"], item["request"]))
    return out


def _sample(service: str, name: str, request: dict[str, Any]) -> dict[str, Any] | None:
    url = request["url"]
    path = "/" + "/".join(url.get("path", []))
    if not IN_SCOPE.match(path):
        return None
    query = {
        q["key"]: q.get("value")
        for q in url.get("query") or []
        if not q.get("disabled") and q.get("value") is not None and not PLACEHOLDER.match(str(q.get("value")))
    }
    headers = {
        h["key"]: h["value"] for h in request.get("header", [])
        if h.get("key", "").lower() in KEPT_HEADERS and h.get("enabled", True) is not False
    }
    body = (request.get("body") or {}).get("raw")
    return {
        "name": name,
        "service": service,
        "method": request["method"],
        "path": path.rstrip("/"),
        "query": query,
        "headers": headers,
        "body": "variable" if body and PLACEHOLDER.match(body.strip()) else ("none" if not body else "literal"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", required=True)
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    commit = subprocess.run(["git", "-C", args.git_dir, "rev-parse", args.commit], check=True,
                            capture_output=True, text=True).stdout.strip()
    samples: list[dict[str, Any]] = []
    for service, file_name in COLLECTIONS.items():
        text = subprocess.run(["git", "-C", args.git_dir, "show", f"{commit}:{file_name}"], check=True,
                              capture_output=True, text=True).stdout
        for name, request in _walk(json.loads(text)["item"]):
            sample = _sample(service, name, request)
            if sample is not None:
                samples.append({"collection": file_name, **sample})
    doc = {"source": {"repository": REPOSITORY, "commit": commit, "files": list(COLLECTIONS.values()),
                      "derived_by": "scripts/derive_adobe_samples.py (do not edit by hand; rerun it)"},
           "samples": samples}
    Path(args.out).write_text(
        f"# Adobe's sample requests for the endpoints in scope, re-expressed: {REPOSITORY} @ {commit}.\n"
        + yaml.safe_dump(doc, sort_keys=False, width=120)
    )
    print(f"wrote {len(samples)} samples from {REPOSITORY}@{commit} to {args.out}")


if __name__ == "__main__":
    main()
