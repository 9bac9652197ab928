"""The checks a scan judges with fits on the reference: estimated performance and
multivariate drift (fits in monitor/scans/fits.py).

``estimated_<metric>`` is CBPE's estimate on the live window, labels or not, judged by the
threshold forms of any metric (``max_drop`` from the reference's realised value). Its band
(± 3 sampling errors) and how it was obtained are in the details, and the scan report
carries every estimate beside the realised value of the performance window, which the
store puts beside the estimate made for that window (monitor/scans/estimated_store.py).

What CBPE cannot see: it reads only the scores, so a change in how inputs relate to the
label (concept drift) leaves the estimate unchanged; the realised value is the truth once
the labels are in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from checks.errors import ChecksError
from checks.estimated import MulticlassCBPE
from checks.metrics import MetricValue
from checks.names import ESTIMATED, MULTIVARIATE_DRIFT
from checks.outcome import Outcome
from checks.thresholds import evaluate_ladder
from monitor.config.schema import ModelConfig, Threshold
from monitor.scans.fits import CBPE, Fits, as_text, class_scores, predicted
from monitor.scans.result import CheckRow, too_few
from monitor.scans.summary import Summary
from monitor.scans.window_summary import SliceSummary

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ESTIMATED", "estimates_by_segment", "estimates_of", "fitted_checks", "realised_of"]


def fitted_checks(
    model: ModelConfig,
    data: SliceSummary,
    reference: Summary | None,
    fits: Fits | None,
) -> list[CheckRow]:
    """``estimated_*`` ladders of the whole window or one segment (``segments:`` as any
    threshold, issue 15: on by default, ``min_rows`` per segment) and ``multivariate_drift``
    of the whole window. A segment's CBPE is fitted on the reference rows of that segment."""
    if fits is None:
        return []
    if data.segment:
        return _estimated(model, data, reference, fits)
    return _estimated(model, data, reference, fits) + _multivariate(model, data, fits)


def _ladders(
    model: ModelConfig, names: Mapping[str, Any] | tuple[str, ...]
) -> dict[str, list[Threshold]]:
    found: dict[str, list[Threshold]] = {}
    for entry in model.checks.thresholds:
        if entry.metric in names:
            found.setdefault(entry.metric, []).append(entry)
    return found


def _estimated(
    model: ModelConfig, data: SliceSummary, reference: Summary | None, fits: Fits
) -> list[CheckRow]:
    ladders = _ladders(model, ESTIMATED)
    if data.segment:
        ladders = {name: e for name, e in ladders.items() if e[0].per_segment}
    if not ladders:
        return []
    try:
        found = _estimate(fits.cbpe(model, data.segment), model, data)
    except ChecksError as exc:
        reason = str(exc) if not data.segment else f"segment {data.segment}: {exc}"
        found = {
            ESTIMATED[name]: MetricValue(name=name, value=None, reason=reason) for name in ladders
        }
    rows = []
    for name, entries in ladders.items():
        base = ESTIMATED[name]
        ref = (reference.metrics if reference is not None else {}).get(base)
        baseline = None
        if ref is not None:
            baseline = MetricValue(
                name=name, value=ref["value"], labelled=ref["labelled"], reason=ref["reason"]
            )
        outcome, severity = evaluate_ladder(
            found[base],
            [e.bound() for e in entries],
            reference=baseline,
            min_labels=max(e.min_labels for e in entries),
        )
        min_rows = max(e.min_rows or 0 for e in entries)
        if data.segment and data.rows < min_rows:
            outcome, severity = too_few(outcome, data, min_rows), None
        rows.append(CheckRow(outcome, data.segment, severity if outcome.passed is False else None))
    return rows


def _estimate(cbpe: CBPE, model: ModelConfig, data: SliceSummary) -> dict[str, MetricValue]:
    if data.rows == 0:
        return {
            m: MetricValue(name=f"estimated_{m}", value=None, reason="no rows")
            for m in cbpe.metrics
        }
    frame = cast("pd.DataFrame", data.columns)  # exact mode: the rows (config forbids warehouse)
    if isinstance(cbpe, MulticlassCBPE):
        assert model.prediction is not None
        estimates = cbpe.estimate(class_scores(model, frame), as_text(frame[model.prediction]))
    else:
        assert model.score is not None
        score = frame[model.score].to_numpy(dtype=float, na_value=float("nan"))
        estimates = cbpe.estimate(score, predicted=predicted(model, frame))
    return {
        metric: MetricValue(
            name=f"estimated_{metric}",
            value=e.value,
            reason=e.reason,
            details={
                "estimate": {
                    "lower": e.lower,
                    "upper": e.upper,
                    "sampling_error": e.sampling_error,
                    "rows": e.rows,
                },
                "how": e.how,
            },
        )
        for metric, e in estimates.items()
    }


