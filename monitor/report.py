"""The drill-down report of one scan (``monitor report``, ``/reports/{id}.html``), by Evidently.

This and the checks' Evidently oracle are the only places that import ``evidently``. The
report re-reads the scan's exact live and reference windows and keeps a seeded random
sample of at most ``sample`` rows of each, so a report of a million-row window stays quick;
the page says so at its top. The stored check results stay the evidence: the report is an
aid for looking at distributions, and on a sample its scores can differ a little.

It judges drift as the scan did, not with Evidently's defaults: each feature with the method
and threshold of its stored ``drift:<column>`` result, the dataset with the share of the
stored ``dataset_drift`` result. In calibrated mode each feature's statistic runs inside
Evidently as a stattest of its own, against the threshold the scan learnt on the reference.
On whole windows its dataset-drift verdict is the scan's. A performance section (Evidently's
classification or regression preset) covers the labelled rows of the window the scan judged
performance on (``label_delay`` earlier); its tests are the model's own threshold levels (a
critical level fails, a warning level warns), not Evidently's "within 20% of the reference".
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from checks.names import EVIDENTLY_METHODS
from monitor.errors import MonitorError
from monitor.sources import ModelLog, ReferenceReader, SourceEngines
from monitor.store import Scan, id_in_range
from monitor.windows import Window, isoformat_z

if TYPE_CHECKING:
    import pandas as pd

    from monitor.config.schema import Config, ModelConfig

DEFAULT_SAMPLE = 50_000
SEED = 0


@dataclass(frozen=True)
class Sampled:
    frame: pd.DataFrame
    total: int


@dataclass(frozen=True)
class DriftSettings:
    """How the scan judged drift, in Evidently's terms."""

    methods: dict[str, str]
    thresholds: dict[str, float]
    share: float


@dataclass(frozen=True)
class Drilled:
    """The report's page and Evidently's dataset-drift verdict on it."""

    html: str
    dataset_drift: bool
    share_drifted: float
    drift_share: float
    #: the performance tests' outcomes: (test name, "SUCCESS" / "WARNING" / "FAIL" / "ERROR")
    performance_tests: tuple[tuple[str, str], ...] = ()


#: Our metric -> the keyword of Evidently's preset that takes its tests. MAPE is left out:
#: Evidently's is in percent, ours a fraction, so a level would not mean the same.
CLASSIFICATION_TESTS = {
    "accuracy": "accuracy_tests",
    "precision": "precision_tests",
    "recall": "recall_tests",
    "f1": "f1score_tests",
    "roc_auc": "rocauc_tests",
    "log_loss": "logloss_tests",
}
CLASSIFICATION_UNTESTED = ("tpr_tests", "tnr_tests", "fpr_tests", "fnr_tests")
REGRESSION_TESTS = {"mae": "mae_tests", "rmse": "rmse_tests", "r2": "r2score_tests"}
REGRESSION_UNTESTED = ("mean_error_tests", "mape_tests", "abs_max_error_tests")


def find_scan(*, session: Session, model: str | None, scan_id: int | None) -> Scan:
    """Scan ``scan_id``, or ``model``'s latest scan that did not end in error."""
    if scan_id is not None:
        scan = session.get(Scan, scan_id) if id_in_range(scan_id) else None
        if scan is None or (model is not None and scan.model != model):
            owner = f" of model {model!r}" if model else ""
            raise MonitorError(f"scan {scan_id}{owner} not found")
        return scan
    stmt = (
        select(Scan)
        .where(Scan.model == model, Scan.status != "error")
        .order_by(Scan.window_end.desc())
        .limit(1)
    )
    latest = session.scalars(stmt).first()
    if latest is None:
        hint = f"run `monitor scan {model}`"
        raise MonitorError(f"model {model!r} has no successful scan yet: {hint}")
    return latest


def build_report(
    config: Config,
    *,
    session: Session,
    scan_id: int | None = None,
    model: str | None = None,
    sample: int = DEFAULT_SAMPLE,
) -> str:
    """The report's HTML (standalone: Evidently's script is inlined, nothing is fetched)."""
    return drill_down(config, session=session, scan_id=scan_id, model=model, sample=sample).html


