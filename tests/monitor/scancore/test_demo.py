"""The demo's story, checked against the generator's own ground truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score

from monitor.cli import main
from monitor.cli.demo import next_steps
from monitor.demo.data import DRIFT_DAY, generate
from monitor.demo.run import DemoRun, run_demo

NOW = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
SHIFTED = {"income", "plan"}


def test_demo_story(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One demo run per backend (the demo is the suite's slowest single step), checked for
    both halves of its story."""
    lines: list[str] = []
    run = run_demo(tmp_path / "demo", now=NOW, echo=lines.append, state_db=db_url)
    _drift_on_shifted_features_and_late_accuracy_drop(run, lines)
    _recovered_alert_stays_open_until_acknowledged_and_ack_stops_reminders(
        run, lines, db_url, capsys
    )


def _drift_on_shifted_features_and_late_accuracy_drop(run: DemoRun, lines: list[str]) -> None:
    churn_reports = [r for r in run.reports if r.model == "churn"]
    logs = generate(churn_reports[0].window.end - timedelta(days=5))  # the same seeded logs
    merged = logs.predictions.merge(logs.labels, on="prediction_id")
    for report in churn_reports:
        results = {r.outcome.check: r.outcome for r in report.results if not r.segment}
        drifting = report.window.start >= logs.drift_start
        drifted = {
            c.removeprefix("drift:")
            for c, o in results.items()
            if c.startswith("drift:") and o.passed is False
        }
        assert drifted == (SHIFTED if drifting else set()), report.window
        # label_delay 2d: accuracy at T is judged on [T - 3d, T - 2d), where labels are in.
        perf = report.performance_window
        in_window = merged[
            (merged["predicted_at"] >= perf.start.replace(tzinfo=None))
            & (merged["predicted_at"] < perf.end.replace(tzinfo=None))
        ]
        accuracy = results["accuracy"]
        assert accuracy.value is not None
        assert (
            abs(accuracy.value - accuracy_score(in_window["churned"], in_window["churn_pred"]))
            < 1e-12
        )
        dropped = perf.start >= logs.drift_start
        assert accuracy.passed is (not dropped), report.window
        if dropped:
            assert accuracy.value < 0.80
    first_failing = min(
        r.window.end
        for r in churn_reports
        if any(x.outcome.check == "accuracy" and x.outcome.passed is False for x in r.results)
    )
    assert first_failing == logs.start + timedelta(days=DRIFT_DAY + 3)
    churn, eta = run.status["models"]
    assert churn["health"] == "red" and churn["reason"].startswith("accuracy")
    assert eta["health"] == "green"
    eta_reports = [r for r in run.reports if r.model == "eta"]
    assert len(eta_reports) == len(churn_reports)
    assert all(r.status == "ok" for r in eta_reports)
    cities = {row.segment for r in eta_reports for row in r.results}
    assert cities == {"", "lisbon", "porto", "braga", "faro"}
    assert churn["performance"]["accuracy"]["baseline"] > 0.84
    # calibrated mode (the default): status shows each threshold, how it was learnt, the effect
    drift = {c["column"]: c for c in churn["data_drift"]["columns"]}
    income = drift["income"]
    assert income["drifted"] and income["threshold"] is not None
    assert income["how"].startswith(f"ad > {income['threshold']:.4g}: ")
    assert income["how"].endswith("(1% of scans over 8 columns)")  # 6 features, pred, target
    assert income["effect"].startswith("income: mean +")
    assert not drift["support_calls"]["drifted"]
    assert any("churn" in line and "failed" in line for line in lines)
    # The alerts reach the console notifier as Slack messages, accuracy as critical.
    assert any(line.startswith("│ [CRITICAL] churn: accuracy") for line in lines)
    assert any(line.startswith("│ [WARNING] churn: income: mean +") for line in lines)
    assert not any("] eta:" in line for line in lines if line.startswith("│ ["))
    assert churn["alerts"]["open"] >= 4 and eta["alerts"]["open"] == 0
    assert str(run.directory) in lines[0]


def _recovered_alert_stays_open_until_acknowledged_and_ack_stops_reminders(
    run: DemoRun, lines: list[str], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.demo.data import SLOW_DAY
    from monitor.demo.run import ON_CALL
    from monitor.store import Alert, AlertEvent, make_engine, make_sessionmaker

    start = min(r.window.start for r in run.reports) - timedelta(days=4)
    slow_scan_end = start + timedelta(days=SLOW_DAY + 1)
    ack_day = next(day for day, (check, _, _) in ON_CALL.items() if check == "latency_p99")
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            latency = session.query(Alert).filter_by(model="churn", check_id="latency_p99").one()
            events = (
                session.query(AlertEvent).filter_by(alert_id=latency.id).order_by(AlertEvent.id)
            )
            path = [(e.to_state, e.actor) for e in events]
            drift = session.query(Alert).filter_by(model="churn", check_id="drift:income").one()
            drift_events = list(
                session.query(AlertEvent).filter_by(alert_id=drift.id).order_by(AlertEvent.id)
            )
    finally:
        engine.dispose()
    # Fired by the slow day's scan, recovered the next day, open until alice acknowledged it.
    assert latency.raised_at == slow_scan_end
    assert [state for state, _ in path] == ["firing", "recovered", "resolved"]
    assert path[-1][1] == "alice" and latency.acked_by == "alice"
    assert latency.resolved_at == start + timedelta(days=ack_day)
    assert latency.recovered_at == slow_scan_end + timedelta(days=1) < latency.resolved_at
    # bob's acknowledgement holds while drift continues, and no reminder pings after it.
    assert drift.state == "acknowledged" and drift.acked_by == "bob" and drift.ack_note
    assert drift_events[-1].to_state == "acknowledged"
    assert drift.next_reminder_at is None
    ack_line = next(
        i for i, line in enumerate(lines) if "runs: monitor ack" in line and "bob" in line
    )
    assert not any(f"on alert {drift.id}:" in line and "Still" in line for line in lines[ack_line:])
    # The next steps `monitor demo` prints work as printed on the demo's state.
    steps = [
        line.split("#")[0].split() for line in next_steps(run.config_file) if "monitor " in line
    ]
    assert [s[1] for s in steps] == ["status", "alerts", "run"]
    capsys.readouterr()
    for argv in steps[:2]:
        with pytest.raises(SystemExit) as exited:
            main(argv[1:])
        out = capsys.readouterr()
        assert exited.value.code in (0, None), out.out + out.err
        assert "churn" in out.out and "error" not in out.err, out.out + out.err