def _multivariate(model: ModelConfig, data: SliceSummary, fits: Fits) -> list[CheckRow]:
    cfg = model.checks.multivariate_drift
    ladder = _ladders(model, (MULTIVARIATE_DRIFT,)).get(MULTIVARIATE_DRIFT, [])
    if not (cfg.enabled or ladder):
        return []
    columns = cfg.columns if cfg.columns is not None else model.features.all
    if data.rows < 2:
        outcome = Outcome(
            check=MULTIVARIATE_DRIFT, method="pca_reconstruction", value=None, threshold=None,
            passed=None, reason="insufficient data: fewer than 2 rows",
        )  # fmt: skip
        return [CheckRow(outcome)]
    try:
        result = fits.reconstruction(model, columns, data.rows).evaluate(data.columns)
    except ChecksError as exc:
        outcome = Outcome(
            check=MULTIVARIATE_DRIFT, method="pca_reconstruction", value=None, threshold=None,
            passed=None, reason=f"insufficient data: {exc}",
        )  # fmt: skip
        return [CheckRow(outcome)]
    details = {
        "band": {
            "lower": result.lower,
            "upper": result.upper,
            "sampling_error": result.sampling_error,
        },
        "lower_threshold": result.lower_threshold,
        "upper_threshold": result.upper_threshold,
        "components": result.components,
        "columns": columns,
        "rows": result.rows,
        "how": result.how,
    }
    if ladder:  # configured bounds replace the learnt rule
        value = MetricValue(
            name=MULTIVARIATE_DRIFT, value=result.value, reason=result.reason, details=details
        )
        outcome, severity = evaluate_ladder(value, [e.bound() for e in ladder])
        return [CheckRow(outcome, "", severity)]
    passed = None if result.drifted is None else not result.drifted
    outcome = Outcome(
        check=MULTIVARIATE_DRIFT,
        method="pca_reconstruction",
        value=result.value,
        threshold=result.upper_threshold,
        passed=passed,
        reason=_reason(result.value, result.upper_threshold, result.lower_threshold)
        if passed is False
        else result.reason,
        details=details,
    )
    return [CheckRow(outcome, "", cfg.severity if passed is False else None)]


def _reason(value: float | None, upper: float | None, lower: float | None) -> str:
    if upper is not None and value is not None and value >= upper:
        side = f"above {upper:.4g} (reference chunks mean + 3 sd)"
    else:
        side = f"below {lower if lower is not None else float('nan'):.4g} (mean - 3 sd)"
    return f"multivariate_drift reconstruction error {value or 0.0:.4g} {side}"


def estimates_of(
    rows: tuple[CheckRow, ...] | list[CheckRow], segment: str = ""
) -> dict[str, dict[str, Any]]:
    """``{metric: {value, lower, upper, sampling_error, rows, how}}`` of the whole window's
    (or one segment's) ``estimated_<metric>`` checks, as the scan stores them."""
    found = {}
    for row in rows:
        name = row.outcome.check
        if row.segment == segment and name in ESTIMATED:
            band = row.outcome.details.get("estimate", {})
            found[ESTIMATED[name]] = {
                "value": row.outcome.value,
                **{k: band.get(k) for k in ("lower", "upper", "sampling_error", "rows")},
                "how": row.outcome.details.get("how"),
            }
    return found


def realised_of(model: ModelConfig, data: SliceSummary) -> dict[str, dict[str, Any]]:
    """The realised values of the estimated metrics on the performance window (of the
    whole window, or of a segment whose estimates are judged per segment)."""
    names = {
        ESTIMATED[t.metric]
        for t in model.checks.thresholds
        if t.metric in ESTIMATED and (not data.segment or t.per_segment)
    }
    return {
        name: {"value": value.value, "labelled": value.labelled}
        for name in sorted(names)
        if (value := data.metrics.get((name, None))) is not None
    }


def estimates_by_segment(
    model: ModelConfig,
    rows: tuple[CheckRow, ...] | list[CheckRow],
    slices: Mapping[str, SliceSummary],
) -> dict[str, dict[str, Any]]:
    """``{segment: {"estimated": ..., "realised": ...}}`` of each segment that has either
    (the whole window is the report's top-level ``estimated``/``realised``)."""
    found = {}
    for segment, data in slices.items():
        if not segment:
            continue
        estimated, realised = estimates_of(rows, segment), realised_of(model, data)
        if estimated or realised:
            found[segment] = {"estimated": estimated, "realised": realised}
    return found
