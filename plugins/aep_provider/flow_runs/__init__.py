"""Flow runs, one module per job; the run operator, the sensor and the trigger build on them.

* ``run``: a run as read from Flow Service (:class:`~aep_provider.flow_runs.run.FlowRun`, the one shape), its
  statuses, and how a run is asked for - by id, the flow's latest or first, every run of a flow - the same requests
  and the same reading for the sync hook and the async one.
* ``verdict``: whether an ended run passes, by its record counts.
* ``watch``: waiting for runs - the one polling routine of the sensor (in the worker) and the trigger.
* ``window``: which time window a run read, and what of a window is left to ingest on demand.
"""
