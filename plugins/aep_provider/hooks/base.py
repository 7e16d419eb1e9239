"""What the sync and the async AEP hook share: the connection type, the constructor, the settings.

Both hooks stand alone on :class:`airflow.sdk.BaseHook`; see :mod:`aep_provider.hooks.aep` for why
neither is an ``HttpHook``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook
from typing_extensions import Unpack

from aep_provider.hooks.connection_form import (
    CONN_FIELDS,
    CONN_TYPE,
    DEFAULT_CONN_ID,
    HOOK_NAME,
    UI_FIELD_BEHAVIOUR,
)
from aep_provider.hooks.errors import AepConfigError, missing_connection
from aep_provider.hooks.masking import mask_secret_value
from aep_provider.hooks.params import AepHookParams, checked_hook_params
from aep_provider.hooks.settings import AepSettings, default_token_cache_dir


class AepBaseHook(BaseHook):
    """An ``adobe_experience_platform`` connection and the per-task overrides of its settings.

    :param aep_conn_id: the Airflow connection (login = client id, password = client secret,
        host = Platform host, extra: ims_host, org_id, sandbox, scopes, max_retries,
        retry_max_seconds, timeout).

    The keyword arguments are :class:`~aep_provider.hooks.params.AepHookParams` (``sandbox``, ``max_retries``,
    ``retry_max_seconds``, ``timeout``, ``token_cache_dir``), each overriding the connection's:
    ``AepHook(conn_id, **hook_params)``; an unknown one is refused, naming the valid ones.
    """

    conn_name_attr = "aep_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME

    def __init__(self, aep_conn_id: str = DEFAULT_CONN_ID, **params: Unpack[AepHookParams]) -> None:
        super().__init__()
        self.aep_conn_id = aep_conn_id
        self.hook_params = checked_hook_params(params, type(self).__name__)

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
