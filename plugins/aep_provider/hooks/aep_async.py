"""``AepAsyncHook``: the async (aiohttp) twin of :class:`~aep_provider.hooks.aep.AepHook` for triggers.

Same constructor, headers, retry rules and typed errors (:mod:`aep_provider.hooks.exchange`), same
paging (:mod:`aep_provider.hooks.paging`), same shared encrypted token cache
(:class:`~aep_provider.hooks.ims.ImsTokens`; the blocking IMS exchange runs in a thread so the
triggerer's loop never stalls).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from airflow.sdk.exceptions import AirflowNotFoundException

from aep_provider.flow_runs import run as runs
from aep_provider.flow_runs.run import FlowRun, Which
from aep_provider.hooks.base import AepBaseHook
from aep_provider.hooks.errors import AepNotFoundError
from aep_provider.hooks.exchange import Exchange, Step
from aep_provider.hooks.ims import ImsTokens
from aep_provider.hooks.paging import FlowServicePages, aiter_pages
from aep_provider.hooks.settings import AepSettings
from aep_provider.hooks.sync_transport import new_session
from aep_provider.hooks.transport import platform_headers


class AepAsyncHook(AepBaseHook):
    """Read-only async calls used while waiting for a flow run (GET with retries)."""

    hook_name = "Adobe Experience Platform (async)"

    _settings: AepSettings | None = None
    _tokens: ImsTokens | None = None

    async def settings(self) -> AepSettings:
        if self._settings is None:
            try:
                conn = await self.aget_connection(self.aep_conn_id)
            except AirflowNotFoundException:
                raise self.connection_missing() from None
            self._settings = self.settings_for(conn)
        return self._settings

    async def _token(self, reject: str | None = None) -> str:
        if self._tokens is None:
            self._tokens = ImsTokens(await self.settings(), self.token_cache_dir, session=new_session(), log=self.log)
        return await asyncio.to_thread(self._tokens.get, reject=reject)

    async def get(self, path: str, params: dict[str, Any] | None = None, *, accept: str | None = None) -> Any:
        """GET ``path``: the parsed JSON body, after the retries and the token refresh the exchange decides."""
        s = await self.settings()
        call = Exchange("GET", f"{s.host}{path}", path, s.retry, log=self.log)
        token = await self._token()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=s.timeout)) as session:
            while True:
                headers = platform_headers(s, token=token, method="GET", accept=accept)
                step = await self._attempt(session, call, headers, params)
                if step.final:
                    return step.outcome()
                if step.refresh:
                    token = await self._token(reject=token)
                else:
                    await asyncio.sleep(step.delay or 0.0)

    @staticmethod
    async def _attempt(
        session: aiohttp.ClientSession, call: Exchange, headers: dict[str, str], params: dict[str, Any] | None
    ) -> Step:
        try:
            async with session.get(call.url, params=params, headers=headers, ssl=True, allow_redirects=False) as resp:
                return call.answer(resp.status, await resp.text(), resp.headers)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return call.no_answer(type(exc).__name__)

    # -- runs: the same requests and reading as the sync hook's (flow_runs/run.py) -----------------------------
    async def get_run(self, run_id: str) -> FlowRun | None:
        """A run by id; ``None`` when Flow Service does not know it."""
        try:
            return runs.run_from(await self.get(runs.run_path(run_id)))
        except AepNotFoundError:
            return None

    async def list_runs(self, flow_id: str) -> list[FlowRun]:
        """Every run of ``flow_id``; the ``flowId`` filter is sent again with each page (the next link
        carries only the continuation token)."""
        pages = FlowServicePages(runs.RUNS_PATH, runs.runs_query(flow_id))
        return runs.runs_from([run async for run in aiter_pages(self.get, pages)], flow_id)

    async def one_run(self, flow_id: str, which: Which = "latest") -> FlowRun | None:
        """The flow's latest (or first) run from one small page (``orderby``, ``limit=1``; sort-and-filter.md)."""
        return runs.one_run_from(await self.get(runs.RUNS_PATH, runs.one_run_query(flow_id, which)), flow_id, which)
