"""Markdown tables of a benchmark run (the PNG chart: ``benchmarks/chart.py``)."""

from __future__ import annotations

import math
from typing import Any

PARSE_TARGET = 0.5  # ours at most half of dag-factory's, at 100 and 500 objects
THREADED = "aepp threaded (8)"  # the aepp script with the batched tasks' concurrency
# The speed targets at 1 s latency, deployed DAG, at equal Platform concurrency (the batched tasks'
# max_concurrency = the threaded script's threads): (objects, baseline, least ratio baseline/ours, label).
SPEED_TARGETS_1S = (
    (1, "aepp sequential", 1.0, "1 object: no slower than the sequential aepp script"),
    (10, THREADED, 1.0, "10 objects: at least as fast as the threaded aepp script"),
    (50, THREADED, 1.3, "50 objects: at least 1.3x the threaded aepp script"),
    (50, "aepp sequential", 8.0, "50 objects: at least 8x the sequential aepp script"),
)
DEPLOYED_PREFIXES = ("ours CeleryExecutor", "ours LocalExecutor")


def _deployed(method: str) -> bool:
    return method.startswith(DEPLOYED_PREFIXES)


def _method_order(rows: list[dict[str, Any]]) -> list[str]:
    """Physical limit, aepp, then ours: dag.test() first, batched before per-object."""
    ours = sorted({r["method"] for r in rows if r["method"].startswith("ours")},
                  key=lambda m: (_deployed(m), "per-object" in m, m))
    return ["physical limit", "aepp sequential", THREADED, *ours]


