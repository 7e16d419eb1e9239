"""Adobe's own sample requests (a second, independent corpus) replayed against the emulator.

``adobe_samples.yaml`` re-expresses the samples of Adobe's Postman collections for the endpoints in
scope (``scripts/derive_adobe_samples.py``). Each sample with a complete request is sent as Adobe wrote
it (its headers, its literal query), with real ids and credentials in place of the placeholders, and
its answer must be what Adobe documents: a documented status and the documented shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml

from aep_emulator.testing import EmulatorServer
from tests.contract import adobe_contract as ac

SAMPLES = Path(__file__).resolve().parent / "adobe_samples.yaml"
CRM_FLOW_SPEC = "14518937-270c-4525-bdec-c2ba7cce3860"
DELETE_ORDER = ["flows", "sourceConnections", "targetConnections", "connections", "dataSets", "schemas", "classes"]

# Where a sample contradicts another of Adobe's documents, what the emulator answers and why.
CONTRADICTED = {
    ("GET", "/data/foundation/schemaregistry/:CONTAINER_ID/schemas/:SCHEMA_ID"): (
        400, "XDM-1007-400",
        "the sample sends Accept: application/vnd.adobe.xed-id+json without a version; schema-registry.yaml "
        "(parameter accept: 'For lookup requests, a version parameter must be included') and its "
        "acceptErrorLookup example answer XDM-1007-400",
    ),
    ("GET", "/data/foundation/schemaregistry/:CONTAINER_ID/classes/:CLASS_ID"): (
        400, "XDM-1007-400", "as for schemas",
    ),
}


def _load() -> dict[str, Any]:
    return yaml.safe_load(SAMPLES.read_text())


def _replayable(sample: dict[str, Any]) -> bool:
    """Adobe's collections hold no body for writes (``{{body}}``): only GET and DELETE samples are whole."""
    return sample["body"] != "variable"


def test_the_samples_cite_adobes_collection_and_commit():
    doc = _load()
    assert doc["source"]["repository"] == "adobe/experience-platform-postman-samples"
    assert len(doc["source"]["commit"]) == 40
    assert all(s["collection"].startswith("apis/experience-platform/") for s in doc["samples"])
    contract = ac.load()
    replayed = [s for s in doc["samples"] if _replayable(s)]
    assert len(replayed) >= 20
    for s in replayed:  # every replayed sample hits an endpoint of the contract
        concrete = s["path"].replace(":CONTAINER_ID", "tenant")
        concrete = "/".join("x" if p.startswith(":") else p for p in concrete.split("/"))
        assert contract.match(s["method"], concrete) is not None, s["name"]


def _ids(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from tests.aep_provider.aep_provider_chain import hubspot_conn_env, onboard
    from tests.contract.task_context import make_context

    hubspot_conn_env(monkeypatch)
    made = onboard(make_context, run=True)

    def ident(value: Any) -> str:
        return str(value["id"] if isinstance(value, dict) else value)

    return {
        "CONNECTION_ID": ident(made["base"]),
        "FLOW_ID": ident(made["flow"]),
        "FLOW_SPEC_ID": CRM_FLOW_SPEC,
        "RUN_ID": ident(made["run"]),
        "SOURCE_CONNECTION_ID": ident(made["source"]),
        "TARGET_CONNECTION_ID": ident(made["target"]),
        "DATASET_ID": ident(made["dataset"]),
        "MAPPING_SET_ID": ident(made["mapping"]),
        "CONTAINER_ID": "tenant",
        "SCHEMA_ID": quote(ident(made["target_schema"]), safe=""),
        "CLASS_ID": quote(ident(made["class"]), safe=""),
    }


def _order(sample: dict[str, Any]) -> tuple[int, int]:
    if sample["method"] != "DELETE":
        return (0, 0)
    parts = [p for p in sample["path"].split("/") if p and not p.startswith(":")]
    return (1, DELETE_ORDER.index(parts[-1]))


def test_adobes_sample_requests_are_answered_as_adobe_documents(
    aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each whole sample (GET, DELETE) of Adobe's collections, replayed with real ids, gets a documented
    status and a documented shape; a sample that contradicts another Adobe document gets the answer
    that document gives (listed in ``CONTRADICTED``)."""
    ids = _ids(monkeypatch)
    contract = ac.load()
    creds = aep_conn_env.headers()
    values = {"{{ACCESS_TOKEN}}": creds["Authorization"].split(" ", 1)[1], "{{API_KEY}}": creds["x-api-key"],
              "{{IMS_ORG}}": creds["x-gw-ims-org-id"], "{{SANDBOX_NAME}}": "prod"}
    problems: list[str] = []
    replayed = 0
    with httpx.Client(base_url=aep_conn_env.base_url, timeout=30) as http:
        for sample in sorted((s for s in _load()["samples"] if _replayable(s)), key=_order):
            path = "/".join(ids.get(p[1:], p) if p.startswith(":") else p for p in sample["path"].split("/"))
            headers = dict(sample["headers"])
            for key, value in headers.items():
                for placeholder, real in values.items():
                    value = value.replace(placeholder, real)
                headers[key] = value
            resp = http.request(sample["method"], path, params=sample["query"], headers=headers)
            replayed += 1
            answer = resp.json() if resp.content else None
            exchange = {"method": sample["method"], "path": path, "status": resp.status_code, "answer": answer}
            where = f"{sample['name']} ({sample['method']} {sample['path']})"
            problems += [f"{where}: {p}" for p in contract.check_answer(exchange)]
            expected = CONTRADICTED.get((sample["method"], sample["path"]))
            if expected is not None:
                status, code, _why = expected
                if resp.status_code != status or not str((answer or {}).get("type", "")).endswith(code):
                    problems.append(f"{where}: expected {status} {code}, got {resp.status_code} {answer}")
            elif not 200 <= resp.status_code < 300:
                problems.append(f"{where}: answered {resp.status_code} {str(answer)[:200]}")
    assert replayed >= 20
    assert not problems, "\n".join(problems)
