"""Calibrated thresholds, binned statistics and effect sizes, against scipy and simulation."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from checks.drift import binned_stats as bs
from checks.drift import profile_column
from checks.drift.calibrate import Calibration, dataset_rule, live_size_bucket
from checks.drift.calibrated import (
    ad_from_counts,
    ad_statistic,
    calibrate_column,
    judge_column,
    judge_dataset,
    ks_distance,
    ks_from_counts,
)
from checks.drift.effect import effect_size


def _null_ks_quantile(n_ref: int, n_cur: int, q: float, reps: int, seed: int) -> float:
    """The oracle: scipy's KS statistic on fresh independent samples, ``reps`` times."""
    rng = np.random.default_rng(seed)
    d = [
        stats.ks_2samp(rng.normal(size=n_ref), rng.normal(size=n_cur)).statistic
        for _ in range(reps)
    ]
    return float(np.quantile(d, q))


def test_ks_distance_equals_scipy_on_values_and_on_tied_counts():
    rng = np.random.default_rng(1)
    ref, cur = rng.normal(0, 1, 700), rng.normal(0.1, 1, 300)
    exact = ks_distance(profile_column(ref, "numerical"), profile_column(cur, "numerical"))
    assert exact == pytest.approx(stats.ks_2samp(ref, cur).statistic, abs=1e-12)
    values = np.arange(40.0)
    a, b = rng.poisson(2.0, 40), rng.poisson(0.7, 40)
    tied = ks_from_counts(a, b, np.zeros(40, dtype=bool))[0]  # real ties: plain KS
    expected = stats.ks_2samp(np.repeat(values, a), np.repeat(values, b)).statistic
    assert tied == pytest.approx(expected, abs=1e-12)


def test_ks_from_counts_scores_a_batch_of_draws_row_by_row_as_scipy():
    rng = np.random.default_rng(2)
    values = np.arange(30.0)
    ref, cur = rng.poisson(3.0, (6, 30)), rng.poisson(2.0, (6, 30))
    batch = ks_from_counts(ref, cur, np.zeros(30, dtype=bool))
    expected = [
        stats.ks_2samp(np.repeat(values, r), np.repeat(values, c)).statistic
        for r, c in zip(ref, cur, strict=True)
    ]
    assert batch == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n_ref, n_cur", [(2000, 200), (1000, 1000), (500, 5000)])
def test_resampled_threshold_matches_the_simulated_null_quantile(n_ref, n_cur):
    oracle = _null_ks_quantile(n_ref, n_cur, 0.99, reps=1500, seed=n_cur)
    thresholds = [
        calibrate_column(
            np.random.default_rng(seed).normal(size=n_ref),
            column="x",
            column_type="numerical",
            live_rows=n_cur,
            statistic="ks",
            draws=600,
            seed=seed,
        )
        for seed in range(4)
    ]
    assert all(t.source == "resample" and t.live_size_bucket == n_cur for t in thresholds)
    assert np.mean([t.threshold for t in thresholds]) == pytest.approx(oracle, rel=0.1)


def test_reference_chunks_are_used_when_the_reference_holds_enough():
    reference = np.random.default_rng(3).normal(size=60_000)
    cal = calibrate_column(
        reference, column="x", column_type="numerical", live_rows=100, statistic="ks", draws=600
    )
    assert cal.source == "chunks" and cal.draws == 600
    assert cal.threshold == pytest.approx(_null_ks_quantile(60_000, 100, 0.99, 1500, 4), rel=0.1)


def test_a_stationary_column_alerts_in_about_the_chosen_share_of_windows():
    rng = np.random.default_rng(5)
    alerts = []
    for seed in range(8):
        reference = rng.lognormal(0, 1, 800)
        cal = calibrate_column(
            reference, column="x", column_type="numerical", live_rows=200, draws=800, seed=seed
        )
        ref = profile_column(reference, "numerical")
        for _ in range(100):
            live = rng.lognormal(0, 1, 200)
            outcome = judge_column(ref, live, column="x", column_type="numerical", calibration=cal)
            alerts.append(outcome.drifted)
    # 800 windows at 1%: 8 expected; Binomial(800, 0.01) exceeds 17 with probability < 0.1%
    assert sum(alerts) <= 17


def test_categorical_calibration_lands_near_the_nominal_p_value():
    rng = np.random.default_rng(6)
    reference = pd.Series(rng.choice(["a", "b", "c"], size=5000, p=[0.6, 0.3, 0.1]))
    cal = calibrate_column(
        reference,
        column="c",
        column_type="categorical",
        live_rows=1000,
        statistic="chisquare_2s",
        draws=1000,
    )
    assert (cal.method, cal.direction) == ("chisquare_2s", "<")
    assert 0.004 < cal.threshold < 0.02  # chi-square p-values are near uniform under no change


