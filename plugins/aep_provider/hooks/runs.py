"""Moved to :mod:`aep_provider.flow_runs` (run judging is not a hook); kept for the hooks that import it."""

from aep_provider.flow_runs import Which, one_run_query, pick_run  # noqa: F401
