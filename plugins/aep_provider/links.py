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


def _link(class_name: str, name: str, page: str, doc: str = "") -> type[AepLink]:
    """One button: a module-level :class:`AepLink` subclass (Airflow re-imports links by class path)."""
    return type(class_name, (AepLink,), {"name": name, "page": page, "__doc__": doc or name, "__module__": __name__})


# Each resource's page in the AEP UI: name on the button, path under ``/platform/``.
AepSchemaLink = _link("AepSchemaLink", "AEP Schema", "schema/edit/{id}")
AepClassLink = _link("AepClassLink", "AEP Class", "schema/class/edit/{id}")
AepDatasetLink = _link("AepDatasetLink", "AEP Dataset", "dataset/browse/{id}")
AepAccountLink = _link("AepAccountLink", "AEP Source Account", "source/accounts/{id}")
AepDataflowLink = _link("AepDataflowLink", "AEP Dataflow", "source/dataflows/{id}")
AepFlowRunLink = _link("AepFlowRunLink", "AEP Dataflow Run", "source/dataflows/{flow_id}/runs/{id}")
AepSourceConnectionLink = _link(
    "AepSourceConnectionLink", "AEP Source Account (of this source connection)", "source/accounts/{id}",
    "A source connection is listed under its source account (the HubSpot base connection).",
)
AepTargetConnectionLink = _link(
    "AepTargetConnectionLink", "AEP Target Dataset (of this target connection)", "dataset/browse/{id}",
    "A target connection writes to one dataset: its page shows the batches the connection lands.",
)
AepMappingSetLink = _link(
    "AepMappingSetLink", "AEP Target Schema (of this mapping set)", "schema/edit/{id}",
    "A mapping set maps onto a target schema: the schema's page shows the destination fields.",
)


ALL_LINKS = [
    AepSchemaLink, AepClassLink, AepDatasetLink, AepAccountLink, AepDataflowLink, AepFlowRunLink,
    AepSourceConnectionLink, AepTargetConnectionLink, AepMappingSetLink,
]