def test_fewer_than_min_rows_live_values_is_insufficient_data():
    rng = np.random.default_rng(7)
    reference = rng.normal(size=2000)
    cal = calibrate_column(reference, column="x", column_type="numerical", live_rows=99, draws=100)
    live = np.concatenate((rng.normal(5, 1, 99), [np.nan] * 50))
    outcome = judge_column(reference, live, column="x", column_type="numerical", calibration=cal)
    assert outcome.passed is None and outcome.drifted is None
    assert outcome.reason is not None and outcome.reason.startswith("insufficient data")


def test_an_unseen_category_is_reported_and_judged_by_the_calibrated_rule():
    rng = np.random.default_rng(8)
    reference = pd.Series(rng.choice(["a", "b", "c"], size=5000, p=[0.5, 0.3, 0.2]))
    live = pd.Series([*rng.choice(["a", "b", "c"], size=4999, p=[0.5, 0.3, 0.2]), "new"])
    cal = calibrate_column(reference, column="c", column_type="categorical", live_rows=5000)
    outcome = judge_column(reference, live, column="c", column_type="categorical", calibration=cal)
    assert outcome.drifted is False
    assert outcome.details["effect"]["unseen"] == {"new": pytest.approx(1 / 5000)}


def test_dataset_rule_is_the_binomial_tail_at_the_dataset_rate():
    for columns in (1, 3, 11, 40, 120):
        m = dataset_rule(columns)
        assert stats.binom.sf(m - 1, columns, 0.01) <= 0.01 + 1e-12
        assert m == 1 or stats.binom.sf(m - 2, columns, 0.01) > 0.01


def test_dataset_drift_needs_the_rule_count_of_drifted_columns():
    rng = np.random.default_rng(9)
    ref = {f"x{i}": rng.normal(size=3000) for i in range(11)}
    cal = calibrate_column(
        ref["x0"], column="x0", column_type="numerical", live_rows=1000, draws=300
    )
    shifted = {"x0": 1.0}

    def outcome(name: str):
        live = rng.normal(shifted.get(name, 0.0), 1, 1000)
        return judge_column(ref[name], live, column=name, column_type="numerical", calibration=cal)

    outcomes = [outcome(name) for name in ref]
    # 1% per scan split over 11 columns: one drifted column is already a 1%-rare event
    one = judge_dataset(outcomes)
    assert one.number_drifted >= 1 and one.dataset_drift
    # 5% per scan over 11 columns: P(Binomial(11, 0.05 / 11) >= 1) = 4.9% > 1%, so two
    loose = judge_dataset(outcomes, false_alarm_rate=0.05)
    assert stats.binom.sf(0, 11, 0.05 / 11) > 0.01 >= stats.binom.sf(1, 11, 0.05 / 11)
    assert loose.dataset_drift is (loose.number_drifted >= 2)
    shifted["x1"] = 1.0
    assert judge_dataset([outcome(name) for name in ref], false_alarm_rate=0.05).dataset_drift


def _any_alert_share(columns: int, split: int, scans: int, seed: int) -> float:
    """Share of ``scans`` unchanged scans of ``columns`` normal columns in which any column
    alerts, thresholds learnt at 1% per scan split over ``split`` columns. Each reference
    has 20k rows, so the verdict barely depends on which reference was drawn."""
    rng = np.random.default_rng(seed)
    refs = [profile_column(rng.normal(size=20_000), "numerical") for _ in range(columns)]
    cals = [
        calibrate_column(
            ref,
            column="x",
            column_type="numerical",
            live_rows=200,
            statistic="ks",
            columns=split,
            draws=1000,
        )
        for ref in refs
    ]
    alerts = 0
    for _ in range(scans):
        alerts += any(
            ks_distance(ref, profile_column(rng.normal(size=200), "numerical")) > cal.threshold
            for ref, cal in zip(refs, cals, strict=True)
        )
    return alerts / scans


def test_the_false_alarm_rate_is_per_scan_split_over_the_scans_columns():
    # 8 columns at 1% each: 1 - 0.99 ** 8 = 7.7% of unchanged scans have some alert
    assert _any_alert_share(8, split=1, scans=500, seed=21) > 0.04
    # split over the 8 columns: at most 1%; Binomial(500, 0.01) exceeds 13 with p < 0.1%
    assert _any_alert_share(8, split=8, scans=500, seed=22) <= 13 / 500


