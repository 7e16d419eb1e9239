"""In-memory state of the emulator, with optional JSON persistence.

All mutation happens under ``Store.lock`` (one re-entrant lock: simple and enough for an
emulator). Resources live in *containers*, one per ``(org, sandbox)``, so what is made in
one org+sandbox is invisible from every other.

The state file (``--state``) keeps what a restart must not lose: resources, dataset records, runs and the
clock offset. A write appends what it changed to the file's journal (``journal.py``); the journal is folded into
the file at start, at shutdown (:meth:`Store.close`), on reset and when it has grown past the file's size. It
keeps no credential: the HubSpot auth a base connection was created with (``__auth``) and the IMS tokens issued
stay in memory, so a restarted emulator answers an old token ``401013`` and the client fetches a new one, as
against Adobe's gateway. The file is written mode 0600 (``O_NOFOLLOW``, then
an atomic rename) into a folder only this user may enter (0700, made so when the emulator creates it); a
folder other users may read or write is refused at start (:class:`StateFileError`).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import journal
from .clock import Clock
from .containers import Container

DEMO_ORG = "DEMO0000000000000000000@AdobeOrg"
OTHER_ORG = "OTHER000000000000000000@AdobeOrg"
DEFAULT_DATA_END = "2026-01-01T00:00:00Z"
#: Keys of stored resources that hold credentials: kept in memory, never written to the state file.
SECRET_KEYS = frozenset({"__auth"})
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class StateFileError(RuntimeError):
    """The state file's folder (or the file) is not this user's alone; the message names it and the fix."""


def prepare_state_folder(state_file: str) -> None:
    """Make the state file's folder 0700 when missing; refuse one another user owns or may enter."""
    folder = Path(state_file).absolute().parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)
        folder.chmod(0o700)
    info = folder.stat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise StateFileError(
            f"The emulator's state folder {folder} is not this user's alone (mode {oct(stat.S_IMODE(info.st_mode))}, "
            f"owner uid {info.st_uid}): the state file holds every resource and record. Run chmod 700 {folder}, "
            "or pass --state a file in a folder only you can enter."
        )


def _without_secrets(container: dict[str, Any]) -> dict[str, Any]:
    items = {kind: {rid: {k: v for k, v in obj.items() if k not in SECRET_KEYS} for rid, obj in objects.items()}
             for kind, objects in container.get("items", {}).items()}
    return {**container, "items": items}

@dataclass
class Org:
    org_id: str
    tenant_id: str
    sandboxes: list[str]


@dataclass
class Client:
    client_id: str
    client_secret: str
    org_id: str


@dataclass
class Config:
    """Run-time settings; the admin ``/_emulator/config`` call changes the first four."""

    token_ttl_seconds: int = 86399
    run_duration_seconds: float = 1.0
    latency_ms: int = 0
    #: How long after its due time a scheduled run is recorded (its ``createdAt``). Adobe documents no bound; its one
    #: full run example (help/dataflows/api/monitor.md) was created 21 s after it started. 0: at the due time.
    scheduled_run_delay_seconds: float = 0.0
    seed: int = 42
    data_end: str = DEFAULT_DATA_END
    #: How ``PUT /mappingSets/{id}`` answers: ``"spec"`` the stored MappingSet with its new ``version``
    #: (data-prep.yaml putMappingSet), ``"docs"`` help/data-prep/api/mapping-set.md's "Update a mapping set"
    #: example answer's fields, with the new ``version`` (the current page; adobe_contract_notes.yaml).
    mapping_put_answer: str = "spec"

    def __post_init__(self) -> None:
        if self.mapping_put_answer not in ("spec", "docs"):
            raise ValueError(f"mapping_put_answer={self.mapping_put_answer!r}: use spec or docs")


def default_orgs() -> dict[str, Org]:
    return {
        DEMO_ORG: Org(DEMO_ORG, "demotenant", ["prod", "dev"]),
        OTHER_ORG: Org(OTHER_ORG, "othertenant", ["prod"]),
    }


def default_clients() -> dict[str, Client]:
    return {
        "demo-client": Client("demo-client", "demo-secret", DEMO_ORG),
        "other-client": Client("other-client", "other-secret", OTHER_ORG),
    }


