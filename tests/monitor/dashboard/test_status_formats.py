"""`monitor status` renderings and the report's action items, on stored scans."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Config
from monitor.status import status_report
from monitor.status.render import render_markdown, render_text
from monitor.views import StatusReport
from tests.monitor.dashboard.conftest import NOW, store_scan


@pytest.fixture
def report(sessions: sessionmaker[Session], config: Config) -> StatusReport:
    store_scan(sessions, config, 4, accuracy=0.74, age=0.3)
    store_scan(sessions, config, 5, accuracy=0.72, age=0.001)
    with sessions() as session:
        return status_report(config, session=session, now=NOW)


def test_the_text_table_colours_the_health_only_on_request(report: StatusReport) -> None:
    plain = render_text(report)
    assert "\033[" not in plain
    header, churn_row = plain.splitlines()[:2]
    assert header.split()[:2] == ["model", "health"]
    assert churn_row.split()[:2] == ["churn", "red"]
    assert "unacknowledged (oldest since 2026-03-05 00:00Z)" in plain  # to the minute
    coloured = render_text(report, colour=True).splitlines()[1]
    assert "\033[31m\033[1mred" in coloured


def test_markdown_has_a_row_and_a_section_per_model(report: StatusReport) -> None:
    text = render_markdown(report)
    assert "| churn | red | accuracy 0.72 < 0.8 (critical) |" in text
    assert "## churn: red" in text and "## eta: red" in text
    assert "- accuracy: 0.72 (reference 0.86) -16.3% FAIL" in text
    assert "- data drift" not in text.split("## eta")[1]  # eta was never scanned


def test_action_items_put_the_worst_check_first_and_name_unacknowledged_alerts(
    report: StatusReport,
) -> None:
    items = next(m for m in report.models if m.name == "churn").action_items
    assert items[0].startswith("accuracy 0.72 < 0.8 (critical)")
    assert items[-1].startswith("1 unacknowledged alert(s), the oldest since 2026-03-05T00:00:00Z")


def test_reasons_and_action_items_read_numbers_without_exponents() -> None:
    """The demo's income drift (Anderson-Darling 1039.94 against a learnt 6.517) read
    "ad 1.04e+03" on the dashboard's cards; whole numbers such as row counts stay exact."""
    from monitor.status.text import describe, plain_number
    from monitor.store import CheckResult

    income = CheckResult(
        check="drift:income", method="ad", value=1039.94, threshold=6.517, passed=False,
        severity="warning", details={},
    )  # fmt: skip
    assert describe(income) == "drift:income ad 1040 (threshold 6.52) (warning)"
    assert [plain_number(v) for v in (2314.0, 0.00770, 123456.7, -0.0896)] == [
        "2314",
        "0.0077",
        "123000",
        "-0.0896",
    ]