def test_a_split_rate_draws_enough_for_its_order_statistic():
    cal = calibrate_column(
        np.random.default_rng(23).normal(size=5000),
        column="x",
        column_type="numerical",
        live_rows=1000,
        statistic="ks",
        columns=50,
    )
    assert cal.draws == 4999 and cal.column_rate == pytest.approx(0.01 / 50)
    assert "99.98th percentile of 4999" in cal.how and "1% of scans over 50 columns" in cal.how
    # the largest of 4999 draws: a new unchanged window exceeds it with probability 1/5000
    # on average (a noisy single threshold; the per-scan test above checks the rate)
    assert cal.threshold > _null_ks_quantile(5000, 1000, 0.995, reps=2000, seed=24)


def test_an_integer_column_is_calibrated_like_fresh_samples_despite_its_ties():
    """The demo's support_calls, Poisson(1.3): its thresholds match scipy's KS on fresh
    samples, and unchanged windows alert at about the target rate (the demo's one-off alert
    was the per-column rate summed over columns and days, not the ties)."""
    rng = np.random.default_rng(25)
    oracle = np.quantile(
        [
            stats.ks_2samp(rng.poisson(1.3, 9600), rng.poisson(1.3, 2000)).statistic
            for _ in range(4000)
        ],
        1 - 0.01 / 8,
    )
    thresholds = [
        calibrate_column(
            rng.poisson(1.3, 9600).astype(float),
            column="support_calls",
            column_type="numerical",
            live_rows=2000,
            statistic="ks",
            columns=8,
            draws=1000,
            seed=seed,
        ).threshold
        for seed in range(3)
    ]
    assert np.mean(thresholds) == pytest.approx(oracle, rel=0.1)
    rates = []
    for seed in range(40):  # over references: a 1k reference's own noise is part of the rate
        reference = rng.poisson(3, 1000).astype(float)
        cal = calibrate_column(
            reference,
            column="n",
            column_type="numerical",
            live_rows=1000,
            statistic="ks",
            draws=400,
            seed=seed,
        )
        ref = profile_column(reference, "numerical")
        live = [profile_column(rng.poisson(3, 1000).astype(float), "numerical") for _ in range(200)]
        rates.append(np.mean([ks_distance(ref, cur) > cal.threshold for cur in live]))
    assert 0.002 <= np.mean(rates) <= 0.025  # target 1%; seeded runs gave 0.7%


def test_effect_sizes_are_mean_and_median_shift_in_reference_sd_and_share_points():
    rng = np.random.default_rng(10)
    ref, cur = rng.normal(50, 10, 4000), rng.normal(53, 10, 3000)
    effect = effect_size(
        profile_column(ref, "numerical"), profile_column(cur, "numerical"), column="income"
    )
    sd = np.std(ref, ddof=1)
    assert effect.mean_shift_sd == pytest.approx((cur.mean() - ref.mean()) / sd, rel=1e-9)
    assert effect.median_shift_sd == pytest.approx((np.median(cur) - np.median(ref)) / sd, rel=1e-9)
    assert effect.phrase == f"income: mean {(cur.mean() - ref.mean()) / sd:+.2f} sd"
    city_ref = pd.Series(["Paris"] * 300 + ["Lyon"] * 700)
    city_cur = pd.Series(["Paris"] * 420 + ["Lyon"] * 580)
    cat = effect_size(
        profile_column(city_ref, "categorical"),
        profile_column(city_cur, "categorical"),
        column="city",
    )
    assert abs(cat.share_change) == pytest.approx(0.12)
    assert cat.phrase in ("city: 'Paris' share +12.0 pts", "city: 'Lyon' share -12.0 pts")


@pytest.mark.parametrize("bins", [50, 200])
@pytest.mark.parametrize("seed, shift", [(11, 0.0), (12, 0.2)])
def test_binned_ks_is_below_exact_ks_by_at_most_the_largest_bin_share(bins, seed, shift):
    rng = np.random.default_rng(seed)
    ref, cur = np.sort(rng.lognormal(0, 1, 20_000)), rng.lognormal(shift, 1, 5000)
    edges = bs.quantile_edges(ref, bins)
    r, c = bs.bin_counts(ref, edges), bs.bin_counts(cur, edges)
    exact = stats.ks_2samp(ref, cur).statistic
    binned = bs.ks_binned(r, c)
    bound = max((r / r.sum()).max(), (c / c.sum()).max())
    assert 0 <= exact - binned <= bound + 1e-12