def drill_down(
    config: Config,
    *,
    session: Session,
    scan_id: int | None = None,
    model: str | None = None,
    sample: int = DEFAULT_SAMPLE,
) -> Drilled:
    """The report of one scan with Evidently's dataset-drift verdict on it."""
    scan = find_scan(session=session, model=model, scan_id=scan_id)
    chosen = config.model(scan.model)
    settings = drift_settings(chosen, scan)
    live, reference = _read_windows(config, chosen, scan, sample)
    labelled = _labelled(config, chosen, scan, sample) if chosen.target is not None else None
    drift = _drift_snapshot(chosen, live.frame, reference.frame, settings)
    share = _share_drifted(drift)
    verdict = share >= settings.share
    snapshots = [("Data drift", drift)]
    outcomes: tuple[tuple[str, str], ...] = ()
    if labelled is not None and not labelled[0].frame.empty:
        title, performance = _performance_snapshot(chosen, scan, *labelled)
        snapshots.append((title, performance))
        outcomes = tuple(
            (str(t["name"]), str(getattr(t["status"], "value", t["status"])))
            for t in performance.dict()["tests"]
        )
    banner = _banner(scan, live, reference, sample, settings, verdict, share, labelled)
    return Drilled(
        html=_with_banner(_render(snapshots), banner),
        dataset_drift=verdict,
        share_drifted=share,
        drift_share=settings.share,
        performance_tests=outcomes,
    )


def drift_settings(model: ModelConfig, scan: Scan) -> DriftSettings:
    """Per feature the method and threshold of the scan's stored result, and its share.

    Calibrated mode's statistics run inside Evidently as stattests of their own
    (``calibrated:<statistic>:<exact|binned>``) against the learnt threshold."""
    drift = model.checks.drift
    dataset = scan.result("dataset_drift")
    share = dataset.threshold if dataset and dataset.threshold is not None else drift.share
    methods, thresholds = {}, {}
    for column in model.features.all:
        result = scan.result(f"drift:{column}")
        if result is None or (result.threshold is None and drift.mode != "evidently"):
            continue
        if drift.mode == "evidently":
            if result.method not in EVIDENTLY_METHODS:
                continue
            methods[column] = result.method
        else:
            details = result.details or {}
            binned = str(details.get("mode", "")).endswith("/binned")
            methods[column] = _calibrated_stattest(result.method, binned=binned)
        if result.threshold is not None:
            thresholds[column] = result.threshold
    return DriftSettings(methods, thresholds, share)


def _calibrated_stattest(statistic: str, *, binned: bool) -> str:
    """Register (once) an Evidently stattest that scores ``statistic`` as the calibrated mode
    does and drifts past the threshold it is given; its registered name."""
    from evidently.legacy.calculations.stattests.registry import (
        StatTest,
        _registered_stat_tests,
        register_stattest,
    )
    from evidently.legacy.core import ColumnType as EvidentlyType

    from checks.drift.calibrated import STATISTICS, Mode, column_score
    from checks.drift.profile import ColumnType

    mode: Mode = "binned" if binned else "exact"
    name = f"calibrated:{statistic}:{mode}"
    if name in _registered_stat_tests:
        return name
    stat = STATISTICS[statistic]
    types = {"numerical": EvidentlyType.Numerical, "categorical": EvidentlyType.Categorical}

    def judge(
        reference: pd.Series, current: pd.Series, feature_type: Any, threshold: float
    ) -> tuple[float, bool]:
        kind: ColumnType = "numerical" if feature_type == EvidentlyType.Numerical else "categorical"
        score = column_score(
            reference, current, column=str(reference.name), column_type=kind,
            statistic=statistic, mode=mode,
        )  # fmt: skip
        return score, (score > threshold if stat.direction == ">" else score < threshold)

    test = StatTest(
        name=name,
        display_name=f"{statistic} (calibrated on the reference)",
        allowed_feature_types=[types[t] for t in sorted(stat.column_types)],
    )
    register_stattest(test, default_impl=judge)
    return name


def _read_windows(
    config: Config, model: ModelConfig, scan: Scan, sample: int
) -> tuple[Sampled, Sampled]:
    window = Window(scan.window_start, scan.window_end)
    with SourceEngines(config.sources) as engines:
        log = ModelLog(model, engines)
        reader = ReferenceReader(log)
        live = log.rows(window, reader.columns(), with_target=False)
        reference = reader.load(window)
    if live.empty:
        raise MonitorError(f"scan {scan.id} of model {model.name!r}: the live window has no rows")
    return _sample(live, sample), _sample(reference, sample)


