"""``monitor report``: the Evidently drill-down of one scan, on a bounded sample of its windows."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from monitor.cli import main
from monitor.report import build_report
from monitor.store import Scan
from tests.monitor.scancore.conftest import T0, log_frame, model_dict, write

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def scanned(run: Run, db_url: str, engine: Engine, tmp_path: Path) -> str:
    """Three days of logs (480 rows a day), the third day shifted; scans of days 2 and 3."""
    frame = log_frame(T0, 2 * 24)
    shifted = log_frame(T0.replace(day=3), 24, seed=1, shift=15.0)
    shifted["id"] += len(frame)
    import pandas as pd

    write(engine, pd.concat([frame, shifted], ignore_index=True), "preds")
    tree = {"state_db": db_url, "sources": {"logs": {"url": db_url}}, "models": [model_dict()]}
    config = tmp_path / "monitor.yaml"
    config.write_text(yaml.safe_dump(tree))
    assert run("db", "upgrade", "-c", str(config))[0] == 0
    code, _, err = run(
        "scan", "churn", "--from", "2026-03-03", "--to", "2026-03-04", "-c", str(config)
    )
    assert code == 0, err
    return str(config)


def test_report_of_the_latest_scan_says_it_used_a_bounded_sample(
    run: Run, scanned: str, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    code, stdout, err = run("report", "churn", "--out", str(out), "--sample", "100", "-c", scanned)
    assert code == 0, err
    page = out.read_text()
    with Session(engine) as session:
        latest = session.scalars(select(Scan).order_by(Scan.window_end.desc())).first()
    assert latest is not None and latest.rows_live == 480
    banner = re.sub(r"<[^>]+>", "", page[: page.find("</div>") + 6])
    assert f"Drill-down of scan #{latest.id} of model churn" in banner
    assert "100 of 480 live rows and 100 of 480 reference rows" in banner
    for column in ("age", "income", "plan"):
        assert column in page
    assert not re.search(r"<script[^>]+src=", page), "the report must not fetch scripts"
    assert f"wrote {out}" in stdout


def test_report_of_a_scan_that_does_not_exist_is_an_error_naming_it(
    run: Run, scanned: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    code, _, err = run("report", "churn", "--scan", "9999", "--out", str(out), "-c", scanned)
    assert code == 2
    assert "scan 9999 of model 'churn' not found" in err
    assert not out.exists()


def test_the_dashboard_serves_the_report_of_a_scan_behind_the_read_token(
    scanned: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from monitor import report
    from monitor.api.app import ApiSettings, create_app

    built: list[int | None] = []

    def counted(*args: Any, **kwargs: Any) -> str:
        built.append(kwargs.get("scan_id"))
        return build_report(*args, **kwargs)

    # the dashboard imports the report module on first use: patch where it is looked up
    monkeypatch.setattr(report, "build_report", counted)
    from monitor.config import load_config
    from monitor.store import make_sessionmaker

    with Session(engine) as session:
        first = session.scalars(select(Scan).order_by(Scan.window_end)).first()
    assert first is not None
    app = create_app(
        sessions=make_sessionmaker(engine),
        settings=ApiSettings(token="w", read_token="r"),
        config=load_config(scanned),
    )
    with TestClient(app) as client:
        assert client.get(f"/reports/{first.id}.html").status_code == 401
        page = client.get(f"/reports/{first.id}.html", headers={"Authorization": "Bearer r"})
        missing = client.get("/reports/9999.html", headers={"Authorization": "Bearer r"})
        # the dashboard's cookie opens a report as a plain link, and nothing else
        url = f"/reports/{first.id}.html"
        by_cookie = client.get(url, cookies={"monitor_read": "r"})
        wrong_cookie = client.get(url, cookies={"monitor_read": "nope"})
        api_by_cookie = client.get("/api/models", cookies={"monitor_read": "r"})
        again = client.get(url, headers={"Authorization": "Bearer r"})
    assert again.text == page.text and built == [first.id]  # a shared link builds it once
    assert by_cookie.status_code == 200 and wrong_cookie.status_code == 401
    assert api_by_cookie.status_code == 401
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert f"Drill-down of scan #{first.id}</b> of model <b>churn" in page.text
    assert "480 of 480 live rows" in page.text  # under the default sample size: every row
    assert missing.status_code == 404 and missing.json()["detail"] == "scan 9999 not found"


def test_report_out_a_directory_is_a_clear_error_and_leaves_nothing_behind(
    run: Run, scanned: str, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    code, _, err = run("report", "churn", "--out", str(folder), "-c", scanned)
    assert code == 2, err
    assert f"--out {folder} is a directory" in err and "Traceback" not in err
    assert not (tmp_path / "reports.partial").exists()
    assert list(folder.iterdir()) == []


def test_report_out_in_a_missing_folder_is_a_clear_error(
    run: Run, scanned: str, tmp_path: Path
) -> None:
    out = tmp_path / "nowhere" / "report.html"
    code, _, err = run("report", "churn", "--out", str(out), "-c", scanned)
    assert code == 2, err
    assert f"--out {out}: the folder {out.parent} does not exist" in err
    assert "Traceback" not in err and not out.parent.exists()


def test_the_drill_down_judges_drift_as_the_scan_did_and_shows_performance(demo: Path) -> None:
    """The demo runs the default calibrated mode: the report runs each feature's calibrated
    statistic inside Evidently against the threshold the scan learnt, and with whole windows
    reaches the scan's per-feature and dataset-drift verdicts, on a drifted scan and a quiet one."""
    from monitor.config import load_config
    from monitor.report import drill_down
    from monitor.store import state_session

    config = load_config(demo / "monitor.yaml")
    assert config.model("churn").checks.drift.mode == "calibrated"
    with state_session(config.state_db) as session:
        scans = list(
            session.scalars(select(Scan).where(Scan.model == "churn").order_by(Scan.window_end))
        )
        verdicts = []
        for scan in (scans[0], scans[-1]):
            dataset = scan.result("dataset_drift")
            assert dataset is not None and dataset.passed is not None
            assert dataset.threshold is not None
            report = drill_down(config, session=session, scan_id=scan.id)
            verdicts.append(report.dataset_drift)
            assert report.dataset_drift is (not dataset.passed), scan.id
            assert report.drift_share == dataset.threshold
            assert report.share_drifted == pytest.approx(dataset.value, rel=1e-9)
            assert "each feature with the scan's method" in report.html
            assert "calibrated on the reference" in report.html
            assert "Classification (labelled rows)" in report.html
        eta = drill_down(config, session=session, model="eta")
    assert "Regression (labelled rows)" in eta.html
    assert verdicts == [False, True]


