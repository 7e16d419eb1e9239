"""The state file's journal: what changed since the last full write, one JSON line per change, appended.

A write of the emulator appends the resources it put or deleted (each object whole, without credentials) and the
records a run added, so its cost follows the size of the change, not of everything held. The state file
(``--state``) is the snapshot; its journal is ``<state file>.journal`` beside it, mode 0600 like it. The store
folds the journal into a new snapshot (compaction) at start, at shutdown, on ``/_emulator/reset`` and when the
journal has grown past the snapshot's size (so the cost of compaction, spread over the writes that grew the
journal, stays constant per write).

The snapshot carries a ``generation``; the journal's first line names the generation it continues. A journal of
another generation is stale (the emulator stopped between writing a new snapshot and starting its journal) and
is not read. A last line cut short (the emulator killed mid-write) is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from typing import Any

_APPEND_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def journal_path(state_file: str) -> str:
    return state_file + ".journal"


class Journal:
    """An open journal file of one generation (created empty, then appended to)."""

    def __init__(self, path: str, generation: int) -> None:
        self.path = path
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # a stale or planted file: never appended to
        self._fd = os.open(path, _APPEND_FLAGS, 0o600)
        os.fchmod(self._fd, 0o600)
        self.size = 0
        self.append([{"generation": generation}])

    def append(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        data = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries).encode()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.size += len(data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def read(path: str, generation: int, refuse: type[Exception]) -> list[dict[str, Any]]:
    """The entries of the journal at ``path`` continuing ``generation`` ([] when there is none or it is stale)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise refuse(f"The emulator's state journal {path} cannot be opened ({exc.strerror}); a symlink is "
                     "refused. Remove it or pass --state another file.") from None
    with os.fdopen(fd, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            raise refuse(f"The emulator's state journal {path} is not a regular file of this user; remove it or "
                         "pass --state another file.")
        lines = source.read().split(b"\n")
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            if number >= len(lines) - 2:  # the last line, cut short by a kill mid-write
                break
            raise refuse(f"The emulator's state journal {path} is damaged at line {number + 1}; remove it to "
                         "start from the state file alone.") from None
        if number == 0:
            if entry.get("generation") != generation:
                return []
            continue
        entries.append(entry)
    return entries
