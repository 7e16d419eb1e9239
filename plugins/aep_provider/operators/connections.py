"""Flow Service connection operators: HubSpot and dataset base connections, source and target connections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from aep_provider.hooks.aep import _mask
from aep_provider.hooks.errors import AepConfigError, AepValidationError, missing_connection
from aep_provider.links import AepAccountLink, AepSourceConnectionLink, AepTargetConnectionLink
from aep_provider.models.common import DATA_LAKE_CONNECTION_SPEC_ID, HUBSPOT_CONNECTION_SPEC_ID
from aep_provider.models.flow_service import (
    DatasetBaseConnectionCreate,
    HubSpotAuth,
    HubSpotAuthParams,
    HubSpotBaseConnectionCreate,
    SourceConnectionCreate,
    TargetConnectionCreate,
)
from aep_provider.operators._named import create_named
from aep_provider.operators._validation import build_model
from aep_provider.operators.base import AepBaseOperator, AepRowsOperator
from aep_provider.operators.explore import unknown_table_error
from aep_provider.operators.rows import Row


def _spec_id(obj: dict[str, Any]) -> str | None:
    return (obj.get("connectionSpec") or {}).get("id")


def _schema_id(obj: dict[str, Any]) -> str | None:
    return ((obj.get("data") or {}).get("schema") or {}).get("id")


def _first(extra: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        if extra.get(key):
            return str(extra[key])
    return None


class AepCreateHubSpotBaseConnectionOperator(AepBaseOperator):
    """Create (or reuse) the HubSpot base connection.

    With ``base_connection_id`` the connection is checked to exist and returned. Otherwise the
    HubSpot credentials come from the Airflow connection ``hubspot_conn_id``: login = clientId,
    password = clientSecret, extra ``accessToken``/``access_token`` and ``refreshToken``/``refresh_token``;
    a base connection of that name is reused if it exists.

    :return: the base connection id.
    """

    operator_extra_links = (AepAccountLink(),)

    template_fields: Sequence[str] = (
        *AepBaseOperator.template_fields,
        "name",
        "hubspot_conn_id",
        "base_connection_id",
    )

    def __init__(
        self,
        *,
        name: str,
        hubspot_conn_id: str | None = None,
        base_connection_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.hubspot_conn_id = hubspot_conn_id
        self.base_connection_id = base_connection_id

    def _credentials(self) -> HubSpotAuthParams:
        if not self.hubspot_conn_id:
            raise AepConfigError(
                "AepCreateHubSpotBaseConnectionOperator needs base_connection_id (an existing base "
                "connection) or hubspot_conn_id (an Airflow connection holding the HubSpot credentials)."
            )
        try:
            conn = BaseHook.get_connection(self.hubspot_conn_id)
        except AirflowNotFoundException:
            raise missing_connection(self.hubspot_conn_id, "hubspot_conn_id", "generic") from None
        extra = conn.extra_dejson or {}
        client_id = conn.login or _first(extra, "clientId", "client_id")
        client_secret = conn.password or _first(extra, "clientSecret", "client_secret")
        access_token = _first(extra, "accessToken", "access_token")
        refresh_token = _first(extra, "refreshToken", "refresh_token")
        for secret in (client_secret, access_token, refresh_token):
            _mask(secret)
        missing = [
            label
            for label, value in (
                ("login (clientId)", client_id),
                ("password (clientSecret)", client_secret),
                ("extra.accessToken", access_token),
            )
            if not value
        ]
        if missing:
            raise AepConfigError(
                f"Airflow connection {self.hubspot_conn_id!r} lacks {', '.join(missing)}: set them to the "
                "HubSpot app's credentials."
            )
        return build_model(
            "HubSpot credentials",
            lambda: HubSpotAuthParams(
                clientId=str(client_id),
                clientSecret=str(client_secret),
                accessToken=str(access_token),
                refreshToken=refresh_token,
            ),
        )

    def execute(self, context: Any) -> str:
        if self.base_connection_id:
            existing = self.hook.get_object("connections", self.base_connection_id)
            if existing is None:
                raise AepConfigError(
                    f"base_connection_id={self.base_connection_id!r} does not exist in sandbox "
                    f"{self.hook.sandbox}; pass an existing HubSpot base connection id or hubspot_conn_id."
                )
            self.log.info("Using the existing HubSpot base connection %s", self.base_connection_id)
            self.persist_link(context, AepAccountLink, id=self.base_connection_id)
            return self.base_connection_id
        params = self._credentials()
        model = build_model(
            "HubSpot base connection",
            lambda: HubSpotBaseConnectionCreate(
                name=self.name, description=self.name, auth=HubSpotAuth(params=params)
            ),
        )
        obj, _ = create_named(
            self.hook,
            collection="connections",
            what="HubSpot base connection",
            name=self.name,
            body=model.to_body(),
            matches=lambda o: _spec_id(o) == HUBSPOT_CONNECTION_SPEC_ID,
            describe=lambda o: f"connection spec {_spec_id(o)}",
        )
        self.persist_link(context, AepAccountLink, id=obj["id"])
        return str(obj["id"])


class AepCreateDatasetBaseConnectionOperator(AepBaseOperator):
    """Create (or reuse by name) the Data Lake (dataset) base connection target connections need.

    :return: the base connection id.
    """

    template_fields: Sequence[str] = (*AepBaseOperator.template_fields, "name")

    def __init__(self, *, name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = name

    def execute(self, context: Any) -> str:
        model = build_model(
            "dataset base connection",
            lambda: DatasetBaseConnectionCreate(name=self.name, description=self.name),
        )
        obj, _ = create_named(
            self.hook,
            collection="connections",
            what="dataset base connection",
            name=self.name,
            body=model.to_body(),
            matches=lambda o: _spec_id(o) == DATA_LAKE_CONNECTION_SPEC_ID,
            describe=lambda o: f"connection spec {_spec_id(o)}",
        )
        return str(obj["id"])


@dataclass(frozen=True)
class SourceConnectionFields:
    name: str = ""
    base_connection_id: str = ""
    schema_id: str = ""
    path: str = ""
    data_format: str = "tabular"


@dataclass(frozen=True)
class TargetConnectionFields:
    name: str = ""
    base_connection_id: str = ""
    schema_id: str = ""
    dataset_id: str = ""


class AepCreateSourceConnectionOperator(AepRowsOperator[SourceConnectionFields]):
    """Create (or reuse by name) the source connection: base connection + table path + ad-hoc schema.

    :param data_format: ``tabular`` (default) or ``parquet_xdm``.
    :return: the source connection id.
    """

    Fields = SourceConnectionFields
    required_fields: Sequence[str] = ("name", "base_connection_id", "schema_id", "path")
    identity_fields: Sequence[str] = ("name",)
    operator_extra_links = (AepSourceConnectionLink(),)

    def execute_row(self, context: Any, row: Row[SourceConnectionFields]) -> str:
        model = build_model(
            f"{row.label}source connection",
            lambda: SourceConnectionCreate.build(
                row.fields.name, row.fields.base_connection_id, row.fields.schema_id, row.fields.path, row.fields.data_format
            ),
        )

        def describe(o: dict[str, Any]) -> str:
            return (
                f"base connection {o.get('baseConnectionId')}, path {(o.get('params') or {}).get('path')!r}, "
                f"schema {_schema_id(o)}"
            )

        try:
            obj, _ = create_named(
                self.hook,
                collection="sourceConnections",
                what="source connection",
                name=row.fields.name,
                body=model.to_body(),
                matches=lambda o: (
                    o.get("baseConnectionId") == row.fields.base_connection_id
                    and (o.get("params") or {}).get("path") == row.fields.path
                    and _schema_id(o) in (None, row.fields.schema_id)
                ),
                describe=describe,
            )
        except AepValidationError as refused:
            if "params.path" not in refused.detail:
                raise
            raise unknown_table_error(self.hook, row.fields.base_connection_id, row.fields.path, "path", refused) from None
        self.persist_link(context, AepSourceConnectionLink, row, id=row.fields.base_connection_id)
        return str(obj["id"])


class AepCreateTargetConnectionOperator(AepRowsOperator[TargetConnectionFields]):
    """Create (or reuse by name) the target connection: dataset base connection + dataset + target schema.

    :param base_connection_id: the *dataset* base connection (never the HubSpot one).
    :return: the target connection id.
    """

    Fields = TargetConnectionFields
    required_fields: Sequence[str] = ("name", "base_connection_id", "schema_id", "dataset_id")
    identity_fields: Sequence[str] = ("name",)
    operator_extra_links = (AepTargetConnectionLink(),)

    def execute_row(self, context: Any, row: Row[TargetConnectionFields]) -> str:
        model = build_model(
            f"{row.label}target connection",
            lambda: TargetConnectionCreate.build(
                row.fields.name, row.fields.base_connection_id, row.fields.schema_id, row.fields.dataset_id
            ),
        )

        def describe(o: dict[str, Any]) -> str:
            return f"base connection {o.get('baseConnectionId')}, dataset {(o.get('params') or {}).get('dataSetId')}"

        obj, _ = create_named(
            self.hook,
            collection="targetConnections",
            what="target connection",
            name=row.fields.name,
            body=model.to_body(),
            matches=lambda o: (
                o.get("baseConnectionId") == row.fields.base_connection_id
                and (o.get("params") or {}).get("dataSetId") == row.fields.dataset_id
            ),
            describe=describe,
        )
        self.persist_link(context, AepTargetConnectionLink, row, id=row.fields.dataset_id)
        return str(obj["id"])
