"""Benchmark: false alarms and detection of the calibrated drift mode, beside Evidently mode.

    python bench/false_alarms.py --quick     # a small run (minutes), for development
    python bench/false_alarms.py             # the published table (bench/results/false_alarms.md)

Seeded and reproducible (``--seed``). Eight features, independent: normal, lognormal, t(2),
Poisson(3), normal with 30% nulls, 3- and 10-level categorical, binary. For references of 1k
and 100k rows and live windows of 50, 100, 1k, 10k and 100k rows:

- stationary windows (same distribution): how often a scan raises dataset drift, any column
  alert, and each column's alert;
- shifted windows: one feature changed (mean +0.1 / 0.25 / 0.5 sd for numerical features,
  Poisson by its rate, t(2) in robust sd = IQR / 1.349; one category's share +5 / 10 / 20
  points, the others scaled down), how often that column alerts;
- modes side by side on the same windows: calibrated exact (values), calibrated binned
  (warehouse: counts on reference-quantile bins, calibration learnt on the binned statistic)
  and Evidently mode (``compare_column(method="auto")``, dataset drift at share >= 0.5);
- exact vs binned agreement of every judged column verdict;
- the error of binned KS / Wasserstein against the exact statistic, by bin count.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

# the checkout this file is in, not whichever one the venv's editable install points at
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checks.drift import binned_stats as bs
from checks.drift import compare_column, profile_column
from checks.drift.calibrate import DEFAULT_DRAWS, DEFAULT_MIN_ROWS, Calibration, live_size_bucket
from checks.drift.calibrated import (
    DEFAULTS,
    calibrate_column,
    judge_column,
    judge_dataset,
    ks_distance,
)
from checks.drift.profile import ColumnProfile

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "bench" / "results" / "false_alarms.md"
CAT3 = [0.5, 0.3, 0.2]
CAT10 = [0.2, 0.15, 0.12, 0.1, 0.1, 0.09, 0.08, 0.07, 0.05, 0.04]
BINARY = [0.7, 0.3]
T2_ROBUST_SD = 2 * stats.t(2).ppf(0.75) / 1.349


def _shares(base: list[float], points: float) -> np.ndarray:
    p = np.array(base)
    if points:
        rest = 1 - p[0]
        p = np.concatenate(([p[0] + points], p[1:] * (rest - points) / rest))
    return p


def _cat(base: list[float]) -> Callable[[np.random.Generator, int, float], Any]:
    labels = np.array([f"v{i}" for i in range(len(base))])
    return lambda rng, n, d: pd.Series(labels[rng.choice(len(base), n, p=_shares(base, d))])


def _null30(rng: np.random.Generator, n: int, d: float) -> np.ndarray:
    x = rng.normal(d, 1, n)
    x[rng.random(n) < 0.3] = np.nan
    return x


LOGNORMAL_SD = math.sqrt((math.e - 1) * math.e)
#: name -> (column type, draw(rng, n, change)); change in sd (numerical) or share (categorical)
FEATURES: dict[str, tuple[str, Callable[[np.random.Generator, int, float], Any]]] = {
    "normal": ("numerical", lambda rng, n, d: rng.normal(d, 1, n)),
    "lognormal": ("numerical", lambda rng, n, d: rng.lognormal(0, 1, n) + d * LOGNORMAL_SD),
    "t2": ("numerical", lambda rng, n, d: rng.standard_t(2, n) + d * T2_ROBUST_SD),
    "poisson": (
        "numerical",
        lambda rng, n, d: rng.poisson(3 + d * math.sqrt(3), n).astype(np.int64),
    ),
    "null30": ("numerical", _null30),
    "cat3": ("categorical", _cat(CAT3)),
    "cat10": ("categorical", _cat(CAT10)),
    "binary": ("categorical", _cat(BINARY)),
}
SHIFTS = {"numerical": (0.1, 0.25, 0.5), "categorical": (0.05, 0.10, 0.20)}
MODES = ("exact", "binned", "evidently")


class Calibrations:
    """Calibrations of one reference, learnt on demand per column, mode and live-size bucket
    (the service caches them the same way, keyed by the reference fingerprint)."""

    def __init__(self, raw: dict[str, Any], draws: int, seed: int) -> None:
        self.raw, self.draws, self.seed = raw, draws, seed
        self.cache: dict[tuple[str, str, int], Calibration] = {}

    def get(self, feature: str, mode: str, rows: int) -> Calibration:
        key = (feature, mode, live_size_bucket(max(rows, 1)))
        if key not in self.cache:
            self.cache[key] = calibrate_column(
                self.raw[feature], column=feature, column_type=FEATURES[feature][0],  # type: ignore[arg-type]
                live_rows=max(rows, 1), mode=mode, draws=self.draws, seed=self.seed,  # type: ignore[arg-type]
                columns=len(FEATURES),
            )  # fmt: skip
        return self.cache[key]


def _judge(mode: str, name: str, kind: str, ref: ColumnProfile, cur: ColumnProfile, cals):
    if mode == "evidently":
        return compare_column(ref, cur, column=name, column_type=kind)  # type: ignore[arg-type]
    if cur.count < DEFAULT_MIN_ROWS:  # insufficient data: no calibration needed
        return judge_column(
            ref,
            cur,
            column=name,
            column_type=kind,
            calibration=cals.get(name, mode, DEFAULT_MIN_ROWS),  # type: ignore[arg-type]
        )
    return judge_column(
        ref,
        cur,
        column=name,
        column_type=kind,
        calibration=cals.get(name, mode, cur.count),
        mode=mode,  # type: ignore[arg-type]
    )


def run_cell(ref_rows: int, live: int, args: argparse.Namespace, tally: dict) -> None:
    key = (ref_rows, live)
    for r in range(args.references):
        rng = np.random.default_rng([args.seed, ref_rows, live, r])
        raw = {f: draw(rng, ref_rows, 0.0) for f, (_, draw) in FEATURES.items()}
        refs = {f: profile_column(raw[f], FEATURES[f][0]) for f in FEATURES}  # type: ignore[arg-type]
        cals = Calibrations(raw, args.draws, r)
        for _ in range(_scaled(args.windows, live)):
            verdicts: dict[str, list] = {m: [] for m in MODES}
            for f, (kind, draw) in FEATURES.items():
                cur = profile_column(draw(rng, live, 0.0), kind)  # type: ignore[arg-type]
                for mode in MODES:
                    outcome = _judge(mode, f, kind, refs[f], cur, cals)
                    verdicts[mode].append(outcome)
                    tally["column_alarm"][key, mode, f] += outcome.drifted is True
                    tally["insufficient"][key, mode] += outcome.drifted is None
                _agree(tally, key, verdicts["exact"][-1], verdicts["binned"][-1])
            if live >= DEFAULT_MIN_ROWS:
                tally["source"][key] = cals.get("normal", "exact", live).source
            for mode in MODES:
                tally["any"][key, mode] += any(o.drifted is True for o in verdicts[mode])
                tally["dataset"][key, mode] += _dataset_drift(mode, verdicts[mode])
            tally["windows"][key] += 1
        for f, (kind, draw) in FEATURES.items():
            for delta in SHIFTS[kind]:
                for _ in range(_scaled(args.detect, live)):
                    cur = profile_column(draw(rng, live, delta), kind)  # type: ignore[arg-type]
                    outcomes = {m: _judge(m, f, kind, refs[f], cur, cals) for m in MODES}
                    for mode, outcome in outcomes.items():
                        tally["detected"][key, mode, f, delta] += outcome.drifted is True
                    tally["tries"][key, f, delta] += 1
                    _agree(tally, key, outcomes["exact"], outcomes["binned"])


def _scaled(count: int, live: int) -> int:
    """Fewer windows of 10k and 100k rows (each costs 10-100x more), at least 10."""
    return count if live <= 1000 else max(count // (4 if live <= 10_000 else 8), 10)


def _agree(tally: dict, key: tuple, exact, binned) -> None:
    if exact.drifted is not None:
        tally["judged"][key] += 1
        tally["agree"][key] += exact.drifted == binned.drifted


def _dataset_drift(mode: str, outcomes: list) -> bool:
    if mode == "evidently":
        return sum(o.drifted is True for o in outcomes) >= 0.5 * len(outcomes)
    return judge_dataset(outcomes).dataset_drift


def bin_error(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Exact minus binned KS and |binned - exact| normalised Wasserstein, by bin count."""
    rows = []
    rng = np.random.default_rng([args.seed, 99])
    for f in ("normal", "lognormal", "t2", "poisson"):
        _, draw = FEATURES[f]
        ref = np.sort(np.asarray(draw(rng, 100_000, 0.0), dtype=np.float64))
        for bins in (20, 50, 100, 200, 500):
            edges = bs.quantile_edges(ref, bins)
            ks_err, w_err = [], []
            for live in (1000, 10_000, 100_000):
                for delta in (0.0, 0.25):
                    for _ in range(args.error_reps):
                        cur = np.sort(np.asarray(draw(rng, live, delta), dtype=np.float64))
                        r, c = bs.bin_counts(ref, edges), bs.bin_counts(cur, edges)
                        exact = ks_distance(
                            profile_column(ref, "numerical"), profile_column(cur, "numerical")
                        )
                        ks_err.append(exact - bs.ks_binned(r, c))
                        w = stats.wasserstein_distance(ref, cur) / np.std(ref)
                        lo, hi = min(ref[0], cur[0]), max(ref[-1], cur[-1])
                        wb = bs.wasserstein_binned(
                            r, c, edges, lo=lo, hi=hi, scale=float(np.std(ref))
                        )
                        w_err.append(abs(wb - w))
            rows.append({
                "feature": f, "bins": bins, "edges": edges.size + 1,
                "ks_mean": float(np.mean(ks_err)), "ks_max": float(np.max(ks_err)),
                "w_abs_median": float(np.median(w_err)), "w_abs_max": float(np.max(w_err)),
            })  # fmt: skip
    return rows


