"""What a DAG run did, for the person looking at it: the ``run_summary`` task and the asset events.

``run_summary`` runs last. It reads what every Platform task created or reused (the ``aep_outcomes``
XCom each AEP operator pushes), the flow runs the sensors saw, and writes one table to its log:
object, resource, created or reused, id, link to the AEP UI, records ingested. It returns the same as
its XCom. Then, for each object whose dataset received records in this DAG run, it emits an asset
event through the object's asset alias: the asset's URI names the real sandbox (read from the
connection at run time) and the event's ``extra`` carries the dataset id, sandbox, AEP link, DAG run id,
flow run ids and record counts. A run that ingested nothing emits nothing, so a DAG scheduled on the
asset runs only for new data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import Asset, AssetAlias, task

from aep_onboarding.names import asset_name, asset_uri
from aep_onboarding.spec import OnboardingSpec
from aep_provider.hooks.aep import AepHook
from aep_provider.links import (
    AepAccountLink,
    AepClassLink,
    AepDataflowLink,
    AepDatasetLink,
    AepFlowRunLink,
    AepLink,
    AepSchemaLink,
)
from aep_provider.operators.base import AepBaseOperator
from aep_provider.printable import cell, printable

_RUN_OF_FLOW = re.compile(r"run of flow (\S+)")
# Outcome description (``what``, see the operators) -> (resource kind, link to its page).
_KINDS: list[tuple[str, str, type[AepLink] | None]] = [
    ("HubSpot base connection", "HubSpot base connection", AepAccountLink),
    ("dataset base connection", "dataset base connection", None),
    ("class ", "ad-hoc class", AepClassLink),
    ("schema ", "schema", AepSchemaLink),
    ("source connection", "source connection", None),
    ("dataset ", "dataset", AepDatasetLink),
    ("target connection", "target connection", None),
    ("mapping set", "mapping set", None),
    ("dataflow", "dataflow", AepDataflowLink),
    ("run of flow", "flow run", AepFlowRunLink),
]


@dataclass
class ObjectReport:
    """One object's line of the summary."""

    slug: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)

    def link_the_unlinked(self, account_link: str) -> None:
        """Resources without a Platform UI page of their own link to the page that shows them (as the tasks'
        links do): a source connection to its source account, a target connection to its dataset, a mapping
        set to its target schema."""
        target_schema = next(
            (r for r in self.resources if r["kind"] == "schema" and r["task"].endswith("target_schema")), None
        )
        shown_on = {
            "source connection": account_link,
            "target connection": (self.resource("dataset") or {}).get("link", ""),
            "mapping set": (target_schema or {}).get("link", ""),
        }
        for row in self.resources:
            if not row["link"] and shown_on.get(row["kind"]):
                row["link"] = shown_on[row["kind"]]

    def resource(self, kind: str) -> dict[str, Any] | None:
        return next((r for r in self.resources if r["kind"] == kind), None)

    def new_runs(self) -> list[dict[str, Any]]:
        """The flow runs this DAG run started: the first run of a dataflow it created, a window run it asked for."""
        flow = self.resource("dataflow")
        started = {r["id"] for r in self.resources if r["kind"] == "flow run" and r["created"]}
        return [
            run for run in self.runs
            if run.get("run_id") in started or (run.get("which") == "first" and flow is not None and flow["created"])
        ]

    def records(self) -> dict[str, int]:
        totals = {"input_records": 0, "output_records": 0, "failed_records": 0}
        for run in self.new_runs():
            for name in totals:
                totals[name] += int(run.get(name) or 0)
        return totals


def describe(outcome: dict[str, Any], tenant: str, sandbox: str) -> dict[str, Any]:
    """An ``aep_outcomes`` entry as a summary row: kind, name, id, created, link."""
    what = str(outcome.get("what", ""))
    kind, link = what, None
    for prefix, name, link_class in _KINDS:
        if what.startswith(prefix):
            kind, link = name, link_class
            break
    resource_id = str(outcome.get("id") or "")
    url = ""
    if link is AepFlowRunLink:
        flow = _RUN_OF_FLOW.match(what)
        url = link.build(tenant, sandbox, flow_id=flow.group(1), id=resource_id) if flow else ""
    elif link is not None and resource_id:
        url = link.build(tenant, sandbox, id=resource_id)
    return {"kind": kind, "what": what, "id": resource_id, "created": bool(outcome.get("created")), "link": url}


def _slug_of(task_id: str, entry_key: Any, slugs: set[str]) -> str | None:
    if entry_key is not None:
        return str(entry_key)
    group = task_id.split(".", 1)[0] if "." in task_id else None
    return group if group in slugs else None


