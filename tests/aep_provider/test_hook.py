"""AepHook: tokens, headers, retries, typed errors, secrets kept out of logs."""

from __future__ import annotations

import logging
import os
import stat
from typing import Any

import pytest

from aep_emulator.testing import DEMO_CLIENT_SECRET
from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.errors import (
    AepAmbiguousWriteError,
    AepAuthError,
    AepConfigError,
    AepNotFoundError,
    AepTransientError,
)
from aep_provider.hooks.token_cache import clear_memory_cache
from aep_provider.hooks.transport import service_path

STATS = service_path("schemaregistry", "/stats")


def profile_schema(title: str) -> dict[str, Any]:
    """The body of a profile schema create titled ``title``."""
    return {"title": title, "type": "object", "allOf": [{"$ref": "https://ns.adobe.com/xdm/context/profile"}]}


def test_two_hooks_on_one_worker_ask_ims_once_through_the_encrypted_file_cache(
    aep_conn_env, token_cache_dir, ims_count
):
    first = AepHook()
    first.get(STATS)
    clear_memory_cache()  # a second task process: only the file is shared
    second = AepHook()
    second.get(STATS)
    assert ims_count() == 1
    assert aep_conn_env.admin.state()["counters"]["ims_token_requests"] == 1
    files = [f for f in os.listdir(token_cache_dir) if f.endswith(".token")]
    assert len(files) == 1
    path = os.path.join(token_cache_dir, files[0])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(token_cache_dir).st_mode) == 0o700
    token = first.get_token()
    with open(path, "rb") as fh:
        blob = fh.read()
    assert token.encode() not in blob and DEMO_CLIENT_SECRET.encode() not in blob


def test_another_secret_cannot_read_the_cached_token(aep_conn_env, conn_factory, ims_count):
    """A cache entry encrypted for one credential is never used for another."""
    AepHook().get(STATS)
    clear_memory_cache()
    conn_factory(
        "aep_other", login="other-client", password="other-secret", org_id="OTHER000000000000000000@AdobeOrg"
    )
    AepHook("aep_other").get(STATS)
    assert ims_count() == 2


def test_expired_token_mid_run_is_refreshed_once_and_the_call_repeated(aep_conn_env, ims_count):
    """401013 after the token expired: one new token, the call succeeds, and the refused token is dropped
    from both caches (another task process reading the file cache gets the new one without asking IMS)."""
    aep_conn_env.admin.configure(token_ttl_seconds=60)
    hook = AepHook()
    hook.get(STATS)
    expired = hook.get_token()
    aep_conn_env.admin.advance(120)  # emulator time passes: the token is now invalid there
    assert hook.get(STATS)["tenantId"] == "demotenant"
    assert ims_count() == 2
    fresh = hook.get_token()
    assert fresh != expired, "the hook still hands out the token the Platform refused"
    clear_memory_cache()  # another task process: only the encrypted file is shared
    assert AepHook().get_token() == fresh
    assert ims_count() == 2


def test_a_token_refreshed_after_a_restart_is_logged_as_information_not_as_a_rejection(aep_conn_env, capsys):
    """A cached token IMS no longer accepts (expired, or from before a restart) is routine: the log says a new
    one is fetched, at INFO, and never that access was rejected."""
    aep_conn_env.admin.configure(token_ttl_seconds=60)
    hook = AepHook()
    hook.get(STATS)
    aep_conn_env.admin.advance(120)
    capsys.readouterr()
    hook.get(STATS)
    out = capsys.readouterr().out
    refresh = [line for line in out.splitlines() if "no longer valid" in line]
    assert refresh and all("[info" in line for line in refresh), out
    assert "rejected" not in out.lower()


