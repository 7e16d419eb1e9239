"""What the per-service call helpers need from the hook they are mixed into."""

from __future__ import annotations

from typing import Any, Protocol


class PlatformCalls(Protocol):
    """The Platform calls of :class:`~aep_provider.hooks.aep.AepHook` the API mixins build on.

    Each mixin method that calls the Platform annotates ``self`` with this protocol, so mypy checks the
    calls against the hook's real signatures.
    """

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        accept: str | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any: ...

    def get(self, path: str, params: dict[str, Any] | None = None, *, accept: str | None = None) -> Any: ...

    def post(self, path: str, json: Any, *, params: dict[str, Any] | None = None) -> Any: ...

    def delete(self, path: str, *, missing_ok: bool = True) -> bool: ...
