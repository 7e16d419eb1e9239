"""The onboarding chain in ``for_each`` mode for three HubSpot tables, run against the emulator (test helper).

Each step returns ``{key: id}`` and the next joins it through ``inputs``; ``run_flows`` starts one window
run per flow. The per-object tests (``test_for_each_*``) build on it; ``conftest`` offers it as ``chain``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aep_provider_chain import SCHEDULE, resource_counts

# By module: the operator classes are named where each step of the chain is listed.
from aep_provider.operators import connections, dataset, flow, mapping, schema

#: The window every run of these tests ingests (one on-demand run per flow).
WINDOW = {"window_start": "2025-01-01T00:00:00Z", "window_end": "2026-01-01T00:00:00Z"}
ACCOUNT = "https://ns.adobe.com/xdm/context/account"
OPPORTUNITY = "https://ns.adobe.com/xdm/context/opportunity"


def _table(path: str, class_ref: str, id_column: str, mapped: dict[str, str], field_groups: list[str]) -> dict[str, Any]:
    """A HubSpot table onboarded to ``class_ref``: its id column (long, mapped to ``_id``), string columns
    mapped to XDM paths (``mapped``), and ``Updated_At`` (a date-time, not mapped)."""
    return {
        "path": path,
        "fields": {id_column: "long", **dict.fromkeys(mapped, "string"), "Updated_At": "date-time"},
        "class_ref": class_ref,
        "field_groups": field_groups,
        "mappings": [
            {"source": id_column, "destination": "_id"},
            *({"source": column, "destination": destination} for column, destination in mapped.items()),
        ],
    }


# Three HubSpot tables, each onboarded to its own XDM class (columns and paths of the emulator).
OBJECTS: dict[str, dict[str, Any]] = {
    "contacts": _table(
        "Hubspot.Contacts",
        "https://ns.adobe.com/xdm/context/profile",
        "Vid",
        {
            "Properties_Firstname_Value": "person.name.firstName",
            "Properties_Lastname_Value": "person.name.lastName",
            "Properties_Email_Value": "personalEmail.address",
        },
        ["profile-person-details", "profile-personal-details"],
    ),
    "companies": _table(
        "Hubspot.Companies",
        ACCOUNT,
        "Company_Id",
        {"Properties_Name_Value": "accountName", "Properties_Industry_Value": "accountOrganization.industry"},
        [],
    ),
    "deals": _table(
        "Hubspot.All_Deals",
        OPPORTUNITY,
        "Deal_Id",
        {"Properties_Dealname_Value": "opportunityName", "Properties_Dealstage_Value": "opportunityStage"},
        [],
    ),
}
KEYS = sorted(OBJECTS)

# What one object leaves in the emulator (the two base connections are shared by all objects).
PER_OBJECT = {
    "class": 1,
    "schema": 2,
    "dataset": 1,
    "sourceConnection": 1,
    "targetConnection": 1,
    "mappingSet": 1,
    "flow": 1,
}




def expected_counts(n: int) -> dict[str, int]:
    """Resources of ``n`` onboarded objects; each one-time flow has made its own run (SCHEDULE)."""
    return {**{kind: count * n for kind, count in PER_OBJECT.items()}, "connection": 2, "run": n}


def kinds(emulator, kind: str) -> list[dict[str, Any]]:
    return [r for r in emulator.admin.state()["resources"] if r["kind"] == kind]


#: How many resources of each kind the emulator holds.
counts = resource_counts


def names_of(emulator, kind: str) -> set[str]:
    return {r["name"] for r in kinds(emulator, kind)}


def rows(make: Callable[[str, dict[str, Any]], dict[str, Any]], objects=None) -> list[dict[str, Any]]:
    objects = OBJECTS if objects is None else objects
    return [{"key": key, **make(key, spec)} for key, spec in objects.items()]


class Chain:
    """The onboarding chain in for_each mode: shared steps once, every other step for all objects."""

    def __init__(self, make_context: Callable[[], dict[str, Any]]) -> None:
        self.make_context = make_context
        self.ids: dict[str, Any] = {}
        self.ctx: dict[str, dict[str, Any]] = {}
        self.ops: dict[str, Any] = {}

    def step(self, name: str, op: Any) -> Any:
        self.ops[name] = op
        self.ctx[name] = self.make_context()
        self.ids[name] = op.execute(self.ctx[name])
        return self.ids[name]

    def xcom(self, name: str, key: str) -> Any:
        return self.ctx[name]["ti"].xcom[key]



def for_each_chain(
    make_context: Callable[[], dict[str, Any]],
    *,
    keys: list[str] | None = None,
    objects: dict[str, dict[str, Any]] | None = None,
    **common: Any,
) -> Chain:
    """The whole chain for ``objects`` (default: the three HubSpot tables), ``keys`` selecting some."""
    chain = Chain(make_context)

    def each(name: str, op_class: Any, make: Callable[[str, dict[str, Any]], dict[str, Any]], **kw: Any) -> Any:
        """A for_each step named ``name`` (also its task id): one row per object, made by ``make``."""
        return chain.step(name, op_class(task_id=name, for_each=rows(make, objects), keys=keys, **kw, **common))

    base = chain.step(
        "base",
        connections.AepCreateHubSpotBaseConnectionOperator(
            task_id="base", name="HubSpot account", hubspot_conn_id="hubspot_default"
        ),
    )
    classes = each(
        "class", schema.AepCreateAdhocClassOperator, lambda k, o: {"title": f"HubSpot {k} class", "fields": o["fields"]}
    )
    adhoc = each(
        "adhoc_schema",
        schema.AepCreateAdhocSchemaOperator,
        lambda k, o: {"title": f"HubSpot {k} ad-hoc schema"},
        inputs={"class_id": classes},
    )
    sources = each(
        "source",
        connections.AepCreateSourceConnectionOperator,
        lambda k, o: {"name": f"HubSpot {k} source", "path": o["path"]},
        base_connection_id=base,
        inputs={"schema_id": adhoc},
    )
    targets = each(
        "target_schema",
        schema.AepCreateTargetSchemaOperator,
        lambda k, o: {
            "title": f"HubSpot {k} target schema",
            "class_ref": o["class_ref"],
            "field_groups": o["field_groups"],
        },
    )
    datasets = each(
        "dataset",
        dataset.AepCreateDatasetOperator,
        lambda k, o: {"name": f"HubSpot {k}"},
        inputs={"schema_id": targets},
    )
    ds_base = chain.step(
        "dataset_base",
        connections.AepCreateDatasetBaseConnectionOperator(task_id="ds_base", name="Dataset base connection"),
    )
    tgt = each(
        "target",
        connections.AepCreateTargetConnectionOperator,
        lambda k, o: {"name": f"HubSpot {k} target"},
        base_connection_id=ds_base,
        inputs={"schema_id": targets, "dataset_id": datasets},
    )
    mappings = each(
        "mapping",
        mapping.AepCreateMappingSetOperator,
        lambda k, o: {"mappings": o["mappings"]},
        inputs={"schema_id": targets},
    )
    spec = chain.step("flow_spec", flow.AepGetFlowSpecOperator(task_id="spec"))
    each(
        "flow",
        flow.AepCreateDataflowOperator,
        lambda k, o: {"name": f"HubSpot {k} dataflow"},
        flow_spec_id=spec,
        delta_column="Added_At",
        schedule=SCHEDULE,
        inputs={
            "source_connection_id": sources,
            "target_connection_id": tgt,
            "mapping_id": mappings,
            "mapping_version": chain.xcom("mapping", "mapping_version"),
        },
    )
    return chain


FOR_EACH_STEPS = ["class", "adhoc_schema", "source", "target_schema", "dataset", "target", "mapping", "flow"]


def run_flow_op(chain: Chain, for_each: list[dict[str, Any]] | None = None, **kw: Any) -> Any:
    """An ``AepRunFlowOperator`` task over the flows of ``chain`` (by default one row per flow)."""
    return flow.AepRunFlowOperator(
        task_id="run",
        delta_column="Added_At",
        for_each=[{"key": key} for key in sorted(chain.ids["flow"])] if for_each is None else for_each,
        inputs={"flow_id": chain.ids["flow"]},
        **kw,
    )


def run_flows(chain: Chain, make_context, ctx=None, **kw: Any) -> dict[str, str]:
    """One ``AepRunFlowOperator`` task over every flow of ``chain``, on ``WINDOW``: ``{key: run id}``."""
    return run_flow_op(chain, **{**WINDOW, **kw}).execute(make_context() if ctx is None else ctx)
