"""Threshold checks on metric values: ``min``, ``max``, ``max_drop``, ``max_drop_relative``.

Semantics (DESIGN.md): ``min: 0.80`` fails below 0.80 and passes at 0.80; ``max`` fails above;
``max_drop: 0.05`` fails when reference minus current exceeds 0.05; ``max_drop_relative: 0.1``
fails when that drop exceeds 10 % of the reference value. Drops are differences of two floats,
so a drop within 1e-9 (relative) of its bound counts as equal to it and passes.

A label-based metric on fewer than ``min_labels`` labelled rows (current, or reference for a
drop bound) is insufficient data: ``passed`` is ``None``, never a pass or a fail.

>>> from checks.metrics import MetricValue
>>> accuracy = MetricValue(name="accuracy", value=0.8, labelled=500)
>>> evaluate_threshold(accuracy, Bound(min=0.8)).passed
True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from checks.bounds import DEFAULT_MIN_LABELS, DROP_KINDS, SEVERITIES
from checks.bounds import Bound as Bound  # re-exported: bounds and their judging, one import
from checks.bounds import Severity as Severity
from checks.bounds import check_bound as check_bound
from checks.errors import ChecksError
from checks.metrics import MetricValue
from checks.outcome import Outcome


@dataclass(frozen=True, slots=True)
class _Judgement:
    """One bound kind's verdict: ``passed`` None when it cannot be judged."""

    kind: str
    passed: bool | None
    limit: float | None
    reason: str | None


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _judge_level(kind: str, value: float, limit: float) -> _Judgement:
    if kind == "min":
        failed = value < limit
        return _Judgement(kind, not failed, limit, f"{_fmt(value)} < min {_fmt(limit)}")
    failed = value > limit
    return _Judgement(kind, not failed, limit, f"{_fmt(value)} > max {_fmt(limit)}")


def _exceeds(drop: float, allowed: float) -> bool:
    return drop > allowed and not math.isclose(drop, allowed, rel_tol=1e-9, abs_tol=1e-12)


def _judge_drop(
    kind: str, value: float, ref: MetricValue | None, allowed: float, min_labels: int
) -> _Judgement:
    if ref is None or ref.value is None:
        why = "no reference value" + (f" ({ref.reason})" if ref is not None and ref.reason else "")
        return _Judgement(kind, None, None, why)
    if ref.labelled is not None and ref.labelled < min_labels:
        why = f"reference has {ref.labelled} labelled rows < min_labels {min_labels}"
        return _Judgement(kind, None, None, why)
    drop = ref.value - value
    if kind == "max_drop":
        limit = ref.value - allowed
        why = f"dropped {_fmt(drop)} from reference {_fmt(ref.value)} (max_drop {_fmt(allowed)})"
        return _Judgement(kind, not _exceeds(drop, allowed), limit, why)
    if ref.value == 0:
        return _Judgement(kind, None, None, "reference value is 0; a relative drop is undefined")
    limit = ref.value - allowed * abs(ref.value)
    relative = drop / abs(ref.value)
    why = (
        f"dropped {relative:.1%} from reference {_fmt(ref.value)} (max_drop_relative {allowed:.1%})"
    )
    return _Judgement(kind, not _exceeds(relative, allowed), limit, why)


def _check_id(name: str, column: str | None) -> str:
    return name if column is None else f"{name}:{column}"


def evaluate_threshold(
    current: MetricValue,
    bound: Bound,
    *,
    reference: MetricValue | None = None,
    min_labels: int = DEFAULT_MIN_LABELS,
    column: str | None = None,
) -> Outcome:
    """Judge ``current`` against every kind in ``bound``: failed if any kind fails, passed if
    all pass, otherwise insufficient. ``threshold`` is the limit on the value that decided."""
    check_bound(current.name, bound)
    details: dict[str, Any] = {
        "bounds": {k: getattr(bound, k) for k in bound.kinds},
        "severity": bound.severity,
        **current.details,
    }
    if current.labelled is not None:
        details |= {"labelled": current.labelled, "min_labels": min_labels}
    if reference is not None:
        details["reference"] = reference.value
    base: dict[str, Any] = {
        "check": _check_id(current.name, column),
        "method": "+".join(bound.kinds),
        "value": current.value,
        "details": details,
    }
    if current.value is None:
        return Outcome(
            **base, threshold=None, passed=None, reason=f"insufficient data: {current.reason}"
        )
    if current.labelled is not None and current.labelled < min_labels:
        why = f"insufficient data: {current.labelled} labelled rows < min_labels {min_labels}"
        return Outcome(**base, threshold=None, passed=None, reason=why)
    verdicts = [_judge(kind, current.value, bound, reference, min_labels) for kind in bound.kinds]
    return _combine(current.name, verdicts, base)


def _judge(
    kind: str, value: float, bound: Bound, reference: MetricValue | None, min_labels: int
) -> _Judgement:
    limit = getattr(bound, kind)
    if kind in DROP_KINDS:
        return _judge_drop(kind, value, reference, limit, min_labels)
    return _judge_level(kind, value, limit)


def _combine(name: str, verdicts: list[_Judgement], base: dict[str, Any]) -> Outcome:
    failed = [v for v in verdicts if v.passed is False]
    unknown = [v for v in verdicts if v.passed is None]
    if failed:
        return Outcome(
            **base,
            threshold=failed[0].limit,
            passed=False,
            reason=f"{name} " + "; ".join(v.reason or "" for v in failed),
        )
    if unknown:
        return Outcome(
            **base,
            threshold=None,
            passed=None,
            reason="insufficient data: " + "; ".join(v.reason or "" for v in unknown),
        )
    return Outcome(**base, threshold=_tightest(verdicts), passed=True, reason=None)


def _tightest(verdicts: list[_Judgement]) -> float | None:
    """The limit nearest to firing among the floors (or the first limit when none is a floor)."""
    floors = [v.limit for v in verdicts if v.kind != "max" and v.limit is not None]
    if floors:
        return max(floors)
    return verdicts[0].limit


def evaluate_ladder(
    current: MetricValue,
    bounds: Sequence[Bound],
    *,
    reference: MetricValue | None = None,
    min_labels: int = DEFAULT_MIN_LABELS,
    column: str | None = None,
) -> tuple[Outcome, Severity | None]:
    """Several severities of one metric as one check: the severity is the worst level failing.

    Returns the outcome of that level (or, when nothing fails, of the mildest level) and the
    severity, ``None`` when nothing fails. ``details["levels"]`` lists every level's verdict.
    """
    if not bounds:
        raise ChecksError(f"metric {current.name!r}: a ladder needs at least one threshold")
    ordered = sorted(bounds, key=lambda b: SEVERITIES.index(b.severity))
    outcomes = [
        evaluate_threshold(current, b, reference=reference, min_labels=min_labels, column=column)
        for b in ordered
    ]
    levels = [
        {"severity": b.severity, "threshold": o.threshold, "passed": o.passed}
        for b, o in zip(ordered, outcomes, strict=True)
    ]
    failing = [(b, o) for b, o in zip(ordered, outcomes, strict=True) if o.passed is False]
    if failing:
        bound, chosen = failing[-1]
        severity: Severity | None = bound.severity
    else:
        unknown = [o for o in outcomes if o.passed is None]
        chosen, severity = (unknown[0] if unknown else outcomes[0]), None
    return _with_levels(chosen, levels), severity


def _with_levels(outcome: Outcome, levels: list[dict[str, Any]]) -> Outcome:
    return dataclasses.replace(outcome, details={**outcome.details, "levels": levels})
