"""What every AEP operator shares: the connection, the sandbox override, the hook, XCom helpers."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator

from aep_provider.hooks.aep import AepHook
from aep_provider.hooks.connection_form import DEFAULT_CONN_ID
from aep_provider.links import AepLink


class AepBaseOperator(BaseOperator):
    """Base of the AEP operators.

    :param aep_conn_id: ``adobe_experience_platform`` connection id.
    :param sandbox: overrides the connection's sandbox (templated).
    :param max_retries: overrides the connection's ``extra.max_retries`` for every call.
    :param retry_max_seconds: overrides ``extra.retry_max_seconds``.
    :param request_timeout: overrides ``extra.timeout`` (seconds per HTTP request).
    """

    template_fields: Sequence[str] = ("aep_conn_id", "sandbox")
    ui_color = "#fa0f00"
    ui_fgcolor = "#ffffff"

    def __init__(
        self,
        *,
        aep_conn_id: str = DEFAULT_CONN_ID,
        sandbox: str | None = None,
        max_retries: int | None = None,
        retry_max_seconds: float | None = None,
        request_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aep_conn_id = aep_conn_id
        self.sandbox = sandbox
        self.max_retries = max_retries
        self.retry_max_seconds = retry_max_seconds
        self.request_timeout = request_timeout

    @cached_property
    def hook(self) -> AepHook:
        return AepHook(
            aep_conn_id=self.aep_conn_id,
            sandbox=self.sandbox,
            max_retries=self.max_retries,
            retry_max_seconds=self.retry_max_seconds,
            timeout=self.request_timeout,
        )

    @staticmethod
    def push(context: Any, key: str, value: Any) -> None:
        context["ti"].xcom_push(key=key, value=value)

    def persist_link(self, context: Any, link: type[AepLink], **ids: str) -> None:
        """Store the AEP UI link; a failure here never fails the task."""
        try:
            url = link.persist(context, self.hook.settings.ui_tenant, self.hook.sandbox, operator=self, **ids)
            self.log.info("%s: %s", link.name, url)
        except Exception as exc:
            self.log.warning("Could not build the %s link: %s", link.name, exc)

