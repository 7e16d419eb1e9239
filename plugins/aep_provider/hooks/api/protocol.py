"""What the per-service call helpers need from the hook they are mixed into."""

from __future__ import annotations

from typing import Any, Protocol

from aep_provider.hooks.errors import AepNotFoundError


class PlatformCalls(Protocol):
    """The Platform calls of :class:`~aep_provider.hooks.aep.AepHook` the API mixins build on.

    Each mixin subclasses this protocol, so mypy checks every call against these signatures and checks
    that the hook they are mixed into provides them.
    """

    def request(
        self, method: str, path: str, *, json: Any = None, idempotent: bool | None = None
    ) -> Any: ...

    def get(self, path: str, params: dict[str, Any] | None = None, *, accept: str | None = None) -> Any: ...

    def post(self, path: str, json: Any, *, params: dict[str, Any] | None = None) -> Any: ...

    def delete(self, path: str, *, missing_ok: bool = True) -> bool: ...


def get_or_none(
    calls: PlatformCalls, path: str, params: dict[str, Any] | None = None, *, accept: str | None = None
) -> Any:
    """GET ``path``; ``None`` when the service answers 404 (the resource does not exist)."""
    try:
        return calls.get(path, params, accept=accept)
    except AepNotFoundError:
        return None
