"""Seeded, reproducible fault injection for the Platform and IMS routes.

A fault set is ``{"seed", "rules": [FaultRule]}``. For every Platform/IMS request, the
rules are looked at in order; each rule that matches the method and path (and has hits
left) draws one number from a ``random.Random(seed)`` and fires when it is below the
rule's probability. ``latency`` rules add their delay and evaluation goes on; the first
other rule that fires decides the outcome and ends the evaluation. So one seed and one
request sequence always give the same faults. ``/_emulator/*`` is never faulted.

Two kinds act on flow runs instead of requests (never drawn for a request): when a run ends, ``run_failed``
makes it end ``failed`` with nothing ingested, and ``run_failed_records`` makes ``failed_share`` of its input
records fail their mapping (then the run is judged by its counts as any run is: ``runs.judge``). ``flow_id``
keeps such a rule to one flow's runs. They draw from the same seeded generator, in the order runs end.

``drop`` closes the TCP connection without any HTTP answer before the handler runs;
``commit_then_drop`` runs the handler (its write is applied) and then closes the
connection without an answer. The connection is closed through uvicorn's transport,
reached from the ``send`` callable uvicorn hands the app (a bound method of its
request/response cycle that holds the transport). If it cannot be found, the ASGI
callable returns a non-None value, which also makes uvicorn close the connection.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
from typing import Any, Literal

from pydantic import BaseModel, Field
from starlette.types import Message, Receive, Scope, Send

from .errors import neutral, problem_body
from .gateway import send_json
from .services import service_of_path
from .state import Store

#: HTTP's reason phrases for the statuses a fault answers.
FAULT_TITLES = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}

FaultKind = Literal["latency", "500", "502", "503", "429", "drop", "commit_then_drop", "run_failed",
                    "run_failed_records"]
#: The kinds that act on a flow run when it ends, not on a request.
RUN_FAULTS = frozenset({"run_failed", "run_failed_records"})


class FaultRule(BaseModel):
    kind: FaultKind
    probability: float = Field(1.0, ge=0.0, le=1.0)
    method: str | None = None
    path_regex: str | None = None
    latency_ms: int = Field(0, ge=0)
    retry_after: int = Field(1, ge=0)
    max_hits: int | None = Field(None, ge=0)
    #: A run fault's flow (``None``: every flow's runs).
    flow_id: str | None = None
    #: ``run_failed_records``: the share of a run's input records that fail (at least one when it has any).
    failed_share: float = Field(0.5, gt=0.0, le=1.0)


class FaultSet(BaseModel):
    seed: int = 0
    rules: list[FaultRule] = Field(default_factory=list)


class FaultEngine:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.fault_set = FaultSet()
        self._rng = random.Random(0)
        self._hits: list[int] = []
        self._compiled: list[re.Pattern[str] | None] = []

    def replace(self, fault_set: FaultSet) -> None:
        with self._lock:
            self.fault_set = fault_set
            self._rng = random.Random(fault_set.seed)
            self._hits = [0] * len(fault_set.rules)
            self._compiled = [re.compile(r.path_regex) if r.path_regex else None for r in fault_set.rules]

    def clear(self) -> None:
        self.replace(FaultSet())

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.fault_set.seed,
                "rules": [
                    {**r.model_dump(), "hits": h} for r, h in zip(self.fault_set.rules, self._hits, strict=True)
                ],
            }

    def draw(self, method: str, path: str) -> tuple[int, FaultRule | None]:
        """Return (extra latency in ms, the deciding non-latency rule or None)."""
        latency = 0
        with self._lock:
            for i, rule in enumerate(self.fault_set.rules):
                if rule.kind in RUN_FAULTS:
                    continue
                if rule.method and rule.method.upper() != method.upper():
                    continue
                pattern = self._compiled[i]
                if pattern is not None and not pattern.search(path):
                    continue
                if not self._fires(i, rule):
                    continue
                if rule.kind == "latency":
                    latency += rule.latency_ms
                    continue
                return latency, rule
        return latency, None


    def draw_run(self, flow_id: str) -> FaultRule | None:
        """The run fault that fires for a run of ``flow_id`` ending now, if any (the first that fires)."""
        with self._lock:
            for i, rule in enumerate(self.fault_set.rules):
                if rule.kind not in RUN_FAULTS or (rule.flow_id and rule.flow_id != flow_id):
                    continue
                if self._fires(i, rule):
                    return rule
        return None

    def _fires(self, i: int, rule: FaultRule) -> bool:
        """Whether rule ``i`` fires now (under the lock): hits left, and the seeded draw; counts the hit."""
        if rule.max_hits is not None and self._hits[i] >= rule.max_hits:
            return False
        if self._rng.random() >= rule.probability:
            return False
        self._hits[i] += 1
        return True


def faultable(path: str) -> bool:
    return path.startswith("/data/") or path.startswith("/ims/")


async def _drop(scope: Scope) -> bool:
    """Close the client connection without an answer; True if the transport was found."""
    raw_send = scope.get("state", {}).get("raw_send")
    cycle = getattr(raw_send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.close()
    # let the protocol see connection_lost so uvicorn does not try to answer
    for _ in range(3):
        await asyncio.sleep(0)
    return True


class FaultMiddleware:
    def __init__(self, app: Any, store: Store, engine: FaultEngine) -> None:
        self.app = app
        self.store = store
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http" or not faultable(scope["path"]):
            await self.app(scope, receive, send)
            return None
        with self.store.lock:
            self.store.counters.count("requests")
            base_latency = int(self.store.config.latency_ms)
        extra, rule = self.engine.draw(scope["method"], scope["path"])
        if rule is not None:
            with self.store.lock:
                self.store.counters.count("faults_injected")
        delay = base_latency + extra
        if delay > 0:
            await asyncio.sleep(delay / 1000.0)
        if rule is None:
            await self.app(scope, receive, send)
            return None
        request_id = str(scope.get("state", {}).get("request_id", ""))
        if rule.kind == "drop":
            return None if await _drop(scope) else "drop"
        if rule.kind == "commit_then_drop":

            async def swallow(message: Message) -> None:
                return None

            await self.app(scope, receive, swallow)
            return None if await _drop(scope) else "drop"
        status = int(rule.kind)
        headers: dict[str, str] = {"Retry-After": str(rule.retry_after)} if status == 429 else {}
        # Adobe documents no code for a throttled or failing call of these services (no rate limit and no 429 in
        # their specs, api reference section 2; section 1's gateway codes are for bad headers only): the code is
        # ours, EMU-<status> (docs/architecture.md, "Error codes that are ours"), in a problem body.
        body = problem_body(
            status,
            neutral(status),
            FAULT_TITLES[status],
            "An injected fault of the emulator (/_emulator/faults)",
            service_of_path(scope["path"]),
            request_id,
        )
        await send_json(send, status, body, headers)
        return None
