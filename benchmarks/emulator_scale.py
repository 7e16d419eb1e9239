"""Does the emulator's cost per request grow with what it holds? Requests per second at 10, 500 and 5,000 resources.

    python -m benchmarks.emulator_scale            # prints the rows as JSON lines
    python -m benchmarks.run --only emulator       # the same, into the report

One process, no network: the emulator app is driven in-process (Starlette's ``TestClient``), so what is timed is
the emulator's own work per request (gateway, run scheduler, the route, persistence), not sockets or latency.

For each size the emulator is filled through its own API (no state file while filling, so filling stays fast
whatever the emulator's persistence costs), with ``size`` resources: per object a dataset, a source and a target
connection and a flow scheduled once, whose first run has ended and ingested the table's rows (a run and its
records per object, counted among the resources). Its state is written to a file and a new emulator starts from
it, as the deployment runs it (``--state``), and then the same fixed mix of Platform calls is timed, each against
a random object of those held: read a flow (with its ``lastRunDetails``), list a flow's runs
(``property=flowId==``), read a run, read a dataset, look a flow and a source connection up by name
(``property=name==``), look a dataset up by name, enable a flow (a write) and create a dataset (a write). The mix
runs in timed blocks of 20 rounds, the sizes taking turns (so a disturbance of the machine falls on every size
alike), and the best block's rate counts, with the state file and with it switched off (in memory). The ratio
is each rate over the 10-resource rate (target: at 5,000 at least 0.8).

Only the emulator's public API and ``Store``'s constructor, ``state_file`` and ``to_json`` are used, so the script
measures an older emulator the same way (``PYTHONPATH=<its include> python -m benchmarks.emulator_scale``).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aep_emulator.services import PLATFORM_PREFIX
from aep_emulator.specs import CRM_TO_AEP_ID, DATA_LAKE_SPEC_ID, HUBSPOT_SPEC_ID

SIZES = (10, 500, 5000)
RESOURCES_PER_OBJECT = 5  # dataset, source connection, target connection, flow, run
TARGET_RATIO = 0.8
BLOCKS = 5  # timed blocks of the mix per size and mode, taking turns; the rate is the best block's

SR, CAT, FS, DP = (PLATFORM_PREFIX + name for name in ("schemaregistry", "catalog", "flowservice", "conversion"))
HUBSPOT_SPEC, DATA_LAKE_SPEC, FLOW_SPEC = HUBSPOT_SPEC_ID, DATA_LAKE_SPEC_ID, CRM_TO_AEP_ID
PROFILE = "https://ns.adobe.com/xdm/context/profile"
MAPPINGS = [("Properties_Firstname_Value", "person.name.firstName"), ("Properties_Email_Value",
                                                                       "personalEmail.address"), ("Vid", "_id")]


@dataclass
class ScaleRow:
    resources: int  # resources held when the mix started (per object: dataset, connections, flow, run)
    objects: int
    runs: int
    records: int
    state_file_mib: float
    requests: int  # requests of one timed block
    rate_state: float  # requests per second with --state
    rate_memory: float  # requests per second without a state file
    ratio_state: float | None = None  # rate over the 10-resource rate
    ratio_memory: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Api:
    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def call(self, method: str, path: str, body: Any = None, extra: dict[str, str] | None = None) -> Any:
        headers = {**self.headers, **(extra or {})}
        if body is not None:
            headers["Content-Type"] = "application/json"
        answer = self.client.request(method, path, json=body, headers=headers)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else None


def _client(store: Any) -> tuple[Any, _Api]:
    from starlette.testclient import TestClient

    from aep_emulator.app import create_app

    client = TestClient(create_app(store))
    token = client.post("/ims/token/v3", data={"client_id": "demo-client", "client_secret": "demo-secret",
                                               "grant_type": "client_credentials", "scope": "openid"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}", "x-api-key": "demo-client",
               "x-gw-ims-org-id": "DEMO0000000000000000000@AdobeOrg", "x-sandbox-name": "prod"}
    return client, _Api(client, headers)


def _fill(api: _Api, objects: int) -> list[dict[str, str]]:
    """``objects`` flows with their dataset and connections, sharing one schema, mapping and base connections."""
    from aep_emulator.state import DEFAULT_DATA_END

    schema = api.call("POST", f"{SR}/tenant/schemas", {
        "title": "Scale target", "type": "object", "meta:class": PROFILE,
        "allOf": [{"$ref": PROFILE}, {"$ref": "https://ns.adobe.com/xdm/context/profile-personal-details"},
                  {"$ref": "https://ns.adobe.com/xdm/context/profile-person-details"}]})["$id"]
    mapping = api.call("POST", f"{DP}/mappingSets", {
        "version": 0, "xdmSchema": schema, "xdmVersion": "1.0", "id": None,
        "mappings": [{"destinationXdmPath": d, "sourceAttribute": s, "identity": False, "identityGroup": None,
                      "namespaceCode": None, "version": 0} for s, d in MAPPINGS]})["id"]
    base = api.call("POST", f"{FS}/connections", {
        "name": "Scale HubSpot", "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"},
        "auth": {"specName": "Basic Authentication", "params": {"clientId": "c", "clientSecret": "s",
                                                                "accessToken": "a", "refreshToken": "r"}}})["id"]
    lake = api.call("POST", f"{FS}/connections", {"name": "Scale lake",
                                                  "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"}})["id"]
    # The first run reads the rows added before startTime: early in the simulated year, a few dozen rows per object.
    start = int(datetime.fromisoformat(DEFAULT_DATA_END.replace("Z", "+00:00")).timestamp()) - 380 * 86400
    made = []
    for i in range(objects):
        name = f"scale object {i:05d}"
        dataset = api.call("POST", f"{CAT}/dataSets", {"name": f"{name} dataset", "schemaRef": {
            "id": schema, "contentType": "application/vnd.adobe.xed-full-notext+json; version=1"}})[0].split("/")[-1]
        source = api.call("POST", f"{FS}/sourceConnections", {
            "name": f"{name} source", "baseConnectionId": base, "params": {"path": "Hubspot.Contacts"},
            "data": {"format": "tabular"}, "connectionSpec": {"id": HUBSPOT_SPEC, "version": "1.0"}})["id"]
        target = api.call("POST", f"{FS}/targetConnections", {
            "name": f"{name} target", "baseConnectionId": lake, "params": {"dataSetId": dataset},
            "data": {"format": "parquet_xdm", "schema": {"id": schema,
                                                         "version": "application/vnd.adobe.xed-full+json;version=1"}},
            "connectionSpec": {"id": DATA_LAKE_SPEC, "version": "1.0"}})["id"]
        flow = api.call("POST", f"{FS}/flows", {
            "name": f"{name} flow", "flowSpec": {"id": FLOW_SPEC, "version": "1.0"},
            "sourceConnectionIds": [source], "targetConnectionIds": [target],
            "transformations": [
                {"name": "Copy", "params": {"deltaColumn": {"name": "Added_At", "dateFormat": "YYYY-MM-DD",
                                                            "timezone": "UTC"}}},
                {"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": "0"}}],
            "scheduleParams": {"startTime": start, "frequency": "once"}})["id"]
        made.append({"name": name, "dataset": dataset, "source": source, "flow": flow})
    return made


def _mix(api: _Api, objects: list[dict[str, str]], rounds: int, seed: int) -> int:
    """The fixed mix, ``rounds`` times, each call against a random object; the number of requests made."""
    rng = random.Random(seed)
    made = 0
    for i in range(rounds):
        obj = objects[rng.randrange(len(objects))]
        flow = api.call("GET", f"{FS}/flows/{obj['flow']}")["items"][0]
        runs = api.client.get(f"{FS}/runs", params={"property": f"flowId=={obj['flow']}"},
                              headers=api.headers).json()["items"]
        api.call("GET", f"{FS}/runs/{runs[0]['id']}")
        api.call("GET", f"{CAT}/dataSets/{obj['dataset']}")
        found = api.client.get(f"{FS}/flows", params={"property": f"name=={obj['name']} flow"},
                               headers=api.headers).json()["items"]
        api.client.get(f"{FS}/sourceConnections", params={"property": f"name=={obj['name']} source"},
                       headers=api.headers)
        api.client.get(f"{CAT}/dataSets", params={"property": f"name=={obj['name']} dataset"}, headers=api.headers)
        api.call("POST", f"{FS}/flows/{flow['id']}/action?op=enable", {}, {"If-Match": flow["etag"]})
        api.call("POST", f"{CAT}/dataSets", {"name": f"mix dataset {seed}-{i}"})
        if len(found) != 1 or not runs:
            raise RuntimeError(f"the mix found {len(found)} flows named {obj['name']} flow and {len(runs)} runs")
        made += 9
    return made


def _held(store: Any) -> tuple[int, int, int]:
    data = store.to_json()
    resources = sum(len(objs) for c in data["containers"] for objs in c["items"].values())
    runs = sum(len(c["items"].get("run", {})) for c in data["containers"])
    records = sum(len(r) for c in data["containers"] for r in c["records"].values())
    return resources, runs, records


@dataclass
class _Held:
    """One emulator started from the state file of ``size`` resources, and what the mix needs of it."""

    size: int
    store: Any
    client: Any
    api: _Api
    objects: list[dict[str, str]]
    row: ScaleRow
    state_file: str


def _prepare(size: int, folder: Path) -> _Held:
    from aep_emulator.state import Config, Store

    objects = max(1, size // RESOURCES_PER_OBJECT)
    filling = Store(config=Config(run_duration_seconds=0.0))
    client, api = _client(filling)
    made = _fill(api, objects)
    api.call("GET", f"{FS}/runs?limit=1")  # a request: the runs now due end and ingest
    client.close()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    state_file = folder / "state.json"
    state_file.write_text(json.dumps(filling.to_json()))
    state_file.chmod(0o600)
    resources, runs, records = _held(filling)
    del filling
    store = Store(config=Config(run_duration_seconds=0.0), state_file=str(state_file))
    client, api = _client(store)
    _mix(api, made, 5, seed=size)  # warm-up
    row = ScaleRow(resources=resources, objects=objects, runs=runs, records=records,
                   state_file_mib=state_file.stat().st_size / 2**20, requests=0, rate_state=0.0, rate_memory=0.0)
    return _Held(size, store, client, api, made, row, str(state_file))


def _block(held: _Held, mode: str, rounds: int, seed: int) -> None:
    """One timed block of the mix; the row keeps the best rate of each mode. In memory = the same emulator with
    its state file switched off (``Store.state_file`` None: nothing is written)."""
    held.store.state_file = held.state_file if mode == "state" else None
    started = time.perf_counter()
    requests = _mix(held.api, held.objects, rounds, seed=seed)
    rate = requests / (time.perf_counter() - started)
    held.row.requests = requests
    if mode == "state":
        held.row.rate_state = max(held.row.rate_state, rate)
    else:
        held.row.rate_memory = max(held.row.rate_memory, rate)
    held.store.state_file = held.state_file


def run(sizes: tuple[int, ...] = SIZES, rounds: int = 20, blocks: int = BLOCKS) -> list[ScaleRow]:
    """Every size's emulator is prepared first; then the timed blocks take turns, a block of each size and mode
    in each turn, so a disturbance of the machine falls on every size alike."""
    with tempfile.TemporaryDirectory(prefix="emulator-scale-") as tmp:
        held = [_prepare(size, Path(tmp) / str(size)) for size in sizes]
        for block in range(blocks):
            for h in held:
                for mode in ("state", "memory"):
                    _block(h, mode, rounds, seed=h.size * blocks + block)
        for h in held:
            h.client.close()
            close = getattr(h.store, "close", None)
            if callable(close):
                close()
    rows = [h.row for h in held]
    base = rows[0]
    for row in rows:
        row.ratio_state = row.rate_state / base.rate_state
        row.ratio_memory = row.rate_memory / base.rate_memory
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.emulator_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--rounds", type=int, default=20, help="rounds of the mix (9 requests) per timed block")
    parser.add_argument("--blocks", type=int, default=BLOCKS, help="timed blocks per size and mode")
    args = parser.parse_args(argv)
    for row in run(tuple(int(s) for s in args.sizes.split(",")), args.rounds, args.blocks):
        print(json.dumps(row.as_dict()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
