"""The peak memory of each task process of a deployment run, sampled from ``/proc``.

Airflow 3's task runner names its process ``airflow worker -- <task instance id>``
(``airflow.sdk.execution_time.task_runner``, ``setproctitle``). While a run goes on, a thread reads every such
process's ``VmHWM`` (the peak resident set size so far) every ``interval`` seconds and keeps the largest per task
instance id; the REST API's task instances carry the same id, so the peaks are mapped to task ids afterwards. A
task process that lives shorter than the interval may be missed, and its last growth after the last sample is
not seen: the figure is a lower bound of the true peak.
"""

from __future__ import annotations

import threading
from pathlib import Path

TITLE = b"airflow worker -- "


def _peaks_now() -> dict[str, float]:
    """``{task instance id: VmHWM in MiB}`` of the task runner processes alive now."""
    found: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes()
            if not title.startswith(TITLE):
                continue
            ti_id = title[len(TITLE):].split(b"\0")[0].strip().decode()
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    found[ti_id] = max(found.get(ti_id, 0.0), int(line.split()[1]) / 1024.0)
                    break
        except (OSError, ValueError, UnicodeDecodeError):
            continue
    return found


class TaskMemory:
    """Samples task processes' peak RSS from ``start()`` to ``stop()``; ``peaks`` maps task instance ids to MiB."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="task-memory", daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for ti_id, mib in _peaks_now().items():
                self.peaks[ti_id] = max(self.peaks.get(ti_id, 0.0), mib)
            self._stop.wait(self.interval)

    def start(self) -> TaskMemory:
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.peaks
