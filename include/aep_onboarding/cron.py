"""The spec's ``schedule``: a cron expression or preset that means to Airflow what it says to the reader.

Airflow reads a cron expression with croniter, which takes five fields (minute hour day-of-month month
day-of-week) and reads a sixth as SECONDS at the end and a seventh as a year. Quartz, Spring and many other
schedulers write six or seven fields with the seconds FIRST: ``0 0 3 * * *`` is "daily at 03:00" there and
"every second of 00:00 on the 3rd of the month" to Airflow (with ``ingestion: airflow``, every one-second
window would become an AEP run). So only five fields are accepted; a six- or seven-field expression is refused
with its five-field equivalent. A cron that matches no date at all (``0 0 30 2 *``) is refused too.

Every schedule runs in UTC (:data:`TIMEZONE`): ``0 3 * * *`` is 03:00 UTC, and ``start_date`` is midnight UTC.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

#: The timezone of every onboarding DAG's schedule and start date (README, "Spec reference").
TIMEZONE = "UTC"
CRON_PRESETS = ("@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "@once", "@continuous")
#: Presets without data intervals: the DAG has no cron timetable.
NO_INTERVALS = ("@once", "@continuous")
FIELDS = "minute hour day-of-month month day-of-week"
# Quartz numbers the days of the week 1-7 from Sunday; cron 0-6 from Sunday.
_QUARTZ_DAYS = re.compile(r"^[1-7](-[1-7])?(,[1-7](-[1-7])?)*$")


def _shifted_days(field: str) -> str | None:
    """A Quartz day-of-week field in cron's numbering; ``None`` when it cannot be said exactly."""
    if any(ch.isdigit() for ch in field):
        if not _QUARTZ_DAYS.match(field):
            return None
        return re.sub(r"[1-7]", lambda m: str(int(m.group()) - 1), field)
    return "*" if field == "?" else field


def _five_field_equivalents(fields: list[str]) -> list[str]:
    """What the user most likely meant, as five fields: the Quartz reading (seconds first), then croniter's."""
    from croniter import croniter

    found: list[str] = []
    seconds, minute, hour, dom, month, dow = fields[:6]
    days = _shifted_days(dow)
    year_ok = len(fields) == 6 or fields[6] in ("*", "?")
    if seconds in ("0", "00") and days is not None and year_ok:
        found.append(" ".join([minute, hour, "*" if dom == "?" else dom, month, days]))
    if len(fields) == 6 and fields[5] in ("0", "00"):
        found.append(" ".join(fields[:5]))
    return [f for f in dict.fromkeys(found) if croniter.is_valid(f)]


def _refuse_seconds(value: str, fields: list[str]) -> str:
    equivalents = _five_field_equivalents(fields)
    what = (
        f"`{value}` has {len(fields)} fields; Airflow's cron takes five ({FIELDS}) and would read the sixth "
        "as seconds" + (" and the seventh as a year" if len(fields) == 7 else "")
        + " - not what Quartz-style six- or seven-field crons (seconds first) mean"
    )
    if not equivalents:
        return (
            f"{what}; write five fields ({FIELDS}): Airflow schedules to the minute at finest, "
            "e.g. `0 3 * * *` for daily at 03:00 UTC"
        )
    meant = " or ".join(f"`{e}`" for e in equivalents)
    return f"{what}; write the five-field equivalent {meant} ({FIELDS}, UTC)"


def _never_fires(value: str) -> bool:
    """No date matches: croniter gives up after searching decades (a date that exists matches within four
    years, 29 February included), so the day it starts from does not matter."""
    from croniter import CroniterBadDateError, croniter

    try:
        croniter(value, datetime(2025, 1, 1, tzinfo=timezone.utc)).get_next(datetime)
    except CroniterBadDateError:
        return True
    return False


def check_schedule(value: str | None) -> str | None:
    """``value`` when it is a preset or a five-field cron that fires; else :class:`ValueError` with the fix."""
    if value is None or value in CRON_PRESETS:
        return value
    from croniter import croniter

    fields = value.split()
    if len(fields) in (6, 7):
        raise ValueError(_refuse_seconds(value, fields))
    if len(fields) != 5 or not croniter.is_valid(value):
        presets = ", ".join(CRON_PRESETS)
        raise ValueError(
            f"`{value}` is not a cron expression of five fields ({FIELDS}); write e.g. `0 3 * * *` "
            f"or one of {presets}"
        )
    if _never_fires(value):
        raise ValueError(
            f"`{value}` never fires (no date matches every field, e.g. 30 February or 31 April): the DAG would "
            "never run; correct the day-of-month or month (e.g. `0 0 L 2 *` for the last day of February)"
        )
    return value