class Counters(dict[str, int]):
    """What the emulator counted since it started or was reset, as ``/_emulator/state`` reports it: every
    request, the faults injected, the IMS token requests and the committed writes."""

    NAMES = ("requests", "faults_injected", "ims_token_requests", "writes")

    def __init__(self) -> None:
        super().__init__(dict.fromkeys(self.NAMES, 0))

    def count(self, name: str) -> None:
        if name not in self.NAMES:
            raise KeyError(f"no counter {name!r}; the counters are {', '.join(self.NAMES)}")
        self[name] += 1


@dataclass
class Token:
    client_id: str
    org_id: str
    expires_at: float


@dataclass
class Store:
    config: Config = field(default_factory=Config)
    state_file: str | None = None

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self.initial_config = Config(**asdict(self.config))
        self.orgs = default_orgs()
        self.clients = default_clients()
        self.tokens: dict[str, Token] = {}
        self.containers: dict[tuple[str, str], Container] = {}
        self.counters = Counters()
        #: Told of every put, delete and in-place change of a resource (the run scheduler's timeline, runs.py).
        self.observer: Any = None
        #: The run scheduler's timeline (runs.py), built on the first tick after start, load or reset.
        self.timeline: Any = None
        self.generation = 0
        self._journal: journal.Journal | None = None
        self._snapshot_size = 0
        self._persisted_offset = self.clock.offset
        if self.state_file:
            prepare_state_folder(self.state_file)
            if os.path.lexists(self.state_file):
                self.load(self.state_file)
                self.save()  # rewritten at once: a file from an older emulator may hold credentials or mode 0644

    # -- containers -------------------------------------------------------------------
    def container(self, org_id: str, sandbox: str) -> Container:
        key = (org_id, sandbox)
        with self.lock:
            if key not in self.containers:
                self.containers[key] = self._new_container(org_id, sandbox)
            return self.containers[key]

    def _new_container(self, org_id: str, sandbox: str, data: dict[str, Any] | None = None) -> Container:
        cont = Container(org_id, sandbox, data, observer=self._observe)
        cont.ordinal = len(self.containers)
        return cont

    def _observe(self, cont: Container, kind: str, ident: str, obj: dict[str, Any] | None) -> None:
        if self.observer is not None:
            self.observer(cont, kind, ident, obj)

    def all_containers(self) -> list[Container]:
        with self.lock:
            return list(self.containers.values())

    def tenant_of(self, org_id: str) -> str:
        return self.orgs[org_id].tenant_id

    # -- tokens -----------------------------------------------------------------------
    def issue_token(self, client: Client) -> tuple[str, int]:
        ttl = int(self.config.token_ttl_seconds)
        token = "eyJ" + uuid.uuid4().hex + uuid.uuid4().hex
        with self.lock:
            self.tokens[token] = Token(client.client_id, client.org_id, self.clock.now() + ttl)
        return token, ttl

    def token_info(self, token: str) -> Token | None:
        info = self.tokens.get(token)
        if info is None or info.expires_at <= self.clock.now():
            return None
        return info

    # -- bookkeeping --------------------------------------------------------------------
    def wrote(self) -> None:
        """Count a committed write and persist it if a state file is configured."""
        with self.lock:
            self.counters.count("writes")
            self.persist()

    def reset(self) -> None:
        """Drop every resource, record and run; restore startup config and the clock."""
        with self.lock:
            self.containers.clear()
            self.timeline = self.observer = None
            self.config = Config(**asdict(self.initial_config))
            self.clock.reset()
            self.counters = Counters()
            self.save()

    def close(self) -> None:
        """Fold the journal into the state file (at shutdown)."""
        with self.lock:
            self.save()
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    # -- persistence ----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """What the state file keeps: the clock offset and every container, without credentials."""
        with self.lock:
            return {
                "clock_offset": self.clock.offset,
                "containers": [_without_secrets(c.to_json()) for c in self.containers.values()],
            }

    def _changes(self) -> list[dict[str, Any]]:
        """What changed since the last persist, as journal entries; forgets it."""
        entries: list[dict[str, Any]] = []
        if self.clock.offset != self._persisted_offset:
            entries.append({"op": "clock", "offset": self.clock.offset})
            self._persisted_offset = self.clock.offset
        for cont in self.containers.values():
            where = {"org": cont.org_id, "sandbox": cont.sandbox}
            for kind, ident in cont.dirty:
                obj = cont.items[kind].get(ident)
                if obj is None:
                    entries.append({"op": "del", **where, "kind": kind, "id": ident})
                else:
                    entries.append({"op": "put", **where, "kind": kind, "id": ident,
                                    "obj": {k: v for k, v in obj.items() if k not in SECRET_KEYS}})
            for op, dataset_id, records in cont.record_ops:
                entries.append({"op": f"records_{op}", **where, "dataset": dataset_id, "records": records})
            cont.dirty.clear()
            cont.record_ops.clear()
        return entries

    def persist(self) -> None:
        """Append what changed to the state file's journal; fold it into the file when it has grown past it."""
        with self.lock:
            if not self.state_file:
                for cont in self.containers.values():
                    cont.dirty.clear()
                    cont.record_ops.clear()
                return
            if self._journal is None or not os.path.lexists(self.state_file):
                self.save()
                return
            self._journal.append(self._changes())
            if self._journal.size > max(self._snapshot_size, 1 << 20):
                self.save()

    def _apply(self, entry: dict[str, Any]) -> None:
        """Replay one journal entry (``load``)."""
        op = entry.get("op")
        if op == "clock":
            self.clock = Clock(float(entry["offset"]))
            return
        key = (str(entry["org"]), str(entry["sandbox"]))
        cont = self.containers.get(key) or self._new_container(*key)
        self.containers[key] = cont
        if op == "put":
            cont.items[entry["kind"]][entry["id"]] = {k: v for k, v in entry["obj"].items() if k not in SECRET_KEYS}
        elif op == "del":
            cont.items[entry["kind"]].pop(entry["id"], None)
        elif op == "records_add":
            cont.add_records(entry["dataset"], entry["records"])
        elif op == "records_open":
            cont.open_records(entry["dataset"])
        elif op == "records_drop":
            cont.drop_records(entry["dataset"])

    def save(self) -> None:
        """Write the whole state file (a new generation) and start an empty journal."""
        if not self.state_file:
            return
        with self.lock:
            self.generation += 1
            for cont in self.containers.values():
                cont.dirty.clear()
                cont.record_ops.clear()
            self._persisted_offset = self.clock.offset
            text = json.dumps({**self.to_json(), "generation": self.generation})
            tmp = self.state_file + ".tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)  # a leftover (or planted) file: never written through
            fd = os.open(tmp, _WRITE_FLAGS | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                os.fchmod(out.fileno(), 0o600)
                out.write(text)
            os.replace(tmp, self.state_file)
            self._snapshot_size = len(text)
            if self._journal is not None:
                self._journal.close()
            self._journal = journal.Journal(journal.journal_path(self.state_file), self.generation)

    def load(self, path: str) -> None:
        """Read a state file this user owns (a symlink or another user's file is refused)."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise StateFileError(f"The emulator's state file {path} cannot be opened ({exc.strerror}); a symlink "
                                 "is refused. Remove it or pass --state another file.") from None
        with os.fdopen(fd) as source:
            info = os.fstat(source.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                raise StateFileError(f"The emulator's state file {path} is not a regular file of this user; "
                                     "remove it or pass --state another file.")
            data = json.loads(source.read())
        with self.lock:
            self.clock = Clock(float(data.get("clock_offset", 0.0)))
            # Files written before tokens and HubSpot auth stayed in memory may still hold them: not read back.
            self.tokens = {}
            self.containers = {}
            self.timeline = self.observer = None
            self.generation = int(data.get("generation", 0))
            for c in data.get("containers", []):
                cont = self._new_container(c["org_id"], c["sandbox"], _without_secrets(c))
                self.containers[(cont.org_id, cont.sandbox)] = cont
            for entry in journal.read(journal.journal_path(path), self.generation, StateFileError):
                self._apply(entry)
            for cont in self.containers.values():
                cont.dirty.clear()
                cont.record_ops.clear()
            self._persisted_offset = self.clock.offset
