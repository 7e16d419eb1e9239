"""``on_drift: update``: the two changes the create operators apply to a live resource in place.

* A changed mapping: a new version of the mapping set (Data Prep ``PUT /mappingSets/{id}``, data-prep.yaml
  ``putMappingSet``), then the flow's ``transformations`` patched to name that version.
* A changed schedule, options or state: a flow ``PATCH`` of ``scheduleParams`` and ``options`` with ``If-Match``
  (flow-service.yaml: a PATCH needs the flow's etag), and ``POST /flows/{id}/action?op=enable`` for a disabled flow.

Every PATCH operation carries a ``value``, ``remove`` too: flow-service.yaml ``PatchInstruction`` requires ``op``,
``path`` and ``value``, and Adobe's one Flow Service ``remove`` example (help/destinations/api/
update-destination-dataflows.md, "Remove an audience from a dataflow") sends one; a ``remove`` sends the value it
removes (RFC 6902 ignores it), so the PATCH holds under either reading.

Every other difference stays a warning (or fails with ``on_drift: fail``) naming what to tear down.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aep_provider.hooks.errors import AepAmbiguousWriteError, AepError
from aep_provider.hooks.ids import path_id
from aep_provider.hooks.transport import service_path
from aep_provider.models.data_prep import MappingSetCreate, mapping_key
from aep_provider.models.drift import SCHEDULE_KEYS, option_diffs, same


def _current_mapping_set(hook: Any, mapping_set_id: str, name: str | None) -> dict[str, Any] | None:
    """The mapping set at its latest version, with its rules (the listing gives the version to ask for)."""
    listed = next((m for m in hook.iter_mapping_sets({"name": name} if name else None)
                   if str(m.get("id")) == mapping_set_id), None)
    if listed is None or "mappings" in listed:
        return listed
    return hook.get_mapping_set(mapping_set_id, listed.get("version"))


def _version_of(mset: Mapping[str, Any] | None) -> int | None:
    version = (mset or {}).get("version")
    if isinstance(version, bool):
        return None
    if isinstance(version, int):
        return version
    return int(version) if isinstance(version, str) and version.isdigit() else None


def new_mapping_version(hook: Any, mapping_set_id: str, model: MappingSetCreate, *, retry: bool) -> dict[str, Any]:
    """PUT the mapping set's new rules (help/data-prep/api/mapping-set.md's PUT form) and return the set at its
    new ``version``.

    Every PUT makes a version, so the PUT is sent once (``idempotent=False``: the transport repeats no PUT that may
    have been applied), and a retried task or a PUT without an answer reads the set back and takes it when it
    already holds the wanted rules. data-prep.yaml ``putMappingSet`` answers a MappingSet whose ``version`` is
    optional and mapping-set.md's "Update a mapping set" example answer has none: an answer without an integer
    version (or an empty one) is read back too, as the listing/GET shows the version (adobe_contract_notes.yaml).
    """
    rules = mapping_key([m.to_body() for m in model.mappings])

    def read_back() -> dict[str, Any] | None:
        current = _current_mapping_set(hook, mapping_set_id, model.name)
        if current is not None and mapping_key(current.get("mappings") or []) == rules:
            return current
        return None

    if retry and (current := read_back()) is not None:
        return current
    path = service_path("conversion", f"/mappingSets/{path_id('mappingSets', mapping_set_id)}")
    try:
        answer = dict(hook.request("PUT", path, json=model.to_put_body(mapping_set_id), idempotent=False) or {})
    except AepAmbiguousWriteError:
        current = read_back()
        if current is None:
            raise
        answer = current
    if _version_of(answer) is None:
        answer = read_back() or {}
    version = _version_of(answer)
    if version is None:
        raise AepError(
            f"mapping set {mapping_set_id}: the update was sent but neither its answer nor a read-back shows the "
            "new version holding the wanted rules; check the mapping set in Platform and run the task again."
        )
    return {**answer, "version": version}


def _flow_path(flow_id: str, tail: str = "") -> str:
    return service_path("flowservice", f"/flows/{path_id('flows', flow_id)}{tail}")


def _patch(flow: dict[str, Any], wanted: dict[str, Any]) -> list[dict[str, Any]]:
    """JSON Patch operations moving ``flow`` to the wanted mapping version, schedule and options, in the forms of
    help/sources/tutorials/api/update-dataflows.md ("Update mapping": ``replace /transformations/<i>`` with the
    whole Mapping transformation, "providing updated values for your mappingId and mappingVersion"; "Update
    dataflow": ``/scheduleParams/<key>``)."""
    ops: list[dict[str, Any]] = []
    want_mapping = next(t for t in wanted["transformations"] if t.get("name") == "Mapping")
    for index, t in enumerate(flow.get("transformations") or []):
        have = (t.get("params") or {}) if t.get("name") == "Mapping" else None
        if have is not None and (str(have.get("mappingId")), str(have.get("mappingVersion"))) != (
            str(want_mapping["params"]["mappingId"]), str(want_mapping["params"]["mappingVersion"])
        ):
            ops.append({"op": "replace", "path": f"/transformations/{index}", "value": want_mapping})
    have, want = flow.get("scheduleParams") or {}, wanted["scheduleParams"]
    for key in SCHEDULE_KEYS:
        # update-dataflows.md: "Operations include: add, replace, and remove" - add a key the flow lacks,
        # remove one the wanted schedule drops (interval and backfill of a flow moving to ``once``), with the value
        # it removes (PatchInstruction requires a value; the module's docstring).
        if want.get(key) is None and have.get(key) is not None:
            ops.append({"op": "remove", "path": f"/scheduleParams/{key}", "value": have[key]})
        elif want.get(key) is not None and have.get(key) is None:
            ops.append({"op": "add", "path": f"/scheduleParams/{key}", "value": want[key]})
        elif want.get(key) is not None and not same(have[key], want[key]):
            ops.append({"op": "replace", "path": f"/scheduleParams/{key}", "value": want[key]})
    return ops + _option_ops(flow, wanted.get("options"))


def _option_ops(flow: dict[str, Any], want: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The ops moving the flow's ``options`` to the wanted ones, in the form of help/ingestion/batch-ingestion/
    partial.md ("Enable partial ingestion and error diagnostics for an existing dataflow": ``add /options`` with
    ``partialIngestionPercent``, then ``add /options/errorDiagnosticsEnabled``); a key of a flow that has options
    is set with ``add`` too (RFC 6902: add replaces a member), a threshold the spec drops is removed."""
    diffs = option_diffs(flow, want)
    percent_differs = any(d.startswith("options.partialIngestionPercent") for d in diffs)
    diagnostics_differ = any(d.startswith("options.errorDiagnosticsEnabled") for d in diffs)
    have, want = flow.get("options"), want or {}
    ops: list[dict[str, Any]] = []
    if have is None and diffs:
        ops.append({"op": "add", "path": "/options",
                    "value": {k: v for k, v in want.items() if k != "errorDiagnosticsEnabled"}})
    elif percent_differs and want.get("partialIngestionPercent") is not None:
        ops.append({"op": "add", "path": "/options/partialIngestionPercent", "value": want["partialIngestionPercent"]})
    elif percent_differs:
        ops.append({"op": "remove", "path": "/options/partialIngestionPercent",
                    "value": (have or {}).get("partialIngestionPercent")})
    if diagnostics_differ:
        ops.append({"op": "add", "path": "/options/errorDiagnosticsEnabled", "value": want["errorDiagnosticsEnabled"]})
    return ops


def update_flow(hook: Any, flow_id: str, wanted: dict[str, Any], log: Any) -> str | None:
    """Patch the flow to the wanted mapping version, schedule and options (``If-Match``: its etag), enable it when
    disabled.

    A PATCH without an answer is read back: applied, it is done; else it is sent again with the new etag.
    :return: the flow's etag after the update.
    """
    for _ in range(3):
        flow = hook.get_object("flows", flow_id)
        if not flow or not flow.get("etag"):
            raise AepError(
                f"dataflow {flow_id} is gone (deleted since the plan read it), so on_drift: update cannot patch it: "
                "run the DAG again and its plan creates the dataflow anew."
            )
        ops = _patch(flow, wanted)
        if ops:
            try:
                answer = hook.request("PATCH", _flow_path(flow_id), json=ops, headers={"If-Match": str(flow["etag"])})
            except AepAmbiguousWriteError:
                log.warning("Patching dataflow %s had no answer; reading it back", flow_id)
                continue
            log.info("on_drift update: dataflow %s patched (%s)", flow_id, ", ".join(op["path"] for op in ops))
            flow["etag"] = (answer or {}).get("etag", flow.get("etag"))
        if str(flow.get("state") or "enabled").lower() == "disabled":
            # help/destinations/api/update-destination-dataflows.md ("Enable or disable dataflow"):
            # POST /flows/{FLOW_ID}/action?op=enable, answered with the flow's id and new etag. flow-service.yaml
            # writes the op ENABLE (and a subOp the docs' request leaves out): adobe_contract_notes.yaml.
            answer = hook.request("POST", _flow_path(flow_id, "/action"), params={"op": "enable"}, idempotent=True)
            flow["etag"] = (answer or {}).get("etag", flow.get("etag"))
            log.info("on_drift update: dataflow %s enabled", flow_id)
        return flow.get("etag")
    raise AepAmbiguousWriteError(f"dataflow {flow_id}: the update stayed unconfirmed after 3 tries.")
