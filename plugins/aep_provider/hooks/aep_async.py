"""``AepAsyncHook``: the async (aiohttp) twin of :class:`AepHook` for triggers.

Same headers, same retry rules (:class:`RetryPolicy`), same typed errors, same shared encrypted
token cache (the blocking IMS exchange runs in a thread so the triggerer's loop never stalls).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.hooks.errors import (
    AepNotFoundError,
    AepTransientError,
    error_from_response,
    missing_connection,
)
from aep_provider.hooks.ids import checked_id, path_id
from aep_provider.hooks.retry import RETRYABLE_STATUSES, parse_retry_after
from aep_provider.hooks.runs import Which, one_run_query, pick_run
from aep_provider.hooks.settings import AepSettings
from aep_provider.hooks.transport import is_invalid_token, parse_body, platform_headers, service_path


class AepAsyncHook(BaseHook):
    """Read-only async calls used while waiting for a flow run (GET with retries)."""

    conn_name_attr = "aep_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "adobe_experience_platform"
    hook_name = "Adobe Experience Platform (async)"

    def __init__(
        self,
        aep_conn_id: str = DEFAULT_CONN_ID,
        sandbox: str | None = None,
        *,
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        timeout: float | None = None,
        token_cache_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.aep_conn_id = aep_conn_id
        self._sync = AepHook(
            aep_conn_id,
            sandbox,
            max_retries=max_retries,
            retry_max_seconds=retry_max_seconds,
            timeout=timeout,
            token_cache_dir=token_cache_dir,
        )
        self._settings: AepSettings | None = None

    async def settings(self) -> AepSettings:
        if self._settings is None:
            try:
                conn = await BaseHook.aget_connection(self.aep_conn_id)
            except AirflowNotFoundException:
                raise missing_connection(self.aep_conn_id, "aep_conn_id", self.conn_type) from None
            self._settings = self._sync.settings_for(conn)
            # the sync twin shares the token cache; give it the settings we just read
            self._sync.__dict__["settings"] = self._settings
        return self._settings

    async def _token(self, reject: str | None = None) -> str:
        await self.settings()
        return await asyncio.to_thread(self._sync.get_token, reject=reject)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        s = await self.settings()
        url = f"{s.host}{path}"
        budget = s.retry.start()
        refreshed = False
        token = await self._token()
        timeout = aiohttp.ClientTimeout(total=s.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                headers = platform_headers(
                    token=token,
                    client_id=s.client_id,
                    org_id=s.org_id,
                    sandbox=s.sandbox,
                    method="GET",
                    accept=None,
                )
                try:
                    async with session.get(url, params=params, headers=headers, ssl=True) as resp:
                        status = resp.status
                        text = await resp.text()
                        resp_headers = resp.headers
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    delay = budget.next_delay()
                    if delay is None:
                        raise AepTransientError(
                            f"no answer after {budget.retries + 1} attempts ({type(exc).__name__}); retry later.",
                            method="GET",
                            url=url,
                        ) from None
                    self.log.warning("GET %s failed (%s); retrying in %.1fs", path, type(exc).__name__, delay)
                    await asyncio.sleep(delay)
                    continue
                if status < 400:
                    return parse_body(text)
                body = parse_body(text)
                if status == 401 and not refreshed and is_invalid_token(status, body):
                    refreshed = True
                    token = await self._token(reject=token)
                    continue
                if status in RETRYABLE_STATUSES:
                    delay = budget.next_delay(parse_retry_after(resp_headers.get("Retry-After")))
                    if delay is not None:
                        self.log.warning("GET %s answered %s; retrying in %.1fs", path, status, delay)
                        await asyncio.sleep(delay)
                        continue
                raise error_from_response(status, body, resp_headers, method="GET", url=url)

    async def get_run(self, run_id: str) -> dict[str, Any] | None:
        path = service_path("flowservice", f"/runs/{path_id('runs', run_id)}")
        try:
            body = await self.get(path)
        except AepNotFoundError:
            return None
        items = (body or {}).get("items") or []
        return items[0] if items else None

    async def list_runs(self, flow_id: str) -> list[dict[str, Any]]:
        """Every run of ``flow_id``; the ``flowId`` filter is sent again with each page (the next link
        carries only the continuation token)."""
        from aep_provider.hooks.paging import MAX_PAGES, PagingError, next_flow_service_path

        path = service_path("flowservice", "/runs")
        base_params: dict[str, Any] = {"property": f"flowId=={checked_id('flows', flow_id)}"}
        runs: list[dict[str, Any]] = []
        seen: set[str] = set()
        pages: set[str] = set()
        request_path: str = path
        params: dict[str, Any] | None = dict(base_params)
        for _ in range(MAX_PAGES):
            body = await self.get(request_path, params) or {}
            for item in body.get("items", []):
                if str(item.get("id")) not in seen and item.get("flowId") in (None, flow_id):
                    seen.add(str(item.get("id")))
                    runs.append(item)
            nxt = next_flow_service_path(path, base_params, body)
            if nxt is None:
                return runs
            if nxt in pages:
                raise PagingError(f"Flow Service returned the same next link twice for {path}")
            pages.add(nxt)
            request_path, params = nxt, None
        raise PagingError(f"More than {MAX_PAGES} pages for {path}")

    async def one_run(self, flow_id: str, which: Which = "latest") -> dict[str, Any] | None:
        """The flow's latest (or first) run from one small page (``orderby``, ``limit=1``; sort-and-filter.md)."""
        query = one_run_query(checked_id("flows", flow_id), which)
        body = await self.get(service_path("flowservice", "/runs"), query) or {}
        items = [item for item in body.get("items", []) if item.get("flowId") in (None, flow_id)]
        return pick_run(items, which)
