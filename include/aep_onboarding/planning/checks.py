"""What the plan checks before any write: the mapping rules themselves (a destination mapped twice, ``identity``
and ``namespace`` without each other: ``aep_provider/models/data_prep.py``), identity namespace codes against the sandbox's
(Identity Service), mapping destinations against the target schema's class and field groups (read from the
Schema Registry's global resources), and source columns against the explored table (each used column exists;
the delta column is a date or date-time column).

A failure here is a configuration error (:class:`AepConfigError`): no retry can fix it.
"""

from __future__ import annotations

import difflib
import logging
from concurrent.futures import Executor, Future
from typing import Any

from aep_onboarding.planning.models import PlanRow
from aep_provider.hooks.errors import AepAuthError, AepConfigError, AepNotFoundError, AepTransientError
from aep_provider.models.common import XED_FULL
from aep_provider.models.data_prep import Mapping, identity_problem, repeated_destinations
from aep_provider.models.schema_registry import xdm_paths
from aep_provider.operators.explore import check_required_columns, unknown_table_error
from aep_provider.operators.mapping import check_destinations
from aep_provider.operators.schema import expand_ref
from aep_provider.printable import printable

log = logging.getLogger(__name__)
#: The explored column types a delta column may have: Flow Service's explore answers a date-time column as
#: ``"meta:xdmType": "date-time"`` with ``xdm: {type: string, format: date-time}`` (help/sources/tutorials/api/
#: explore/crm.md, ``Added_At``); on-demand-ingestion.md's example delta column is ``DOB``, so a date is accepted.
TIME_TYPES = ("date-time", "date")


