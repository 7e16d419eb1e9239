"""The contract derived from Adobe's documents, and the checks of a recorded exchange against it.

``adobe_spec_facts.yaml`` holds what Adobe's OpenAPI specs say of every endpoint the provider calls
(derived by ``scripts/derive_adobe_contract.py``); ``adobe_contract_notes.yaml`` adds what Adobe's
other pages document (error codes, statuses, query parameters) and, where Adobe's documents disagree,
widens the contract to accept every documented form.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
import yaml

HERE = Path(__file__).resolve().parent
FACTS = HERE / "adobe_spec_facts.yaml"
NOTES = HERE / "adobe_contract_notes.yaml"
PROVIDER_AGENT = "airflow-aep-provider"


def _json_schema(shape: Any) -> Any:
    """OpenAPI's ``nullable`` as a JSON Schema type union; everything else is already JSON Schema."""
    if isinstance(shape, list):
        return [_json_schema(s) for s in shape]
    if not isinstance(shape, dict):
        return shape
    out = {k: _json_schema(v) for k, v in shape.items() if k not in ("nullable", "format")}
    if shape.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if isinstance(shape.get("properties"), dict):
        out["properties"] = {k: _json_schema(v) for k, v in shape["properties"].items()}
    return out


def _replace_at(shape: dict[str, Any], at: list[str], accept: dict[str, Any]) -> dict[str, Any]:
    if not at:
        return copy.deepcopy(accept)
    node = shape
    for step in at[:-1]:
        node = node.setdefault("items", {}) if step == "[]" else node.setdefault("properties", {}).setdefault(step, {})
    last = at[-1]
    if last == "[]":
        node["items"] = copy.deepcopy(accept)
    else:
        node.setdefault("properties", {})[last] = copy.deepcopy(accept)
    return shape


@dataclass
class Endpoint:
    id: str
    service: str
    method: str
    path: str
    source: str
    required_headers: list[str]
    query: dict[str, dict[str, Any]]
    body: dict[str, Any] | None
    responses: dict[str, dict[str, Any]]
    statuses: set[int] = field(default_factory=set)
    ours: set[int] = field(default_factory=set)
    pattern: re.Pattern[str] = field(default=re.compile(""))

    @property
    def template(self) -> str:
        return self.id.split(" ", 2)[2]


@dataclass
class Contract:
    source: dict[str, Any]
    endpoints: list[Endpoint]
    codes: dict[str, set[str]]
    gateway: dict[str, int]
    neutral: re.Pattern[str]

    def match(self, method: str, path: str) -> Endpoint | None:
        path = path.rstrip("/") or path
        for e in self.endpoints:
            if e.method == method and e.pattern.fullmatch(path):
                return e
        return None

    # -- requests ---------------------------------------------------------------------------------------------
    def check_request(self, ex: dict[str, Any]) -> list[str]:
        e = self.match(ex["method"], ex["path"])
        if e is None:
            return [f"{ex['method']} {ex['path']}: not an endpoint of the contract"]
        problems: list[str] = []
        headers = {k.lower() for k in ex["headers"]}
        problems += [f"{e.id}: required header {h} missing" for h in e.required_headers if h.lower() not in headers]
        for name, value in parse_qsl(ex.get("query", ""), keep_blank_values=True):
            spec = e.query.get(name)
            if spec is None:
                problems.append(f"{e.id}: query parameter {name!r} is not documented")
                continue
            problems += [f"{e.id}: query {name}={value!r}: {p}" for p in _check_value(value, spec)]
        if e.body is not None and ex["method"] in ("POST", "PUT", "PATCH") and ex.get("body_read", True):
            problems += [f"{e.id}: body {p}" for p in _validate(ex.get("body"), e.body)]
        return problems

    # -- answers -----------------------------------------------------------------------------------------------
    def check_answer(self, ex: dict[str, Any]) -> list[str]:
        e = self.match(ex["method"], ex["path"])
        if e is None:
            return []
        status = int(ex["status"])
        answer = ex.get("answer")
        if status not in e.statuses:
            return [f"{e.id}: status {status} is not documented (documented: {sorted(e.statuses)})"]
        if status >= 400:
            return [f"{e.id}: {status}: {p}" for p in self._check_error(e, status, answer)]
        shape = (e.responses.get(str(status)) or {}).get("shape")
        if shape is None:
            return []
        return [f"{e.id}: answer {status} {p}" for p in _validate(answer, shape)]

    def _check_error(self, e: Endpoint, status: int, answer: Any) -> list[str]:
        if not isinstance(answer, dict):
            return [f"error answer is not a JSON object: {str(answer)[:120]}"]
        if "error_code" in answer:
            code = str(answer["error_code"])
            if self.gateway.get(code) != status:
                return [f"gateway code {code} is not documented for status {status}"]
            return []
        type_ = str(answer.get("type", ""))
        code = type_.rsplit("/", 1)[-1]
        if self.neutral.fullmatch(code):
            if code != f"EMU-{status}":
                return [f"our code {code} does not carry the status {status}"]
            if "ns.adobe.com" in type_:
                return [f"our code {code} sits under Adobe's error type URL"]
            return []
        if code not in self.codes.get(e.service, set()):
            return [f"error code {code!r} is documented nowhere by Adobe"]
        if not code.endswith(f"-{status}"):
            return [f"error code {code} answered with status {status}"]
        return []


