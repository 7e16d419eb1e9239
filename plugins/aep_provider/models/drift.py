"""How an existing dataflow or mapping set differs from the wanted one, one ``field: have -> want`` line each.

The onboarding's plan lists these differences before any write; the dataflow operator warns with them when it
reuses a flow without a plan; ``on_drift: update`` patches exactly these fields. One reading of a flow for all.
"""

from __future__ import annotations

from typing import Any

from aep_provider.models.data_prep import mapping_key

#: The schedule keys compared (``startTime`` is not: ``now`` is another time on every run).
SCHEDULE_KEYS = ("frequency", "interval", "backfill")


def same(have: Any, want: Any) -> bool:
    """Equal as the API writes them (``15`` and ``"15"``, ``true`` and ``True``)."""
    return str(have).lower() == str(want).lower()


def transformation(flow: dict[str, Any], name: str) -> dict[str, Any]:
    """The ``params`` of the flow's ``Copy`` or ``Mapping`` transformation (``{}`` when it has none)."""
    return next((t.get("params") or {} for t in flow.get("transformations") or [] if t.get("name") == name), {})


def flow_delta(flow: dict[str, Any]) -> dict[str, Any] | None:
    """The flow's Copy ``deltaColumn`` object as the flow holds it (name, and ``dateFormat``/``timezone`` when it has
    them); ``None`` when it names none. After a run, AEP's source of truth (on-demand-ingestion.md)."""
    delta = transformation(flow, "Copy").get("deltaColumn")
    return dict(delta) if isinstance(delta, dict) and delta.get("name") else None


def delta_column(flow: dict[str, Any]) -> str | None:
    """The name of the flow's Copy ``deltaColumn`` (:func:`flow_delta`)."""
    held = flow_delta(flow)
    return str(held["name"]) if held else None


def schedule_diffs(flow: dict[str, Any], schedule: dict[str, Any]) -> list[str]:
    """Every compared key the flow has otherwise, lacks or has beyond the wanted ``scheduleParams`` (``interval``
    and ``backfill`` going when a flow moves to ``once``): each is one ``add``, ``replace`` or ``remove``."""
    have = flow.get("scheduleParams") or {}
    return [
        f"schedule.{key}: {have.get(key)} -> {schedule.get(key)}"
        for key in SCHEDULE_KEYS
        if (have.get(key) is not None or schedule.get(key) is not None) and not same(have.get(key), schedule.get(key))
    ]


def _percent(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def option_diffs(flow: dict[str, Any], options: dict[str, Any] | None) -> list[str]:
    """The flow's ``options`` against the wanted ones (CRMToAEP ``optionSpec``; partial.md), each difference saying
    what the flow's runs do until it is applied. ``partialIngestionPercent`` is always the caller's to decide (none:
    AEP tolerates no failed record); ``errorDiagnosticsEnabled`` only when the wanted options set it."""
    have, want = flow.get("options") or {}, options or {}
    diffs = []
    h, w = have.get("partialIngestionPercent"), want.get("partialIngestionPercent")
    if (h is not None or w is not None) and _percent(h) != _percent(w):
        now = (f"AEP fails a run above {h}% failed records" if h is not None
               else "AEP fails every run with a failed record and writes none of its records")
        diffs.append(f"options.partialIngestionPercent: {h} -> {w} (until this is applied, {now})")
    if "errorDiagnosticsEnabled" in want and not same(have.get("errorDiagnosticsEnabled", False),
                                                        want["errorDiagnosticsEnabled"]):
        diffs.append(f"options.errorDiagnosticsEnabled: {have.get('errorDiagnosticsEnabled')} -> "
                     f"{want['errorDiagnosticsEnabled']}")
    return diffs


def flow_settings_diffs(
    flow: dict[str, Any], schedule: dict[str, Any], options: dict[str, Any] | None, wanted_delta: str | None
) -> list[str]:
    """A flow's schedule, options, delta column and state against the wanted ones (the flow's links to its
    connections and mapping set are the caller's to compare)."""
    have_delta = delta_column(flow)
    return [
        *schedule_diffs(flow, schedule),
        *option_diffs(flow, options),
        *([f"delta column: {have_delta} -> {wanted_delta}"]
          if have_delta is not None and wanted_delta is not None and have_delta != wanted_delta else []),
        *([f"state: {flow.get('state')} -> enabled"] if str(flow.get("state") or "enabled").lower() == "disabled"
          else []),
    ]


def mapping_version_diff(flow: dict[str, Any], mapping_set: dict[str, Any] | None) -> str | None:
    """The flow names another version of its mapping set than the set's current one, e.g. after a run that made
    the new version failed before patching the flow (update-dataflows.md, "Update mapping": the flow's
    ``mappingId`` and ``mappingVersion``)."""
    have = transformation(flow, "Mapping")
    if mapping_set is None or str(have.get("mappingId")) != str(mapping_set.get("id")):
        return None
    version = mapping_set.get("version")
    if version is None or str(have.get("mappingVersion")) == str(version):
        return None
    return f"mapping version: {have.get('mappingVersion')} -> {version}"


def mapping_changes(have: list[dict[str, Any]], want: list[dict[str, Any]]) -> list[str]:
    """``["+ source -> destination", "- source -> destination"]``: the rules added and removed."""
    old, new = set(mapping_key(have)), set(mapping_key(want))

    def text(rule: tuple[str, str, bool, str | None]) -> str:
        return f"{rule[0]} -> {rule[1]}" + (" (identity)" if rule[2] else "")

    return [f"- {text(r)}" for r in sorted(old - new)] + [f"+ {text(r)}" for r in sorted(new - old)]
