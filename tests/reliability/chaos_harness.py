"""The chaos suite's harness: seeded fault rules, the spec writer, the hook-wait and fault-draw recorders,
and the assertions on what the emulator holds afterwards (test_chaos.py says what the suite protects)."""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from expected_records import differences, expected_records, records_by_id

from aep_emulator.testing import EmulatorServer

SEED = 20260101
# Short enough that a 429 wait (Retry-After: 1) often outlives the token: the plan step halved the requests
# of an onboarding (about 360 for twenty objects), so fewer calls are in flight when a token expires.
TOKEN_TTL_SECONDS = 2
PER_OBJECT_KINDS = ("class", "sourceConnection", "targetConnection", "dataset", "mappingSet", "flow")

HUBSPOT_CONN = {
    "conn_type": "generic", "login": "chaos-hubspot-client", "password": "chaos-hubspot-secret",
    "extra": {"access_token": "chaos-hubspot-access", "refresh_token": "chaos-hubspot-refresh"},
}

# Per table: its id column, then string columns mapped to string paths of the default target
# schema (XDM Individual Profile + person details + personal details). None of them can fail.
TABLES: dict[str, list[tuple[str, str]]] = {
    "Contacts": [("Vid", "_id"), ("Properties_Firstname_Value", "person.name.firstName"),
                 ("Properties_Lastname_Value", "person.name.lastName"),
                 ("Properties_Email_Value", "personalEmail.address")],
    "Companies": [("Company_Id", "_id"), ("Properties_Name_Value", "person.name.lastName"),
                  ("Properties_City_Value", "homeAddress.city")],
    "All_Deals": [("Deal_Id", "_id"), ("Properties_Dealname_Value", "person.name.firstName")],
    "Tickets": [("Ticket_Id", "_id"), ("Properties_Subject_Value", "person.name.firstName")],
    "Owners": [("Owner_Id", "_id"), ("First_Name", "person.name.firstName"), ("Last_Name", "person.name.lastName"),
               ("Email", "personalEmail.address")],
    "Blog_Comments": [("Id", "_id"), ("User_Name", "person.name.firstName"), ("User_Email", "personalEmail.address")],
    "Blog_Authors": [("Id", "_id"), ("Full_Name", "person.name.firstName"), ("Email", "personalEmail.address")],
}


def fault_rules() -> list[dict[str, Any]]:
    """5 % commit-then-drop on POSTs, then 3 % each of five transient faults on every request.

    Rules are evaluated in order and the first that fires decides, so each transient rule's
    probability is conditional on the earlier ones not firing: 0.03 / (1 - 0.03 * k).
    """
    rules: list[dict[str, Any]] = [{"kind": "commit_then_drop", "probability": 0.05, "method": "POST"}]
    share = 0.03
    for k, kind in enumerate(("500", "502", "503", "429", "drop")):
        rule: dict[str, Any] = {"kind": kind, "probability": round(share / (1 - share * k), 5)}
        if kind == "429":
            rule["retry_after"] = 1
        rules.append(rule)
    return rules


def _object_yaml(name: str, table: str) -> str:
    rules = ", ".join(f"{{source: {s}, destination: {d}}}" for s, d in TABLES[table])
    return f"  - source: Hubspot.{table}\n    name: {name}\n    delta_column: Added_At\n    mapping: [{rules}]\n"


def spec_yaml(name: str, objects: list[tuple[str, str]], extra: str) -> str:
    body = "".join(_object_yaml(obj, table) for obj, table in objects)
    return (
        f"name: {name}\nhubspot: {{conn_id: hubspot_default}}\nretries: 4\nretry_delay_seconds: 0.5\n"
        f"max_retry_delay_seconds: 2\nsensor_poll_seconds: 0.2\n{extra}objects:\n{body}"
    )


def twenty_objects() -> list[tuple[str, str]]:
    """20 objects over the 7 tables: every table at least twice, under distinct names."""
    tables = list(TABLES)
    return [(f"{tables[i % len(tables)].lower()}_{i // len(tables) + 1}", tables[i % len(tables)]) for i in range(20)]


MAX_WAIT_SECONDS = 1.0


