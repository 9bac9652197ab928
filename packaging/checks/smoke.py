"""Run by .ci/run inside a fresh venv holding only the model-monitor-checks wheel and its
dependencies (``python -I``, so neither the repo nor the script's folder is on sys.path):
checks imports, compares a column and estimates an accuracy, and nothing of the service (nor
scikit-learn) came along."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
from scipy.stats import ks_2samp

import checks
from checks.drift import compare_column
from checks.estimated import fit_binary

installed = Path(checks.__file__).resolve()
if Path(sys.prefix).resolve() not in installed.parents:
    sys.exit(f"FAIL: checks imported from {installed}, not from the venv at {sys.prefix}")

rng = np.random.default_rng(7)
reference, current = rng.normal(0, 1, 800), rng.normal(0.3, 1, 600)
outcome = compare_column(reference, current, column="age", column_type="numerical")
oracle = ks_2samp(reference, current).pvalue
if outcome.method != "ks" or not np.isclose(outcome.value, oracle, rtol=1e-9, atol=0):
    sys.exit(f"FAIL: {outcome.method} p={outcome.value} but scipy's ks_2samp gives {oracle}")
if outcome.drifted != (oracle <= 0.05):
    sys.exit(f"FAIL: drifted={outcome.drifted} with p={oracle}")

p = rng.uniform(size=4_000)
labels = rng.uniform(size=4_000) < p
accuracy = fit_binary(labels[:2_000], p[:2_000] ** 2, decision_threshold=0.25).estimate(
    p[2_000:] ** 2
)["accuracy"]
if accuracy.value is None or not 0.6 < accuracy.value < 0.9:
    sys.exit(f"FAIL: estimated accuracy {accuracy.value} (expected about 0.75)")

# scikit-learn is the tests' oracle of checks.estimated and checks.multivariate, not a dependency
present = [
    name
    for name in ("fastapi", "slack_sdk", "evidently", "monitor", "sqlalchemy", "sklearn")
    if importlib.util.find_spec(name) is not None
]
if present:
    sys.exit(f"FAIL: importable next to checks alone: {', '.join(present)}")
print(f"checks alone OK: ks p={outcome.value:.3g} (scipy {oracle:.3g}), no service packages")
