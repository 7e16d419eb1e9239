"""The pictures of the README and docs/: what each shows, who makes it, and the record that it is current.

``docs/pictures.json`` holds, per picture, the command that makes it, the SHA-256 of the picture file and the
SHA-256 of what it shows, computed from the code without a deployment (``SUBJECTS`` below). Whoever makes a
picture records it (:func:`record`): ``make docs`` for the DAG drawings, the browser test
(``tests/integration/test_ui_walkthrough.py`` with ``AEP_UI_SCREENSHOT_DIR=docs``) for the screenshots.
``tests/docs/test_pictures.py`` fails when a picture a page links is not the one recorded, or when what it
shows has changed in the code since it was made.

``python -m scripts.doc_pictures`` (``make docs``) draws the DAG pictures (SVG, rendered to PNG by Debian's
chromium through Playwright) and records them.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.dag_drawing import Faint, draw

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
MANIFEST = DOCS / "pictures.json"
EXAMPLE_SPEC = "hubspot_marketing.yaml"
BY_HAND_DAG = REPO / "dags" / "aep_example_by_hand.py"
CHROMIUM = Path(os.environ.get("AEP_CHROMIUM", "/usr/bin/chromium"))
MAKE_DOCS = "make docs"
BROWSER_TEST = (
    "make airflow-up, then AEP_UI_SCREENSHOT_DIR=docs .venv/bin/pytest -m integration "
    "tests/integration/test_ui_walkthrough.py"
)


def example_dag() -> Any:
    """The DAG ``make demo`` runs: the factory's DAG of the example spec."""
    from aep_onboarding.factory import build_onboarding_dag
    from aep_onboarding.loader import DEFAULT_SPECS_DIR, load_spec

    return build_onboarding_dag(load_spec(DEFAULT_SPECS_DIR / EXAMPLE_SPEC), source_file=EXAMPLE_SPEC)


def by_hand_dag() -> Any:
    """The hand-written example DAG, imported from its file as Airflow does."""
    import importlib.util

    module_spec = importlib.util.spec_from_file_location("aep_example_by_hand_drawn", BY_HAND_DAG)
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.dag


def example_dag_svg() -> str:
    dag = example_dag()
    return draw(
        dag,
        f"{dag.dag_id}: {len(dag.tasks)} tasks, from include/onboarding/{EXAMPLE_SPEC}",
        Faint(sources=frozenset({"plan"}), targets=frozenset({"release_write_lease"}),
              solid=frozenset({("plan", "apply")})),
        "grey lines: each step's line of the plan, and the write lease given back after every step that may create",
    )


def by_hand_dag_svg() -> str:
    dag = by_hand_dag()
    return draw(dag, f"{dag.dag_id}: {len(dag.tasks)} tasks, from dags/{BY_HAND_DAG.name}",
                legend="each line is an id passed as an XComArg, plainly or through inputs")


def _run_summary() -> str:
    """The run summary's table for a fixed run: one created object, one reused, the flow's first run."""
    from aep_onboarding.report import ObjectReport, render, row_of
    from aep_provider.outcomes import Kind, Outcome, RunResult

    def row(kind: Kind, step: str, name: str, rid: str, created: bool, key: str | None = "companies") -> dict[str, Any]:
        task = f"{key}.{step}" if key else step
        return row_of(Outcome(kind=kind, name=name, id=rid, created=created, key=key), task, step)

    report = ObjectReport("companies", resources=[
        row(Kind.SCHEMA, "target_schema", "target", "https://ns.adobe.com/t/schemas/1", True),
        row(Kind.DATASET, "dataset", "d", "ds1", True),
        row(Kind.TARGET_CONNECTION, "target_connection", "t", "tc1", False),
        row(Kind.DATAFLOW, "dataflow", "f", "f1", True),
    ])
    report.runs = [Outcome(kind=Kind.FLOW_RUN, id="r1", key="companies", flow_id="f1", run=RunResult(
        status="success", input_records=10, output_records=9, failed_records=1, first=True))]
    shared = [row(Kind.HUBSPOT_BASE_CONNECTION, "hubspot_base_connection", "h", "b1", False, key=None)]
    return render(shared, {"companies": report, "contacts": ObjectReport("contacts")})


