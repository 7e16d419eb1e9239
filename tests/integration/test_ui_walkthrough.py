"""A new user's walk through the deployment in a real browser (headless Chromium driven by Playwright).

Trigger the example DAG from the form with a subset of its objects, see the run succeed, open a task's
link to the AEP UI, read the run summary, test the AEP connection from the Connections page and see the
dataset's asset event with its metadata. Everything is done by clicking in the Airflow 3 UI; the REST API
is used only to wait for the run and to find what the UI should show.

Needs Debian's chromium (``apt-get install -y chromium``; ``playwright install`` is never needed) and the
deployment fixture; without chromium or playwright the test is skipped and says why. With
``AEP_UI_SCREENSHOT_DIR`` set (``docs`` for the pictures of the docs) it saves its screenshots there; in docs/
each is recorded in docs/pictures.json with what it shows (docs/pictures.md).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from it_helpers import make_idle, spec_of

from aep_provider.lineage import dataset_uri

pytestmark = pytest.mark.integration

CHROMIUM = Path(os.environ.get("AEP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MARKETING = "hubspot_marketing"
SUBSET = "Hubspot.Companies"
SLUG = "companies"
UI_TIMEOUT_MS = 90_000
RUN_TIMEOUT = 300.0
AEP_UI = "https://experience.adobe.com/"


def _shot(page: Any, name: str) -> None:
    """Save a screenshot when asked; saved into docs/, it is recorded with what it shows (docs/pictures.md)."""
    folder = os.environ.get("AEP_UI_SCREENSHOT_DIR")
    if folder:
        from scripts.doc_pictures import record

        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))
        record(name, Path(folder))


@pytest.fixture(scope="module")
def ui(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Any]]:
    """A logged-in browser page on the deployment, and the deployment; skipped plainly without a browser."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser walkthrough skipped: no chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser walkthrough skipped: playwright is not installed (pip install -e '.[dev]')")
    deployment = request.getfixturevalue("deployment")
    client = deployment.airflow
    token = client.login()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        # The UI reads the same JWT the REST API hands out, from its `_token` cookie.
        context.add_cookies([{"name": "_token", "value": token, "url": client.base_url}])
        # Links to the AEP UI open a stub page: the test checks where they lead, without the internet.
        context.route(f"{AEP_UI}**", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<title>AEP</title><h1>Adobe Experience Platform</h1>"
        ))
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.new_page()
        try:
            yield page, deployment
        finally:
            context.close()
            browser.close()