class RetryCounter:
    """Counts the hook's retries: every delay its retry budget grants is one retry.

    The hook exposes no retry counter (it logs a warning per retry and counts only IMS requests),
    so the budget that every retry of the sync hook, the async hook and ``create_idempotent``
    goes through is wrapped here.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from aep_provider.hooks import retry

        self.draw_log: Any = None  # the chaos fixture's DrawLog
        self.count = 0
        self.slept = 0.0
        self.longest = 0.0
        self.given_up = 0
        original = retry.RetryBudget.next_delay

        def counting(budget: Any, retry_after: float | None = None) -> float | None:
            delay = original(budget, retry_after)
            if delay is None:
                self.given_up += 1
            else:
                self.count += 1
                self.slept += delay
                self.longest = max(self.longest, delay)
            return delay

        monkeypatch.setattr(retry.RetryBudget, "next_delay", counting)

        # A token the gateway rejected (401013: it expired in flight) is replaced once per call.
        from aep_provider.hooks import token_cache

        self.token_rejections = 0
        self.tokens_received: list[str] = []  # every token the hook got from IMS, in order
        original_get = token_cache.TokenCache.get

        def counting_get(cache: Any, fetch: Any, *, reject: str | None = None) -> str:
            if reject is not None:
                self.token_rejections += 1

            def counted_fetch() -> Any:
                token = fetch()
                self.tokens_received.append(token.access_token)
                return token

            return original_get(cache, counted_fetch, reject=reject)

        monkeypatch.setattr(token_cache.TokenCache, "get", counting_get)
        monkeypatch.setattr(
            retry.RetryPolicy,
            "default",
            classmethod(lambda cls: cls(max_retries=6, max_seconds=60, base_delay=0.05, max_delay=MAX_WAIT_SECONDS)),
        )


class DrawLog:
    """The method and path of every request the emulator's fault engine drew for, in order.

    The engine runs in the emulator's event-loop thread, so the order recorded is the order in which
    the seeded ``random.Random`` was consumed. ``start()`` is called right after the fault set is
    installed (which re-seeds the engine and zeroes its hit counts)."""

    def __init__(self, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.draws: list[tuple[str, str]] = []
        engine = emulator.app.state.faults
        original = engine.draw

        def recording(method: str, path: str) -> Any:
            self.draws.append((method.upper(), path))
            return original(method, path)

        monkeypatch.setattr(engine, "draw", recording)

    def start(self) -> None:
        self.draws.clear()



def write_spec(folder, name: str, text: str):
    from aep_onboarding.loader import load_spec

    path = folder / f"{name}.yaml"
    path.write_text(text)
    return load_spec(path)


def task_tries(dag_id: str) -> dict[str, int]:
    """try_number of every task instance of the DAG's runs that needed more than one try."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.try_number).filter(
            TaskInstance.dag_id == dag_id
        )
        return {f"{run_id}:{task_id}": tries for run_id, task_id, tries in rows if tries > 1}


def _resources(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.state()["resources"] if r["kind"] != "run"]


def source_rows(table: str) -> list[dict[str, Any]]:
    from aep_emulator import hubspot
    from aep_emulator.state import Config

    config = Config()
    return hubspot.rows(f"Hubspot.{table}", config.seed, config.data_end)


def assert_one_of_each(emulator: EmulatorServer, spec) -> dict[tuple[str, str], str]:
    from expected_resources import expected_resources

    resources = _resources(emulator)
    per_name = Counter((r["kind"], r["name"]) for r in resources)
    duplicates = {key: n for key, n in per_name.items() if n != 1}
    assert not duplicates, f"resources created more than once: {duplicates}"
    expected = set(expected_resources(spec))
    assert set(per_name) == expected, {
        "missing": sorted(expected - set(per_name)), "unexpected": sorted(set(per_name) - expected)
    }
    return {(r["kind"], r["name"]): r["id"] for r in resources}


def fault_hits(emulator: EmulatorServer) -> dict[str, int]:
    """Faults injected per kind (read before the fault set is cleared, which resets the hits)."""
    by_kind: Counter[str] = Counter()
    for rule in emulator.admin.faults()["rules"]:
        by_kind[rule["kind"]] += rule["hits"]
    return dict(by_kind)


# Each bound below is a two-sided binomial interval that holds with probability at least 1 - 1e-6.
CONFIDENCE_TAIL = 0.5e-6