def _trigger_form() -> Any:
    dag = example_dag()
    return {"dag_id": dag.dag_id, "params": {k: dag.params.get_param(k).dump() for k in dag.params}}


def _connection_test() -> Any:
    """The connection type as Airflow's UI shows it, and the message of a passing test."""
    from aep_provider.get_provider_info import get_provider_info
    from aep_provider.hooks.aep import AepHook

    variable = "AIRFLOW_CONN_AEP_PICTURE"  # the emulator's demo connection, as make airflow-up stores it
    os.environ[variable] = json.dumps({
        "conn_type": "adobe_experience_platform", "login": "demo-client", "password": "demo-secret",
        "host": "http://127.0.0.1:8765",
        "extra": {"ims_host": "http://127.0.0.1:8765", "org_id": "DEMO0000000000000000000@AdobeOrg", "sandbox": "prod"},
    })
    try:
        hook = AepHook(aep_conn_id="aep_picture")
        hook.get_stats = lambda: {"tenantId": "demotenant"}  # type: ignore[method-assign]  # no request
        passed = hook.test_connection()
    finally:
        del os.environ[variable]
    return {"connection_types": get_provider_info()["connection-types"], "test": passed}


def _asset_event() -> Any:
    """The asset a dataset's event is on (its one identity, named by the dataset's id: lineage.py) and the code of
    the run_summary task that emits it."""
    from aep_onboarding import report
    from aep_provider.lineage import dataset_uri

    return {"uri": dataset_uri("<org id>", "prod", "<dataset id>"), "run_summary": inspect.getsource(report.summary_task)}


#: picture -> (the command that makes it, what it shows: text or JSON-able data computed from the code).
SUBJECTS: dict[str, tuple[str, Callable[[], Any]]] = {
    "dag.png": (MAKE_DOCS, example_dag_svg),
    "dag-by-hand.png": (MAKE_DOCS, by_hand_dag_svg),
    "ui-trigger-form.png": (BROWSER_TEST, _trigger_form),
    "ui-run-summary.png": (BROWSER_TEST, _run_summary),
    "ui-connection-test.png": (BROWSER_TEST, _connection_test),
    "ui-asset-event.png": (BROWSER_TEST, _asset_event),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def shows(name: str) -> str:
    """The fingerprint of what picture ``name`` shows, as the code stands."""
    subject = SUBJECTS[name][1]()
    text = subject if isinstance(subject, str) else json.dumps(subject, sort_keys=True, default=str)
    return sha256(text.encode())


def manifest() -> dict[str, dict[str, str]]:
    return json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}


def record(name: str, folder: Path = DOCS) -> None:
    """Write down that ``folder/name`` was just made from the code as it stands (only for ``docs/``)."""
    if folder.resolve() != DOCS.resolve():
        return
    entries = manifest()
    entries[name] = {"made_by": SUBJECTS[name][0], "picture_sha256": sha256((folder / name).read_bytes()),
                     "shows_sha256": shows(name)}
    MANIFEST.write_text(json.dumps(dict(sorted(entries.items())), indent=2) + "\n")


def render_png(svg: str, target: Path) -> None:
    """The SVG as a PNG, at 1.5 times its size, by Debian's chromium (the browser the UI test drives)."""
    if not CHROMIUM.exists():
        sys.exit(f"no chromium at {CHROMIUM}: apt-get install -y chromium (or set AEP_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    width, height = (int(v) for v in svg.split('viewBox="0 0 ', 1)[1].split('"', 1)[0].split())
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1.5)
        page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
        page.locator("svg").screenshot(path=str(target))
        browser.close()


def main() -> None:
    for name, make in (("dag.png", example_dag_svg), ("dag-by-hand.png", by_hand_dag_svg)):
        render_png(make(), DOCS / name)
        record(name)
        print(f"docs/{name}: drawn and recorded in docs/pictures.json")


if __name__ == "__main__":
    main()