def _labelled(
    config: Config, model: ModelConfig, scan: Scan, sample: int
) -> tuple[Sampled, Sampled]:
    """Labelled rows of the window the scan judged performance on, and of the reference."""
    delay = model.label_delay
    window = Window(scan.window_start - delay, scan.window_end - delay)
    target = model.target_column
    assert target is not None
    with SourceEngines(config.sources) as engines:
        log = ModelLog(model, engines)
        reader = ReferenceReader(log)
        live = log.rows(window, reader.columns(), with_target=True)
        reference = reader.load(Window(scan.window_start, scan.window_end))
    live = live[live[target].notna()] if target in live else live.iloc[0:0]
    reference = reference[reference[target].notna()] if target in reference else reference
    return _sample(live, sample), _sample(reference, sample)


def _sample(frame: pd.DataFrame, size: int) -> Sampled:
    if len(frame) <= size:
        return Sampled(frame.reset_index(drop=True), len(frame))
    return Sampled(frame.sample(n=size, random_state=SEED).reset_index(drop=True), len(frame))


def _drift_snapshot(
    model: ModelConfig, live: pd.DataFrame, reference: pd.DataFrame, settings: DriftSettings
) -> Any:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numerical = list(model.features.numerical)
    categorical = list(model.features.categorical)
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    columns = [*numerical, *categorical]
    current_ds = Dataset.from_pandas(live[columns], data_definition=definition)
    reference_ds = Dataset.from_pandas(reference[columns], data_definition=definition)
    preset = DataDriftPreset(
        columns=columns,
        drift_share=settings.share,
        per_column_method=settings.methods or None,
        per_column_threshold=settings.thresholds or None,
    )
    return Report([preset], include_tests=True).run(current_ds, reference_ds)


def _share_drifted(snapshot: Any) -> float:
    """The share of drifted columns in Evidently's DriftedColumnsCount metric."""
    for metric in snapshot.dict()["metrics"]:
        if str(metric.get("metric_name", "")).startswith("DriftedColumnsCount("):
            return float(metric["value"]["share"])
    raise MonitorError("Evidently's report has no DriftedColumnsCount metric")


def performance_tests(model: ModelConfig, scan: Scan) -> dict[str, list[Any]]:
    """The preset's test keywords: each whole-window threshold level of the model on a
    performance metric as Evidently's ``gte`` / ``lte`` (critical levels fail, warning levels
    warn), a drop bound as its limit below the scan's reference value; every other metric of
    the preset untested, so no Evidently default contradicts the scan's verdict."""
    from evidently.tests import gte, lte

    regression = model.task == "regression"
    names = REGRESSION_TESTS if regression else CLASSIFICATION_TESTS
    untested = REGRESSION_UNTESTED if regression else CLASSIFICATION_UNTESTED
    tests: dict[str, list[Any]] = {keyword: [] for keyword in (*names.values(), *untested)}
    performance = (scan.metrics or {}).get("performance", {})
    for entry in model.checks.thresholds:
        if entry.metric not in names or entry.column is not None:
            continue
        critical = entry.severity == "critical"
        keyword = names[entry.metric]
        if entry.min is not None:
            tests[keyword].append(gte(entry.min, is_critical=critical))
        if entry.max is not None:
            tests[keyword].append(lte(entry.max, is_critical=critical))
        baseline = performance.get(entry.metric, {}).get("baseline")
        if baseline is None:
            continue
        if entry.max_drop is not None:
            tests[keyword].append(gte(baseline - entry.max_drop, is_critical=critical))
        if entry.max_drop_relative is not None:
            limit = baseline - entry.max_drop_relative * abs(baseline)
            tests[keyword].append(gte(limit, is_critical=critical))
    return tests


