"""Flow Service connection operators: HubSpot and dataset base connections, source and target connections."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from aep_provider.hooks.aep import _mask
from aep_provider.hooks.errors import AepConfigError, AepValidationError, missing_connection
from aep_provider.links import AepAccountLink, AepLink, AepSourceConnectionLink, AepTargetConnectionLink
from aep_provider.models.common import DATA_LAKE_CONNECTION_SPEC_ID, HUBSPOT_CONNECTION_SPEC_ID
from aep_provider.models.flow_service import (
    ConnectionCreate,
    DatasetBaseConnectionCreate,
    HubSpotAuth,
    HubSpotAuthParams,
    HubSpotBaseConnectionCreate,
    SourceConnectionCreate,
    TargetConnectionCreate,
)
from aep_provider.operators._named import create_named
from aep_provider.operators.base import AepBaseOperator, AepRowsOperator
from aep_provider.operators.explore import unknown_table_error
from aep_provider.operators.rows import Row
from aep_provider.operators.validation import build_model
from aep_provider.outcomes import Kind, Outcome
from aep_provider.planned import NOT_PLANNED, Planned


def _spec_id(obj: dict[str, Any]) -> str | None:
    return (obj.get("connectionSpec") or {}).get("id")


def _schema_id(obj: dict[str, Any]) -> str | None:
    return ((obj.get("data") or {}).get("schema") or {}).get("id")


def _base_connection(
    hook: Any, kind: Kind, name: str, body: dict[str, Any], spec_id: str, planned: Planned[Any] = NOT_PLANNED
) -> str:
    """Create (or reuse by name) a base connection of the connection spec ``spec_id``: a same-named connection of
    another spec is an error, not a reuse. ``planned``: the plan's look-up, taken instead of one of its own."""
    obj, _ = create_named(hook, collection="connections", kind=kind, name=name, body=body,
                          matches=lambda o: _spec_id(o) == spec_id, describe=lambda o: f"connection spec {_spec_id(o)}",
                          planned=planned)
    return str(obj["id"])


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
        "planned",
    )

    def __init__(
        self,
        *,
        name: str,
        hubspot_conn_id: str | None = None,
        base_connection_id: str | None = None,
        planned: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.hubspot_conn_id = hubspot_conn_id
        self.base_connection_id = base_connection_id
        #: The plan's entry for this connection (a :class:`~aep_provider.planned.ResourcePlan`); ``None``: not planned.
        self.planned = planned

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
            self.hook.record_outcome(Outcome(kind=Kind.HUBSPOT_BASE_CONNECTION, name=self.name), self.base_connection_id,
                                     created=False)
            self.persist_link(context, AepAccountLink, id=self.base_connection_id)
            return self.base_connection_id
        params = self._credentials()
        model = build_model(
            "HubSpot base connection",
            lambda: HubSpotBaseConnectionCreate(
                name=self.name, description=self.name, auth=HubSpotAuth(params=params)
            ),
        )
        base_id = _base_connection(self.hook, Kind.HUBSPOT_BASE_CONNECTION, self.name, model.to_body(),
                                   HUBSPOT_CONNECTION_SPEC_ID, Planned.of(self.planned, context))
        self.persist_link(context, AepAccountLink, id=base_id)
        return base_id


class AepCreateDatasetBaseConnectionOperator(AepBaseOperator):
    """Create (or reuse by name) the Data Lake (dataset) base connection target connections need.

    :return: the base connection id.
    """

    template_fields: Sequence[str] = (*AepBaseOperator.template_fields, "name", "planned")

    def __init__(self, *, name: str, planned: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = name
        #: The plan's entry for this connection (a :class:`~aep_provider.planned.ResourcePlan`); ``None``: not planned.
        self.planned = planned

    def execute(self, context: Any) -> str:
        model = build_model(
            "dataset base connection",
            lambda: DatasetBaseConnectionCreate(name=self.name, description=self.name),
        )
        return _base_connection(self.hook, Kind.DATASET_BASE_CONNECTION, self.name, model.to_body(),
                                DATA_LAKE_CONNECTION_SPEC_ID, Planned.of(self.planned, context))


@dataclass(frozen=True)
class _ConnectionFields:
    name: str = ""
    base_connection_id: str = ""
    schema_id: str = ""
    #: The plan's entry for this connection (a :class:`~aep_provider.planned.ResourcePlan`); ``None``: not planned.
    planned: dict[str, Any] | None = None


CF = TypeVar("CF", bound=_ConnectionFields)


@dataclass(frozen=True)
class SourceConnectionFields(_ConnectionFields):
    path: str = ""
    data_format: str = "tabular"


@dataclass(frozen=True)
class TargetConnectionFields(_ConnectionFields):
    dataset_id: str = ""


def _base(obj: dict[str, Any]) -> Any:
    return obj.get("baseConnectionId")


def _param(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda obj: (obj.get("params") or {}).get(name)


#: One field that makes a connection of the same name this row's: its label, where it is in a connection (the
#: request body and the listed object alike), and whether a connection may leave it out.
Matched = tuple[str, Callable[[dict[str, Any]], Any], bool]


class _ConnectionOperator(AepRowsOperator[CF]):
    """Create (or reuse by name) a source or target connection; a subclass says what it is, the fields that make
    a same-named connection its own (``matched``, with the row's values from ``wanted``) and its link."""

    collection: ClassVar[str]
    kind: ClassVar[Kind]
    link: ClassVar[type[AepLink]]
    matched: ClassVar[tuple[Matched, ...]]
    identity_fields: Sequence[str] = ("name",)

    def body(self, row: Row[CF]) -> ConnectionCreate:
        raise NotImplementedError

    def wanted(self, row: Row[CF]) -> tuple[Any, ...]:
        """The row's value of each ``matched`` field."""
        raise NotImplementedError

    def link_id(self, row: Row[CF]) -> str:
        raise NotImplementedError

    def matches(self, row: Row[CF], existing: dict[str, Any]) -> bool:
        """Whether the connection of the same name is this row's (then it is reused)."""
        return all(get(existing) == want or (optional and get(existing) is None)
                   for (_, get, optional), want in zip(self.matched, self.wanted(row), strict=True))

    @classmethod
    def describe(cls, existing: dict[str, Any]) -> str:
        return ", ".join(f"{label} {get(existing)!r}" for label, get, _ in cls.matched)

    def execute_row(self, context: Any, row: Row[CF]) -> str:
        model = build_model(f"{row.label}{self.kind.value}", lambda: self.body(row))
        obj, _ = create_named(
            self.hook, collection=self.collection, kind=self.kind, name=row.fields.name, body=model.to_body(),
            matches=lambda existing: self.matches(row, existing), describe=self.describe,
            planned=Planned.of(row.fields.planned, context),
        )
        self.persist_link(context, self.link, row, id=self.link_id(row))
        return str(obj["id"])


class AepCreateSourceConnectionOperator(_ConnectionOperator[SourceConnectionFields]):
    """Create (or reuse by name) the source connection: base connection + table path + ad-hoc schema.

    :param data_format: ``tabular`` (default) or ``parquet_xdm``.
    :return: the source connection id.
    """

    Fields = SourceConnectionFields
    operator_extra_links = (AepSourceConnectionLink(),)
    collection, kind, link = "sourceConnections", Kind.SOURCE_CONNECTION, AepSourceConnectionLink
    matched = (("base connection", _base, False), ("path", _param("path"), False), ("schema", _schema_id, True))

    def body(self, row: Row[SourceConnectionFields]) -> ConnectionCreate:
        f = row.fields
        return SourceConnectionCreate.build(f.name, f.base_connection_id, f.schema_id, f.path, f.data_format)

    def wanted(self, row: Row[SourceConnectionFields]) -> tuple[Any, ...]:
        return row.fields.base_connection_id, row.fields.path, row.fields.schema_id

    def link_id(self, row: Row[SourceConnectionFields]) -> str:
        return row.fields.base_connection_id

    def execute_row(self, context: Any, row: Row[SourceConnectionFields]) -> str:
        try:
            return super().execute_row(context, row)
        except AepValidationError as refused:
            if "params.path" not in refused.detail:
                raise
            raise unknown_table_error(self.hook, row.fields.base_connection_id, row.fields.path, "path", refused) from None


class AepCreateTargetConnectionOperator(_ConnectionOperator[TargetConnectionFields]):
    """Create (or reuse by name) the target connection: dataset base connection + dataset + target schema.

    :param base_connection_id: the *dataset* base connection (never the HubSpot one).
    :return: the target connection id.
    """

    Fields = TargetConnectionFields
    operator_extra_links = (AepTargetConnectionLink(),)
    collection, kind, link = "targetConnections", Kind.TARGET_CONNECTION, AepTargetConnectionLink
    matched = (("base connection", _base, False), ("dataset", _param("dataSetId"), False))

    def body(self, row: Row[TargetConnectionFields]) -> ConnectionCreate:
        f = row.fields
        return TargetConnectionCreate.build(f.name, f.base_connection_id, f.schema_id, f.dataset_id)

    def wanted(self, row: Row[TargetConnectionFields]) -> tuple[Any, ...]:
        return row.fields.base_connection_id, row.fields.dataset_id

    def link_id(self, row: Row[TargetConnectionFields]) -> str:
        return row.fields.dataset_id
