"""What a DAG run did, for the person looking at it: the ``run_summary`` task and the asset events.

``run_summary`` runs last. It reads the outcomes every AEP task recorded (the ``aep_outcomes`` XCom: kind, name,
id, created or reused, link; the sensors' flow runs with their record counts) - fields, never log text - and writes
one table to its log: object, resource, name, created or reused, id, link to the AEP UI, records ingested. It
returns the same as its XCom. Then, for each object whose dataset received records in this DAG run, it emits an
asset event through the object's asset alias, on the dataset's one identity (``aep_provider/lineage.py``:
``aep://<org id>/<sandbox>/datasets/<dataset id>``, the OpenLineage dataset the flow operators report too), with
the dataset id and name, sandbox, AEP link, DAG run id, flow run ids and record counts in the event's ``extra``. The
runs are those the DAG run started (a window run, the first run of a flow it made) and, for ``ingestion: aep``, those
AEP made in its data interval. A run that ingested nothing emits nothing, so a DAG scheduled on the asset runs only
for new data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, AssetAlias, task
from pydantic import ValidationError

from aep_onboarding.names import asset_name
from aep_onboarding.steps import ASSET_STEP, STEP
from aep_provider.hooks.aep import AepHook
from aep_provider.lineage import dataset_uri
from aep_provider.outcomes import OUTCOMES_XCOM, Kind, Outcome
from aep_provider.printable import cell, printable

if TYPE_CHECKING:
    from aep_onboarding.spec import OnboardingSpec

log = logging.getLogger(__name__)
#: The task that returns the slugs a DAG run onboards (``factory.select_objects``).
SELECT_TASK = "select_objects"
COUNTS = ("input_records", "output_records", "failed_records")


def row_of(outcome: Outcome, task_id: str, step_id: str | None) -> dict[str, Any]:
    """An outcome as a summary row, labelled as the registry labels its step's resource."""
    resource = STEP[step_id].resource if step_id in STEP else None
    return {
        "step": step_id, "label": resource.label if resource is not None else outcome.kind.value,
        "kind": outcome.kind.value, "name": outcome.name, "id": outcome.id or "", "created": outcome.created,
        "link": outcome.link, "flow_id": outcome.flow_id, "task": task_id,
    }


@dataclass
class ObjectReport:
    """One object's lines of the summary: the resources its tasks recorded and the flow runs its sensors saw end."""

    slug: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    runs: list[Outcome] = field(default_factory=list)
    #: False when the run's ``objects`` param left this object out: the summary says so instead of "none".
    selected: bool = True

    def step(self, step_id: str) -> dict[str, Any] | None:
        return next((r for r in self.resources if r["step"] == step_id), None)

    def new_runs(self) -> list[Outcome]:
        """The flow runs of this DAG run, each once: a run a task of it asked for, the first run of a dataflow it
        made, and the runs AEP made on its own schedule in its data interval (``judge_interval``)."""
        started = {r["id"] for r in self.resources if r["kind"] == Kind.FLOW_RUN.value and r["created"]}
        new_flows = {r["id"] for r in self.resources if r["kind"] == Kind.DATAFLOW.value and r["created"]}
        runs: dict[str | None, Outcome] = {}
        for run in self.runs:
            if run.run is not None and (run.id in started or run.run.interval
                                        or (run.run.first and run.flow_id in new_flows)):
                runs.setdefault(run.id, run)
        return list(runs.values())

    def records(self) -> dict[str, int]:
        return {name: sum(int(getattr(run.run, name)) for run in self.new_runs()) for name in COUNTS}


def gather(
    ti: Any, steps_of: dict[str, str], slugs: list[str]
) -> tuple[list[dict[str, Any]], dict[str, ObjectReport]]:
    """The shared resources and each object's report, from the outcomes the tasks of this DAG run recorded."""
    shared: list[dict[str, Any]] = []
    objects = {slug: ObjectReport(slug) for slug in slugs}
    for task_id, step_id in steps_of.items():
        for entry in ti.xcom_pull(task_ids=task_id, key=OUTCOMES_XCOM) or []:
            try:
                outcome = Outcome.model_validate(entry)
            except ValidationError as exc:  # the summary is a report: an unreadable entry is left out, said so
                log.warning("%s recorded an outcome the summary cannot read (%s): left out", task_id, exc)
                continue
            report = objects.get(outcome.key) if outcome.key is not None else None
            if report is not None and outcome.run is not None:
                report.runs.append(outcome)
            else:
                (report.resources if report is not None else shared).append(row_of(outcome, task_id, step_id))
    return shared, objects


