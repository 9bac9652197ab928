"""The demo's story, checked against the generator's own ground truth."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sklearn.metrics import accuracy_score

from monitor.demo.data import DRIFT_DAY, generate
from monitor.demo.run import run_demo

NOW = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
SHIFTED = {"income", "plan"}


def test_demo_finds_drift_on_shifted_features_and_late_accuracy_drop(
    db_url: str, tmp_path: Path
) -> None:
    lines: list[str] = []
    started = time.process_time()  # CPU time: other processes on the machine do not count
    run = run_demo(tmp_path / "demo", now=NOW, echo=lines.append, state_db=db_url)
    assert time.process_time() - started < 60
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
    assert any("churn" in line and "failed" in line for line in lines)
    # The alerts reach the console notifier as Slack messages, accuracy as critical.
    assert any(line.startswith("│ [CRITICAL] churn: accuracy") for line in lines)
    assert not any("] eta:" in line for line in lines if line.startswith("│ ["))
    assert churn["alerts"]["open"] >= 4 and eta["alerts"]["open"] == 0
    assert str(run.directory) in lines[0]
