"""The toy service (docs/architecture.md, "How to add an emulator endpoint"): a thing created is read back; an
unknown one is a 404 with the entry's code; a write that is not JSON is refused by the gateway."""

from __future__ import annotations

from emulator_helpers import Api

from aep_emulator.testing import EmulatorServer

TOY = "/data/foundation/toyservice"


def test_a_created_thing_reads_back_and_an_unknown_one_is_not_found(emulator: EmulatorServer) -> None:
    api = Api(emulator)
    created = api.post(f"{TOY}/things", {"name": "first"})
    assert created.status_code == 201
    thing_id = created.json()["id"]
    assert api.get(f"{TOY}/things/{thing_id}").json() == {"id": thing_id, "name": "first"}
    missing = api.get(f"{TOY}/things/nope")
    assert missing.status_code == 404 and missing.json()["type"].endswith("EMU-404")
    assert missing.json()["detail"] == "The thing nope was not found"
    refused = api.http.post(f"{TOY}/things", content=b"name=x", headers={"Content-Type": "text/plain"})
    assert refused.status_code == 400
