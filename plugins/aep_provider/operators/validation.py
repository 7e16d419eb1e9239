"""Turning pydantic validation errors into one actionable sentence."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from aep_provider.hooks.errors import AepConfigError

T = TypeVar("T")


def build_model(what: str, factory: Callable[[], T]) -> T:
    try:
        return factory()
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            parts.append(f"{loc}: {msg}" if loc else msg)
        raise AepConfigError(f"Invalid {what}: " + "; ".join(parts)) from None
    except ValueError as exc:
        raise AepConfigError(f"Invalid {what}: {exc}") from None
