"""What every spec model shares: unknown keys refused, values are data (never Jinja templates), slugs.

Spec strings become operator arguments, which Airflow renders with Jinja; a spec value holding a template
opener would be rendered (``{{ conn.aep_default.password }}`` in a name would copy the client secret into
AEP), so every string is checked here.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

SLUG_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
SLUG_RULE = "must be lower-case letters, digits and underscores, starting with a letter"


def check_slug(value: str) -> str:
    if not SLUG_PATTERN.fullmatch(value):
        raise ValueError(f"`{value}` {SLUG_RULE}")
    return value


# Jinja's statement, expression and comment openers (Airflow's template environment keeps the defaults).
JINJA_MARKERS = ("{{", "{%", "{#")


def jinja_marker(value: Any) -> str | None:
    """The first Jinja opener in a string, or in the strings (and keys) of a list, tuple or dict."""
    if isinstance(value, str):
        return next((marker for marker in JINJA_MARKERS if marker in value), None)
    if isinstance(value, dict):
        return next((m for item in value.items() for m in map(jinja_marker, item) if m), None)
    if isinstance(value, (list, tuple)):
        return next((m for m in map(jinja_marker, value) if m), None)
    return None


def templated_fields(value: Any, path: str = "") -> list[str]:
    """Field paths of a spec (or its ``model_dump()``) whose text holds a Jinja opener."""
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    if isinstance(value, dict):
        found: list[str] = []
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += [where] if jinja_marker(key) else templated_fields(item, where)
        return found
    if isinstance(value, (list, tuple)):
        return [p for index, item in enumerate(value) for p in templated_fields(item, f"{path}[{index}]")]
    return [path] if jinja_marker(value) else []


class Strict(BaseModel):
    """A spec model: unknown keys are errors, numbers are finite (``.inf`` would overflow Airflow's timedeltas),
    and no string holds a Jinja opener."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _data_not_template(cls, value: Any, info: ValidationInfo) -> Any:
        """Spec strings become operator arguments, which Airflow renders with Jinja: refuse template syntax.

        Otherwise ``names: {dataset: "{{ conn.aep_default.password }}"}`` would copy the client secret
        into an AEP resource name.
        """
        marker = jinja_marker(value)
        if marker:
            raise ValueError(
                f"`{marker}` starts a Jinja template, and spec values are data, never templates: remove "
                f"`{marker}` from {info.field_name} (names, titles, mappings and columns are used as written)"
            )
        return value