def render(shared: list[dict[str, Any]], objects: dict[str, ObjectReport]) -> str:
    """The summary as a plain-text table (the task log shows it as is). Names, ids and statuses come back from
    the Platform: each is escaped into its own cell (:func:`~aep_provider.printable.cell`)."""
    lines = ["object | resource | name | created/reused | id | link", "---|---|---|---|---|---"]
    rows = [("(shared)", r) for r in shared] + [(o.slug, r) for o in objects.values() for r in o.resources]
    for slug, r in rows:
        lines.append(" | ".join(map(cell, (
            slug, r["label"], r["name"] or "-", "created" if r["created"] else "reused", r["id"], r["link"] or "-"))))
    lines += ["", "object | flow runs of this DAG run | records in | ingested | failed"]
    for o in objects.values():
        totals = o.records()
        runs = ", ".join(f"{run.id} ({run.run.status if run.run else '?'})" for run in o.new_runs()) or (
            "none" if o.selected else "not selected in this DAG run (objects param)")
        lines.append(" | ".join(map(cell, (
            o.slug, runs, totals["input_records"], totals["output_records"], totals["failed_records"]))))
    return "\n".join(lines)


def _run_rows(report: ObjectReport) -> list[dict[str, Any]]:
    return [{"run_id": run.id, "flow_id": run.flow_id, **(run.run.model_dump() if run.run else {})}
            for run in report.new_runs()]


def summary_task(spec: OnboardingSpec, steps_of: dict[str, str]) -> Any:
    """The ``run_summary`` task of ``spec``'s DAG (call inside the DAG; wire it after every object's last step).
    ``steps_of``: ``{task id: step id}`` of the registry's tasks whose outcomes it reads."""
    aliases = {obj.slug: AssetAlias(name=asset_name(spec, obj)) for obj in spec.objects}

    @task(task_id="run_summary", trigger_rule="none_failed", outlets=list(aliases.values()), retries=0)
    def run_summary(**context: Any) -> dict[str, Any]:
        """Log what this run created or reused, with IDs, links and records; emit an asset event per dataset
        that received records."""
        hook = AepHook(aep_conn_id=spec.aep_conn_id, sandbox=spec.sandbox)
        sandbox = hook.sandbox
        shared, objects = gather(context["ti"], steps_of, list(aliases))
        chosen = context["ti"].xcom_pull(task_ids=SELECT_TASK)
        for slug, report in objects.items():
            report.selected = chosen is None or slug in chosen
        hook.log.info("What this DAG run did (sandbox %s):\n%s", printable(sandbox), render(shared, objects))
        events: dict[str, Any] = {}
        for slug, report in objects.items():
            dataset, totals = report.step(ASSET_STEP), report.records()
            if not report.selected:
                hook.log.info("%s: not selected in this DAG run; no asset event", slug)
                continue
            if dataset is None or not dataset["id"] or totals["output_records"] <= 0:
                hook.log.info("%s: no records ingested in this DAG run; no asset event", slug)
                continue
            extra = {
                "dataset_id": dataset["id"],
                "dataset_name": dataset["name"],
                "sandbox": sandbox,
                "aep_link": dataset["link"],
                "dag_run_id": str(context["run_id"]),
                "flow_run_ids": [run.id for run in report.new_runs()],
                **totals,
            }
            uri = dataset_uri(hook.org_id, sandbox, dataset["id"])
            context["outlet_events"][aliases[slug]].add(Asset(uri=uri), extra=extra)
            events[slug] = {"uri": uri, **extra}
            hook.log.info("%s: asset event on %s: %s", slug, printable(uri), printable(extra))
        return {
            "shared": shared,
            "objects": {
                slug: {"selected": o.selected, "resources": o.resources, "flow_runs": _run_rows(o), **o.records()}
                for slug, o in objects.items()
            },
            "asset_events": events,
        }

    return run_summary()
