"""The sandbox's write lease: one holder at a time may create named resources in a sandbox.

AEP refuses no second dataset, connection, flow or mapping set of the same name, so two DAG runs that look a
name up at the same moment, find nothing and create it, leave two. The only thing AEP itself keeps unique is a
Schema Registry title: "Titles must be unique across all resource types" (help/xdm/troubleshooting-guide.md,
"Title not unique", XDM-1521-400). The lease is a tenant data type with a fixed title, so creating it is the
sandbox's own atomic test-and-set: whoever's ``POST /tenant/datatypes`` gets 201 holds it, everyone else gets
XDM-1521-400 and waits. docs/concurrency.md says why this holds and what waits for what.

* :mod:`.terms` - who holds it and until when (the data type's description), and the data type's body;
* :mod:`.sandbox` - acquire, read, renew and release it through an :class:`~aep_provider.hooks.aep.AepHook`;
* :mod:`.guard` - the check an operator makes before each create: its DAG run holds the lease, else it takes it.
"""

from aep_provider.write_lease.guard import WriteGuard
from aep_provider.write_lease.sandbox import SandboxWriteLease
from aep_provider.write_lease.terms import LEASE_TITLE, Lease, LeaseHolder, LeaseTerms

__all__ = ["LEASE_TITLE", "Lease", "LeaseHolder", "LeaseTerms", "SandboxWriteLease", "WriteGuard"]
