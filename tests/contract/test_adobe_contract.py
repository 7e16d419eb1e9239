"""The provider and the emulator held to the contract derived from Adobe's own documents.

Every Platform exchange of the session emulator is recorded (``tests/conftest.py``). The last test of
the session checks every request the provider sent in the onboarding, operator and chaos suites, and
every answer the emulator gave on an endpoint of the contract, and prints the coverage line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from aep_emulator.testing import EmulatorServer
from tests.conftest import EXCHANGES_FILE
from tests.contract import adobe_contract as ac
from tests.contract.contract_report import COVERAGE
from tests.contract.task_context import make_context


def test_the_contract_cites_adobes_spec_commit_and_every_endpoint_its_source():
    """Each fact names where in Adobe's specs it comes from, at a fixed commit of Adobe's repository."""
    contract = ac.load()
    assert contract.source["repository"] == "AdobeDocs/experience-platform-apis"
    assert re.fullmatch(r"[0-9a-f]{40}", contract.source["commit"])
    assert len(contract.endpoints) == len({e.id for e in contract.endpoints}) >= 38
    for e in contract.endpoints:
        assert e.source.startswith("static/swagger-specs/") and e.statuses, e.id
        assert {"Authorization", "x-api-key", "x-gw-ims-org-id"} <= set(e.required_headers), e.id


@pytest.mark.skipif(
    not os.environ.get("AEP_ADOBE_APIS_GIT_DIR"),
    reason="set AEP_ADOBE_APIS_GIT_DIR to a git copy of AdobeDocs/experience-platform-apis",
)
def test_the_committed_facts_are_what_the_script_derives_from_adobes_specs(tmp_path: Path):
    """Nobody edits the derived facts by hand: re-deriving them at the cited commit gives the same file."""
    out = tmp_path / "facts.yaml"
    commit = ac.load().source["commit"]
    subprocess.run(
        [sys.executable, "scripts/derive_adobe_contract.py", "--git-dir", os.environ["AEP_ADOBE_APIS_GIT_DIR"],
         "--commit", commit, "--out", str(out)],
        check=True, cwd=ac.HERE.parent.parent,
    )
    assert out.read_text() == ac.FACTS.read_text()


def test_every_disagreement_names_its_sources_and_widens_instead_of_choosing():
    """Where Adobe's documents disagree the contract accepts every documented form, and says why."""
    notes = yaml.safe_load(ac.NOTES.read_text())
    for d in notes["disagreements"]:
        assert d.get("why"), d
    # Identity Service's x-sandbox-name: optional in its parameter, "required" in its description: not required.
    headers = {(d["endpoint"], d["header"]): d for d in notes["header_disagreements"]}
    assert all(d.get("why") for d in headers.values())
    identities = ac.load().match("GET", "/data/core/idnamespace/identities")
    assert identities is not None and ("idnamespace GET /identities", "x-sandbox-name") in headers
    assert "x-sandbox-name" not in identities.required_headers
    contract = ac.load()
    flows = contract.match("POST", "/data/foundation/flowservice/flows")
    assert flows is not None and flows.body is not None
    interval = flows.body["properties"]["scheduleParams"]["properties"]["interval"]
    assert interval["type"] == ["string", "integer"]
    explore = contract.match("GET", "/data/foundation/flowservice/connections/x/explore")
    assert explore is not None and {"ROOT", "root"} <= set(explore.query["objectType"]["enum"])


@pytest.mark.parametrize(
    ("answer", "status", "ok"),
    [
        ({"type": "http://ns.adobe.com/aep/errors/1101-404", "title": "Not found"}, 404, True),
        ({"type": "http://ns.adobe.com/aep/errors/1302-404", "title": "Not found"}, 404, False),
        ({"type": "https://aep-emulator.invalid/errors/EMU-400", "title": "Bad"}, 400, True),
        ({"type": "http://ns.adobe.com/aep/errors/EMU-400", "title": "Bad"}, 400, False),
        ({"error_code": "403010", "message": "Oauth token is missing."}, 403, True),
        ({"type": "http://ns.adobe.com/aep/errors/1403-400"}, 412, False),
    ],
)
def test_error_answers_carry_only_codes_adobe_documents_or_plainly_ours(answer: dict[str, Any], status: int, ok: bool):
    """An invented code that looks like Adobe's (``1302-404``) fails the contract; ours are ``EMU-*``."""
    ex = {"method": "GET", "path": "/data/foundation/flowservice/flows/abc", "status": status, "answer": answer}
    assert (ac.load().check_answer(ex) == []) is ok


def _exchanges(server: EmulatorServer) -> list[dict[str, Any]]:
    path = server.recorder.path
    assert path is not None and Path(path).name == EXCHANGES_FILE, "the session emulator is not recording"
    return ac.read_exchanges(Path(path))


@pytest.mark.after_all_emulator_tests
def test_every_recorded_request_and_answer_is_within_adobes_contract(
    aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No provider request and no emulator answer falls outside what Adobe documents.

    Runs last (``tests/conftest.py``), over everything the session recorded: the onboarding DAGs, the
    operator suites and the chaos suite. It first onboards once itself, so it never checks nothing.
    """
    from tests.aep_provider.aep_provider_chain import hubspot_conn_env, onboard

    hubspot_conn_env(monkeypatch)
    onboard(make_context, run=True)
    contract = ac.load()
    exchanges = _exchanges(aep_conn_env)
    provider = [ex for ex in exchanges if ac.is_provider(ex)]
    assert provider, "no provider request was recorded"
    request_problems = Counter(
        f"{p} [{ex['label'].split('::')[0]}]"
        for ex in provider if ac.checked_suite(ex) for p in contract.check_request(ex)
    )
    outside = Counter(
        f"{ex['method']} {ex['path']}" for ex in provider if contract.match(ex["method"], ex["path"]) is None
    )
    answer_problems = Counter(
        f"{p} [{ex['label'].split('::')[0]}]" for ex in exchanges for p in contract.check_answer(ex)
    )
    exercised = {e.id for ex in provider if (e := contract.match(ex["method"], ex["path"])) is not None}
    COVERAGE.append(
        f"Adobe contract: {len(exercised)}/{len(contract.endpoints)} endpoints the provider calls exercised; "
        f"{sum(ac.checked_suite(ex) for ex in provider)} provider requests and {len(exchanges)} emulator answers "
        f"checked (Adobe specs @ {contract.source['commit'][:12]})"
    )
    missing = sorted({e.id for e in contract.endpoints} - exercised)
    if missing:
        COVERAGE.append("not exercised in this session: " + ", ".join(missing))
    assert not outside, f"provider requests outside the contract: {dict(outside)}"
    assert not request_problems, "provider requests off-contract:\n" + "\n".join(
        f"{n}x {p}" for p, n in request_problems.most_common(30)
    )
    assert not answer_problems, "emulator answers off-contract:\n" + "\n".join(
        f"{n}x {p}" for p, n in answer_problems.most_common(30)
    )
