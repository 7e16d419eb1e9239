"""Extra links from task instances to the resource's page in the Experience Platform UI.

URL shape (Experience Cloud unified shell)::

    https://experience.adobe.com/#/@<tenant>/sname:<sandbox>/platform/<page>

``<tenant>`` is the org's Experience Cloud tenant, taken from the connection's optional
``extra.ui_tenant``. Without it the ``@<tenant>/`` part is left out and Experience Cloud opens
the page in the user's current org; building a link never costs an API call. Pages used:

* schema / class: ``schema/edit/<url-encoded $id>``
* dataset: ``dataset/browse/<dataset id>``
* source account (base connection): ``source/accounts/<connection id>``
* dataflow: ``source/dataflows/<flow id>``
* dataflow run: ``source/dataflows/<flow id>/runs/<run id>``

The Platform UI has no page of its own for a source connection, a target connection or a mapping set;
their links open the page that shows them: the source account (base connection) the source connection
reads through, the dataset the target connection writes to, the target schema the mapping set maps onto.

The operators compute the URL while they run and store it in XCom under the link's ``xcom_key``,
which is what Airflow 3's web server reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

UI_ROOT = "https://experience.adobe.com/#/"


def ui_url(tenant: str, sandbox: str, page: str) -> str:
    org = f"@{quote(tenant, safe='')}/" if tenant else ""
    return f"{UI_ROOT}{org}sname:{quote(sandbox, safe='')}/platform/{page}"


class AepLink(BaseOperatorLink):
    """A link whose URL the operator stored in XCom during ``execute``."""

    name: ClassVar[str] = "Adobe Experience Platform"  # type: ignore[misc]
    page: ClassVar[str] = ""

    @classmethod
    def build(cls, tenant: str, sandbox: str, **ids: str) -> str:
        quoted = {k: quote(str(v), safe="") for k, v in ids.items()}
        return ui_url(tenant, sandbox, cls.page.format(**quoted))

    @classmethod
    def persist(cls, context: Any, tenant: str, sandbox: str, operator: Any = None, **ids: str) -> str:
        """Remember the URL on the running operator (read back by ``get_link`` when the task runner
        finalises the task) and in XCom under ``xcom_key`` (what the web server reads)."""
        url = cls.build(tenant, sandbox, **ids)
        if operator is not None:
            links = operator.__dict__.setdefault("_aep_link_urls", {})
            links[cls.__name__] = url
        context["ti"].xcom_push(key=cls().xcom_key, value=url)
        return url

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """Called by the task runner when it finalises the task, in the process that ran it.

        The web server does not call this: it reads the XCom ``xcom_key`` the runner pushed. A task
        that ended before creating its resource (skipped, failed) has no link: ``""``.
        """
        return str(getattr(operator, "_aep_link_urls", {}).get(type(self).__name__, ""))


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


class AepSourceConnectionLink(AepLink):
    """A source connection is listed under its source account (the HubSpot base connection)."""

    name = "AEP Source Account (of this source connection)"
    page = "source/accounts/{id}"


class AepTargetConnectionLink(AepLink):
    """A target connection writes to one dataset: its page shows the batches the connection lands."""

    name = "AEP Target Dataset (of this target connection)"
    page = "dataset/browse/{id}"


class AepMappingSetLink(AepLink):
    """A mapping set maps onto a target schema: the schema's page shows the destination fields."""

    name = "AEP Target Schema (of this mapping set)"
    page = "schema/edit/{id}"


ALL_LINKS = [
    AepSchemaLink, AepClassLink, AepDatasetLink, AepAccountLink, AepDataflowLink, AepFlowRunLink,
    AepSourceConnectionLink, AepTargetConnectionLink, AepMappingSetLink,
]