def test_a_failed_connection_test_never_names_the_random_id_of_the_ui_test(conn_factory):
    """The UI tests a form under a random connection id; the message says "this connection" instead of it."""
    conn_factory("x8f3kq1z", org_id="")
    ok, message = AepHook("x8f3kq1z").test_connection()
    assert not ok and "x8f3kq1z" not in message and "org_id" in message


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "drop"])
def test_reads_survive_transient_faults(aep_conn_env, kind):
    aep_conn_env.admin.set_faults(
        [{"kind": kind, "method": "GET", "path_regex": "/stats", "max_hits": 2, "retry_after": 0}]
    )
    assert AepHook().get(STATS)["tenantId"] == "demotenant"
    assert aep_conn_env.admin.faults()["rules"][0]["hits"] == 2


def test_retry_budget_is_bounded_and_ends_in_a_transient_error(aep_conn_env, conn_factory):
    conn_factory("aep_bounded", max_retries=2)
    aep_conn_env.admin.set_faults([{"kind": "503", "path_regex": "/stats"}])
    with pytest.raises(AepTransientError) as info:
        AepHook("aep_bounded").get(STATS)
    assert info.value.status == 503
    assert aep_conn_env.admin.faults()["rules"][0]["hits"] == 3


def test_429_on_a_write_is_retried_because_nothing_was_applied(aep_conn_env):
    aep_conn_env.admin.set_faults(
        [{"kind": "429", "method": "POST", "path_regex": "/tenant/schemas", "max_hits": 2, "retry_after": 0}]
    )
    AepHook().create_resource("schemas", profile_schema("After 429"))
    assert len([r for r in aep_conn_env.admin.state()["resources"] if r["kind"] == "schema"]) == 1


def test_a_dropped_write_is_reported_as_ambiguous_not_blindly_repeated(aep_conn_env):
    aep_conn_env.admin.set_faults(
        [{"kind": "commit_then_drop", "method": "POST", "path_regex": "/tenant/schemas", "max_hits": 1}]
    )
    with pytest.raises(AepAmbiguousWriteError):
        AepHook().create_resource("schemas", profile_schema("Dropped"))
    assert len([r for r in aep_conn_env.admin.state()["resources"] if r["kind"] == "schema"]) == 1


def test_errors_carry_the_call_status_code_request_id_and_the_platforms_own_detail(aep_conn_env):
    """A Platform error names the call (method and URL), Adobe's detail, the status, code and request id."""
    path = service_path("schemaregistry", "/tenant/schemas/_demotenant.schemas.nope")
    with pytest.raises(AepNotFoundError) as info:
        AepHook().get(path, accept="application/vnd.adobe.xed-full+json; version=1")
    err = info.value
    assert err.status == 404 and err.error_code == "XDM-1010-404"
    assert err.request_id and len(err.request_id) >= 16
    message = str(err)
    assert message.startswith(f"GET {aep_conn_env.base_url}{path}: "), message
    assert "_demotenant.schemas.nope was not found" in message, message
    assert f"(HTTP 404, code XDM-1010-404, request id {err.request_id})" in message, message


def test_unknown_sandbox_error_ends_in_the_sentence_naming_the_settings_to_fix(aep_conn_env):
    """An error code the provider knows advice for ends its message with that advice (here: which settings)."""
    with pytest.raises(AepNotFoundError) as info:
        AepHook(sandbox="nosuchsandbox").iter_flow_service("flows").__next__()
    message = str(info.value)
    assert "'nosuchsandbox' does not exist" in message, message
    assert message.endswith(
        "- The sandbox does not exist for this org; set extra.sandbox on the connection or sandbox= on the task "
        "to an existing sandbox (e.g. 'prod')."
    ), message


def test_empty_sandbox_fails_before_any_call_naming_the_field(aep_conn_env):
    before = aep_conn_env.admin.state()["counters"]["requests"]
    with pytest.raises(AepConfigError, match="sandbox"):
        AepHook(sandbox="").get(STATS)
    assert aep_conn_env.admin.state()["counters"]["requests"] == before


def test_missing_org_id_fails_naming_extra_org_id(aep_conn_env, conn_factory):
    conn_factory("aep_no_org", org_id="")
    with pytest.raises(AepConfigError, match=r"extra\.org_id"):
        AepHook("aep_no_org").get(STATS)