def test_binned_wasserstein_psi_and_js_against_scipy():
    rng = np.random.default_rng(13)
    ref, cur = np.sort(rng.normal(0, 1, 50_000)), rng.normal(0.25, 1, 10_000)
    edges = bs.quantile_edges(ref, 200)
    r, c = bs.bin_counts(ref, edges), bs.bin_counts(cur, edges)
    exact_w = stats.wasserstein_distance(ref, cur) / np.std(ref)
    lo, hi = min(ref[0], cur.min()), max(ref[-1], cur.max())
    binned_w = bs.wasserstein_binned(r, c, edges, lo=lo, hi=hi, scale=float(np.std(ref)))
    assert binned_w == pytest.approx(exact_w, rel=0.02)
    assert bs.jensen_shannon(r, c) == pytest.approx(jensenshannon(r / r.sum(), c / c.sum()))
    rs, cs = np.maximum(r / r.sum(), 1e-4), np.maximum(c / c.sum(), 1e-4)
    assert bs.psi(r, c) == pytest.approx(float(np.sum((cs - rs) * np.log(cs / rs))))
    right_closed = pd.cut(ref, np.concatenate(([-np.inf], edges, [np.inf])), right=True)
    assert np.array_equal(r, pd.Series(right_closed).value_counts(sort=False).to_numpy())


def test_calibration_round_trips_through_json_and_says_how_it_was_obtained():
    cal = calibrate_column(
        np.random.default_rng(14).normal(size=1000), column="x", column_type="numerical",
        live_rows=1000, draws=200, fingerprint="abc",
    )  # fmt: skip
    data = cal.to_json_dict()
    assert Calibration.from_json_dict(data) == cal
    assert data["how"].startswith("ad > ") and "200 resampled windows of 1000 rows" in data["how"]


def test_live_size_buckets_round_down_to_preferred_numbers():
    assert [live_size_bucket(n) for n in (1, 50, 100, 199, 999, 1000, 5000, 100_000)] == [
        1, 50, 100, 160, 800, 1000, 5000, 100_000,
    ]  # fmt: skip
    sizes = range(1, 3000)
    assert all(live_size_bucket(n) <= n for n in sizes)
    assert all(live_size_bucket(a) <= live_size_bucket(b) for a, b in itertools.pairwise(sizes))


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(15).poisson(3, 5000).astype(float),
        np.random.default_rng(16).normal(size=5000),
        pd.Series(np.random.default_rng(17).choice(list("abc"), 5000)),
    ],
    ids=["tied", "continuous", "categorical"],
)
def test_a_chunk_is_scored_against_the_rest_of_the_reference(values):
    from checks.drift.calibrate import _without

    kind = "categorical" if isinstance(values, pd.Series) else "numerical"
    rest = _without(profile_column(values, kind), profile_column(values[1000:1200], kind))
    expected = profile_column(pd.concat([pd.Series(values[:1000]), pd.Series(values[1200:])]), kind)
    assert np.array_equal(rest.value_counts[0], expected.value_counts[0])
    assert np.array_equal(rest.value_counts[1], expected.value_counts[1])


def test_a_calibration_for_another_live_size_is_refused_and_none_only_when_insufficient():
    from checks.errors import ColumnError

    rng = np.random.default_rng(18)
    reference = rng.normal(size=3000)
    cal = calibrate_column(
        reference, column="x", column_type="numerical", live_rows=1000, draws=100
    )
    with pytest.raises(ColumnError, match=r"'x'.*calibrated for windows of 1000"):
        judge_column(
            reference, rng.normal(size=700), column="x", column_type="numerical", calibration=cal
        )
    small = judge_column(
        reference, rng.normal(size=50), column="x", column_type="numerical", calibration=None
    )
    assert small.passed is None and small.method == "ad"
    with pytest.raises(ColumnError, match="need a calibration"):
        judge_column(
            reference, rng.normal(size=500), column="x", column_type="numerical", calibration=None
        )


@pytest.mark.parametrize("seed, k", [(19, 2), (20, 3), (21, 10)])
def test_share_z_squared_is_the_largest_collapsed_two_by_two_chi_square(seed, k):
    from checks.drift.calibrated import share_z

    rng = np.random.default_rng(seed)
    ref, cur = rng.multinomial(3000, np.ones(k) / k), rng.multinomial(700, np.ones(k) / k)
    cur[0] += 60
    collapsed = [
        stats.chi2_contingency(
            [[ref[j], ref.sum() - ref[j]], [cur[j], cur.sum() - cur[j]]], correction=False
        ).statistic
        for j in range(k)
    ]
    assert share_z(ref, cur) ** 2 == pytest.approx(max(collapsed), rel=1e-10)


