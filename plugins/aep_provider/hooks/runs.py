"""Choosing and judging flow runs - shared by the sensor (poke) and the trigger."""

from __future__ import annotations

from typing import Any, Literal

from aep_provider.models.flow_service import RunSummary

TERMINAL = frozenset({"success", "partialSuccess", "failed", "cancelled", "canceled"})
Which = Literal["latest", "first"]


def run_created(run: dict[str, Any]) -> float:
    value = (
        run.get("createdAt")
        or ((run.get("metrics") or {}).get("durationSummary") or {}).get("startedAtUTC")
        or 0
    )
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def pick_run(runs: list[dict[str, Any]], which: Which) -> dict[str, Any] | None:
    if not runs:
        return None
    ordered = sorted(runs, key=run_created)
    return ordered[-1] if which == "latest" else ordered[0]


def is_terminal(summary: RunSummary) -> bool:
    return summary.status in TERMINAL


def verdict(summary: RunSummary, failed_record_tolerance: float) -> tuple[bool, str]:
    """``(ok, sentence)`` for a terminal run."""
    if summary.status == "success":
        return True, f"Run {summary.id} succeeded: {summary.output_records} records written."
    if summary.status == "partialSuccess":
        total = summary.input_records or (summary.output_records + summary.failed_records)
        ratio = (summary.failed_records / total) if total else 0.0
        text = (
            f"Run {summary.id} partially succeeded: {summary.failed_records} of {total} records failed "
            f"({ratio:.1%}; tolerance {failed_record_tolerance:.1%})"
        )
        if ratio <= failed_record_tolerance:
            return True, text + "."
        return (
            False,
            text + f"; errors: {error_codes(summary)}. Raise failed_record_tolerance or fix the data.",
        )
    return False, f"Run {summary.id} {summary.status}: {error_codes(summary)}."


def error_codes(summary: RunSummary) -> str:
    if not summary.errors:
        return "no error detail given"
    return "; ".join(f"{e.get('code', '?')}: {e.get('message', '')}".strip() for e in summary.errors)
