"""The onboarding spec as the plan step's rows, the plan task itself and the gate of a dry run.

``plan`` (``AepPlanOperator``) reads the sandbox once for every selected object and runs before any write; the
gate ``apply`` after it ends the run there when the DAG param ``plan_only`` is true (every later task is
skipped, nothing is written, the plan stays in ``plan``'s log and XCom).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import Param, task

from aep_onboarding.names import object_names, shared_name
from aep_onboarding.planning.operator import AepPlanOperator
from aep_onboarding.steps import DATASET_BASE, PLAN, delta_column, used_columns

if TYPE_CHECKING:
    from aep_onboarding.spec import OnboardingSpec


def plan_rows(spec: OnboardingSpec) -> list[dict[str, Any]]:
    """One row per listed object: its names, the columns it reads, target schema, mapping rules and flow settings."""
    return [
        {
            "key": obj.slug,
            "source": obj.source,
            "names": dict(object_names(spec, obj)),
            "columns": used_columns(obj),
            "class_ref": obj.target_schema.class_ref,
            "field_groups": list(obj.target_schema.field_groups),
            "mappings": [rule.model_dump() for rule in obj.mapping],
            "delta_column": delta_column(obj),
            "schedule": spec.flow_schedule_params(),
            "options": spec.flow_options(),
        }
        for obj in spec.objects
    ]


def plan_only_param() -> Param:
    return Param(
        False,
        type="boolean",
        title="Plan only (dry run)",
        description="Read the sandbox and log what the run would create, reuse or find different, then stop: "
        "nothing is written. The plan is in the `plan` task's log and XCom.",
    )


@task.short_circuit
def apply(**context: Any) -> bool:
    """Go on to the writes, unless the run is a dry run (``plan_only``): then every later task is skipped."""
    if context["params"].get("plan_only"):
        print("plan_only: the plan is in the `plan` task's log; nothing is written.")
        return False
    return True


def plan_task(spec: OnboardingSpec, chosen: Any, common: dict[str, Any]) -> AepPlanOperator:
    """The plan of the selected objects (``keys``: the run's choice)."""
    hubspot = spec.hubspot
    return AepPlanOperator(
        task_id=PLAN,
        for_each=plan_rows(spec),
        keys=chosen,
        hubspot_base_connection_id=hubspot.base_connection_id,
        hubspot_base_connection_name=None if hubspot.base_connection_id else hubspot.name,
        dataset_base_connection_name=shared_name(spec, DATASET_BASE),
        on_drift=spec.on_drift,
        plan_only_param="plan_only",
        # Discovered tables are not in the plan: a run that may onboard some always takes the write lease.
        always_take_lease=spec.discover is not None,
        max_concurrency=spec.max_concurrency,
        **common,
    )