def gather(
    ti: Any, task_ids: list[str], sensor_ids: dict[str, str], slugs: list[str], tenant: str, sandbox: str
) -> tuple[list[dict[str, Any]], dict[str, ObjectReport]]:
    """The shared resources and each object's report, from the XComs of this DAG run."""
    shared: list[dict[str, Any]] = []
    objects = {slug: ObjectReport(slug) for slug in slugs}
    for task_id in task_ids:
        outcomes = ti.xcom_pull(task_ids=task_id, key=AepBaseOperator.OUTCOMES_XCOM) or []
        for entry in outcomes:
            slug = _slug_of(task_id, entry.get("key"), set(slugs))
            row = {**describe(entry, tenant, sandbox), "task": task_id}
            (objects[slug].resources if slug in objects else shared).append(row)
    account = next((r["link"] for r in shared if r["kind"] == "HubSpot base connection"), "")
    for report in objects.values():
        report.link_the_unlinked(account)
    for task_id, which in sensor_ids.items():
        value = ti.xcom_pull(task_ids=task_id)
        if not isinstance(value, dict):
            continue
        for slug, run in value.items():  # {slug: run}, one object or many
            if slug in objects and isinstance(run, dict):
                objects[slug].runs.append({**run, "which": which})
    return shared, objects


def render(shared: list[dict[str, Any]], objects: dict[str, ObjectReport]) -> str:
    """The summary as a plain-text table (the task log shows it as is). Names, ids and statuses come back from
    the Platform: each is escaped into its own cell (:func:`~aep_provider.printable.cell`)."""
    lines = ["object | resource | created/reused | id | link", "---|---|---|---|---"]
    rows = [("(shared)", r) for r in shared] + [(o.slug, r) for o in objects.values() for r in o.resources]
    for slug, r in rows:
        lines.append(" | ".join(map(cell, (
            slug, r["what"], "created" if r["created"] else "reused", r["id"], r["link"] or "-"))))
    lines += ["", "object | flow runs of this DAG run | records in | ingested | failed"]
    for o in objects.values():
        totals = o.records()
        runs = ", ".join(f"{run['run_id']} ({run.get('status')})" for run in o.new_runs()) or "none"
        lines.append(" | ".join(map(cell, (
            o.slug, runs, totals["input_records"], totals["output_records"], totals["failed_records"]))))
    return "\n".join(lines)


def summary_task(spec: OnboardingSpec, task_ids: list[str], sensor_ids: dict[str, str]) -> Any:
    """The ``run_summary`` task of ``spec``'s DAG (call inside the DAG; wire it after every object's last step)."""
    aliases = {obj.slug: AssetAlias(name=asset_name(spec, obj)) for obj in spec.objects}

    @task(task_id="run_summary", trigger_rule="none_failed", outlets=list(aliases.values()), retries=0)
    def run_summary(**context: Any) -> dict[str, Any]:
        """Log what this run created or reused, with IDs, links and records; emit an asset event per dataset
        that received records."""
        hook = AepHook(aep_conn_id=spec.aep_conn_id, sandbox=spec.sandbox)
        tenant, sandbox = hook.settings.ui_tenant, hook.sandbox
        shared, objects = gather(context["ti"], task_ids, sensor_ids, list(aliases), tenant, sandbox)
        hook.log.info("What this DAG run did (sandbox %s):\n%s", printable(sandbox), render(shared, objects))
        by_slug = {obj.slug: obj for obj in spec.objects}
        events: dict[str, Any] = {}
        for slug, report in objects.items():
            dataset = report.resource("dataset")
            totals = report.records()
            if dataset is None or totals["output_records"] <= 0:
                hook.log.info("%s: no records ingested in this DAG run; no asset event", slug)
                continue
            extra = {
                "dataset_id": dataset["id"],
                "sandbox": sandbox,
                "aep_link": dataset["link"],
                "dag_run_id": str(context["run_id"]),
                "flow_run_ids": [run["run_id"] for run in report.new_runs()],
                **totals,
            }
            uri = asset_uri(spec, by_slug[slug], sandbox=sandbox)
            context["outlet_events"][aliases[slug]].add(Asset(uri=uri), extra=extra)
            events[slug] = {"uri": uri, **extra}
            hook.log.info("%s: asset event on %s: %s", slug, printable(uri), printable(extra))
        return {
            "shared": shared,
            "objects": {
                slug: {"resources": o.resources, "flow_runs": o.new_runs(), **o.records()} for slug, o in objects.items()
            },
            "asset_events": events,
        }

    return run_summary()
