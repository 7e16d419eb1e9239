"""Benchmark 4: peak memory of one task, ours against the aepp script doing the same work.

* ``airflow tasks test <dag> <task> <date>`` of one of our tasks in a child
  process, its peak RSS read with ``wait4`` (the whole Airflow task process:
  interpreter, Airflow, the DAG file parse, the provider, the call itself);
  ``select_objects`` (a plain Python task, no Platform call) is the Airflow
  baseline in the same conditions, so the difference is what our provider adds;
* the aepp script onboarding one object, peak RSS the same way;
* ``tracemalloc`` peak of only the call that creates one ad-hoc class, after
  every import and one warm-up call (token, connection pool): our operator's
  ``execute`` (look-up, create, read-back) against aepp's connector ``postData``
  (one POST), in one child process each.

The same child also writes a cProfile of one ``airflow tasks test`` (the
per-task work of Airflow itself) to ``results/task_profile.txt``.
"""

from __future__ import annotations

import io
import json
import pstats
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import PYTHON, RESULTS, AirflowHome, Emulator, log, median, run_child, venv_bin
from benchmarks.specs import write_spec

TRACEMALLOC_CHILD = r'''
import json, sys, time, tracemalloc
side, base_url, spec_path = sys.argv[1], sys.argv[2], sys.argv[3]
import yaml
spec = yaml.safe_load(open(spec_path))
obj = spec["objects"][0]
title = f"{spec['name']} tracemalloc {side} {time.time()}"
if side == "ours":
    from aep_provider.operators.schema import AepCreateAdhocClassOperator

    class _TI:
        def xcom_push(self, key, value):
            pass

    context = {"ti": _TI(), "task_instance": _TI()}
    def call(suffix=""):
        op = AepCreateAdhocClassOperator(task_id="adhoc_class", title=title + suffix, fields=obj["fields"])
        return op.execute(context)
else:
    from benchmarks.aepp_onboarding import connect, create_tenant, _field
    from aepp import schema
    sch = schema.Schema(config=connect(base_url, "demo-client", "demo-secret"))
    body = {"title": title, "description": "", "type": "object",
            "allOf": [{"$ref": "https://ns.adobe.com/xdm/data/adhoc"},
                      {"properties": {"_adhoc": {"type": "object", "properties": {
                          c: _field(t) for c, t in obj["fields"].items()}}}}]}
    def call(suffix=""):
        return create_tenant(sch, "classes", {**body, "title": title + suffix})
call(" warm-up")  # token, connection pools, caches: both sides measure a second, warm call
tracemalloc.start()
result = call()
current, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"side": side, "peak_kib": peak / 1024, "ok": bool(result)}))
'''


@dataclass
class MemoryRow:
    what: str
    peak_mib: float
    kind: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tasks_test(env: dict[str, str], dag_id: str, task_id: str, profile_to: Path | None = None) -> float:
    cmd = [venv_bin("airflow"), "tasks", "test", dag_id, task_id, "2025-12-02"]
    if profile_to is not None:
        cmd = [PYTHON, "-m", "cProfile", "-o", str(profile_to), *cmd]
    result = run_child(cmd, env=env, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"airflow tasks test {task_id} failed:\n{result.stdout[-1500:]}\n{result.stderr[-2500:]}")
    return result.max_rss_mib


def run(home: AirflowHome, work: Path, repetitions: int = 3) -> tuple[list[MemoryRow], str]:
    specs = work / "memory-specs"
    spec = write_spec(specs, "bench_mem_n1", 1)
    dag_id = "aep_onboard_bench_mem_n1"
    rows: list[MemoryRow] = []
    profile_text = ""
    with Emulator(work, latency_ms=0) as emulator:
        env = {**home.with_aep(emulator.base_url), "AEP_SPECS_DIR": str(specs)}
        samples: dict[str, list[float]] = {"select_objects": [], "contacts.adhoc_class": [], "aepp": []}
        for _ in range(repetitions):
            for task_id in ("select_objects", "contacts.adhoc_class"):
                emulator.reset(0)
                samples[task_id].append(_tasks_test(env, dag_id, task_id))
            emulator.reset(0)
            aepp = run_child([PYTHON, "-m", "benchmarks.aepp_onboarding", "--base-url", emulator.base_url,
                              "--spec", str(spec)], timeout=120)
            samples["aepp"].append(aepp.max_rss_mib)
        rows.append(MemoryRow("ours: `airflow tasks test` contacts.adhoc_class", median(samples["contacts.adhoc_class"]),
                              "peak RSS of the task process"))
        rows.append(MemoryRow("Airflow baseline: `airflow tasks test` select_objects (no Platform call)",
                              median(samples["select_objects"]), "peak RSS of the task process"))
        rows.append(MemoryRow("aepp script, whole onboarding of 1 object", median(samples["aepp"]),
                              "peak RSS of the script process"))
        for side in ("ours", "aepp"):
            emulator.reset(0)
            result = run_child([PYTHON, "-c", TRACEMALLOC_CHILD, side, emulator.base_url, str(spec)], env=env,
                               timeout=120)
            if result.returncode != 0:
                log(f"memory: tracemalloc {side} failed: {result.stderr[-1500:]}")
                continue
            data = result.last_json()
            rows.append(MemoryRow(f"{side}: create one ad-hoc class (the call only)", data["peak_kib"] / 1024,
                                  "tracemalloc peak, after imports"))
        emulator.reset(0)
        stats_path = work / "task.pstats"
        _tasks_test(env, dag_id, "contacts.adhoc_class", profile_to=stats_path)
        out = io.StringIO()
        out.write("# cProfile of `airflow tasks test aep_onboard_bench_mem_n1 contacts.adhoc_class` (one object)\n\n")
        for sort in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(str(stats_path), stream=buf).strip_dirs().sort_stats(sort).print_stats(40)
            text = buf.getvalue()
            start = text.find("   ncalls")
            out.write(f"## by {sort}\n\n```\n{text[start:] if start >= 0 else text}```\n\n")
        profile_text = out.getvalue()
    return rows, profile_text


def write_profile(text: str) -> Path:
    path = RESULTS / "task_profile.txt"
    path.write_text(text)
    return path


def to_json(rows: list[MemoryRow]) -> str:
    return json.dumps([r.as_dict() for r in rows], indent=2)
