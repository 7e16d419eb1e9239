"""A local Adobe Experience Platform emulator (IMS, gateway, Schema Registry, Catalog,
Flow Service, Data Prep, simulated HubSpot source, flow runs that ingest, faults).

Run it with ``aep-emulator serve --port 8765`` or, in tests, with
:class:`aep_emulator.testing.EmulatorServer`. The API contract is Adobe's (see the
project's API fact sheet); ``docs/architecture.md`` fixes the demo credentials, the admin
surface ``/_emulator/*`` and the fault rules.

Time and runs
-------------
* Emulator time = real time + an offset moved forward by ``POST /_emulator/clock/advance``.
  Token expiry, schedules and run progress all use emulator time.
* When a flow is created its first run is due at ``max(startTime, now)``; it covers
  ``(-inf, startTime)`` if ``backfill`` is true (the default) else the empty window
  ``[startTime, startTime)``. Later runs are due at ``startTime + k * interval`` and cover
  ``[previous end, due time)``, one run per due time created at its due time, also when the
  clock jumps over several (``schedule.py``). ``frequency: once`` has only the first run.
  Disabled flows get no scheduled runs.
  The window of a first run is OUR model: Adobe only says "If backfill is enabled, all current
  files in the specified path will be ingested during the first scheduled ingestion".
* ``POST /runs`` with ``{"flowId", "params": {"startTime", "windowStartTime", "windowEndTime",
  "deltaColumn": {"name"}}}`` (epoch seconds, integers or strings of digits) starts an on-demand
  run for ``[windowStartTime, windowEndTime)``, only against a one-time (``frequency: once``) flow
  (flow-service.yaml ``POST /runs``; on-demand-ingestion.md). The params are held to the CRMToAEP
  ``runSpec`` (collect/crm.md: the three times required); ``deltaColumn`` is needed while the flow
  holds none, the first run's is kept in the flow's Copy transformation, the same one is taken again
  later and a different one is refused.
* A run is ``scheduled`` for the first third of the run duration (``--run-duration``,
  default 1 s, 0 allowed), then ``inProgress``, then ends: the mapping set is applied to
  every source row whose delta column (the flow's Copy ``deltaColumn``) lies in the window,
  and the records are committed to the target dataset. The run ends ``success`` (also with
  failed records on a flow with ``partialIngestionPercent``, as monitor.md shows) or ``failed`` (every
  record failed, the failed share is above the flow's ``options.partialIngestionPercent``, any record
  failed on a flow without it (partial.md), or the flow's resources are gone); see
  :mod:`aep_emulator.runs`. Progress is computed lazily before every Platform or admin request.

Deliberate choices where Adobe's documents leave room
------------------------------------------------------
(the full table, with sources and the tests that hold them: ``docs/adobe-contract.md``)

* Schema Registry single reads without a versioned ``Accept`` answer 400 ``XDM-1007-400``;
  lists without an ``xed-id``/``xed`` Accept answer ``XDM-1006-400``.
* Services other than Flow Service fall back to the ``prod`` sandbox without
  ``x-sandbox-name`` (Flow Service answers ``2105-400``).
* A target connection may come without ``baseConnectionId`` (the CRM tutorial sends none);
  one that names a base connection must name a Data Lake one. The ``connectionSpec`` it
  names only has to be a known spec and is stored as the Data Lake spec.
* Codes Adobe does not document are ours: ``EMU-<status>`` under a non-Adobe type URL.
* Companies map to the XDM Business Account class, deals to XDM Business Opportunity;
  other fields go under the tenant namespace ``_<tenant>`` as inline schema properties.
* Flow Service lists default to ``orderby=createdAt`` ascending, 100 items a page; the
  continuation token is an opaque base64 string (it can contain ``=``) carrying the listing's
  ``property``/``orderby``/``limit``; the next link carries only it, so a client may follow it
  as given or repeat its own query (another query with the token is refused).
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