def _f(value: Any, digits: int = 2, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**NOT met**")


def parse_section(rows: list[dict[str, Any]]) -> list[str]:
    out = ["## 1. DAG-file parse time: our factory vs dag-factory", "",
           "CPU seconds of `DagBag(dag_folder=<one DAG file>)` in a fresh process per measurement (median of the "
           "repetitions, sides alternating), then `DagSerialization.to_dict` of the DAG. Ratio = ours / dag-factory "
           "(target: at most 0.50 at 100 and 500 objects).", "",
           "| objects | tasks | edges | same graph | ours parse (s) | dag-factory parse (s) | ratio | target | "
           "ours serialize (s) | dag-factory serialize (s) | wall ours / dag-factory (s) | peak RSS ours / dag-factory (MiB) | reps |",
           "|---:|---:|---:|:---:|---:|---:|---:|:---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        target = _verdict(r["ratio"] <= PARSE_TARGET) if r["objects"] >= 100 else "-"
        out.append(
            f"| {r['objects']} | {r['tasks']} | {r['edges']} | {'yes' if r['same_graph'] else 'NO'} | "
            f"{_f(r['ours_parse'], 3)} | {_f(r['dagfactory_parse'], 3)} | {_f(r['ratio'])} | {target} | "
            f"{_f(r['ours_serialize'], 3)} | {_f(r['dagfactory_serialize'], 3)} | "
            f"{_f(r['ours_parse_wall'], 2)}{'*' if r['ours_parse_wall'] > 30 else ''} / "
            f"{_f(r['dagfactory_parse_wall'], 2)}{'*' if r['dagfactory_parse_wall'] > 30 else ''} | "
            f"{_f(r['ours_rss_mib'], 0)} / {_f(r['dagfactory_rss_mib'], 0)} | {r['repetitions']} |")
    if any(r["ours_parse_wall"] > 30 or r["dagfactory_parse_wall"] > 30 for r in rows):
        out += ["", "\\* wall time above Airflow's default `dagbag_import_timeout` (30 s): with default settings that "
                "DAG file would fail to import on this machine at that load (the benchmark raises the timeout to measure)."]
    return [*out, ""]


def _ratio(base: dict[str, Any] | None, r: dict[str, Any] | None) -> float | None:
    """``base``'s onboarded time over ``r``'s (above 1: ``r`` is faster); None when either did not finish."""
    if not base or not r or not base["onboarded_seconds"] or not r["onboarded_seconds"]:
        return None
    return float(base["onboarded_seconds"]) / float(r["onboarded_seconds"])


def _by(rows: list[dict[str, Any]], method: str, n: int, latency: int) -> dict[str, Any] | None:
    for r in rows:
        if r["method"] == method and r["objects"] == n and r["latency_ms"] == latency:
            return r
    return None


def _scale_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Deployed rows: requests per object, the largest XCom, the largest task's peak memory, and how each grows
    from the smallest to the largest batched run at one latency."""
    deployed = [r for r in rows if _deployed(r["method"]) and r.get("requests") and r["objects"]]
    if not deployed:
        return []
    out = ["", "At scale (deployed rows): *requests per object* = HTTP requests / objects; *largest XCom* = the "
           "largest XCom value of the run (JSON bytes, read over REST); *largest task memory* = the highest peak RSS "
           "of one task process (VmHWM sampled every 0.5 s, `benchmarks/task_memory.py`; a lower bound).", "",
           "| latency | objects | method | onboarded (s) | requests per object | largest XCom | largest task memory |",
           "|---:|---:|---|---:|---:|---|---|"]
    for r in sorted(deployed, key=lambda r: (r["method"], r["latency_ms"], r["objects"])):
        e = r.get("extra", {})
        xcom, mem = e.get("largest_xcom") or {}, e.get("largest_task_memory") or {}
        xcom_text = f"{xcom['bytes'] / 1024:.1f} KiB (`{xcom['task_id']}` {xcom['key']})" if xcom else "n/a"
        mem_text = f"{mem['peak_mib']:.0f} MiB (`{mem['task_id']}`)" if mem else "n/a"
        out.append(f"| {r['latency_ms']} ms | {r['objects']} | {r['method']} | {_f(r['onboarded_seconds'])} | "
                   f"{r['requests'] / r['objects']:.1f} | {xcom_text} | {mem_text} |")
    growth: list[str] = []
    for method in sorted({r["method"] for r in deployed}):
        for lat in sorted({r["latency_ms"] for r in deployed}):
            mine = sorted((r for r in deployed if r["method"] == method and r["latency_ms"] == lat),
                          key=lambda r: r["objects"])
            if len(mine) < 2 or mine[0]["objects"] == mine[-1]["objects"]:
                continue
            a, b = mine[0], mine[-1]
            factor = b["objects"] / a["objects"]
            parts = []
            for label, get in (("onboarded time", lambda r: r["onboarded_seconds"]),
                               ("requests per object", lambda r: r["requests"] / r["objects"]),
                               ("largest XCom", lambda r: (r["extra"].get("largest_xcom") or {}).get("bytes")),
                               ("largest task memory",
                                lambda r: (r["extra"].get("largest_task_memory") or {}).get("peak_mib"))):
                x, y = get(a), get(b)
                if x and y:
                    parts.append(f"{label} x{y / x:.2f}")
            growth.append(f"- {method}, {lat} ms, {a['objects']} -> {b['objects']} objects (x{factor:g}): "
                          + (", ".join(parts) or "n/a"))
    return [*out, *(["", *growth] if growth else [])]


def onboard_section(rows: list[dict[str, Any]], notes: list[str]) -> list[str]:
    out = ["## 2. Onboarding against the emulator", "",
           "*Onboarded* = start of the work to the creation of the last dataflow (emulator clock, every method); "
           "*total* = until the method finished (our DAG also waits for each flow's first run and ingests its "
           "data interval). *vs aepp* = aepp's onboarded time / this method's (above 1: faster than aepp); "
           "*vs threaded* the same against the aepp script run by 8 threads, the batched tasks' concurrency. "
           "The aepp script always ran at full object count (no extrapolation).", "",
           "| latency | objects | method | onboarded (s) | total (s) | vs aepp | vs threaded | HTTP requests | "
           "IMS token requests | flows | state |",
           "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    latencies = sorted({r["latency_ms"] for r in rows})
    sizes = sorted({r["objects"] for r in rows})
    order = _method_order(rows)
    for lat in latencies:
        for n in sizes:
            aepp, threaded = _by(rows, "aepp sequential", n, lat), _by(rows, THREADED, n, lat)
            for method in order:
                r = _by(rows, method, n, lat)
                if r is None:
                    continue
                ratio = _ratio(aepp, r) if method != "aepp sequential" else None
                vs_threaded = _ratio(threaded, r) if method.startswith("ours") else None
                onboarded = _f(r["onboarded_seconds"])
                if r["onboarded_seconds"] is None and str(r.get("state", "")).startswith("unfinished"):
                    onboarded = f"> {str(r['state']).split('after ')[1].split(' ')[0]}"
                out.append(f"| {lat} ms | {n} | {method} | {onboarded} | {_f(r['total_seconds'])} | "
                           f"{_f(ratio)}{'x' if ratio else ''} | {_f(vs_threaded)}{'x' if vs_threaded else ''} | "
                           f"{_f(r['requests'])} | {_f(r['ims_token_requests'])} | "
                           f"{_f(r['flows'])} | {r['state'] or '-'} |")
    out.append("")
    out.append("Targets at 1 s latency (deployed DAG, onboarded time): ")
    for method in [m for m in order if _deployed(m)]:
        for n, baseline, need, label in SPEED_TARGETS_1S:
            r, base = _by(rows, method, n, 1000), _by(rows, baseline, n, 1000)
            ratio = _ratio(base, r)
            if r is None or base is None:
                continue
            ok = None if ratio is None else ratio >= need
            how = f" ({ratio:.2f}x)" if ratio is not None else " (not finished)"
            out.append(f"- {method}, {label}: {_verdict(ok)}{how}")
    out += _scale_lines(rows)
    over = [r for r in rows if _deployed(r["method"]) and r.get("extra", {}).get("tasks")]
    if over:
        out += ["", "Where the deployed DAG's time goes (per task instance, from the REST API): *ready to start* = "
                "task start minus the last end of its upstream tasks (scheduler loop, executor queue, worker pickup, "
                "task process start-up with its DAG-file parse); *duration* = start to end (the operator's calls "
                "and the rest of the process's work). *API share* = requests x latency / sum of durations: the share "
                "of task time spent waiting on the Platform when calls run one at a time; above 100 % the calls of a "
                "batched task overlapped (several in flight at once).", "",
                "| latency | objects | method | tasks | ready-to-start median (s) | ready-to-start sum (s) | "
                "duration median (s) | duration sum (s) | API share of durations | deployment CPU (s) | "
                "CPU per task (s) | aepp script CPU (s) |",
                "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in over:
            e = r["extra"]
            api = (r["requests"] or 0) * r["latency_ms"] / 1000.0
            share = api / e["duration_sum"] if e.get("duration_sum") else None
            aepp = _by(rows, "aepp sequential", r["objects"], r["latency_ms"])
            aepp_cpu = (aepp or {}).get("extra", {}).get("cpu_seconds")
            out.append(f"| {r['latency_ms']} ms | {r['objects']} | {r['method']} | {int(e['tasks'])} | "
                       f"{_f(e['ready_to_start_median'])} | {_f(e['ready_to_start_sum'], 0)} | "
                       f"{_f(e['duration_median'])} | {_f(e['duration_sum'], 0)} | "
                       f"{_f(share * 100 if share is not None else None, 0)}% | "
                       f"{_f(e.get('cpu_seconds'), 0)} | {_f(e.get('cpu_per_task'))} | {_f(aepp_cpu, 1)} |")
        comps = [r for r in over if r["extra"].get("cpu_by_component")]
        if comps:
            out += ["", "Deployment CPU seconds by component (task processes count with the process that reaped "
                    "them: the Celery worker, or the scheduler with LocalExecutor):", ""]
            for r in comps:
                parts = ", ".join(f"{k} {v:.0f}" for k, v in sorted(r["extra"]["cpu_by_component"].items(),
                                                                     key=lambda kv: -kv[1]))
                out.append(f"- {r['method']}, {r['objects']} objects, {r['latency_ms']} ms: {parts}")
    if notes:
        out += ["", "Notes:", *[f"- {n}" for n in notes]]
    return [*out, ""]


def requests_section(rows: list[dict[str, Any]]) -> list[str]:
    out = ["## 3. HTTP requests per onboarded object and IMS token requests per run", "",
           "Emulator counters (`GET /_emulator/state`) after each run at 0 ms latency, reset before each. "
           "*Per object* = the marginal cost of one more object, (requests(N2) - requests(N1)) / (N2 - N1). "
           "Like for like with the aepp script, ours onboards with `ingestion: aep` (the flow on AEP's own "
           "schedule, as the script creates it, no window run): *(onboarding tasks)* runs the tasks up to "
           "`dataflow` (the plan, the checks and the creates: the script's work), the whole DAG adds the wait for "
           "each flow's first run; the row "
           "*(ingestion: airflow, with the window run)* is the same objects with Airflow-driven windows, adding the "
           "first-run wait and one on-demand window run per object, which the script never makes. "
           "*second run, unchanged spec* is a re-run on what the first one created.", "",
           "| method | objects | HTTP requests | IMS token requests | per object (marginal) |",
           "|---|---:|---:|---:|---:|"]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    marginal: dict[str, dict[str, float]] = {}
    for m in methods:
        mine = sorted((r for r in rows if r["method"] == m and r["requests"] is not None), key=lambda r: r["objects"])
        per = None
        if len(mine) >= 2:
            a, b = mine[0], mine[-1]
            per = (b["requests"] - a["requests"]) / (b["objects"] - a["objects"])
            ba, bb = a["extra"].get("breakdown") or {}, b["extra"].get("breakdown") or {}
            marginal[m] = {k: (bb.get(k, 0) - ba.get(k, 0)) / (b["objects"] - a["objects"])
                           for k in sorted(set(ba) | set(bb))}
        for r in mine:
            out.append(f"| {m} | {r['objects']} | {r['requests']} | {r['ims_token_requests']} | "
                       f"{_f(per, 1) if r is mine[-1] else ''} |")
    if marginal:
        keys = sorted({k for v in marginal.values() for k in v if any(abs(x.get(k, 0)) > 0 for x in marginal.values())})
        cols = list(marginal)
        out += ["", "Marginal requests per object by endpoint:", "",
                "| endpoint | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
        for k in sorted(keys, key=lambda k: -max(marginal[c].get(k, 0) for c in cols)):
            out.append(f"| `{k}` | " + " | ".join(_f(marginal[c].get(k, 0.0), 1) for c in cols) + " |")
    return [*out, ""]


def memory_section(rows: list[dict[str, Any]]) -> list[str]:
    out = ["## 4. Peak memory of one task", "", "| what | peak (MiB) | measured as |", "|---|---:|---|"]
    out += [f"| {r['what']} | {_f(r['peak_mib'], 2)} | {r['kind']} |" for r in rows]
    return [*out, ""]


def _backfill_pair(rows: list[dict[str, Any]], case: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the row at max_active_runs N, the row at 1) of a backfill case."""
    mine = [r for r in rows if r["case"] == case]
    at_n = next((r for r in mine if r["max_active_runs"] > 1), None)
    at_1 = next((r for r in mine if r["max_active_runs"] == 1), None)
    return at_n, at_1


def _backfill_ratio(at_n: dict[str, Any] | None, at_1: dict[str, Any] | None) -> float | None:
    """Time at 1 over time at N (above 1: running the windows at once pays)."""
    if not at_n or not at_1 or not at_n["seconds"] or not at_1["seconds"]:
        return None
    return float(at_1["seconds"]) / float(at_n["seconds"])


def backfill_section(rows: list[dict[str, Any]], notes: list[str]) -> list[str]:
    first = rows[0] if rows else {}
    out = ["## 5. Backfill: N daily windows at once vs one at a time", "",
           f"A backfill (`POST /api/v2/backfills`) of {first.get('windows')} days x {first.get('objects')} objects "
           f"(`ingestion: airflow`, `layout: {first.get('layout')}`) on the deployment (CeleryExecutor) at "
           f"{first.get('latency_ms')} ms per Platform call: *first time* on an empty sandbox, *onboarded* = the "
           "next days right after, on what the first backfill created. *Wall* = the backfill's `completed_at` - "
           "`created_at`; *resources* = what the sandbox holds afterwards (every kind, flow runs left out), "
           "*duplicates* = names held more than once; requests = Platform and IMS requests the backfill made. "
           "*Ratio* = wall at max_active_runs 1 / wall at N (above 1: running the windows at once pays).", "",
           "| case | days | max_active_runs | wall (s) | runs succeeded | resources | duplicates | HTTP requests | "
           "IMS token requests | HubSpot rows of the days | ratio 1 / N |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for case in ("first time", "onboarded"):
        at_n, at_1 = _backfill_pair(rows, case)
        ratio = _backfill_ratio(at_n, at_1)
        for r in (at_n, at_1):
            if r is None:
                continue
            wall = _f(r["seconds"], 1) if r["state"] == "completed" else f"{_f(r['seconds'], 1)} ({r['state']})"
            dups = ", ".join(f"{k} x{v}" for k, v in r["duplicates"].items()) or "0"
            out.append(f"| {case} | {r['days']} | {r['max_active_runs']} | {wall} | {r['runs_succeeded']} / "
                       f"{r['windows']} | {r['resources']} | {dups} | {_f(r['requests'])} | "
                       f"{_f(r['ims_token_requests'])} | {r['hubspot_rows']} | "
                       f"{_f(ratio) + 'x' if ratio and r is at_1 else ''} |")
    timed = [r for r in rows if r.get("extra")]
    if timed:
        out += ["", "Where the time goes (task instances of the backfill's runs, REST): *task time* = their summed "
                "durations; *longest plan* = the longest `plan` task (a plan that found the write lease held waits "
                "in it, deferred, until the holder gives it back); *window steps* = the summed `ingest_window` "
                "durations, which run one at a time per DAG (`max_active_tis_per_dag=1`); *deployment CPU* = CPU "
                "seconds of every deployment process during the backfill (2 CPUs: at most 2 x wall).", "",
                "| case | max_active_runs | wall (s) | task instances | task time (s) | longest plan (s) | "
                "window steps (s) | deployment CPU (s) | load average after |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in timed:
            e = r["extra"]
            out.append(f"| {r['case']} | {r['max_active_runs']} | {_f(r['seconds'], 1)} | {int(e['task_instances'])} | "
                       f"{_f(e['task_seconds'], 0)} | {_f(e['plan_longest'], 1)} | {_f(e['ingest_window_seconds'], 1)} | "
                       f"{_f(e['deployment_cpu_seconds'], 0)} | {_f(e['load_after'], 1)} |")
    if notes:
        out += ["", "Notes:", *[f"- {n}" for n in notes]]
    return [*out, ""]


README_HEADING = "## The README's table"


def readme_table(data: dict[str, Any]) -> list[str]:
    """The few headline rows the README shows, verbatim: from whatever sections results.json holds."""
    meta = data.get("meta", {})

    def day(section: str) -> str:
        return str(meta.get(section, {}).get("when", "?"))[:10]

    out = ["| `make bench` (date measured) | ours | reference | ratio |", "|---|---:|---:|---:|"]
    parse = next((r for r in data.get("parse") or [] if r["objects"] == 100), None)
    if parse:
        out.append(f"| DAG-file parse, 100 objects, CPU s ({day('parse')}) | {_f(parse['ours_parse'])} | "
                   f"dag-factory {_f(parse['dagfactory_parse'])} | {_f(parse['ratio'])} |")
    onboard = data.get("onboard") or []
    # Each size against the baseline of its speed target (issue 24): one object against the script, more against
    # the script run by as many threads as the batched tasks have calls in flight.
    for n, latency, baseline, label in ((1, 1000, "aepp sequential", "aepp script"),
                                        (10, 1000, "aepp threaded (8)", "aepp, 8 threads"),
                                        (50, 1000, "aepp threaded (8)", "aepp, 8 threads"),
                                        (500, 100, "aepp threaded (8)", "aepp, 8 threads")):
        ours, aepp = _by(onboard, "ours CeleryExecutor, batched", n, latency), _by(onboard, baseline, n, latency)
        ratio = _ratio(aepp, ours)
        if ours and aepp and ratio:
            per_call = "1 s" if latency == 1000 else f"{latency} ms"
            out.append(f"| onboard {n} object{'s' if n > 1 else ''} at {per_call} per call, s ({day('onboard')}) | "
                       f"{_f(ours['onboarded_seconds'], 1)} | {label} {_f(aepp['onboarded_seconds'], 1)} | "
                       f"{_f(ratio)}x{' faster' if ratio >= 1 else ''} |")
    for case in ("first time", "onboarded"):
        at_n, at_1 = _backfill_pair(data.get("backfill") or [], case)
        if at_n and at_1:
            ratio = _backfill_ratio(at_n, at_1)
            sandbox = "empty" if case == "first time" else "onboarded"
            out.append(f"| backfill {at_n['windows']} days x {at_n['objects']} objects, {sandbox} sandbox, s "
                       f"({day('backfill')}) | {at_n['max_active_runs']} at once {_f(at_n['seconds'], 1)} | one at a "
                       f"time {_f(at_1['seconds'], 1)} | {_f(ratio)}x faster |")
    return out


def emulator_section(rows: list[dict[str, Any]]) -> list[str]:
    from benchmarks.emulator_scale import TARGET_RATIO

    out = ["## 6. The emulator's cost per request against what it holds", "",
           "`benchmarks/emulator_scale.py`: one process, the emulator app driven in-process, a fixed mix of nine "
           "Platform calls (flow read, a flow's runs, run read, dataset read, flow / source connection / dataset "
           "look-ups by name, a flow enabled, a dataset created) against random objects, with the emulator holding "
           "*resources* (per object a dataset, two connections, a flow and its ended run with its records). "
           f"Ratio = the rate over the rate at the smallest size (target: at least {TARGET_RATIO} at the largest).",
           "", "| resources | runs | records | state file (MiB) | requests/s with --state | ratio | "
           "requests/s in memory | ratio | target |", "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    largest = max(r["resources"] for r in rows)
    for r in rows:
        target = "-"
        if r["resources"] == largest and len(rows) > 1:
            target = _verdict(min(r["ratio_state"], r["ratio_memory"]) >= TARGET_RATIO)
        out.append(f"| {r['resources']} | {r['runs']} | {r['records']} | {_f(r['state_file_mib'], 1)} | "
                   f"{_f(r['rate_state'], 0)} | {_f(r['ratio_state'])} | {_f(r['rate_memory'], 0)} | "
                   f"{_f(r['ratio_memory'])} | {target} |")
    return [*out, ""]


def markdown(data: dict[str, Any]) -> str:
    meta = data.get("meta", {})
    out = ["# Benchmarks", "", "Written by `make bench` (`python -m benchmarks.run`). Each section below says when it "
           "was measured; a section without its own environment was measured in: "
           f"{meta.get('environment', 'n/a')}", ""]
    for key, title in (("parse", "parse"), ("onboard", "onboard"), ("requests", "requests"), ("memory", "memory"),
                       ("backfill", "backfill"), ("emulator", "emulator")):
        info = meta.get(key)
        if info:
            load = ""
            if "load_before" in info:
                load = f", load average {info['load_before']:.1f} before / {info['load_after']:.1f} after"
            env = f"; {info['environment']}" if info.get("environment") else ""
            out.append(f"- {title}: measured {info['when']} ({info['mode']}, {info['seconds']:.0f} s{load}){env}")
    out.append("")
    out += [README_HEADING, "", "README.md's benchmark table is this one, copied verbatim "
            "(tests/docs/test_readme.py checks it):", "", *readme_table(data), ""]
    if data.get("parse"):
        out += parse_section(data["parse"])
    if data.get("onboard"):
        out += onboard_section(data["onboard"], data.get("onboard_notes", []))
    if data.get("requests"):
        out += requests_section(data["requests"])
    if data.get("memory"):
        out += memory_section(data["memory"])
    if data.get("backfill"):
        out += backfill_section(data["backfill"], data.get("backfill_notes", []))
    if data.get("emulator"):
        out += emulator_section(data["emulator"])
    return "\n".join(out) + "\n"
