"""Flow Service next links: a client that follows ``_links.next.href`` as given pages the list it asked for.

Protects: flow-service.yaml's ``PageLink`` example is ``/connections?continuationToken=...`` with no other
parameter, so a client following it as given sends no ``property``, ``orderby`` or ``limit``: the token carries
them, and every item of the filtered, sorted list comes once. A client that sends its query again with the token
gets the same pages; a token sent with another query is refused with an error that says so, never read as an offset
into another list.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from emulator_flows import create_dataset_base, create_hubspot_base
from emulator_helpers import FS, HUBSPOT_SPEC, Api

from aep_emulator.testing import EmulatorServer

QUERY = {"property": f"connectionSpec.id=={HUBSPOT_SPEC}", "orderby": "createdAt", "limit": "2"}


def _connections(emulator: EmulatorServer) -> tuple[Api, list[str]]:
    api = Api(emulator)
    names = [f"conn {i}" for i in range(5)]
    for i, name in enumerate(names):
        create_hubspot_base(api, name)
        if i % 2:
            create_dataset_base(api, f"lake {i}")  # not HubSpot: the filter must keep them out on every page
    return api, names


def _follow(api: Api, first: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Page through following each next link exactly as given; the names seen and the links followed."""
    seen: list[str] = []
    hrefs: list[str] = []
    body = api.get(f"{FS}/connections", params=first).json()
    while True:
        seen += [c["name"] for c in body["items"]]
        href = (body.get("_links") or {}).get("next", {}).get("href")
        if not href:
            return seen, hrefs
        hrefs.append(href)
        body = api.get(f"{FS}{href}").json()


def test_a_next_link_followed_as_given_keeps_the_filter_order_and_page_size(emulator: EmulatorServer) -> None:
    api, names = _connections(emulator)
    seen, hrefs = _follow(api, QUERY)
    assert seen == names, "each HubSpot connection once, oldest first, no Data Lake one"
    assert len(hrefs) == 2
    for href in hrefs:
        path, _, query = href.partition("?")
        assert path == "/connections" and query.startswith("continuationToken=") and "&" not in query, href


def test_the_same_query_sent_again_with_the_token_pages_the_same_list(emulator: EmulatorServer) -> None:
    api, names = _connections(emulator)
    first = api.get(f"{FS}/connections", params=QUERY).json()
    href = first["_links"]["next"]["href"]
    again = api.get(f"{FS}{href}&{urlencode(QUERY)}")
    assert again.status_code == 200, again.text
    assert [c["name"] for c in again.json()["items"]] == names[2:4]


def test_a_token_sent_with_another_query_is_refused_and_says_why(emulator: EmulatorServer) -> None:
    api, _names = _connections(emulator)
    href = api.get(f"{FS}/connections", params=QUERY).json()["_links"]["next"]["href"]
    for changed in ({"orderby": "-createdAt"}, {"limit": "3"}, {"property": "state==enabled"}):
        resp = api.get(f"{FS}{href}&{urlencode(changed)}")
        assert resp.status_code == 400, (changed, resp.text)
        detail = resp.json()["detail"]
        key = next(iter(changed))
        assert f"continuationToken belongs to the listing {key}=" in detail and "as given" in detail, detail
        assert resp.json()["type"].endswith("EMU-400"), "Adobe documents no code for this"
    broken = api.get(f"{FS}/connections", params={"continuationToken": "not-a-token"})
    assert broken.status_code == 400 and "continuationToken" in broken.json()["detail"]
