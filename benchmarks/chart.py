"""The PNG chart of a benchmark run (matplotlib, Agg backend; the markdown tables: ``benchmarks/report.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import report


def chart(data: dict[str, Any], path: Path) -> Path | None:
    """The PNG chart; None (the old chart kept) without matplotlib (bench extra), e.g. a backfill-only run from .venv."""
    try:
        import matplotlib
    except ImportError:
        return None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))
    ax = axes[0]
    parse = data.get("parse") or []
    if parse:
        xs = [r["objects"] for r in parse]
        ax.plot(xs, [r["ours_parse"] for r in parse], "o-", label="our factory")
        ax.plot(xs, [r["dagfactory_parse"] for r in parse], "s-", label="dag-factory")
        ax.set_xscale("log")
        ax.set_yscale("log")
        for r in parse:
            ax.annotate(f"{r['ratio']:.2f}x", (r["objects"], r["ours_parse"]), textcoords="offset points",
                        xytext=(0, -14), ha="center", fontsize=8)
    ax.set_title("1. DAG-file parse (CPU s, fresh process)")
    ax.set_xlabel("objects")
    ax.set_ylabel("seconds")
    ax.legend()

    ax = axes[1]
    onboard = data.get("onboard") or []
    methods = [m for m in report._method_order(onboard) if any(r["method"] == m and r["onboarded_seconds"] for r in onboard)]
    combos = sorted({(r["latency_ms"], r["objects"]) for r in onboard})
    width = 0.8 / max(1, len(methods))
    for i, m in enumerate(methods):
        vals = []
        for lat, n in combos:
            r = report._by(onboard, m, n, lat)
            vals.append(r["onboarded_seconds"] if r and r["onboarded_seconds"] else 0.0)
        ax.bar([c + i * width for c in range(len(combos))], vals, width, label=m)
    ax.set_xticks([c + width * (len(methods) - 1) / 2 for c in range(len(combos))])
    ax.set_xticklabels([f"{n} obj\n{lat} ms" for lat, n in combos], fontsize=8)
    ax.set_yscale("log")
    ax.set_title("2. Time to onboarded (s)")
    ax.legend(fontsize=8)

    ax = axes[2]
    reqs = data.get("requests") or []
    ms = list(dict.fromkeys(r["method"] for r in reqs))
    per = []
    tokens = []
    for m in ms:
        mine = sorted((r for r in reqs if r["method"] == m and r["requests"] is not None), key=lambda r: r["objects"])
        if len(mine) >= 2:
            per.append((mine[-1]["requests"] - mine[0]["requests"]) / (mine[-1]["objects"] - mine[0]["objects"]))
        else:
            per.append(0.0)
        tokens.append(mine[-1]["ims_token_requests"] if mine else 0)
    if ms:
        positions = list(range(len(ms)))
        ax.bar([x - 0.2 for x in positions], per, 0.4, label="HTTP requests per object")
        ax.bar([x + 0.2 for x in positions], tokens, 0.4, label="IMS token requests per run")
        ax.set_xticks(positions)
        ax.set_xticklabels(ms, fontsize=8, rotation=10)
        ax.legend(fontsize=8)
    ax.set_title("3. Requests")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
