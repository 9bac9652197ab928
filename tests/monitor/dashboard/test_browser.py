"""The dashboard in a real headless Chromium, on a copy of the demo's state DB.

Skipped only where /usr/bin/chromium is absent and not under CI; under CI (``CI=true``) a
missing browser is a failure, since `.ci/run` installs it. Every wait is on a selector or a
condition, with :data:`tests.waiting.PATIENCE` as the bound, so a busy machine is only slower.
Screenshots of every page land in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

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


@dataclass
class Site:
    url: str
    config_file: Path
    sessions: sessionmaker[Session]
    config: Any


@pytest.fixture(scope="module")
def site(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The API and dashboard on a copy of the demo's state DB (these tests change it),
    served by uvicorn on a loopback port."""
    from monitor.config import load_config
    from monitor.store import make_engine, make_sessionmaker

    here = tmp_path_factory.mktemp("browser")
    shutil.copy(demo / "monitor.db", here / "monitor.db")
    text = (demo / "monitor.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^state_db: .*$", f'state_db: "sqlite:///{here / "monitor.db"}"', text)
    (here / "monitor.yaml").write_text(text, encoding="utf-8")
    config = load_config(here / "monitor.yaml")
    engine = make_engine(config.state_db)
    sessions = make_sessionmaker(engine)
    app = create_app(sessions=sessions, settings=ApiSettings(token=TOKEN), config=config)
    try:
        with serving(app) as url:
            yield Site(url, here / "monitor.yaml", sessions, config)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # Playwright's defaults (30 s per action, 5 s per expectation) are for an idle machine;
    # each expectation still ends as soon as it holds.
    expect.set_options(timeout=PATIENCE * 1000)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=PATIENCE * 1000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A 1400 px page that records console errors and uncaught exceptions."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(PATIENCE * 1000)
    tab.errors = []
    tab.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    yield tab
    context.close()


def _open(page: Any, url: str) -> None:
    """Go to ``url`` and wait until the dashboard rendered it."""
    before = ""
    if page.url.startswith("http"):
        before = page.evaluate("document.getElementById('main')?.dataset.loaded || ''")
    page.goto(url)
    page.wait_for_function(
        "(before) => { const m = document.getElementById('main');"
        " return m && m.dataset.loaded && m.dataset.loaded !== before; }",
        arg=before,
    )


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("document.getElementById('toast').style.display = 'none'")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _status(site: Site, model: str) -> dict[str, Any]:
    """The model's report as `monitor status --json` gives it."""
    from typer.testing import CliRunner

    from monitor.cli import build_app

    done = CliRunner().invoke(build_app(), ["status", model, "--json", "-c", str(site.config_file)])
    assert done.exit_code == 0, done.output
    import json

    report: dict[str, Any] = json.loads(done.output)["models"][0]
    return report


def _item(page: Any, key: str) -> str:
    text: str = page.locator(f"main dl.report [data-item='{key}'] dd").inner_text()
    return text


