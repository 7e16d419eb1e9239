"""Plan, then apply: read what a sandbox already holds for every selected object at once, say per object and
resource ``create``, ``reuse <id>`` or ``differs <id>`` (with the fields that differ), and check everything that
can be checked without writing.

``models`` (the plan's types), ``readers`` (bulk reads), ``checks`` (pre-write checks), ``differ`` (wanted against
found), ``table`` (the readable table); ``operators/plan.py`` runs them as one task.
"""
