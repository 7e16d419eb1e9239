"""Bounds on what the admin API accepts: one call must not stall or break every later request.

Settings (``POST /_emulator/config``) and fault rules (``POST /_emulator/faults``) are bounded: a latency
of at most two minutes (beyond the provider's default 60 s timeout, so a timeout can still be provoked),
a token lifetime of at most a week, a run duration of at most a day, a ``Retry-After`` of at most an hour,
at most 100 rules. A rule's ``path_regex`` is matched against every Platform and IMS path, so it must not
backtrack without end: at most 200 characters, no back-reference, at most one repetition of variable
count (``*``, ``+``, ``?``, ``{m,n}``), and a repetition of more than one may repeat only one character
item (a literal, ``.``, a class), never a group. The patterns the suites use (``^/data/``, ``/runs$``,
``^/data/foundation/schemaregistry/(tenant|global)/schemas/``, ``/dataSets/[0-9a-f]+$``) all pass.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

MAX_LATENCY_MS = 120_000
MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600
MAX_RUN_DURATION_SECONDS = 24 * 3600.0
MAX_RETRY_AFTER_SECONDS = 3600
MAX_FAULT_RULES = 100
MAX_PATTERN_CHARS = 200

# The parser behind ``re`` (``re._parser`` since Python 3.11, ``sre_parse`` before): it gives the pattern's tree.
try:
    _parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - Python 3.10
    _parser = importlib.import_module("sre_parse")

_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})
_CHARACTER_ITEMS = frozenset({"LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"})
_BACK_REFERENCES = frozenset({"GROUPREF", "GROUPREF_EXISTS", "GROUPREF_IGNORE", "GROUPREF_LOC_IGNORE",
                              "GROUPREF_UNI_IGNORE"})


def _items(pattern: Any) -> Iterator[tuple[str, Any]]:
    """Every ``(opcode name, argument)`` of a parsed pattern, nested groups, branches and repeats included."""
    for op, av in pattern:
        yield str(op), av
        for part in av if isinstance(av, (tuple, list)) else (av,):
            if isinstance(part, _parser.SubPattern):
                yield from _items(part)
            elif isinstance(part, list):
                for sub in part:
                    if isinstance(sub, _parser.SubPattern):
                        yield from _items(sub)


def path_regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` may not be a fault rule's ``path_regex``; ``None`` when it may."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"longer than {MAX_PATTERN_CHARS} characters"
    try:
        re.compile(pattern)
        tree = _parser.parse(pattern)
    except re.error as exc:
        return f"not a regular expression ({exc})"
    variable = 0
    for name, av in _items(tree):
        if name in _BACK_REFERENCES:
            return "a back-reference (matching it can take exponential time)"
        if name not in _REPEATS:
            continue
        low, high, body = av
        if high > 1 and not (len(body) == 1 and str(body[0][0]) in _CHARACTER_ITEMS):
            return "a repeated group (nested repetition backtracks exponentially): repeat one character item"
        variable += low != high
    if variable > 1:
        return f"{variable} repetitions of variable count (at most one: more backtrack polynomially)"
    return None


def fault_rules_problems(rules: list[Any]) -> list[str]:
    """``rules[i].<field>: why`` for every bound a fault set breaks (rules as ``FaultRule`` models)."""
    problems = [f"rules: at most {MAX_FAULT_RULES} rules"] if len(rules) > MAX_FAULT_RULES else []
    for index, rule in enumerate(rules):
        where = f"rules[{index}]"
        if rule.latency_ms > MAX_LATENCY_MS:
            problems.append(f"{where}.latency_ms: at most {MAX_LATENCY_MS}")
        if rule.retry_after > MAX_RETRY_AFTER_SECONDS:
            problems.append(f"{where}.retry_after: at most {MAX_RETRY_AFTER_SECONDS}")
        if rule.flow_id is not None and len(rule.flow_id) > 100:
            problems.append(f"{where}.flow_id: at most 100 characters")
        if rule.path_regex is not None:
            problem = path_regex_problem(rule.path_regex)
            if problem:
                problems.append(f"{where}.path_regex {rule.path_regex[:60]!r}: {problem}")
    return problems
