"""Bad-input catalogue, connections and parameters: each fails with the precise error, naming the field,
what is wrong and the fix, before any write.

Each case runs an operator's ``execute`` against the emulator: the exact exception class
(``AepConfigError`` for bad settings and parameters, the ``AepApiError`` subclass of the Platform's
answer otherwise), and the emulator's resources and write counter are the same afterwards.

An unknown HubSpot table passes spec validation (the spec only checks the ``Hubspot.<Table>`` form): it
is found at run time. With ``fields: discover`` the ad-hoc class task explores the table first and fails
on a 404 before it writes; the source connection task is refused by the Platform (400, nothing written).
In a DAG the object's read-only ``check_source`` task fails first; the DAG-level test at the end checks
that nothing at all is written for that object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bad_input_run_cases import RUN_CASES, RunCase, World
from bad_input_spec_cases import SPEC_CASES

from aep_emulator.testing import EmulatorServer


def _state(emulator: EmulatorServer) -> tuple[list[tuple[str, ...]], int]:
    state = emulator.admin.state()
    resources = sorted(tuple(str(r[k]) for k in ("org", "sandbox", "kind", "id", "name")) for r in state["resources"])
    return resources, state["counters"]["writes"]


@pytest.fixture
def world(airflow_db, emulator: EmulatorServer, aep_conn_env, monkeypatch: pytest.MonkeyPatch, tmp_path) -> World:
    from aep_provider.hooks.retry import RetryPolicy
    from aep_provider.hooks.token_cache import clear_memory_cache

    monkeypatch.setenv("AEP_TOKEN_CACHE_DIR", str(tmp_path / "token-cache"))
    clear_memory_cache()
    monkeypatch.setattr(
        RetryPolicy, "default", classmethod(lambda cls: cls(max_retries=2, max_seconds=10, base_delay=0.01, max_delay=0.05))
    )
    return World(emulator, monkeypatch)


def _params() -> list[Any]:
    out = []
    for case in RUN_CASES:
        marks = list(case.marks)
        if case.bug:
            marks.append(pytest.mark.xfail(reason=f"product bug: {case.bug}", strict=True))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_bad_connection_or_parameter_fails_before_any_write(case: RunCase, world: World) -> None:
    for need in case.needs:
        world.need(need)
    from aep_provider.hooks import errors

    error = getattr(errors, case.error)
    before = _state(world.emulator)
    with pytest.raises(error) as caught:
        case.run(world)
    message = str(caught.value)
    print(f"\n[bad-input] {case.id}: {type(caught.value).__name__}: {message}")
    assert type(caught.value) is error, f"{type(caught.value).__name__}, not {case.error}: {message}"
    for what, text in (("field", case.field), ("what is wrong", case.wrong), ("fix", case.fix)):
        assert text in message, f"the {what} {text!r} is not in {case.error}: {message}"
    after = _state(world.emulator)
    assert after[0] == before[0], "the failing case changed the emulator's resources"
    # A step that had to create took the sandbox's write lease first and gave it back (two writes, nothing left:
    # the resources are the same); nothing else was written.
    assert after[1] - before[1] in (0, 2), f"the failing case wrote {after[1] - before[1]} times"


def test_catalogue_has_at_least_25_cases() -> None:
    assert len(SPEC_CASES) + len(RUN_CASES) >= 25
    assert len({c.id for c in SPEC_CASES} | {c.id for c in RUN_CASES}) == len(SPEC_CASES) + len(RUN_CASES)


# --------------------------------------------------------------------------------------------------
# product bugs found while building the catalogue
# --------------------------------------------------------------------------------------------------


def test_hubspot_connection_without_refresh_token_is_accepted(world: World) -> None:
    """The refresh token is optional (operator docs; the connection spec requires clientId, clientSecret,
    accessToken only), yet the body sent ``"refreshToken": null`` and the Platform refused it (400)."""
    from aep_provider.operators.connections import AepCreateHubSpotBaseConnectionOperator

    world.conn("hs_no_refresh", {"conn_type": "generic", "login": "hs", "password": "p",
                                 "extra": {"access_token": "t"}})
    base_id = AepCreateHubSpotBaseConnectionOperator(
        task_id="h", name="No refresh token", hubspot_conn_id="hs_no_refresh"
    ).execute(world.ctx())
    assert base_id


UNKNOWN_TABLE_SPEC = """\
name: unknown_table
hubspot: {conn_id: hubspot_default}
retries: 0
sensor_poll_seconds: 0.2
objects:
  - source: Hubspot.Leads
    delta_column: Added_At
    mapping: [{source: Id, destination: _id}]
"""


def test_unknown_hubspot_table_in_a_dag_fails_before_any_write_of_that_object(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Until 82eee90 the factory wired ``gate >> [adhoc_class, target_schema]``, so the target schema,
    dataset, mapping set and target connection of an object whose table does not exist were created while
    adhoc_class failed on the explore 404. Now the read-only ``check_source`` task runs first."""
    from aep_onboarding.factory import build_onboarding_dag
    from aep_onboarding.loader import load_spec
    from aep_onboarding.names import object_names

    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "unknown_table.yaml").write_text(UNKNOWN_TABLE_SPEC)
    monkeypatch.setenv("AEP_SPECS_DIR", str(specs))
    spec = load_spec(specs / "unknown_table.yaml")  # the spec is valid: only the table's form is checked
    run = build_onboarding_dag(spec).test(logical_date=None)
    assert run.state == "failed"

    names = object_names(spec, spec.objects[0])
    written = sorted(
        f"{r['kind']} {r['name']!r}" for r in world.emulator.admin.state()["resources"]
        if r["name"] in set(vars(names).values())
    )
    assert written == [], f"resources of the unknown table's object were written: {written}"