def test_model_page_shows_the_report_layout_with_the_status_values(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    churn = _status(site, "churn")
    _open(page, site.url + "/#/models/churn")
    expect(page.locator(".chart[data-check=accuracy] canvas").first).to_be_visible()
    assert churn["health"] == "red" and churn["health"].upper() in _item(page, "health")
    retraining = churn["last_retraining"]
    assert retraining["version"] == "churn-2026.10"
    assert retraining["retrained_at"][:10] in _item(page, "last-retraining")
    assert churn["next_retraining"][:10] in _item(page, "next-retraining")
    accuracy = churn["performance"]["accuracy"]
    shown = _item(page, "performance")
    assert f"accuracy {accuracy['value']:.3g} vs {accuracy['baseline']:.3g}" in shown
    assert f"{accuracy['change_percent']:+.1f}%" in shown
    change = page.locator("main dl.report [data-item='performance'] .change")
    expect(change).to_have_class(re.compile(r"\bworse\b"))  # accuracy fell: red
    drop = churn["model_drift"]["degradation_percent"]["accuracy"]
    assert _item(page, "model-drift") == f"yes (accuracy {drop:+.1f}%)"
    drifted = [c["column"] for c in churn["data_drift"]["columns"] if c["drifted"]]
    assert _item(page, "data-drift") == "yes: " + ", ".join(drifted)
    ops = churn["operations"]
    assert _item(page, "latency") == (
        f"p50 {ops['latency_p50']:.3g} ms · p99 {ops['latency_p99']:.3g} ms"
    )
    rate = churn["throughput"]
    assert rate["unit"] == "hour" and _item(page, "throughput") == f"{rate['value']:.3g} rows/h"
    rows = churn["last_scan"]["rows"]
    assert _item(page, "rows") == f"live {rows['live']} · labelled {rows['labelled']}"
    assert churn["next_scan"][:10] in _item(page, "next-run")
    # action items are buttons, not CLI commands
    actions = page.locator("main ul.actions")
    expect(
        actions.get_by_role("button", name=re.compile(r"Acknowledge #\d+")).first
    ).to_be_visible()
    expect(actions.get_by_role("link", name="Review alerts")).to_be_visible()
    assert "monitor ack" not in actions.inner_text()
    # each threshold level of accuracy is its own line in the legend; metrics have charts too
    legend = page.locator(".chart[data-check=accuracy] .u-legend").inner_text()
    assert "warning min 0.83" in legend and "critical min 0.8" in legend
    for metric in ("precision", "recall", "latency", "throughput", "rows"):
        expect(page.locator(f".chart[data-metric={metric}] canvas")).to_be_visible()
    # the six missing shares that never moved are folded behind a toggle
    folded = page.locator("details#flat-charts")
    expect(folded).not_to_have_attribute("open", "")
    assert "missing_share:age" in folded.locator("summary").inner_text()
    _shot(page, "dashboard-model")
    assert page.errors == []


def test_a_selected_segment_shows_that_segments_values(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    _open(page, site.url + "/#/models/eta")
    # an error metric that fell improved: green, not red like a fall in accuracy
    mae = _status(site, "eta")["performance"]["mae"]
    assert mae["higher_is_better"] is False
    better = "better" if mae["value"] < mae["baseline"] else "worse"
    change = page.locator("main dl.report [data-item='performance'] .change")
    expect(change).to_have_class(re.compile(rf"\b{better}\b"))
    expect(page.locator("#performance tr[data-metric=mae] .change")).to_have_class(
        re.compile(rf"\b{better}\b")
    )
    options = page.locator("select#segment option").all_inner_texts()
    segment = options[1]
    page.select_option("select#segment", segment)
    table = page.locator(f"#segment-values[data-segment='{segment}']")
    expect(table).to_be_visible()
    expect(page.locator("#whole-window-note")).to_contain_text(segment)
    last = _status(site, "eta")["last_scan"]["id"]
    scan = page.request.get(f"{site.url}/api/scans/{last}").json()
    values = {r["check_id"]: r["value"] for r in scan["results"] if r["segment"] == segment}
    assert values and "mae" in values
    for check_id in ("mae", "drift:distance_km"):
        cell = table.locator(f"tr[data-check='{check_id}'] td.value").inner_text()
        assert float(cell) == pytest.approx(values[check_id], rel=1e-2)  # 3 digits shown
    expect(page.locator(".chart[data-check=mae] canvas")).to_be_visible()
    mae = page.request.get(f"{site.url}/api/models/eta/checks/mae/history?segment={segment}")
    assert [p["value"] for p in mae.json()["points"]][-1] == pytest.approx(values["mae"])
    heat = page.locator(f"td.heat[data-segment='{segment}'][data-check=mae]")
    expect(heat).to_be_visible()
    heat.locator("a").click()
    expect(page.locator("h1 .segment")).to_have_attribute("data-segment", segment)
    assert page.locator("#values tbody tr").count() == len(mae.json()["points"])
    _shot(page, "dashboard-segment-check")
    assert page.errors == []


@pytest.mark.parametrize("landing", [1, 2, 3])
@pytest.mark.parametrize("start", ["#/", "#/models/churn"], ids=["overview", "model"])
def test_auto_refresh_picks_up_a_new_scan_without_reload(
    site: Site, page: Any, start: str, landing: int
) -> None:
    """A scan stored at any point of the page's start shows without a reload: it is committed
    just before the ``landing``-th request to /api/models is served (the overview draws from
    it, every page polls it; which request comes first is the page's business). A page that
    took the first poll's answer as already shown kept, when the scan landed between its
    render and that poll, the old card until the next change (CI saw it once)."""
    from playwright.sync_api import expect

    from monitor.store import Scan

    stored: list[int] = []

    def store_a_scan() -> None:
        with site.sessions() as session:
            last = session.scalars(
                select(Scan).where(Scan.model == "churn").order_by(Scan.window_end.desc())
            ).first()
            assert last is not None
            end = last.window_end + timedelta(days=1)
            new = Scan(
                model="churn",
                window_start=last.window_end,
                window_end=end,
                reference=last.reference,
                config_hash=last.config_hash,
                status="no_data",
                started_at=end,
                finished_at=end,
                rows_live=0,
            )
            session.add(new)
            session.commit()
            stored.append(new.id)

    asked = 0

    def serve(route: Any) -> None:
        nonlocal asked
        asked += 1
        if asked == landing:
            store_a_scan()
        route.continue_()

    page.route("**/api/models", serve)
    try:
        _open(page, site.url + "/?refresh=1" + start)
        page.evaluate("window.sameDocument = true")
        card = page.locator(".card[data-model=churn]" if start == "#/" else "main")
        expect(card).to_be_visible()
        # the route handler runs while Playwright waits, so wait in the page, not in sleep
        deadline = time.monotonic() + PATIENCE
        while not stored and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert stored, f"no scan stored after {PATIENCE} s: /api/models asked {asked} times"
        expect(card.locator(f"a[href='#/scans/{stored[0]}']")).to_be_visible()
        assert page.evaluate("window.sameDocument") is True
        assert page.errors == []
    finally:  # the other tests see the demo's scans
        page.unroute("**/api/models")
        with site.sessions() as session:
            for scan_id in stored:
                session.delete(session.get(Scan, scan_id))
            session.commit()


def test_resolve_with_a_reason_from_the_page_shows_in_the_cli(site: Site, page: Any) -> None:
    from playwright.sync_api import expect
    from typer.testing import CliRunner

    from monitor.cli import build_app

    _open(page, site.url + "/#/alerts?state=open&model=churn")
    row = page.locator("#alerts tbody tr").filter(has=page.locator(".state", has_text="firing"))
    alert_id = row.first.get_attribute("data-alert")
    badge = row.first.locator(".state .badge")
    severity = row.first.locator("td:nth-child(4)").inner_text().lower()
    colour = badge.evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == ("rgb(217, 119, 6)" if severity == "warning" else "rgb(198, 40, 40)")
    row.first.get_by_role("link", name="Snooze / resolve…").click()
    expect(page.locator("h1")).to_contain_text(f"Alert #{alert_id}")
    form = page.locator("#resolve-form")
    form.locator("select[name=resolution]").select_option("false_positive")
    form.locator("input[name=note]").fill("seasonal promo, expected to pass")
    form.get_by_role("button", name="Resolve").click()
    dialog = page.locator("dialog#auth")
    expect(dialog).to_be_visible()
    dialog.locator("#auth-token").fill(TOKEN)
    dialog.locator("#auth-by").fill("ana")
    dialog.locator("#auth-ok").click()
    expect(page.locator("h1 .badge.resolved")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('monitor.token')") == TOKEN
    expect(page.locator("#events")).to_contain_text("seasonal promo")
    _shot(page, "dashboard-alert")
    shown = CliRunner().invoke(
        build_app(), ["alerts", "show", str(alert_id), "-c", str(site.config_file)]
    )
    assert shown.exit_code == 0, shown.output
    assert "resolved" in shown.output and "false_positive" in shown.output
    assert "ana" in shown.output and "seasonal promo" in shown.output
    # the next action in this tab asks for nothing: the token is kept for the session
    _open(page, site.url + "/#/alerts?state=resolved")
    expect(page.locator(f"#alerts tr[data-alert='{alert_id}']")).to_be_visible()
    # the filters are in the URL: all states, then warnings only
    page.select_option("select#f-state", "all")
    expect(page).to_have_url(re.compile(r"state=all"))
    page.select_option("select#f-severity", "warning")
    expect(page).to_have_url(re.compile(r"severity=warning"))
    expect(page.locator("#alerts tbody tr.sev-critical")).to_have_count(0)
    expect(page.locator("#alerts tbody tr.sev-warning").first).to_be_visible()
    assert page.errors == []


def test_snooze_from_the_alert_page_shows_in_the_cli(site: Site, page: Any) -> None:
    from playwright.sync_api import expect
    from typer.testing import CliRunner

    from monitor.cli import build_app

    alerts = page.request.get(f"{site.url}/api/alerts?state=open&model=churn").json()["alerts"]
    alert_id = next(a["id"] for a in alerts if a["state"] == "firing" and not a["snoozed_until"])
    _open(page, site.url + f"/#/alerts/{alert_id}")
    form = page.locator("#snooze-form")
    form.locator("select[name=for]").select_option("24h")
    form.get_by_role("button", name="Snooze").click()
    dialog = page.locator("dialog#auth")
    expect(dialog).to_be_visible()
    dialog.locator("#auth-token").fill(TOKEN)
    dialog.locator("#auth-by").fill("ana")
    dialog.locator("#auth-ok").click()
    until = page.locator(".kv span", has_text="snoozed until").locator(
        "xpath=following-sibling::span[1]"
    )
    expect(until).to_be_visible()
    stored = page.request.get(f"{site.url}/api/alerts/{alert_id}").json()
    assert stored["snoozed_until"] is not None
    shown_until = until.inner_text()
    assert shown_until == stored["snoozed_until"][:16].replace("T", " ") + "Z"
    expect(page.locator("#events")).to_contain_text("ana")
    shown = CliRunner().invoke(
        build_app(), ["alerts", "show", str(alert_id), "-c", str(site.config_file)]
    )
    assert shown.exit_code == 0, shown.output
    assert "snooze" in shown.output and "ana" in shown.output
    # the alerts table says so too, beside the state
    _open(page, site.url + "/#/alerts?state=open&model=churn")
    expect(page.locator(f"#alerts tr[data-alert='{alert_id}'] .state .snoozed")).to_have_text(
        f"snoozed until {shown_until}"
    )
    assert page.errors == []


def test_an_old_slack_link_to_an_alert_opens_that_alert(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    alerts = page.request.get(f"{site.url}/api/alerts?state=open&model=churn").json()["alerts"]
    alert_id = alerts[0]["id"]
    _open(page, site.url + f"/?alert={alert_id}&refresh=60")
    assert page.url.endswith(f"/?refresh=60#/alerts/{alert_id}")
    expect(page.locator("#events")).to_be_visible()
    assert page.errors == []


def test_acknowledge_by_click_and_no_console_errors_on_any_page(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    _open(page, site.url + "/")
    expect(page.locator(".card[data-model=churn] .badge").first).to_have_text("red")
    expect(page.locator(".card[data-model=eta] .badge").first).to_have_text("green")
    row = page.locator("#alerts tbody tr").filter(has=page.locator(".state", has_text="firing"))
    alert_id = row.first.get_attribute("data-alert")
    row.first.get_by_role("button", name="Acknowledge").click()
    dialog = page.locator("dialog#auth")
    expect(dialog).to_be_visible()
    dialog.locator("#auth-token").fill(TOKEN)
    dialog.locator("#auth-by").fill("ana")
    dialog.locator("#auth-ok").click()
    expect(page.locator(f"#alerts tr[data-alert='{alert_id}'] .state .badge")).to_have_text(
        "acknowledged"
    )
    _shot(page, "dashboard")
    scans = page.request.get(f"{site.url}/api/models/churn/scans").json()["scans"]
    scan = "#/scans/{}".format(next(s["id"] for s in scans if s["status"] == "failed"))
    pages = {
        "dashboard-alerts": "/#/alerts?state=all",
        "dashboard-alert-detail": f"/#/alerts/{alert_id}",
        "dashboard-check": "/#/models/churn/checks/accuracy",
        "dashboard-scan": "/" + str(scan),
        "dashboard-eta": "/#/models/eta?range=7d",
        "dashboard-eta-segment": "/#/models/eta?segment=porto&range=all",
        "dashboard-custom-range": "/#/models/churn?range=custom&from=2000-01-01&to=2000-01-02",
    }
    for name, path in pages.items():
        _open(page, site.url + path)
        expect(page.locator("main h1")).to_be_visible()
        assert page.locator("main p.error").count() == 0, (path, page.locator("main").inner_text())
        _shot(page, name)
    # the last 7 days keep the scans whose window ended in them (the demo's dates follow today's)
    _open(page, site.url + "/#/models/eta?range=7d")
    every = page.request.get(f"{site.url}/api/models/eta/scans").json()["scans"]
    since = datetime.now(UTC) - timedelta(days=7)
    recent = [s for s in every if datetime.fromisoformat(s["window_end"]) >= since]
    assert 0 < len(recent) < len(every)
    expect(page.locator("#scans tbody tr")).to_have_count(len(recent))
    # a range with no scans leaves the charts empty and says so, without an error
    _open(page, site.url + "/#/models/churn?range=custom&from=2000-01-01&to=2000-01-02")
    expect(page.locator("#range-from")).to_have_value("2000-01-01")
    assert page.locator("#scans tbody tr").count() == 0
    _open(page, site.url + "/#/models/churn/checks/accuracy")
    box = page.locator(".chart.wide canvas").first.bounding_box()
    assert box is not None and box["width"] <= 1000 and box["height"] <= 400
    _open(page, site.url + "/" + str(scan))
    expect(
        page.locator("#results").get_by_role("cell", name="accuracy", exact=True)
    ).to_be_visible()
    report = page.locator("a#report")
    assert report.get_attribute("href") == f"/reports/{str(scan).rsplit('/', 1)[1]}.html"
    assert page.errors == []


def test_a_retraining_recorded_on_the_model_page_is_the_last_retraining(
    site: Site, page: Any
) -> None:
    from playwright.sync_api import expect

    # a day after the version the demo's scans recorded (the demo's dates follow today's)
    seen = _status(site, "churn")["last_retraining"]["retrained_at"]
    at = datetime.fromisoformat(seen.replace("Z", "+00:00")) + timedelta(days=1, minutes=390)
    _open(page, site.url + "/#/models/churn")
    page.locator("details.retrain summary").click()
    form = page.locator("#retraining-form")
    form.locator("input[name=version]").fill("churn-2026.12")
    form.locator("input[name=at]").fill(f"{at:%Y-%m-%dT%H:%M}")
    form.locator("input[name=note]").fill("retrained on November's labels")
    form.get_by_role("button", name="Record").click()
    dialog = page.locator("dialog#auth")
    expect(dialog).to_be_visible()
    dialog.locator("#auth-token").fill(TOKEN)
    dialog.locator("#auth-by").fill("ana")
    dialog.locator("#auth-ok").click()
    item = page.locator("main dl.report [data-item='last-retraining'] dd")
    expect(item).to_have_text(f"{at:%Y-%m-%d %H:%M}Z (churn-2026.12)")
    last = _status(site, "churn")["last_retraining"]
    assert (last["version"], last["retrained_at"], last["source"], last["recorded_by"]) == (
        "churn-2026.12",
        f"{at:%Y-%m-%dT%H:%M:%S}Z",
        "api",
        "ana",
    )
    assert page.errors == []


#: the pending shade as the canvas holds it (rgba(100,116,139,0.18) on a transparent canvas)
_SHADED_SHARE = """(sel) => {
  const box = document.querySelector(sel);
  const canvas = box.querySelector("canvas"), over = box.querySelector(".u-over");
  const c = canvas.getBoundingClientRect(), o = over.getBoundingClientRect();
  const ratio = canvas.width / c.width, ctx = canvas.getContext("2d");
  const top = Math.round((o.top - c.top) * ratio), height = Math.round(o.height * ratio);
  const share = xCss => {
    const data = ctx.getImageData(Math.round((xCss - c.left) * ratio), top, 1, height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = data.slice(i, i + 4);
      const grey = Math.abs(r - 100) + Math.abs(g - 116) + Math.abs(b - 139) < 12;
      if (grey && Math.abs(a - 46) < 6) n++;
    }
    return n / height;
  };
  return [share(o.left + 3), share(o.right - 3)];
}"""


def test_estimated_vs_realised_chart_shades_the_windows_whose_labels_are_pending(
    site: Site, page: Any
) -> None:
    from playwright.sync_api import expect

    from monitor.store import PerformanceEstimate

    day, first = timedelta(days=1), datetime(2026, 3, 2, tzinfo=UTC)
    estimated = [0.80 - 0.01 * i for i in range(10)]
    with site.sessions() as session:
        for i, value in enumerate(estimated):
            arrived = i < 7  # the three newest windows still wait for their labels
            session.add(
                PerformanceEstimate(
                    model="churn", metric="accuracy", window_start=first + i * day - day,
                    window_end=first + i * day, estimated=value, lower=value - 0.02,
                    upper=value + 0.02, sampling_error=0.0067, rows=4_000, how="CBPE",
                    realised=value + 0.01 if arrived else None,
                    labelled=3_900 if arrived else None,
                )
            )  # fmt: skip
        session.commit()
    _open(page, site.url + "/#/models/churn?range=all")
    chart = page.locator(".chart[data-estimate=accuracy]")
    expect(chart.locator("canvas")).to_be_visible()
    assert chart.get_attribute("data-pending") == "3"
    newest = f"accuracy {estimated[-1]:.2f} (estimated ± 0.02, labels pending)"
    expect(chart.locator(".estimate-text")).to_have_text(newest)
    expect(chart).to_contain_text("labels pending for the last 3 window(s)")
    expect(chart).to_contain_text("mean |realised − estimated| 0.01 over 7 window(s)")
    legend = chart.locator(".u-legend").inner_text()
    assert "estimated" in legend and "realised" in legend
    left, right = page.evaluate(_SHADED_SHARE, ".chart[data-estimate=accuracy]")
    assert left < 0.05 and right > 0.5, (left, right)  # the band over the pending windows only
    _shot(page, "dashboard-estimates")
    assert page.errors == []


def test_a_segment_chosen_shows_that_segments_estimates(site: Site, page: Any) -> None:
    from playwright.sync_api import expect

    from monitor.store import PerformanceEstimate

    day, first = timedelta(days=1), datetime(2026, 4, 2, tzinfo=UTC)  # after the test above
    with site.sessions() as session:
        for segment, value in (("", 0.81), ("north", 0.62)):
            for i in range(3):
                session.add(
                    PerformanceEstimate(
                        model="churn", metric="accuracy", segment=segment,
                        window_start=first + i * day - day, window_end=first + i * day,
                        estimated=value, lower=value - 0.03, upper=value + 0.03,
                        sampling_error=0.01, rows=1_000, how="CBPE",
                    )
                )  # fmt: skip
        session.commit()
    _open(page, site.url + "/#/models/churn?segment=north&range=all")
    chart = page.locator(".chart[data-estimate=accuracy]")
    expect(chart.locator(".estimate-text")).to_have_text(
        "accuracy 0.62 (estimated ± 0.03, labels pending)"
    )
    expect(page.locator("h2", has_text="Estimated vs realised performance [segment north]"))
    _open(page, site.url + "/#/models/churn?range=all")
    expect(page.locator(".chart[data-estimate=accuracy] .estimate-text")).to_have_text(
        "accuracy 0.81 (estimated ± 0.03, labels pending)"
    )
    assert page.errors == []
