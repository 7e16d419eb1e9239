"""Schedules mean what was written: five-field crons (or presets) only, run in UTC, and the DAG page says so."""

from __future__ import annotations

import pytest
from minimal_spec import VALID

from aep_onboarding.cron import TIMEZONE, check_schedule
from aep_onboarding.factory import build_onboarding_dag
from aep_onboarding.loader import parse_spec


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("0 0 3 * * *", "`0 3 * * *`"),  # Quartz: daily at 03:00 (Airflow: every second of 00:00 on the 3rd)
        ("0 15 10 ? * *", "`15 10 * * *`"),
        ("0 0 12 ? * 1,7", "`0 12 * * 0,6`"),  # Quartz Sunday=1..Saturday=7, cron Sunday=0
        ("0 3 * * * 0", "`0 3 * * *`"),  # five fields plus croniter's seconds: drop them
        ("0 0 12 1 1 ? 2027", None),  # a year that is not `*`: no five-field equivalent
        ("30 0 3 * * *", None),  # a seconds field that is not 0: Airflow schedules to the minute at finest
    ],
)
def test_six_and_seven_field_crons_are_refused_with_their_five_field_equivalent(written: str, meant: str | None) -> None:
    with pytest.raises(ValueError) as caught:
        check_schedule(written)
    message = str(caught.value)
    assert "fields; Airflow's cron takes five" in message
    if meant:
        assert f"write the five-field equivalent {meant}" in message
    else:
        assert "Airflow schedules to the minute at finest" in message


@pytest.mark.parametrize("schedule", ["@daily", "@quarterly", "0 3 * * *", "0 0 29 2 *", "0 0 L * *", "*/15 * * * 1-5"])
def test_five_field_crons_and_presets_that_fire_are_kept(schedule: str) -> None:
    assert check_schedule(schedule) == schedule


def test_schedules_run_in_utc_and_the_dag_page_says_so() -> None:
    """A user reading `0 3 * * *` must know which 03:00: the timetable is UTC and the DAG docs say it."""
    dag = build_onboarding_dag(parse_spec(VALID + "schedule: '0 3 * * *'\n"))
    assert TIMEZONE == "UTC"
    assert str(dag.timetable.timezone) == "UTC"
    assert "**Schedule:** `0 3 * * *`, in UTC" in dag.doc_md and "`0 3 * * *` runs at 03:00 UTC" in dag.doc_md
    assert dag.start_date is not None and dag.start_date.utcoffset().total_seconds() == 0
