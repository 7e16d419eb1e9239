"""Chaos suite: onboarding and a window backfill finish through retries alone under seeded faults.

The emulator injects transient faults on about 15 % of the Platform and IMS requests (500, 502,
503, 429 with ``Retry-After: 1`` and dropped connections, about 3 % each), applies-then-drops 5 %
of the POSTs (the write is committed, the answer is lost), and issues tokens that live 2 s. Every
DAG run must still end in ``success``; afterwards the emulator holds exactly one of each resource
per object and the datasets hold exactly the source rows, every mapped value compared (the mappings
cannot fail a type conversion: ids and string columns only). Each fault rule fired exactly as the seed
and the recorded request sequence make it and within binomial bounds (probability 1 - 1e-6) of its
configured rate; tokens were replaced (several received by the hook) and, on the large runs, refused
in flight (401013) and replaced.

The hook's retry rules are the real ones (6 retries, exponential backoff with jitter, Retry-After
honoured) with shorter backoff steps (50 ms doubling, capped at 1 s) so the suite stays fast on a
shared machine; a 429's ``Retry-After: 1`` is still waited out in full. Airflow task retries are
short too (``retry_delay_seconds: 0.5``), so a task retry, if one is needed, costs about a second.
Every wait the hook makes is recorded: none may exceed 1 s.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from chaos_harness import (
    HUBSPOT_CONN,
    SEED,
    TOKEN_TTL_SECONDS,
    DrawLog,
    RetryCounter,
    assert_fault_rates,
    assert_faults_were_survived,
    assert_one_of_each,
    assert_records_are_the_mapped_rows,
    assert_tokens_refreshed,
    chaos_report,
    fault_hits,
    fault_rules,
    source_rows,
    spec_yaml,
    task_tries,
    twenty_objects,
    write_spec,
)

from aep_emulator.testing import EmulatorServer

pytestmark = pytest.mark.chaos

@pytest.fixture
def chaos(airflow_db, aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path):
    from aep_provider.hooks.token_cache import clear_memory_cache

    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT_DEFAULT", json.dumps(HUBSPOT_CONN))
    monkeypatch.setenv("AEP_TOKEN_CACHE_DIR", str(tmp_path / "token-cache"))
    monkeypatch.setenv("AEP_SPECS_DIR", str(tmp_path / "specs"))
    (tmp_path / "specs").mkdir()
    clear_memory_cache()
    counter = RetryCounter(monkeypatch)
    counter.draw_log = DrawLog(aep_conn_env, monkeypatch)
    aep_conn_env.admin.configure(token_ttl_seconds=TOKEN_TTL_SECONDS)
    yield aep_conn_env, counter, tmp_path / "specs"
    aep_conn_env.admin.clear_faults()
    clear_memory_cache()


@pytest.mark.parametrize("layout", ["per_object", "batched"])
def test_onboarding_twenty_objects_survives_faults_and_token_expiry(chaos, layout: str) -> None:
    """Both layouts: with 8 calls in flight per batched task, faults, commit-then-drop and token expiry
    still end in success through retries alone, one resource per object and exactly the source rows."""
    from aep_onboarding.factory import build_onboarding_dag
    from aep_onboarding.names import object_names

    emulator, counter, specs = chaos
    objects = twenty_objects()
    name = f"chaos_onboarding_{layout}"
    spec = write_spec(specs, name, spec_yaml(name, objects, f"layout: {layout}\n"))
    assert len(spec.objects) == 20 and len({o.table for o in spec.objects}) == 7
    dag = build_onboarding_dag(spec)

    rules = fault_rules()
    emulator.admin.set_faults(rules, seed=SEED)
    counter.draw_log.start()
    started = time.monotonic()
    run = dag.test(logical_date=None)
    elapsed = time.monotonic() - started
    by_kind = fault_hits(emulator)
    assert_fault_rates(emulator, counter.draw_log, SEED, rules)
    emulator.admin.clear_faults()
    tries = task_tries(spec.dag_id)
    assert run.state == "success", f"DAG run ended {run.state}; task tries {tries}"

    ids = assert_one_of_each(emulator, spec)
    total = 0
    for obj in spec.objects:
        dataset_id = ids[("dataset", object_names(spec, obj).dataset)]
        count = assert_records_are_the_mapped_rows(emulator, dataset_id, obj.table)
        assert count == len(source_rows(obj.table)), f"{obj.slug}: every row fits"
        total += count
    runs = Counter(r["kind"] for r in emulator.admin.state()["resources"])["run"]
    assert runs == len(spec.objects), "one first run per flow, no extra run"
    report = chaos_report(f"onboarding 20 objects ({layout})", emulator, counter, tries, total, elapsed, by_kind)
    assert_faults_were_survived(report, every_kind=True)
    assert_tokens_refreshed(emulator, counter, rejections=True)


def test_three_window_backfill_survives_faults_and_token_expiry(chaos) -> None:
    from aep_onboarding.factory import build_onboarding_dag
    from aep_onboarding.names import object_names

    emulator, counter, specs = chaos
    objects = [("contacts", "Contacts"), ("companies", "Companies")]
    extra = (
        # Airflow owns the clock: one-time flows whose own run (rows before 2024, none) ingests nothing here,
        # so the three windows are the only ingestion.
        'ingestion: airflow\nschedule: "@daily"\nstart_date: 2025-12-01\n'
        'flow_schedule: {frequency: once, start: "2024-01-01T00:00:00Z"}\n'
    )
    spec = write_spec(specs, "chaos_windows", spec_yaml("chaos_windows", objects, extra))
    dag = build_onboarding_dag(spec)

    rules = fault_rules()
    emulator.admin.set_faults(rules, seed=SEED + 1)
    counter.draw_log.start()
    first = datetime(2025, 12, 1, tzinfo=timezone.utc)
    started = time.monotonic()
    for day in range(3):
        # A daily run with logical date D ingests [D - 1 day, D).
        run = dag.test(logical_date=first + timedelta(days=day + 1))
        assert run.state == "success", f"window {day + 1}: DAG run ended {run.state}; {task_tries(spec.dag_id)}"
    elapsed = time.monotonic() - started
    by_kind = fault_hits(emulator)
    assert_fault_rates(emulator, counter.draw_log, SEED + 1, rules)
    emulator.admin.clear_faults()
    tries = task_tries(spec.dag_id)

    ids = assert_one_of_each(emulator, spec)
    end = first + timedelta(days=3)
    total = 0
    for obj in spec.objects:
        dataset_id = ids[("dataset", object_names(spec, obj).dataset)]
        total += assert_records_are_the_mapped_rows(
            emulator, dataset_id, obj.table, window=(first, end), delta_column=str(obj.delta_column)
        )
    # The one-time flows' own runs find no rows; the on-demand runs are the windows: exactly one per window and object, no duplicate.
    windows = Counter(
        (run["flowId"], int(run["__window"][0]), int(run["__window"][1]))
        for container in emulator.store.all_containers()
        for run in container.items["run"].values()
        if run.get("__trigger") == "onDemand"
    )
    flow_ids = {ids[("flow", object_names(spec, obj).dataflow)] for obj in spec.objects}
    day = 86400
    expected_windows = {
        (flow_id, int(first.timestamp()) + k * day, int(first.timestamp()) + (k + 1) * day)
        for flow_id in flow_ids for k in range(3)
    }
    assert set(windows) == expected_windows and set(windows.values()) == {1}, windows
    report = chaos_report("backfill 3 windows x 2 objects", emulator, counter, tries, total, elapsed, by_kind)
    assert_faults_were_survived(report, every_kind=False)
    assert_tokens_refreshed(emulator, counter, rejections=False)
