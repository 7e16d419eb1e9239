"""Loopback means the literals only, and an id must have AEP's shape from its first to its last character.

``http://`` is let through without ``extra.allow_insecure_http`` only for traffic that cannot leave the
machine: ``localhost`` and the literals of 127.0.0.0/8 and ::1. A name such as ``aep.localhost`` is
resolved through DNS on many systems (RFC 6761 only asks resolvers to treat it specially), so it is not
loopback here. Resource ids are checked with a full match: ``re.match`` with ``$`` accepts a trailing
newline, which would then travel in the request path.
"""

from __future__ import annotations

import json

import pytest
from airflow.sdk import Connection

from aep_provider.hooks.errors import AepConfigError
from aep_provider.hooks.ids import checked_id
from aep_provider.hooks.settings import AepSettings, is_loopback

UUID = "4ae9a6d8-9bf4-45a3-b437-3b2b7e1cf21c"


@pytest.mark.parametrize("name", ["aep.localhost", "localhost.", "evil.localhost", "127.0.0.1.nip.io", "0x7f000001"])
def test_names_that_only_look_local_are_not_loopback(name: str) -> None:
    """Names resolved through DNS (or spellings ipaddress does not read as literals) get no plain-http pass."""
    assert not is_loopback(name)


@pytest.mark.parametrize("name", ["localhost", "LOCALHOST", "127.0.0.1", "127.3.2.1", "::1", "[::1]"])
def test_loopback_literals_and_localhost_are_loopback(name: str) -> None:
    """The local emulator keeps working over http:// on localhost and the loopback literals."""
    assert is_loopback(name)


def test_plain_http_to_a_dot_localhost_name_needs_the_explicit_flag() -> None:
    """http:// to a .localhost name would leave the machine in clear: refused unless allow_insecure_http is set."""
    conn = Connection(conn_id="aep_test", conn_type="adobe_experience_platform", login="id", password="secret",
                      host="http://aep.localhost:8765",
                      extra=json.dumps({"org_id": "X@AdobeOrg", "ims_host": "https://ims-na1.adobelogin.com"}))
    with pytest.raises(AepConfigError, match="allow_insecure_http"):
        AepSettings.from_connection(conn)


@pytest.mark.parametrize(("collection", "value"), [
    ("flows", UUID + "\n"),
    ("runs", UUID + "\n"),
    ("dataSets", "5c8c3c555033b814b69f947f\n"),
    ("mappingSets", "bf5286a9c1ad4266baca76ba3adc9366\n"),
])
def test_an_id_with_a_trailing_newline_is_refused(collection: str, value: str) -> None:
    """A templated id ending in a newline is refused before any request, naming the argument's form."""
    with pytest.raises(AepConfigError, match="AEP gives them the form"):
        checked_id(collection, value)


def test_well_formed_ids_pass_unchanged() -> None:
    """The full match refuses nothing AEP returns: its ids go through as they are."""
    assert checked_id("flows", UUID) == UUID
    assert checked_id("dataSets", "5c8c3c555033b814b69f947f") == "5c8c3c555033b814b69f947f"
