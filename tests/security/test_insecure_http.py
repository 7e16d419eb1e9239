"""The client secret and tokens never travel in clear: http:// is refused for any host but loopback.

Unless the connection says ``extra.allow_insecure_http`` (a test server such as the compose emulator
service); the error names the field and the fix.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk import Connection

from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.settings import AepSettings


def _conn(host: str, ims_host: str = "https://ims-na1.adobelogin.com", **extra: Any) -> Connection:
    return Connection(
        conn_id="aep_test", conn_type="adobe_experience_platform", login="client-id", password="client-secret",
        host=host, extra=json.dumps({"org_id": "X@AdobeOrg", "ims_host": ims_host, **extra}),
    )


@pytest.mark.parametrize(("host", "ims_host", "field"), [
    ("http://platform.adobe.io", "https://ims-na1.adobelogin.com", "host"),
    ("https://platform.adobe.io", "http://ims-na1.adobelogin.com", "extra.ims_host"),
    ("http://10.1.2.3:8765", "https://ims-na1.adobelogin.com", "host"),
])
def test_plain_http_to_a_remote_host_is_refused_naming_the_field_and_the_fix(host: str, ims_host: str, field: str) -> None:
    with pytest.raises(AepConfigError) as refused:
        AepSettings.from_connection(_conn(host, ims_host))
    message = str(refused.value)
    assert f"{field} 'http://" in message and "in clear" in message
    assert "use 'https://" in message and "extra.allow_insecure_http=true" in message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765", "http://127.0.1.1"])
def test_loopback_http_needs_no_flag(url: str) -> None:
    """The local emulator (tests, native deployment) keeps working without any extra setting."""
    settings = AepSettings.from_connection(_conn(url, url))
    assert settings.host == url


def test_allow_insecure_http_lets_a_named_test_server_through(monkeypatch: pytest.MonkeyPatch) -> None:
    # The compose file allows its emulator service as an IMS host through the Airflow configuration.
    monkeypatch.setenv("AIRFLOW__AEP__ALLOWED_IMS_HOSTS", "aep-emulator:8765")
    settings = AepSettings.from_connection(_conn("http://aep-emulator:8765", "http://aep-emulator:8765", allow_insecure_http=True))
    assert settings.host == "http://aep-emulator:8765"
    with pytest.raises(AepConfigError, match="allow_insecure_http"):
        AepSettings.from_connection(_conn("http://aep-emulator:8765", "http://aep-emulator:8765", allow_insecure_http="false"))
    with pytest.raises(AepConfigError, match="must be true or false"):
        AepSettings.from_connection(_conn("https://platform.adobe.io", allow_insecure_http="maybe"))


def test_https_and_the_defaults_pass() -> None:
    conn = Connection(conn_id="aep_test", conn_type="adobe_experience_platform", login="id", password="secret",
                      extra=json.dumps({"org_id": "X@AdobeOrg"}))
    settings = AepSettings.from_connection(conn)
    assert settings.host == "https://platform.adobe.io" and settings.ims_host.startswith("https://")


def test_a_host_without_scheme_is_https() -> None:
    assert AepSettings.from_connection(_conn("platform.adobe.io")).host == "https://platform.adobe.io"
    with pytest.raises(AepConfigError, match="not an http"):
        AepSettings.from_connection(_conn("ftp://platform.adobe.io"))
