"""(in progress)"""

from fastapi import APIRouter

from .state import Store

router = APIRouter()


def tick_all(store: Store) -> None:
    return None