def _binomial_interval(n: int, p: float, tail: float = CONFIDENCE_TAIL) -> tuple[int, int]:
    """[lo, hi] with P(X < lo) <= tail and P(X > hi) <= tail for X ~ Binomial(n, p) (exact sums)."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    below, lo = 0.0, 0
    while lo < n and below + pmf[lo] <= tail:
        below += pmf[lo]
        lo += 1
    above, hi = 0.0, n
    while hi > 0 and above + pmf[hi] <= tail:
        above += pmf[hi]
        hi -= 1
    return lo, hi


def _replay(seed: int, rules: list[dict[str, Any]], draws: list[tuple[str, str]]) -> list[int]:
    """The hits each rule must have: the documented evaluation (docs/architecture.md, FaultRule) replayed
    with ``random.Random(seed)`` over the recorded request sequence."""
    rng = random.Random(seed)
    hits = [0] * len(rules)
    for method, path in draws:
        for i, rule in enumerate(rules):
            if rule.get("method") and rule["method"].upper() != method:
                continue
            if rule.get("path_regex") and not re.search(rule["path_regex"], path):
                continue
            if rng.random() >= rule["probability"]:
                continue
            hits[i] += 1
            if rule["kind"] != "latency":
                break
    return hits


def assert_fault_rates(emulator: EmulatorServer, draw_log: DrawLog, seed: int, rules: list[dict[str, Any]]) -> None:
    """Each rule fired exactly as the seed and the request sequence make it, and within the binomial
    bounds of its configured probability over the requests it was drawn for; so did all of them together."""
    hits = [rule["hits"] for rule in emulator.admin.faults()["rules"]]
    draws = list(draw_log.draws)
    assert hits == _replay(seed, rules, draws), f"hits {hits} differ from the seeded replay over {len(draws)} requests"
    assert sum(hits) == emulator.admin.state()["counters"]["faults_injected"]
    # Rule 0 is drawn for every POST; the transient rules for every request no earlier rule decided.
    trials = [sum(method == "POST" for method, _ in draws)]
    for k in range(1, len(rules)):
        trials.append((len(draws) if k == 1 else trials[k - 1]) - hits[k - 1])
    lines = []
    for rule, n, h in zip(rules, trials, hits, strict=True):
        lo, hi = _binomial_interval(n, rule["probability"])
        lines.append(f"{rule['kind']}: {h} of {n} (p={rule['probability']}, bounds {lo}..{hi})")
        assert lo <= h <= hi, lines[-1]
    transient_p = 1 - math.prod(1 - rule["probability"] for rule in rules[1:])
    n, h = trials[1], sum(hits[1:])
    lo, hi = _binomial_interval(n, transient_p)
    lines.append(f"transient: {h} of {n} (p={transient_p:.4f}, bounds {lo}..{hi})")
    assert lo <= h <= hi, lines[-1]
    assert lo > n * transient_p / 10, "the bounds are too loose to tell a rule firing at a tenth of its rate"
    print("[chaos] fault rates: " + "; ".join(lines))


def assert_tokens_refreshed(emulator: EmulatorServer, counter: RetryCounter, *, rejections: bool) -> None:
    """Tokens that live 3 s were replaced: the hook received several distinct tokens, each issued by the
    emulator to the demo client; with ``rejections``, tokens also expired in flight (401013) and were
    replaced, which the hook counts when it asks the cache for a token other than the refused one."""
    from aep_emulator.testing import DEMO_CLIENT_ID

    with emulator.store.lock:
        issued = {token for token, info in emulator.store.tokens.items() if info.client_id == DEMO_CLIENT_ID}
    received = counter.tokens_received
    assert len(set(received)) == len(received) >= 2, f"the hook received {len(received)} tokens"
    assert set(received) <= issued
    if rejections:
        assert counter.token_rejections >= 1, "no token expired in flight and was replaced"


def assert_records_are_the_mapped_rows(emulator: EmulatorServer, dataset_id: str, table: str,
                                        window: tuple[datetime, datetime] | None = None,
                                        delta_column: str | None = None) -> int:
    """The dataset holds exactly one record per source row (of the window), every mapped value equal."""
    actual = records_by_id(emulator.admin.records(dataset_id))
    expected = expected_records(f"Hubspot.{table}", TABLES[table], delta_column=delta_column, window=window)
    assert expected, f"{table} has rows (in the window)"
    assert actual == expected, f"{table}: {differences(expected, actual)}"
    return len(actual)


def chaos_report(title: str, emulator: EmulatorServer, counter: RetryCounter, tries: dict[str, int],
            records: int, seconds: float, by_kind: dict[str, int]) -> dict[str, Any]:
    state = emulator.admin.state()
    report = {
        "requests": state["counters"]["requests"],
        "faults_injected": state["counters"]["faults_injected"],
        "faults_by_kind": by_kind,
        "ims_token_requests": state["counters"]["ims_token_requests"],
        "committed_writes": state["counters"]["writes"],
        "hook_retries": counter.count,
        "hook_retry_sleep_s": round(counter.slept, 1),
        "hook_longest_wait_s": round(counter.longest, 2),
        "hook_gave_up": counter.given_up,
        "expired_token_refreshes": counter.token_rejections,
        "task_retries": sum(n - 1 for n in tries.values()),
        "resources": dict(Counter(r["kind"] for r in state["resources"])),
        "records": records,
        "seconds": round(seconds, 1),
    }
    print(f"\n[chaos] {title}: {json.dumps(report, sort_keys=True)}")
    if tries:
        print(f"[chaos] {title}: task retries: {tries}")
    return report


def assert_faults_were_survived(report: dict[str, Any], *, every_kind: bool) -> None:
    """The faults really happened (each kind, on the large run) at about the configured rate."""
    kinds = report["faults_by_kind"]
    if every_kind:  # ~360 requests: each transient kind expects ~10 hits, commit-then-drop ~8
        assert all(kinds.get(k, 0) > 0 for k in ("commit_then_drop", "500", "502", "503", "429", "drop")), kinds
    assert report["hook_retries"] > 0
    assert report["hook_longest_wait_s"] <= MAX_WAIT_SECONDS + 1e-9, "a wait beyond Retry-After / the backoff cap"
