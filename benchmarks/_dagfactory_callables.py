"""The two TaskFlow callables of the onboarding DAG, importable by dag-factory (which needs plain functions).

Same logic as ``aep_onboarding.factory.select_objects`` / ``selected``; only
used by the dag-factory side of the parse benchmark.
"""

from __future__ import annotations

from typing import Any


def select_objects(available: list[dict[str, str]], **context: Any) -> list[str]:
    wanted = list(context["params"].get("objects") or [])
    if not wanted:
        return [item["slug"] for item in available]
    by_key = {key: item["slug"] for item in available for key in (item["slug"], item["source"])}
    unknown = [name for name in wanted if name not in by_key]
    if unknown:
        raise ValueError(f"param `objects` names {unknown}, which this DAG does not onboard")
    return sorted({by_key[name] for name in wanted})


def selected(slug: str, chosen: list[str] | str) -> bool:
    """``chosen`` arrives as the rendered text of a list (Jinja), or as a list."""
    if isinstance(chosen, str):
        import ast

        chosen = list(ast.literal_eval(chosen))
    return slug in chosen
