"""Observed values of a scan whether or not a threshold watches them (for the status report)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from checks import metrics
from checks.registry import latency_percentiles
from monitor.config.schema import ModelConfig
from monitor.scans.performance import WindowInputs, performance_metrics
from monitor.scans.summary import Summary
from monitor.windows import Window

if TYPE_CHECKING:
    import pandas as pd

LATENCY_QUANTILES = (50, 95, 99)


def observe(
    model: ModelConfig,
    live: pd.DataFrame,
    performance: pd.DataFrame,
    reference: Summary,
    window: Window,
    inputs: WindowInputs,
) -> dict[str, Any]:
    """``operations`` (row count, throughput, latency) and ``performance`` with baselines;
    ``inputs``: the metric inputs of ``live`` and ``performance``, shared with the scan's
    threshold values."""
    seconds = (window.end - window.start).total_seconds()
    operations: dict[str, Any] = {
        "row_count": len(live),
        "throughput_per_s": metrics.throughput(len(live), seconds).value,
    }
    if model.latency is not None:
        for q, value in latency_percentiles(inputs.live, LATENCY_QUANTILES).items():
            operations[f"latency_p{q}"] = value.value
    current = (
        performance_metrics(model, performance, inputs.performance)
        if model.target is not None
        else {}
    )
    perf = {
        name: value | {"baseline": reference.metrics.get(name, {}).get("value")}
        for name, value in current.items()
    }
    return {"operations": operations, "performance": perf}