def test_wrong_client_secret_is_an_auth_error_naming_the_connection_fields(aep_conn_env, conn_factory):
    conn_factory("aep_bad", password="wrong-secret-value")
    with pytest.raises(AepAuthError, match="client secret"):
        AepHook("aep_bad").get(STATS)


def test_test_connection_reports_org_sandbox_and_tenant(aep_conn_env):
    ok, message = AepHook().test_connection()
    assert ok, message
    assert "demotenant" in message and "prod" in message
    ok, message = AepHook(sandbox="nosuchsandbox").test_connection()
    assert ok is False, message
    assert "'nosuchsandbox' does not exist" in message and "set extra.sandbox on the connection" in message


def test_logs_never_contain_the_secret_or_the_token(aep_conn_env, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    aep_conn_env.admin.configure(token_ttl_seconds=60)
    aep_conn_env.admin.set_faults([{"kind": "503", "method": "GET", "max_hits": 1}])
    hook = AepHook()
    hook.get(STATS)
    aep_conn_env.admin.advance(120)
    hook.get(STATS)
    token = hook.get_token()
    out = capsys.readouterr()
    text = caplog.text + out.out + out.err
    assert DEMO_CLIENT_SECRET not in text
    assert token not in text
    assert "IMS request" in text  # IMS requests are counted in the log


def test_writes_send_content_type_and_schema_reads_a_versioned_accept(aep_conn_env):
    """The gateway refuses writes without Content-Type and single SR reads without versioned Accept."""
    hook = AepHook()
    created = hook.create_resource("schemas", profile_schema("Hdr"))
    assert hook.get_resource("schemas", created["$id"])["title"] == "Hdr"


def test_the_async_hook_retries_and_refreshes_its_token_like_the_sync_hook(aep_conn_env, ims_count):
    """The trigger's hook follows the same rules: a 503 and a 429 are waited out, an expired token is replaced
    once, and the call succeeds."""
    import asyncio

    from aep_provider.hooks.aep_async import AepAsyncHook

    aep_conn_env.admin.configure(token_ttl_seconds=60)
    hook = AepAsyncHook()
    assert asyncio.run(hook.get(STATS))["tenantId"] == "demotenant"
    aep_conn_env.admin.advance(120)
    aep_conn_env.admin.set_faults([
        {"kind": "503", "method": "GET", "path_regex": "/stats", "max_hits": 1, "retry_after": 0},
        {"kind": "429", "method": "GET", "path_regex": "/stats", "max_hits": 1, "retry_after": 0},
    ])
    assert asyncio.run(hook.get(STATS))["tenantId"] == "demotenant"
    assert [rule["hits"] for rule in aep_conn_env.admin.faults()["rules"]] == [1, 1]
    assert ims_count() == 2


def test_one_set_of_hook_params_builds_the_sync_and_the_async_hook(aep_conn_env):
    """Operators, sensor and trigger pass one ``hook_params`` dict to either hook; both honour every key."""
    import asyncio

    from aep_provider.hooks.aep_async import AepAsyncHook
    from aep_provider.hooks.params import AepHookParams

    params: AepHookParams = {"sandbox": "nosuchsandbox", "max_retries": 0, "retry_max_seconds": 5.0,
                             "timeout": 7.0, "token_cache_dir": None}
    sync_hook, async_hook = AepHook("aep_default", **params), AepAsyncHook("aep_default", **params)
    async_settings = asyncio.run(async_hook.settings())
    for settings in (sync_hook.settings, async_settings):
        assert settings.sandbox == "nosuchsandbox" and settings.timeout == 7.0
        assert settings.retry.max_retries == 0 and settings.retry.max_seconds == 5.0
    with pytest.raises(AepNotFoundError, match="nosuchsandbox"):
        sync_hook.get(STATS)
    with pytest.raises(AepNotFoundError, match="nosuchsandbox"):
        asyncio.run(async_hook.get(STATS))
