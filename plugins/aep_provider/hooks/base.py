"""What the sync and the async AEP hook share: the connection type, the constructor, the settings.

Both hooks stand alone on :class:`airflow.sdk.BaseHook`; see :mod:`aep_provider.hooks.aep` for why
neither is an ``HttpHook``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from aep_provider.hooks.connection_form import (
    CONN_FIELDS,
    CONN_TYPE,
    DEFAULT_CONN_ID,
    HOOK_NAME,
    UI_FIELD_BEHAVIOUR,
)
from aep_provider.hooks.errors import AepConfigError, missing_connection
from aep_provider.hooks.masking import mask_secret_value
from aep_provider.hooks.params import AepHookParams
from aep_provider.hooks.settings import AepSettings, default_token_cache_dir


class AepBaseHook(BaseHook):
    """An ``adobe_experience_platform`` connection and the per-task overrides of its settings.

    :param aep_conn_id: the Airflow connection (login = client id, password = client secret,
        host = Platform host, extra: ims_host, org_id, sandbox, scopes, max_retries,
        retry_max_seconds, timeout).
    :param sandbox: overrides the connection's sandbox.
    :param max_retries: overrides ``extra.max_retries``.
    :param retry_max_seconds: overrides ``extra.retry_max_seconds``.
    :param timeout: overrides ``extra.timeout`` (seconds per HTTP request).
    :param token_cache_dir: where the encrypted token cache lives (default ``AEP_TOKEN_CACHE_DIR`` or
        ``$AIRFLOW_HOME/.aep_token_cache``).

    The keyword arguments are :class:`~aep_provider.hooks.params.AepHookParams`:
    ``AepHook(conn_id, **hook_params)``.
    """

    conn_name_attr = "aep_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME

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
        self.hook_params: AepHookParams = {
            "sandbox": sandbox,
            "max_retries": max_retries,
            "retry_max_seconds": retry_max_seconds,
            "timeout": timeout,
            "token_cache_dir": token_cache_dir,
        }

    @property
    def token_cache_dir(self) -> str:
        return self.hook_params.get("token_cache_dir") or default_token_cache_dir()

    def settings_for(self, conn: Any) -> AepSettings:
        """The settings of Airflow connection ``conn`` with this hook's overrides; the client secret is masked."""
        settings = AepSettings.from_connection(conn, self.hook_params)
        mask_secret_value(settings.client_secret)
        return settings

    def connection_missing(self) -> AepConfigError:
        """The error for an ``aep_conn_id`` that names no Airflow connection."""
        return missing_connection(self.aep_conn_id, "aep_conn_id", CONN_TYPE)

    # -- connection form ----------------------------------------------------------------------
    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabelled login/password/host and placeholders for the connection form."""
        return UI_FIELD_BEHAVIOUR

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields of the form (the same are declared in provider info as ``conn-fields``)."""
        try:
            from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
            from wtforms import StringField
        except ImportError:
            return {}
        return {
            name: StringField(spec["label"], widget=BS3TextFieldWidget(), description=spec["description"])
            for name, spec in CONN_FIELDS.items()
        }
