"""Turning the many ways people write a time into epoch seconds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum


def to_epoch_seconds(value: Any, *, field: str) -> int:
    """ISO string, epoch seconds (int/float/str), ``datetime`` or ``"now"`` -> epoch seconds.

    Epoch values above 10^11 are taken as milliseconds (e.g. Platform ``createdAt``).
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(
            f"{field} must be a time (ISO 8601 string, epoch seconds or datetime), got {value!r}"
        )
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return int(value.timestamp())
    if isinstance(value, dt.date):
        return int(pendulum.datetime(value.year, value.month, value.day, tz="UTC").timestamp())
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if text.lower() == "now":
            return int(pendulum.now("UTC").timestamp())
        try:
            number = float(text)
        except ValueError:
            try:
                parsed = pendulum.parse(text, tz="UTC")
            except Exception:
                raise ValueError(
                    f"{field}={value!r} is not a time: use an ISO 8601 string such as "
                    "'2026-01-01T00:00:00Z', epoch seconds, a datetime or 'now'"
                ) from None
            if not isinstance(parsed, dt.datetime):
                if isinstance(parsed, dt.date):
                    return to_epoch_seconds(parsed, field=field)
                raise ValueError(f"{field}={value!r} is not a point in time") from None
            return int(parsed.timestamp())
    if number > 1e11:
        number /= 1000.0
    return int(number)
