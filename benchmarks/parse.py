"""Benchmark 1: DAG-file parse time, our factory against dag-factory, for 1, 10, 100 and 500 objects.

Each measurement is one fresh Python process, like the one Airflow's
dag-processor forks per DAG file: it first imports what the processor has
already imported (``airflow.dag_processing.processor``: Airflow, the SDK, the
serializer), then times

* ``parse``: CPU time (``time.process_time``, robust to the other processes
  sharing this machine; wall time is recorded too) of ``DagBag(dag_folder=<the one DAG file>)``, which imports the DAG
  file; that file reads the YAML and builds the DAG (for both sides this
  includes the first import of ``aep_provider`` and of the side's own
  package: ``aep_onboarding`` or ``dagfactory``);
* ``serialize``: CPU time of ``DagSerialization.to_dict`` of the DAG, the processor's next
  step.

The two sides alternate (ours, theirs, ours, ...) and the median of the
repetitions is reported; one unmeasured warm-up of each writes the bytecode
caches first. Both DAGs are checked to have the same operator classes, task
groups and edges (``specs.shape``). A cProfile of both sides at the largest
size goes to ``results/parse_profile.txt``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import PYTHON, RESULTS, AirflowHome, log, median, run_child
from benchmarks.specs import DAGFACTORY_DAG_FILE, OURS_DAG_FILE, write_dagfactory_yaml, write_spec

SIDES = ("ours", "dagfactory")

CHILD = r'''
import json, os, sys, time
import airflow.dag_processing.processor  # what the dag-processor has imported before it forks
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization
from benchmarks.specs import shape

dag_file, profile_to = sys.argv[1], sys.argv[2]
profiler = None
if profile_to:
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
t0, c0 = time.perf_counter(), time.process_time()
bag = DagBag(dag_folder=dag_file, safe_mode=False, load_op_links=False)
t1, c1 = time.perf_counter(), time.process_time()
if profiler is not None:
    profiler.disable()
    profiler.dump_stats(profile_to)
if bag.import_errors or len(bag.dags) != 1:
    raise SystemExit(f"parse failed: {bag.import_errors} dags={list(bag.dags)}")
dag = next(iter(bag.dags.values()))
c2 = time.process_time()
data = DagSerialization.to_dict(dag)
c3 = time.process_time()
print(json.dumps({"parse": c1 - c0, "parse_wall": t1 - t0, "serialize": c3 - c2,
                  "serialized_bytes": len(json.dumps(data)), **shape(dag)}))
'''


@dataclass
class ParseRow:
    objects: int
    tasks: int
    edges: int
    same_graph: bool
    ours_parse: float
    dagfactory_parse: float
    ours_serialize: float
    dagfactory_serialize: float
    ours_parse_wall: float
    dagfactory_parse_wall: float
    ours_rss_mib: float
    dagfactory_rss_mib: float
    repetitions: int

    @property
    def ratio(self) -> float:
        return self.ours_parse / self.dagfactory_parse

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def _prepare(work: Path, n: int) -> dict[str, Path]:
    """One folder per side holding exactly one DAG file (and its YAML)."""
    name = f"bench_parse_n{n}"
    specs = work / f"specs-n{n}"
    spec_path = write_spec(specs, name, n)
    ours = work / f"ours-n{n}"
    ours.mkdir(parents=True, exist_ok=True)
    (ours / "onboarding_dags.py").write_text(OURS_DAG_FILE)
    theirs = work / f"dagfactory-n{n}"
    config = write_dagfactory_yaml(spec_path, theirs / "config")
    (theirs / "dagfactory_dags.py").write_text(DAGFACTORY_DAG_FILE.format(config=str(config)))
    return {"ours": ours / "onboarding_dags.py", "dagfactory": theirs / "dagfactory_dags.py", "specs": specs}


def _measure(home: AirflowHome, dag_file: Path, specs: Path, profile_to: Path | None = None,
             timeout: float = 300.0) -> dict[str, Any]:
    env = dict(home.env)
    env["AEP_SPECS_DIR"] = str(specs)
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dag_file.parent)
    # Measure, do not enforce: Airflow's default 30 s import timeout would cut the largest sizes short on
    # a loaded machine. Parses slower than the default are flagged in the report instead.
    env["AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT"] = "900"
    result = run_child([PYTHON, "-c", CHILD, str(dag_file), str(profile_to or "")], env=env, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"parse child failed for {dag_file}:\n{result.stdout[-1500:]}\n{result.stderr[-3000:]}")
    data = result.last_json()
    data["rss_mib"] = result.max_rss_mib
    return data


def run(home: AirflowHome, work: Path, sizes: list[int], repetitions: dict[int, int]) -> list[ParseRow]:
    rows: list[ParseRow] = []
    for n in sizes:
        try:
            rows.append(_run_size(home, work, n, repetitions.get(n, 3)))
        except Exception as exc:  # keep the sizes that worked
            log(f"parse n={n} failed: {exc}")
    return rows


def _run_size(home: AirflowHome, work: Path, n: int, reps: int) -> ParseRow:
    files = _prepare(work, n)
    for side in SIDES:  # warm-up: bytecode caches, page cache
        _measure(home, files[side], files["specs"])
    samples: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    for rep in range(reps):
        order = SIDES if rep % 2 == 0 else tuple(reversed(SIDES))
        for side in order:
            samples[side].append(_measure(home, files[side], files["specs"]))
    ours, theirs = samples["ours"], samples["dagfactory"]
    row = ParseRow(
        objects=n, tasks=ours[0]["tasks"], edges=ours[0]["edges"],
        same_graph=ours[0]["signature"] == theirs[0]["signature"],
        ours_parse=median([s["parse"] for s in ours]), dagfactory_parse=median([s["parse"] for s in theirs]),
        ours_parse_wall=median([s["parse_wall"] for s in ours]),
        dagfactory_parse_wall=median([s["parse_wall"] for s in theirs]),
        ours_serialize=median([s["serialize"] for s in ours]),
        dagfactory_serialize=median([s["serialize"] for s in theirs]),
        ours_rss_mib=median([s["rss_mib"] for s in ours]), dagfactory_rss_mib=median([s["rss_mib"] for s in theirs]),
        repetitions=reps,
    )
    if not row.same_graph:
        log(f"parse n={n}: the two DAGs differ: ours {ours[0]} vs dag-factory {theirs[0]}")
    log(f"parse n={n}: ours {row.ours_parse:.3f}s, dag-factory {row.dagfactory_parse:.3f}s, ratio {row.ratio:.2f}")
    return row


def profile(home: AirflowHome, work: Path, n: int, top: int = 30) -> str:
    """cProfile of both sides' DagBag fill at ``n`` objects; the text goes to results/parse_profile.txt."""
    import io
    import pstats

    files = _prepare(work, n)
    out = io.StringIO()
    out.write(f"# cProfile of DagBag(dag_folder=<file>) with {n} objects (one fresh process per side)\n\n")
    for side in SIDES:
        stats_path = work / f"profile-{side}-n{n}.pstats"
        data = _measure(home, files[side], files["specs"], profile_to=stats_path)
        out.write(f"## {side}: parse {data['parse']:.3f} s under the profiler\n\n")
        for sort in ("cumulative", "tottime"):
            buf = io.StringIO()
            stats = pstats.Stats(str(stats_path), stream=buf)
            stats.strip_dirs().sort_stats(sort).print_stats(top)
            text = buf.getvalue()
            start = text.find("   ncalls")
            out.write(f"### by {sort}\n\n```\n{text[start:] if start >= 0 else text}```\n\n")
        shutil.copy(stats_path, RESULTS / f"parse_profile_{side}_n{n}.pstats")
    return out.getvalue()


def write_profile(text: str) -> Path:
    path = RESULTS / "parse_profile.txt"
    path.write_text(text)
    return path


def to_json(rows: list[ParseRow]) -> str:
    return json.dumps([r.as_dict() for r in rows], indent=2)