def test_an_unseen_category_leads_the_phrase_with_its_share():
    ref = profile_column(pd.Series(["a"] * 600 + ["b"] * 400), "categorical")
    cur = profile_column(pd.Series(["a"] * 500 + ["b"] * 300 + ["x"] * 200), "categorical")
    effect = effect_size(ref, cur, column="city")
    assert effect.unseen == {"x": pytest.approx(0.2)}
    assert effect.phrase == "city: new 'x', 20.0% of rows"
    small = profile_column(pd.Series(["a"] * 400 + ["b"] * 590 + ["x"] * 10), "categorical")
    phrase = effect_size(ref, small, column="city").phrase
    assert phrase == "city: 'a' share -20.0 pts; new 'x' 1.0%"


def _anderson(x: np.ndarray, y: np.ndarray) -> float:
    return float(stats.anderson_ksamp([x, y], variant="midrank").statistic)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_ad_statistic_equals_scipy_anderson_ksamp_on_values_ties_and_count_rows():
    rng = np.random.default_rng(31)
    cases = [
        (rng.normal(0, 1, 700), rng.normal(0.1, 1, 300)),
        (rng.poisson(3, 500).astype(float), rng.poisson(3.3, 800).astype(float)),
        (rng.lognormal(0, 1, 2000), rng.lognormal(0, 1, 150)),
    ]
    for x, y in cases:
        ours = ad_statistic(profile_column(x, "numerical"), profile_column(y, "numerical"))
        assert ours == pytest.approx(_anderson(x, y), rel=1e-9)
    # a batch of count rows (calibration draws): row by row, scipy on the expanded values
    values = np.arange(6.0)
    ref = rng.multinomial(400, np.full(6, 1 / 6), size=5)
    cur = rng.multinomial(120, np.full(6, 1 / 6), size=5)
    batch = ad_from_counts(ref, cur)
    for i in range(5):
        expected = _anderson(np.repeat(values, ref[i]), np.repeat(values, cur[i]))
        assert batch[i] == pytest.approx(expected, rel=1e-9)


def test_ad_on_identical_constant_samples_is_no_drift():
    ref = profile_column(np.full(500, 2.0), "numerical")
    cur = profile_column(np.full(200, 2.0), "numerical")
    cal = calibrate_column(np.full(500, 2.0), column="x", column_type="numerical",
                           live_rows=200, draws=200)  # fmt: skip
    outcome = judge_column(ref, cur, column="x", column_type="numerical", calibration=cal)
    assert outcome.method == "ad" and outcome.drifted is False


@pytest.mark.parametrize("draw", ["normal", "poisson"])
def test_ad_calibrated_on_the_reference_alerts_at_the_target_rate_on_fresh_windows(draw):
    """Over 30 seeded references of 1,000 rows, each calibrated at 5% for 1,000-row windows,
    100 unchanged windows each: Binomial(3000, 0.05) lies in [110, 190] with p > 99.9%."""
    rng = np.random.default_rng(32)
    sample = {
        "normal": lambda n: rng.normal(0, 1, n),
        "poisson": lambda n: rng.poisson(3, n).astype(float),
    }[draw]
    alerts = 0
    for seed in range(30):
        reference = sample(1000)
        cal = calibrate_column(reference, column="x", column_type="numerical", live_rows=1000,
                               false_alarm_rate=0.05, draws=400, seed=seed)  # fmt: skip
        ref = profile_column(reference, "numerical")
        alerts += sum(
            ad_statistic(ref, profile_column(sample(1000), "numerical")) > cal.threshold
            for _ in range(100)
        )
    assert 110 <= alerts <= 190


def test_grouped_draws_give_the_full_support_threshold_within_draw_noise():
    """AD's draws over 2,000 groups of a 20k-value reference (the default) against draws
    over every value: the 95th percentiles, averaged over 3 seeds of 800 draws, agree
    within 8% (the draws' own noise is about 4% there)."""
    reference = np.random.default_rng(33).normal(size=20_000)
    kw = {"column": "x", "column_type": "numerical", "live_rows": 1000, "draws": 800,
          "false_alarm_rate": 0.05}  # fmt: skip
    grouped = [calibrate_column(reference, seed=s, **kw).threshold for s in range(3)]  # type: ignore[arg-type]
    full = [calibrate_column(reference, seed=s, support=None, **kw).threshold for s in range(3)]  # type: ignore[arg-type]
    assert np.mean(grouped) == pytest.approx(np.mean(full), rel=0.08)
