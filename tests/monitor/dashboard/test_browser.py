"""The dashboard in a real headless Chromium, after the demo's scans.

Skipped only where /usr/bin/chromium is absent and not under CI; under CI (``CI=true``) a
missing browser is a failure, since `.ci/run` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.api.app import ApiSettings, create_app
from tests.waiting import PATIENCE, serving

CHROMIUM = "/usr/bin/chromium"
TOKEN = "browser-token"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing under CI (.ci/run installs Debian's chromium)")
    pytest.skip(f"{CHROMIUM} is not installed")


@pytest.fixture(scope="module")
def server(demo: Path) -> Iterator[str]:
    """The API and dashboard on the demo's state DB, served by uvicorn on a loopback port."""
    from monitor.config import load_config
    from monitor.store import make_engine, make_sessionmaker

    config = load_config(demo / "monitor.yaml")
    engine = make_engine(config.state_db)
    app = create_app(
        sessions=make_sessionmaker(engine), settings=ApiSettings(token=TOKEN), config=config
    )
    try:
        with serving(app) as url:
            yield url
    finally:
        engine.dispose()


def test_dashboard_shows_the_red_model_and_acknowledges_an_alert_by_click(server: str) -> None:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # Playwright's defaults (30 s per action, 5 s per expectation) are for an idle machine;
    # each expectation still ends as soon as it holds.
    expect.set_options(timeout=PATIENCE * 1000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=PATIENCE * 1000)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(PATIENCE * 1000)
            answers = {"API token": TOKEN, "Your name": "ana"}
            asked: list[str] = []

            def answer(dialog: object) -> None:
                message = dialog.message  # type: ignore[attr-defined]
                asked.append(message)
                dialog.accept(next(v for k, v in answers.items() if k in message))  # type: ignore[attr-defined]

            page.on("dialog", answer)
            page.goto(server + "/")
            churn = page.locator(".card[data-model=churn]")
            expect(churn.locator(".badge")).to_have_text("red")
            expect(page.locator(".card[data-model=eta] .badge")).to_have_text("green")

            firing = page.locator(".state", has_text="firing")
            row = page.locator("#alerts tbody tr").filter(has=firing).first
            alert_id = row.get_attribute("data-alert")
            expect(row.locator(".state")).to_have_text("firing")
            row.get_by_role("button", name="Acknowledge").click()
            acked = page.locator(f"#alerts tr[data-alert='{alert_id}'] .state")
            expect(acked).to_have_text("acknowledged")
            assert sum("API token" in m for m in asked) == 1
            assert page.evaluate("sessionStorage.getItem('monitor.token')") == TOKEN

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

            page.goto(server + "/#/models/churn")
            expect(page.locator(".chart[data-check=accuracy] svg path.value")).to_have_count(1)
            expect(page.locator(".chart[data-check=accuracy] .alert-period").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "dashboard-model.png"), full_page=True)

            page.locator("a[href^='#/scans/']").first.click()
            expect(page.locator("h1")).to_contain_text("Scan #")
            expect(page.get_by_role("cell", name="accuracy", exact=True)).to_be_visible()
            expect(page.locator("button#report")).to_be_visible()
        finally:
            browser.close()
