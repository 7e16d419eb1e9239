"""Child process: build our DAG from a spec and run it with ``dag.test()``; print one JSON line.

    python -m benchmarks._dag_test_runner SPEC.yaml [--onboarding-only]

``--onboarding-only`` runs the subset of the DAG that onboards (every task up
to and including ``dataflow``), leaving out ``wait_first_run``,
``ingest_window``, ``wait_window`` and ``run_summary``: the same work as the aepp script, for
the requests-per-object comparison.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

# run_summary too: it runs after the sensors, so keeping it pulled wait_first_run back in as its upstream.
AFTER_ONBOARDING = {"wait_first_run", "ingest_window", "wait_window", "run_summary"}
LOGICAL_DATE = dt.datetime(2025, 12, 2, tzinfo=dt.timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec")
    parser.add_argument("--onboarding-only", action="store_true")
    args = parser.parse_args()

    from aep_onboarding.factory import build_onboarding_dag
    from aep_onboarding.loader import load_spec

    dag = build_onboarding_dag(load_spec(args.spec))
    if args.onboarding_only:
        keep = [t for t in dag.task_ids if t.rsplit(".", 1)[-1] not in AFTER_ONBOARDING]
        dag = dag.partial_subset(task_ids=keep, include_downstream=False, include_upstream=True)
    started = time.time()
    run = dag.test(logical_date=LOGICAL_DATE)
    finished = time.time()

    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run.run_id
        ).all()
        rows = [{"task_id": ti.task_id, "state": str(ti.state),
                 "start": ti.start_date.timestamp() if ti.start_date else None,
                 "end": ti.end_date.timestamp() if ti.end_date else None} for ti in tis]
    print(json.dumps({"state": str(run.state), "started": started, "seconds": finished - started, "tis": rows}))


if __name__ == "__main__":
    main()