def row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def pct(a: float, b: float) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def report(
    tally: dict, errors: list[dict[str, Any]], args: argparse.Namespace, seconds: float
) -> str:
    cells = sorted(tally["windows"])
    lines = [
        "# False alarms and detection: calibrated mode vs Evidently mode",
        "",
        f"`python bench/false_alarms.py{' --quick' if args.quick else ''}"
        f"{' --cells ' + args.cells if args.cells else ''} --windows {args.windows} "
        f"--detect {args.detect} --references {args.references}` (seed {args.seed}): "
        f"{args.references} reference(s) per cell, {args.windows} stationary windows per reference "
        f"(8 columns each; a quarter at 10k rows, an eighth at 100k), {args.detect} windows "
        f"per change (scaled alike), {args.draws} calibration draws; "
        f"{seconds / 60:.1f} min. Calibrated: statistics {DEFAULTS['numerical']} (numerical) and "
        f"{DEFAULTS['categorical']} (categorical), false_alarm_rate 0.01 per scan, split over the "
        "8 columns (0.00125 each), min_rows 100, dataset rule from the binomial tail (1 of 8 "
        f"columns). Binned: {bs.DEFAULT_BINS} "
        "reference-quantile bins. Evidently: `auto`, dataset drift at share >= 0.5.",
        "",
        "## False alerts per scan on unchanged data",
        "",
        row(
            "ref",
            "live",
            "calibration",
            "dataset_drift exact / binned / Evidently",
            "any column exact / binned / Evidently",
            "worst column (exact)",
            "insufficient (exact)",
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for key in cells:
        w = tally["windows"][key]
        per = {f: tally["column_alarm"][key, "exact", f] for f in FEATURES}
        worst = max(per, key=lambda f: per[f])
        lines.append(
            f"| {key[0]:,} | {key[1]:,} | {tally['source'].get(key, '-')} | "
            + " / ".join(pct(tally["dataset"][key, m], w) for m in MODES)
            + " | "
            + " / ".join(pct(tally["any"][key, m], w) for m in MODES)
            + " | "
            + f"{worst} {pct(per[worst], w)} | {pct(tally['insufficient'][key, 'exact'], 8 * w)} |"
        )
    lines += ["", "### Per column, calibrated exact (Evidently in brackets)", ""]
    lines += ["| ref | live | " + " | ".join(FEATURES) + " |", "|---|---|" + "---|" * len(FEATURES)]
    for key in cells:
        w = tally["windows"][key]
        lines.append(f"| {key[0]:,} | {key[1]:,} | " + " | ".join(
            f"{pct(tally['column_alarm'][key, 'exact', f], w)} "
            f"({pct(tally['column_alarm'][key, 'evidently', f], w)})"
            for f in FEATURES) + " |")  # fmt: skip
    lines += ["", "## Detection of a change in one column", ""]
    lines.append(
        "Share of windows in which the changed column alerts: calibrated exact / binned / "
        "Evidently. Numerical: mean over normal, lognormal, t2, Poisson, 30%-null (lowest in "
        "brackets); categorical: mean over 3-level, 10-level, binary (lowest in brackets)."
    )
    lines += ["", "| ref | live | " + " | ".join(
        [f"{d} sd" for d in SHIFTS["numerical"]]
        + [f"{int(100 * d)} pts" for d in SHIFTS["categorical"]]
    ) + " |", "|---|---|" + "---|" * 6]  # fmt: skip
    for key in cells:
        changes = []
        for kind in ("numerical", "categorical"):
            names = [f for f, (k, _) in FEATURES.items() if k == kind]
            for d in SHIFTS[kind]:
                parts = []
                for m in MODES:
                    rates = [
                        tally["detected"][key, m, f, d] / max(tally["tries"][key, f, d], 1)
                        for f in names
                    ]
                    parts.append(
                        f"{100 * np.mean(rates):.0f}"
                        + (f" ({100 * min(rates):.0f})" if m == "exact" else "")
                    )
                changes.append(" / ".join(parts))
        lines.append(row(f"{key[0]:,}", f"{key[1]:,}", *changes))
    lines += [
        "",
        "## Exact vs binned verdicts",
        "",
        "| ref | live | judged column verdicts | agree |",
        "|---|---|---|---|",
    ]
    for key in cells:
        lines.append(
            row(
                f"{key[0]:,}",
                f"{key[1]:,}",
                str(tally["judged"][key]),
                pct(tally["agree"][key], tally["judged"][key]),
            )
        )
    total_j, total_a = sum(tally["judged"].values()), sum(tally["agree"].values())
    lines += ["", f"All cells: {total_a} of {total_j} agree ({pct(total_a, total_j)}).", ""]
    lines += [
        "## Binned statistics error (reference 100k; live 1k, 10k, 100k; unchanged and +0.25 sd)",
        "",
    ]
    lines += [
        row(
            "feature",
            "bins asked",
            "bins kept",
            "KS exact - binned: mean / max",
            "Wasserstein, abs(binned - exact) in reference sd: median / max",
        ),
        "|---|---|---|---|---|",
    ]
    for e in errors:
        lines.append(
            row(
                e["feature"],
                str(e["bins"]),
                str(e["edges"]),
                f"{e['ks_mean']:.5f} / {e['ks_max']:.5f}",
                f"{e['w_abs_median']:.4f} / {e['w_abs_max']:.4f}",
            )
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small run")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--windows", type=int, help="stationary windows per reference")
    parser.add_argument("--detect", type=int, help="windows per change")
    parser.add_argument("--references", type=int, help="references per cell")
    parser.add_argument(
        "--cells", help="only these cells, reference x live rows: e.g. 1000x1000,100000x100"
    )
    args = parser.parse_args()
    given = {k: getattr(args, k) for k in ("windows", "detect", "references")}
    if args.quick:
        args.references, args.windows, args.detect, args.draws, args.error_reps = 1, 40, 10, 300, 1
        grid = [(1000, 100), (1000, 1000), (100_000, 50), (100_000, 1000)]
    else:
        args.references, args.windows, args.detect, args.draws, args.error_reps = (
            1,
            150,
            40,
            DEFAULT_DRAWS,
            2,
        )
        grid = [(r, n) for r in (1000, 100_000) for n in (50, 100, 1000, 10_000, 100_000)]
    if args.cells:
        grid = [(int(r), int(n)) for r, n in (c.split("x") for c in args.cells.split(","))]
    for k, v in given.items():
        if v is not None:
            setattr(args, k, v)
    tally: dict[str, Any] = defaultdict(lambda: defaultdict(int))
    tally["source"] = {}
    start = time.perf_counter()
    for ref_rows, live in grid:
        t = time.perf_counter()
        run_cell(ref_rows, live, args, tally)
        print(f"ref {ref_rows:,} live {live:,}: {time.perf_counter() - t:.0f} s", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)  # the table so far, cell by cell
        args.out.write_text(report(tally, [], args, time.perf_counter() - start))
    errors = bin_error(args)
    text = report(tally, errors, args, time.perf_counter() - start)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
