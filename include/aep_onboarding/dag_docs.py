"""The DAG's documentation (``doc_md``), shown on the DAG's page: what it onboards and how to run it.

Everything here comes from the spec: it is built at parse time and makes no call. Spec values are escaped
where they are written (:mod:`aep_provider.printable`): no control character or terminal escape, and a ``|``
stays inside its table cell.
"""

from __future__ import annotations

from aep_onboarding.cron import TIMEZONE
from aep_onboarding.names import asset_name, object_names
from aep_onboarding.params import object_choices
from aep_onboarding.spec import OnboardingSpec
from aep_onboarding.steps import ASSET_STEP
from aep_provider.printable import cell, printable


def _schedule_note(spec: OnboardingSpec) -> str:
    if spec.schedule is None:
        return (
            "**Schedule:** none. The DAG runs only when triggered, so unpausing it (the trigger form does "
            "that by default) starts nothing else. The AEP dataflows keep ingesting on their own schedule "
            f"(`{printable(spec.flow_schedule.frequency)}`, every {printable(spec.flow_schedule.interval)})."
        )
    return (
        f"**Schedule:** `{printable(spec.schedule)}`, in {TIMEZONE} (every onboarding schedule and `start_date` is "
        f"{TIMEZONE}: `0 3 * * *` runs at 03:00 {TIMEZONE}). Unpausing the DAG (the trigger form does that by default) also "
        "starts the run of the latest scheduled interval"
        + (" and every missed one (`catchup`)" if spec.catchup else "")
        + "; a manual run queues behind it (one active run at a time)."
        + (" Each scheduled run judges the runs the AEP dataflows made on their own schedule "
           f"(`{printable(spec.flow_schedule.frequency)}`, every {printable(spec.flow_schedule.interval)}) in its data "
           "interval (`judge_interval`): a failed run, failed records beyond the tolerance, or no run where the "
           "flow's schedule had one due fails it." if not spec.windows else "")
    )


def onboarding_doc(spec: OnboardingSpec, spec_path: str | None) -> str:
    """Markdown: the objects and their datasets, how to onboard a subset, the schedule and the spec file."""
    # The description is the spec author's prose: its line breaks stay, every other control character is escaped.
    lines = ["\n".join(map(printable, spec.description.splitlines())) if spec.description
             else f"Onboard {len(spec.objects)} HubSpot object(s) into Adobe Experience Platform.", ""]
    if spec.objects:
        lines += [
            "| object (task group) | HubSpot table | AEP dataset | target class | Airflow asset |",
            "|---|---|---|---|---|",
        ]
        for obj in spec.objects:
            names = object_names(spec, obj)
            lines.append(
                f"| `{cell(obj.slug)}` | `{cell(obj.source)}` | {cell(names[ASSET_STEP])} | "
                f"`{cell(obj.target_schema.class_ref)}` | `{cell(asset_name(spec, obj))}` |"
            )
        lines.append("")
    if spec.discover is not None:
        lines += [
            f"Also onboards every table matching `{printable(', '.join(spec.discover.include))}`"
            + (f" except `{printable(', '.join(spec.discover.exclude))}`" if spec.discover.exclude else "")
            + " in the task group `discovered`.",
            "",
        ]
    choices = object_choices(spec)
    if choices:
        lines += [
            "**Onboard a subset:** *Trigger* → *Objects to onboard*, pick some (empty: all). From the REST "
            f'API or CLI: `{{"objects": ["{printable(choices[0])}"]}}`. Other values are refused when the run is created.',
            "",
        ]
    lines += [
        _schedule_note(spec),
        "",
        "**After a run:** each task's *Links* open the resource in the AEP UI; the `run_summary` task's log "
        "lists what was created or reused, with IDs, links and record counts; a dataset that received "
        "records gets an asset event with the same metadata.",
        "",
        f"Layout `{spec.layout}`, AEP connection `{printable(spec.aep_conn_id)}`, sandbox "
        f"`{printable(spec.sandbox or 'from the connection')}`, pool `{printable(spec.pool)}`.",
    ]
    if spec_path:
        lines += ["", f"Spec: `{printable(spec_path)}` (keys: README, \"Spec reference\")."]
    return "\n".join(lines)
