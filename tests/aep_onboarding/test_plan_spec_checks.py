"""What the plan checks from what the spec already shows, before any write: a destination mapped twice,
``identity`` and ``namespace`` without each other, an identity namespace the sandbox does not have (Identity
Service, read once and only when a rule is an identity), and a delta column that is not a date-time column of
the explored table. Each is a configuration error naming the object, the rule or column and the fix; the
plan task fails at once (``AirflowFailException``), so no retry runs and nothing is written."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from aep_emulator.testing import EmulatorServer
from aep_onboarding.planning.models import PlanRow
from aep_onboarding.steps import object_resources
from tests.aep_provider.aep_provider_chain import hubspot_conn_env
from tests.contract.task_context import make_context

IDENTITIES = "/data/core/idnamespace/identities"
NAMES = {step: f"checks {step}" for step, _ in object_resources()}


def _row(mappings: list[dict[str, Any]], delta_column: str = "Added_At", key: str = "contacts") -> dict[str, Any]:
    columns = sorted({*(rule["source"] for rule in mappings), delta_column})
    return {"key": key, "source": "Hubspot.Contacts", "names": NAMES, "columns": columns,
            "class_ref": "https://ns.adobe.com/xdm/context/profile", "field_groups": [],
            "mappings": mappings, "delta_column": delta_column}


def _rule(source: str, destination: str, identity: bool = False, namespace: str | None = None) -> dict[str, Any]:
    return {"source": source, "destination": destination, "identity": identity, "namespace": namespace}


def test_a_destination_mapped_twice_and_a_lone_identity_or_namespace_are_refused() -> None:
    """Rules the spec shows to be wrong are refused before any read, naming the object, each rule and the fix."""
    from aep_onboarding.planning.checks import check_mapping_rules
    from aep_provider.hooks.errors import AepConfigError

    twice = PlanRow(**_row([_rule("Vid", "_id"), _rule("Properties_Email_Value", "_id")]))
    with pytest.raises(AepConfigError) as caught:
        check_mapping_rules(twice)
    message = str(caught.value)
    assert message.startswith("[contacts] mappings:") and "the destination `_id` is mapped 2 times" in message
    assert "mapping[0] (source `Vid`), mapping[1] (source `Properties_Email_Value`)" in message
    assert "map each destination once" in message
    for rule, wrong, fix in (
        (_rule("Properties_Email_Value", "personalEmail.address", identity=True), "needs `namespace`",
         "add it, or remove `identity: true`"),
        (_rule("Properties_Email_Value", "personalEmail.address", namespace="Email"), "without `identity: true`",
         "add `identity: true`, or remove `namespace`"),
    ):
        with pytest.raises(AepConfigError) as caught:
            check_mapping_rules(PlanRow(**_row([_rule("Vid", "_id"), rule])))
        assert str(caught.value).startswith("[contacts] mappings[1]:") and wrong in str(caught.value)
        assert fix in str(caught.value)


def test_an_identity_namespace_the_sandbox_lacks_is_refused_naming_the_closest(
    aep_conn_env: EmulatorServer, caplog: pytest.LogCaptureFixture,
) -> None:
    """The sandbox's namespace codes are read once (``GET /data/core/idnamespace/identities``) when a rule is an
    identity, and not at all otherwise; an unknown code names the closest codes and the fix; a code written in
    another letter case is refused naming the sandbox's spelling (the mapping set would send it as written); a
    sandbox that refuses the read (a regional host, a missing permission) skips the check with a warning."""
    from aep_onboarding.planning.checks import check_rows
    from aep_provider.hooks.aep import AepHook
    from aep_provider.hooks.errors import AepConfigError

    hook = AepHook()
    paths: list[str] = []
    real_get = hook.get

    def spy(path: str, *args: Any, **kwargs: Any) -> Any:
        paths.append(path)
        return real_get(path, *args, **kwargs)

    hook.get = spy  # type: ignore[method-assign]
    check_rows(hook, [PlanRow(**_row([_rule("Vid", "_id")]))])
    assert paths == [], "no identity rule: no Identity Service read"
    email = _rule("Properties_Email_Value", "personalEmail.address", identity=True, namespace="Emial")
    rows = [PlanRow(**_row([_rule("Vid", "_id"), email], key=key)) for key in ("a", "b")]
    with pytest.raises(AepConfigError) as caught:
        check_rows(hook, rows)
    message = str(caught.value)
    assert "[a] mappings[1]: the identity namespace 'Emial' does not exist in the sandbox (closest: Email)" in message
    assert "[b] mappings[1]" in message and "create the namespace first" in message and "ECID" in message
    assert paths == [IDENTITIES], "one read for every object"
    lower = _rule("Properties_Email_Value", "personalEmail.address", identity=True, namespace="email")
    with pytest.raises(AepConfigError, match="the sandbox writes the identity namespace 'email' as 'Email'"):
        check_rows(hook, [PlanRow(**_row([_rule("Vid", "_id"), lower]))])

    from aep_provider.hooks.errors import AepAuthError

    def refused() -> Any:
        raise AepAuthError("Forbidden", status=403)

    hook.list_identity_namespaces = refused  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING):
        check_rows(hook, [PlanRow(**_row([_rule("Vid", "_id"), email]))])
    assert "Could not read the sandbox's identity namespaces" in caplog.text and "View Identity Namespaces" in caplog.text


def test_a_delta_column_that_is_not_a_time_is_refused_naming_the_time_columns(
    aep_conn_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The explored table says each column's type (explore/crm.md: ``"meta:xdmType": "date-time"``); a delta
    column of another type is refused, naming the table's date-time columns; a date-time one passes."""
    from aep_onboarding.planning.checks import check_columns
    from aep_provider.hooks.aep import AepHook
    from aep_provider.hooks.errors import AepConfigError
    from aep_provider.operators.connections import AepCreateHubSpotBaseConnectionOperator

    hubspot_conn_env(monkeypatch)
    base = AepCreateHubSpotBaseConnectionOperator(task_id="base", name="checks base", hubspot_conn_id="hubspot_default")
    base_id = str(base.execute(make_context()))
    hook = AepHook()
    with pytest.raises(AepConfigError) as caught:
        check_columns(hook, PlanRow(**_row([_rule("Vid", "_id")], delta_column="Vid")), base_id)
    message = str(caught.value)
    assert message.startswith("[contacts] delta_column: 'Vid' is a long column of Hubspot.Contacts")
    assert "name a date-time column (Added_At, Updated_At)" in message
    assert "Added_At" in check_columns(hook, PlanRow(**_row([_rule("Vid", "_id")])), base_id)


def test_the_plan_task_fails_at_once_and_writes_nothing(aep_conn_env: EmulatorServer) -> None:
    """Through the plan operator: a configuration error the rules show is an ``AirflowFailException`` (no
    retry), raised before any write."""
    from airflow.sdk.exceptions import AirflowFailException

    from aep_onboarding.planning.operator import AepPlanOperator

    before = aep_conn_env.admin.state()["counters"]["writes"]
    rules = [_rule("Vid", "_id"), _rule("Properties_Email_Value", "personalEmail.address", True, "NoSuchNamespace")]
    op = AepPlanOperator(task_id="plan", for_each=[_row(rules)], hubspot_base_connection_name="none yet",
                         dataset_base_connection_name="none yet")
    with pytest.raises(AirflowFailException, match="'NoSuchNamespace' does not exist in the sandbox"):
        op.execute(make_context())
    assert aep_conn_env.admin.state()["counters"]["writes"] == before
