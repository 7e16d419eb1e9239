"""A toy service, added by following docs/architecture.md ("How to add an emulator endpoint") to prove the
section; not an Adobe service (removed in the next commit)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from .common import new_uuid, public
from .deps import container_of, store_of
from .services import TOY_SERVICE

router = APIRouter(prefix=TOY_SERVICE.prefix, tags=["Toy"])


@router.post("/things", status_code=201, summary="Create a thing")
def create_thing(request: Request, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise TOY_SERVICE.bad_request("The field 'name' is required")
    store, cont = store_of(request), container_of(request)
    with store.lock:
        thing = {"id": new_uuid(), "name": name}
        cont.items["thing"][thing["id"]] = thing
        store.wrote()
    return {"id": thing["id"]}


@router.get("/things/{ident}", summary="Read a thing")
def get_thing(ident: str, request: Request) -> dict[str, Any]:
    store, cont = store_of(request), container_of(request)
    with store.lock:
        return public(cont.require("thing", ident, TOY_SERVICE.not_found(f"thing {ident}")))