class GlobalPaths:
    """The field paths of standard classes and field groups, each read once (``xed-full`` view)."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        self._paths: dict[tuple[str, str], list[str]] = {}
        self._pending: dict[tuple[str, str], Future[list[str]]] = {}

    def _read(self, kind: str, ref: str) -> list[str]:
        resource = self.hook.get_resource(kind, ref, accept=XED_FULL)
        if resource is None:
            what = "class" if kind == "classes" else "field group"
            raise AepConfigError(
                f"target_schema: the {what} {ref!r} does not exist in the Schema Registry; use a standard "
                f"{what} $id such as https://ns.adobe.com/xdm/context/profile."
            )
        return xdm_paths(resource)

    def prefetch(self, pool: Executor, rows: list[PlanRow]) -> None:
        """Start reading the classes and field groups the rows' target schemas name, each once, in ``pool``: the
        plan reads them while it reads the sandbox (:meth:`of` then waits for them, and raises what they raised)."""
        for row in rows:
            for kind, ref in [("classes", row.class_ref), *(("fieldgroups", group) for group in row.field_groups)]:
                key = (kind, expand_ref(ref))
                if key not in self._paths and key not in self._pending:
                    self._pending[key] = pool.submit(self._read, *key)

    def of(self, kind: str, ref: str) -> list[str]:
        key = (kind, expand_ref(ref))
        if key not in self._paths:
            pending = self._pending.pop(key, None)
            self._paths[key] = pending.result() if pending is not None else self._read(*key)
        return self._paths[key]

    def schema_paths(self, row: PlanRow, found: dict[str, Any] | None = None) -> list[str]:
        """Every path a schema of the row's class and field groups has; for a target schema that exists (and is
        reused as it is, whatever field groups it has), the paths of the class and field groups its ``allOf``
        names - the schema the mapping set will really be checked against by Data Prep."""
        if found is None:
            class_ref, groups = row.class_ref, list(row.field_groups)
        else:
            class_ref = str(found.get("meta:class") or row.class_ref)
            refs = [str(p["$ref"]) for p in found.get("allOf") or [] if isinstance(p, dict) and p.get("$ref")]
            groups = [ref for ref in refs if expand_ref(ref) != expand_ref(class_ref)]
        paths = set(self.of("classes", class_ref))
        for group in groups:
            paths.update(self.of("fieldgroups", group))
        return sorted(paths)


def check_mappings(row: PlanRow, paths: list[str], schema: str) -> None:
    """Every mapping destination is a path of the target schema (named ``schema``), else a config error naming the
    closest."""
    try:
        rules = [Mapping(**rule) for rule in row.mappings]
    except (TypeError, ValueError) as exc:
        raise AepConfigError(f"[{row.key}] mappings: {exc}") from None
    try:
        check_destinations(rules, paths, f"{schema!r} ({row.class_ref})")
    except AepConfigError as exc:
        raise AepConfigError(f"[{row.key}] {exc}") from None


def check_columns(hook: Any, row: PlanRow, base_connection_id: str) -> list[str]:
    """Explore the row's table through the HubSpot base connection; every used column must exist.

    :return: the table's columns.
    """
    try:
        body = hook.explore(base_connection_id, row.source)
    except AepNotFoundError as missing:
        raise unknown_table_error(hook, base_connection_id, row.source, "source", missing) from None
    columns = list(((body or {}).get("schema") or {}).get("columns") or [])
    try:
        check_required_columns(row.source, columns, row.columns)
    except AepConfigError as exc:
        raise AepConfigError(f"[{row.key}] {exc}") from None
    check_delta_column(row, columns)
    return [str(column.get("name")) for column in columns]


def check_mapping_rules(row: PlanRow) -> None:
    """What the rules already show, before any read: a destination mapped twice, identity/namespace alone."""
    problems = [f"mappings[{index}]: {problem}" for index, rule in enumerate(row.mappings)
                if (problem := identity_problem(bool(rule.get("identity")), rule.get("namespace")))]
    problems += [f"mappings: {problem}" for problem in repeated_destinations(row.mappings)]
    if problems:
        raise AepConfigError(f"[{row.key}] " + "; ".join(problems))


def check_identity_namespaces(hook: Any, rows: list[PlanRow]) -> None:
    """Every identity rule's namespace is a code of the sandbox (Identity Service ``GET /idnamespace/identities``,
    read once, and only when a rule is an identity). A code written in another letter case is refused naming the
    sandbox's spelling (Adobe documents no case-insensitive match, and the spelling is what the mapping sends).

    The read may be refused where the rest of the onboarding works: Identity Service answers on region-specific hosts
    (help/identity-service/api/getting-started.md: "Requests made without specifying a region may result in calls
    routing to the incorrect region or cause calls to fail unexpectedly") and needs the "View Identity Namespaces"
    permission. Then the check is skipped with a warning saying why; the namespaces are checked by AEP at ingestion."""
    wanted = [(row.key, index, str(rule["namespace"])) for row in rows for index, rule in enumerate(row.mappings)
              if rule.get("identity") and rule.get("namespace")]
    if not wanted:
        return
    try:
        listed = hook.list_identity_namespaces()
    except (AepAuthError, AepNotFoundError, AepTransientError) as exc:
        log.warning("Could not read the sandbox's identity namespaces (%s): the namespaces of %d identity rules are "
                    "not checked before the run. Grant the credential the 'View Identity Namespaces' permission, or "
                    "see help/identity-service/api/getting-started.md on regional hosts.", exc, len(wanted))
        return
    codes = sorted({printable(item.get("code")) for item in listed if item.get("code")})  # the sandbox's text
    by_lower = {code.lower(): code for code in codes}
    problems = []
    for key, index, code in wanted:
        if code in codes:
            continue
        if code.lower() in by_lower:
            problems.append(f"[{key}] mappings[{index}]: the sandbox writes the identity namespace {code!r} as "
                            f"{by_lower[code.lower()]!r}; write it so (the mapping set sends it as written)")
            continue
        closest = difflib.get_close_matches(code, codes, n=3, cutoff=0.5)
        problems.append(
            f"[{key}] mappings[{index}]: the identity namespace {code!r} does not exist in the sandbox"
            + (f" (closest: {', '.join(closest)})" if closest else "")
            + f"; use one of its codes ({', '.join(codes)}) or create the namespace first (Identity Service)"
        )
    if problems:
        raise AepConfigError("; ".join(problems))


def column_type(column: dict[str, Any]) -> str:
    """An explored column's type: its ``meta:xdmType``, else its ``xdm.format``, else its ``type``."""
    xdm = column.get("xdm")
    form = xdm.get("format") if isinstance(xdm, dict) else None
    return str(column.get("meta:xdmType") or form or column.get("type") or "")


def check_delta_column(row: PlanRow, columns: list[dict[str, Any]]) -> None:
    """The delta column selects new rows by time: it must be a date or date-time column of the table."""
    column = next((c for c in columns if c.get("name") == row.delta_column), None)
    if column is None or not column_type(column):
        return  # a missing column is check_columns' error; an untyped one cannot be judged
    if column_type(column) in TIME_TYPES:
        return
    timed = [str(c.get("name")) for c in columns if column_type(c) in TIME_TYPES]
    raise AepConfigError(
        f"[{row.key}] delta_column: {row.delta_column!r} is a {column_type(column)} column of {row.source}, and AEP "
        f"selects new rows by the delta column's time: name a date-time column"
        + (f" ({', '.join(timed)})" if timed else f" ({row.source} has none)")
    )


def check_rows(hook: Any, rows: list[PlanRow]) -> None:
    """The checks of the rules as written, then of the identity namespaces against the sandbox."""
    for row in rows:
        check_mapping_rules(row)
    check_identity_namespaces(hook, rows)
