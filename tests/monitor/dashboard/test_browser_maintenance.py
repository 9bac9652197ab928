"""The dashboard plans and cancels a maintenance window of a model (issue 15 item 6, audit):
in a real headless Chromium, on a copy of the demo's state DB, checked with the CLI."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from typer.testing import CliRunner

from tests.monitor.dashboard.test_browser import (  # noqa: F401 (fixtures)
    TOKEN,
    Site,
    _open,
    browser,
    page,
    site,
)


def _maintenance_list(on: Site, *args: str) -> str:
    """``monitor maintenance --list`` on the state DB the page writes to."""
    from monitor.cli import build_app

    done = CliRunner().invoke(
        build_app(), ["maintenance", "--list", *args, "-c", str(on.config_file)]
    )
    assert done.exit_code == 0, done.output
    return done.output


def test_a_window_planned_on_the_model_page_is_in_force_and_can_be_cancelled(
    site: Site,  # noqa: F811
    page: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    ends = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    _open(page, site.url + "/#/models/churn")
    section = page.locator("details#maintenance")
    expect(section.locator("summary")).to_have_text("Maintenance windows (0)")
    section.locator("summary").click()
    form = page.locator("#maintenance-form")
    form.locator("input[name=to]").fill(f"{ends:%Y-%m-%dT%H:%M}")  # from: empty, now
    form.locator("input[name=reason]").fill("retraining")
    form.get_by_role("button", name="Plan window").click()
    dialog = page.locator("dialog#auth")
    expect(dialog).to_be_visible()
    dialog.locator("#auth-token").fill(TOKEN)
    dialog.locator("#auth-by").fill("ana")
    dialog.locator("#auth-ok").click()
    # the banner of the window in force, and the window listed with its cancel button
    banner = page.locator("main p.maintenance")
    expect(banner).to_contain_text(f"Maintenance until {ends:%Y-%m-%d %H:%M}Z by ana: retraining")
    expect(page.locator("details#maintenance summary")).to_have_text("Maintenance windows (1)")
    listed = _maintenance_list(site, "churn")
    match = re.search(
        rf"^\s*(\d+)  churn  \S+ \.\. {ends:%Y-%m-%dT%H:%M}:00Z  active  by ana: retraining$",
        listed,
        re.M,
    )
    assert match, listed
    window_id = match.group(1)
    # cancel from the page: no banner, nothing in force, the planned end kept in the history
    page.get_by_role("button", name=f"Cancel window #{window_id}").click()
    expect(page.locator("details#maintenance summary")).to_have_text("Maintenance windows (0)")
    expect(banner).to_have_count(0)
    assert _maintenance_list(site, "churn").strip() == "no maintenance windows"
    past = _maintenance_list(site, "churn", "--past")
    assert re.search(
        rf"^\s*{window_id}  churn  \S+ \.\. {ends:%Y-%m-%dT%H:%M}:00Z  "
        r"cancelled at \S+Z by ana, planned  by ana: retraining$",
        past,
        re.M,
    ), past
    assert page.errors == []