def _check_value(value: str, spec: dict[str, Any]) -> list[str]:
    kind = spec.get("type", "string")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return ["not an integer"]
    if kind == "number" and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return ["not a number"]
    if kind == "boolean" and value not in ("true", "false"):
        return ["not a boolean"]
    if "enum" in spec and value not in spec["enum"]:
        return [f"not one of {spec['enum']}"]
    return []


def _validate(instance: Any, shape: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(_json_schema(shape))
    return [
        f"at {'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message[:200]}"
        for err in sorted(validator.iter_errors(instance), key=lambda x: list(map(str, x.absolute_path)))[:5]
    ]


def _pattern(path: str) -> re.Pattern[str]:
    parts = []
    for piece in re.split(r"(\{[A-Z_]+\})", path):
        if piece == "{CONTAINER_ID}":
            parts.append("(?:tenant|global)")
        elif piece.startswith("{"):
            parts.append("[^/]+")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def _applies(patterns: list[str], endpoint_id: str) -> bool:
    return any(fnmatch.fnmatchcase(endpoint_id, p) or fnmatch.fnmatchcase(endpoint_id, p + " *") for p in patterns)


def load() -> Contract:
    facts = yaml.safe_load(FACTS.read_text())
    notes = yaml.safe_load(NOTES.read_text())
    endpoints = [Endpoint(**raw) for raw in facts["endpoints"]]
    for e in endpoints:
        e.pattern = _pattern(e.path)
        e.statuses = {int(s) for s in e.responses}
        for extra in notes["extra_statuses"]:
            if _applies(extra["endpoints"], e.id):
                e.statuses |= set(extra["statuses"])
                if extra.get("ours"):
                    e.ours |= set(extra["statuses"])
    by_id = {e.id: e for e in endpoints}
    for extra in notes["extra_query"]:
        by_id[extra["endpoint"]].query.update(extra["params"])
    for d in notes["disagreements"]:
        e = by_id[d["endpoint"]]
        at = list(d["at"])
        if d["where"] == "request" and at[:1] == ["query"]:
            e.query[at[1]] = {**e.query.get(at[1], {}), **d["accept"]}
        elif d["where"] == "request":
            e.body = _replace_at(e.body or {}, at, d["accept"])
        else:
            status = d["where"].split()[1]
            entry = e.responses.setdefault(status, {"shape": None})
            entry["shape"] = _replace_at(entry.get("shape") or {}, at, d["accept"])
    codes = {name: set(map(str, s["codes"])) for name, s in notes["services"].items()}
    gateway = {str(k): int(v) for k, v in notes["gateway"]["codes"].items()}
    return Contract(facts["source"], endpoints, codes, gateway, re.compile(notes["neutral_code"]))


def read_exchanges(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def is_provider(ex: dict[str, Any]) -> bool:
    return str(ex.get("headers", {}).get("user-agent", "")).startswith(PROVIDER_AGENT)


# Suites whose provider requests are checked: those where the provider builds every body itself
# (operators, the onboarding DAGs, the chaos suite). Hook-level tests hand-write some bodies.
CHECKED_SUITES = (
    "tests/aep_onboarding/",
    "tests/reliability/test_chaos.py",
    "tests/contract/",
    "tests/aep_provider/test_onboarding_operators.py",
    "tests/aep_provider/test_for_each",  # every test_for_each_*.py
    "tests/aep_provider/test_run_teardown_lineage.py",
    "tests/aep_provider/test_sensor_trigger.py",
    "tests/aep_provider/test_lookups.py",
)


def checked_suite(ex: dict[str, Any]) -> bool:
    return str(ex.get("label", "")).startswith(CHECKED_SUITES)
