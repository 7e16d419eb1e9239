"""Plan, then apply: read what a sandbox already holds for every selected object at once, decide per object and
resource ``create``, ``reuse <id>`` or ``differs <id>`` (with the fields that differ), and check everything that
can be checked without writing - for the resources the registry (``aep_onboarding/steps.py``) lists.

``models`` (the plan's types), ``rules`` (how each kind of resource is compared), ``reading`` (the bulk reads),
``checks`` (the pre-write checks), ``decide`` (wanted against found, duplicates, what ``on_drift: update``
applies), ``table`` (the readable table), ``operator`` (``AepPlanOperator``, the plan as one task) and ``task`` (the
plan task of a spec's DAG and the dry-run gate).
"""