def _performance_snapshot(
    model: ModelConfig, scan: Scan, live: Sampled, reference: Sampled
) -> tuple[str, Any]:
    """Evidently's classification or regression preset on the labelled rows, tested against
    the model's own threshold levels."""
    from evidently import Dataset, Report
    from evidently.presets import ClassificationPreset, RegressionPreset

    target = model.target_column
    assert target is not None
    definition = _performance_definition(model, target)
    columns = [c for c in (target, model.prediction, model.score) if c]
    frames = [f.frame[columns].reset_index(drop=True) for f in (live, reference)]
    tests = performance_tests(model, scan)
    if model.task == "regression":
        preset: Any = RegressionPreset(**tests)
    else:
        threshold = model.decision_threshold if model.prediction is None else None
        preset = ClassificationPreset(probas_threshold=threshold, **tests)
    current_ds, reference_ds = (Dataset.from_pandas(f, data_definition=definition) for f in frames)
    title = "Regression" if model.task == "regression" else "Classification"
    with warnings.catch_warnings():
        # Evidently's error-by-target-bin table scores R^2 in each bin, and a bin holding
        # one row makes sklearn warn; the report shows that cell empty, nothing is wrong.
        warnings.filterwarnings("ignore", message=r"R\^2 score is not well-defined")
        snapshot = Report([preset], include_tests=True).run(current_ds, reference_ds)
    return f"{title} (labelled rows)", snapshot


def _performance_definition(model: ModelConfig, target: str) -> Any:
    from evidently import (
        BinaryClassification,
        DataDefinition,
        MulticlassClassification,
        Regression,
    )

    if model.task == "regression":
        assert model.prediction is not None
        regression = Regression(target=target, prediction=model.prediction)
        return DataDefinition(regression=[regression])
    if model.task == "multiclass_classification":
        multi = MulticlassClassification(target=target, prediction_labels=model.prediction)
        return DataDefinition(classification=[multi])
    binary = BinaryClassification(
        target=target,
        prediction_labels=model.prediction,
        prediction_probas=model.score if model.prediction is None else None,
        pos_label=model.positive_label,
    )
    return DataDefinition(classification=[binary])


def _render(snapshots: list[tuple[str, Any]]) -> str:
    """One standalone page of several reports' widgets, each section under its title."""
    from evidently.core.metric_types import render_widgets
    from evidently.legacy.renderers.html_widgets import group_widget

    groups = [group_widget(title=title, widgets=snap._widgets) for title, snap in snapshots]
    tests = [widget for _, snap in snapshots for widget in snap._tests_widgets]
    return str(render_widgets([*groups, *tests], as_iframe=False))


def _banner(
    scan: Scan,
    live: Sampled,
    reference: Sampled,
    sample: int,
    settings: DriftSettings,
    verdict: bool,
    share: float,
    labelled: tuple[Sampled, Sampled] | None,
) -> str:
    window = f"{isoformat_z(scan.window_start)} .. {isoformat_z(scan.window_end)}"
    dataset = scan.result("dataset_drift")
    stored = "n/a" if dataset is None or dataset.passed is None else _said(not dataset.passed)
    how = "each feature with the scan's method and threshold"
    methods = ", ".join(f"{c}: {m}" for c, m in settings.methods.items())
    performance = ""
    if labelled is not None:
        performance = (
            f" Performance: {len(labelled[0].frame)} of {labelled[0].total} labelled rows of the "
            "window the scan judged performance on, against the labelled reference; its tests "
            "are the model's threshold levels (critical fails, warning warns)."
        )
    return (
        '<div id="drill-down" style="font:14px system-ui,sans-serif;padding:10px 16px;'
        'background:#fff7e6;border-bottom:1px solid #e5c07b">'
        f"<b>Drill-down of scan #{scan.id}</b> of model <b>{html.escape(scan.model)}</b>, "
        f"live window {window} (status {html.escape(scan.status)}). "
        f"Evidently's DataDriftPreset on a random sample (seed {SEED}, at most {sample} rows "
        f"per side): {len(live.frame)} of {live.total} live rows and {len(reference.frame)} of "
        f"{reference.total} reference rows, {how}"
        f"{' (' + html.escape(methods) + ')' if methods else ''}; dataset drift when at least "
        f"{settings.share:g} of the features drift.<br>"
        f"<b>Dataset drift: {_said(verdict)}</b> ({share:.3g} of features drifted); the scan: "
        f"<b>{stored}</b>.{performance} The scan's stored results remain the evidence; scores "
        "on a sample can differ from them.</div>"
    )


def _said(detected: bool) -> str:
    return "detected" if detected else "not detected"


def _with_banner(page: str, banner: str) -> str:
    marker = "<body>"
    at = page.find(marker)
    if at < 0:
        return banner + page
    return page[: at + len(marker)] + banner + page[at + len(marker) :]