def test_the_drill_down_in_evidently_mode_uses_the_model_s_share(
    demo: Path, run: Run, tmp_path: Path
) -> None:
    """Evidently mode: the scan's Evidently methods and thresholds and the model's share (0.3,
    not Evidently's default 0.5) give the scan's verdict. Scanned into a state DB of its own."""
    from monitor.config import load_config
    from monitor.report import drill_down
    from monitor.store import state_session

    raw = yaml.safe_load((demo / "monitor.yaml").read_text())
    raw["state_db"] = f"sqlite:///{tmp_path / 'state.db'}"
    churn = next(m for m in raw["models"] if m["name"] == "churn")
    churn["checks"]["drift"].update(mode="evidently", share=0.3)
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(raw))
    config = load_config(demo / "monitor.yaml")
    with state_session(config.state_db) as session:
        ends = list(
            session.scalars(
                select(Scan.window_end).where(Scan.model == "churn").order_by(Scan.window_end)
            )
        )
    assert run("db", "upgrade", "-c", str(path))[0] == 0
    verdicts = []
    for end in (ends[0], ends[-1]):
        code, _, err = run("scan", "churn", "--at", end.isoformat(), "-c", str(path))
        assert code in (0, 1), err
    config = load_config(path)
    with state_session(config.state_db) as session:
        for scan in session.scalars(select(Scan).where(Scan.model == "churn")):
            dataset = scan.result("dataset_drift")
            assert dataset is not None and dataset.passed is not None
            assert dataset.threshold == 0.3
            report = drill_down(config, session=session, scan_id=scan.id)
            assert report.drift_share == 0.3
            assert report.dataset_drift is (not dataset.passed), scan.id
            assert report.share_drifted == pytest.approx(dataset.value, rel=1e-9)
            verdicts.append(report.dataset_drift)
    assert len(verdicts) == 2


def _worst(outcomes: tuple[tuple[str, str], ...]) -> str | None:
    """Evidently's test statuses as the scan's verdict: a failing critical level, a warning."""
    statuses = {status for _, status in outcomes}
    return "critical" if "FAIL" in statuses else "warning" if "WARNING" in statuses else None


def test_the_drill_down_tests_performance_against_the_model_s_own_levels(demo: Path) -> None:
    """The performance section is tested with the model's levels (churn: accuracy warning min
    0.83, critical min 0.8; eta: mae warning max 3, critical max 4), not Evidently's default
    "within 20% of the reference", which passes the demo's accuracy 0.77 that made churn red.
    Its worst outcome equals the scan's verdict on a quiet and on the red scan."""
    from monitor.config import load_config
    from monitor.report import drill_down
    from monitor.store import state_session

    config = load_config(demo / "monitor.yaml")
    verdicts = []
    with state_session(config.state_db) as session:
        for model, metric in (("churn", "accuracy"), ("eta", "mae")):
            levels = [t for t in config.model(model).checks.thresholds if t.metric == metric]
            scans = list(
                session.scalars(select(Scan).where(Scan.model == model).order_by(Scan.window_end))
            )
            for scan in (scans[0], scans[-1]):
                stored = scan.result(metric)
                assert stored is not None and stored.passed is not None, scan.id
                outcomes = drill_down(config, session=session, scan_id=scan.id).performance_tests
                assert len(outcomes) == len(levels), outcomes
                for level in levels:
                    limit = level.min if level.min is not None else level.max
                    assert any(f"{limit:.3f}" in name for name, _ in outcomes), (level, outcomes)
                expected = None if stored.passed else stored.severity
                assert _worst(outcomes) == expected, (model, scan.id, outcomes)
                verdicts.append(expected)
    assert verdicts == [None, "critical", None, None]
