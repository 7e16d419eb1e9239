"""Extra links from task instances to the resource's page in the Experience Platform UI.

URL shape (Experience Cloud unified shell)::

    https://experience.adobe.com/#/@<tenant>/sname:<sandbox>/platform/<page>

``<tenant>`` is the org's Experience Cloud tenant; this provider uses the Schema Registry
``tenantId`` (``GET /stats``), which matches it for most orgs. Pages used:

* schema / class: ``schema/edit/<url-encoded $id>``
* dataset: ``dataset/browse/<dataset id>``
* source account (base connection): ``source/accounts/<connection id>``
* dataflow: ``source/dataflows/<flow id>``
* dataflow run: ``source/dataflows/<flow id>/runs/<run id>``

The operators compute the URL while they run and store it in XCom under the link's ``xcom_key``,
which is what Airflow 3's web server reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink
from airflow.sdk.bases.xcom import BaseXCom

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

UI_BASE = "https://experience.adobe.com/#/@{tenant}/sname:{sandbox}/platform/"


def ui_url(tenant: str, sandbox: str, page: str) -> str:
    return UI_BASE.format(tenant=quote(tenant, safe=""), sandbox=quote(sandbox, safe="")) + page


class AepLink(BaseOperatorLink):
    """A link whose URL the operator stored in XCom during ``execute``."""

    name: ClassVar[str] = "Adobe Experience Platform"  # type: ignore[misc]
    page: ClassVar[str] = ""

    @classmethod
    def build(cls, tenant: str, sandbox: str, **ids: str) -> str:
        quoted = {k: quote(str(v), safe="") for k, v in ids.items()}
        return ui_url(tenant, sandbox, cls.page.format(**quoted))

    @classmethod
    def persist(cls, context: Any, tenant: str, sandbox: str, **ids: str) -> str:
        url = cls.build(tenant, sandbox, **ids)
        context["ti"].xcom_push(key=cls().xcom_key, value=url)
        return url

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        value = BaseXCom.get_value(key=self.xcom_key, ti_key=ti_key)  # type: ignore[arg-type]
        return str(value) if value else ""


class AepSchemaLink(AepLink):
    name = "AEP Schema"
    page = "schema/edit/{id}"


class AepClassLink(AepLink):
    name = "AEP Class"
    page = "schema/class/edit/{id}"


class AepDatasetLink(AepLink):
    name = "AEP Dataset"
    page = "dataset/browse/{id}"


class AepAccountLink(AepLink):
    name = "AEP Source Account"
    page = "source/accounts/{id}"


class AepDataflowLink(AepLink):
    name = "AEP Dataflow"
    page = "source/dataflows/{id}"


class AepFlowRunLink(AepLink):
    name = "AEP Dataflow Run"
    page = "source/dataflows/{flow_id}/runs/{id}"


ALL_LINKS = [AepSchemaLink, AepClassLink, AepDatasetLink, AepAccountLink, AepDataflowLink, AepFlowRunLink]
