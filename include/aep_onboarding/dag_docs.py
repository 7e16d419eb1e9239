"""The DAG's documentation (``doc_md``), shown on the DAG's page: what it onboards and how to run it.

Everything here comes from the spec: it is built at parse time and makes no call.
"""

from __future__ import annotations

from aep_onboarding.cron import TIMEZONE
from aep_onboarding.names import asset_name, object_names
from aep_onboarding.params import object_choices
from aep_onboarding.spec import OnboardingSpec


def _schedule_note(spec: OnboardingSpec) -> str:
    if spec.schedule is None:
        return (
            "**Schedule:** none. The DAG runs only when triggered, so unpausing it (the trigger form does "
            "that by default) starts nothing else. The AEP dataflows keep ingesting on their own schedule "
            f"(`{spec.flow_schedule.frequency}`, every {spec.flow_schedule.interval})."
        )
    return (
        f"**Schedule:** `{spec.schedule}`, in {TIMEZONE} (every onboarding schedule and `start_date` is {TIMEZONE}: "
        f"`0 3 * * *` runs at 03:00 {TIMEZONE}). Unpausing the DAG (the trigger form does that by default) also "
        "starts the run of the latest scheduled interval"
        + (" and every missed one (`catchup`)" if spec.catchup else "")
        + "; a manual run queues behind it (one active run at a time)."
    )


def onboarding_doc(spec: OnboardingSpec, spec_path: str | None) -> str:
    """Markdown: the objects and their datasets, how to onboard a subset, the schedule and the spec file."""
    lines = [spec.description or f"Onboard {len(spec.objects)} HubSpot object(s) into Adobe Experience Platform.", ""]
    if spec.objects:
        lines += [
            "| object (task group) | HubSpot table | AEP dataset | target class | Airflow asset |",
            "|---|---|---|---|---|",
        ]
        for obj in spec.objects:
            names = object_names(spec, obj)
            lines.append(
                f"| `{obj.slug}` | `{obj.source}` | {names.dataset} | `{obj.target_schema.class_ref}` "
                f"| `{asset_name(spec, obj)}` |"
            )
        lines.append("")
    if spec.discover is not None:
        lines += [
            f"Also onboards every table matching `{', '.join(spec.discover.include)}`"
            + (f" except `{', '.join(spec.discover.exclude)}`" if spec.discover.exclude else "")
            + " in the task group `discovered`.",
            "",
        ]
    choices = object_choices(spec)
    if choices:
        lines += [
            "**Onboard a subset:** *Trigger* → *Objects to onboard*, pick some (empty: all). From the REST "
            f'API or CLI: `{{"objects": ["{choices[0]}"]}}`. Other values are refused when the run is created.',
            "",
        ]
    lines += [
        _schedule_note(spec),
        "",
        "**After a run:** each task's *Links* open the resource in the AEP UI; the `run_summary` task's log "
        "lists what was created or reused, with IDs, links and record counts; a dataset that received "
        "records gets an asset event with the same metadata.",
        "",
        f"Layout `{spec.layout}`, AEP connection `{spec.aep_conn_id}`, sandbox "
        f"`{spec.sandbox or 'from the connection'}`, pool `{spec.pool}`.",
    ]
    if spec_path:
        lines += ["", f"Spec: `{spec_path}` (keys: README, \"Spec reference\")."]
    return "\n".join(lines)