def test_a_new_user_onboards_a_subset_and_finds_links_summary_connection_test_and_asset_event(ui) -> None:
    """The user-visible promises of the UI, in the order a new user meets them."""
    page, deployment = ui
    client, emulator = deployment.airflow, deployment.emulator
    spec = spec_of(MARKETING)
    dag_id = spec.dag_id
    client.wait_dag(dag_id)
    make_idle(client, dag_id)  # nothing of an earlier test still running
    client.set_paused(dag_id, True)  # a first-time user meets the DAG paused
    emulator.reset()  # a fresh sandbox: the run creates what it needs and ingests records
    runs_before = {r["dag_run_id"] for r in client.dag_runs(dag_id)}
    # A wrong object name is refused when the run is created, naming the valid ones: no run, no retries.
    refused = client.request(
        "POST", f"/api/v2/dags/{dag_id}/dagRuns", expect=(400,),
        json={"logical_date": None, "conf": {"objects": ["Hubspot.Bogus"]}},
    )
    assert SUBSET in str(refused), refused

    # 1. The trigger form: a described multi-select of the spec's objects; pick one.
    page.goto(f"{client.base_url}/dags/{dag_id}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Objects to onboard").wait_for()
    dialog.get_by_text("Leave empty to onboard every object").wait_for()
    page.locator("#element_objects input[type=text]").click()
    page.keyboard.type("Companies")
    page.keyboard.press("Enter")
    dialog.get_by_text(SUBSET, exact=True).wait_for()
    _shot(page, "ui-trigger-form.png")
    dialog.get_by_role("button", name="Trigger").click()
    page.wait_for_function("() => location.pathname.includes('/runs/')")  # the UI opens the new run
    run_id = unquote(page.url.rsplit("/runs/", 1)[1].split("/", 1)[0])

    # Unpausing on trigger starts only the run the user asked for (the example has no Airflow schedule).
    new_runs = [r for r in client.dag_runs(dag_id) if r["dag_run_id"] not in runs_before]
    assert [(r["dag_run_id"], r["run_type"]) for r in new_runs] == [(run_id, "manual")], new_runs
    # The form sends every param: the subset typed in, and the dry-run switch left off.
    assert new_runs[0]["conf"] == {"objects": [SUBSET], "plan_only": False}

    # 2. The run succeeds, and the run page says so.
    run = client.wait_run(dag_id, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", run
    run_url = f"{client.base_url}/dags/{dag_id}/runs/{quote(run_id, safe='')}"
    page.goto(run_url)
    page.get_by_text("Success").first.wait_for()

    # 3. A task's link opens the resource in the AEP UI: the target connection's dataset.
    datasets = {r["name"]: r["id"] for r in emulator.resources("dataset")}
    dataset_id = datasets[f"{MARKETING} Companies dataset"]
    page.goto(f"{run_url}/tasks/{SLUG}.target_connection/details")
    link = page.get_by_role("link", name="AEP Target Dataset (of this target connection)")
    link.wait_for()
    with page.context.expect_page() as opened:
        link.click()
    aep_page = opened.value
    aep_page.wait_for_load_state()
    assert aep_page.url == f"{AEP_UI}#/sname:prod/platform/dataset/browse/{dataset_id}"
    aep_page.close()

    # 4. The run summary: what was created, with ids, links and the records ingested.
    page.goto(f"{run_url}/tasks/run_summary")
    page.get_by_text("What this DAG run did").first.wait_for()
    page.get_by_text(re.compile(r"companies \| dataset .* \| created \| " + re.escape(dataset_id))).first.wait_for()
    summary = client.get(
        f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/run_summary/xcomEntries/return_value"
    )["value"]
    records = summary["objects"][SLUG]["output_records"]
    assert records > 0 and summary["objects"]["contacts"]["resources"] == []
    _shot(page, "ui-run-summary.png")

    # 5. The Connections page lists aep_default (stored in the metadata database) and its test passes.
    page.goto(f"{client.base_url}/connections")
    row = page.locator("tr", has_text="aep_default")
    row.get_by_role("button", name="Test Connection").click()
    page.get_by_text("Connected to org").first.wait_for()
    _shot(page, "ui-connection-test.png")

    # 6. The dataset's asset: one event, from this run, carrying the dataset id, sandbox, link and records.
    # One identity for the dataset, in Airflow and in OpenLineage: the org, the sandbox and the dataset id.
    uri = dataset_uri("DEMO0000000000000000000@AdobeOrg", "prod", dataset_id)
    # Filtered on the server: the deployment keeps every earlier test's events, and a listing is oldest first.
    run_events = client.get(
        "/api/v2/assets/events", params={"source_dag_id": dag_id, "source_run_id": run_id, "limit": 100}
    )["asset_events"]
    events = [e for e in run_events if e["uri"] == uri]
    assert len(events) == 1, events
    extra = events[0]["extra"]
    assert extra["dataset_id"] == dataset_id and extra["sandbox"] == "prod" and extra["output_records"] == records
    assert extra["aep_link"].endswith(f"/dataset/browse/{dataset_id}")
    # In the UI: the run_summary task's Asset Events tab; the event's card unfolds its metadata.
    page.goto(f"{run_url}/tasks/run_summary/asset_events")
    page.get_by_text("Created Asset Event").wait_for()
    card = page.locator("div", has=page.get_by_role("link", name=uri)).filter(has_text="Source:").last
    card.click(position={"x": 300, "y": 10})
    page.locator(".codicon-folding-collapsed").first.click(force=True)
    page.wait_for_function(
        "id => [...document.querySelectorAll('.view-lines')].some(e => e.innerText.includes(id))", arg=dataset_id
    )
    shown = page.locator(".view-lines").first.inner_text()
    for text in ('"sandbox": "prod"', f'"output_records": {records}', "/dataset/browse/"):
        assert text in shown.replace("\u00a0", " "), shown
    _shot(page, "ui-asset-event.png")
    # The objects this run left out ingested nothing, so their assets got no event.
    assert [e for e in run_events if e["uri"] != uri] == []
