from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from checks.errors import ChecksError, ColumnError
from checks.multivariate import ReconstructionModel, fit_reconstruction


def _correlated(rng: np.random.Generator, n: int, rho: float) -> pd.DataFrame:
    """Three standard-normal features; a and b correlated ``rho``; a category tied to c."""
    a = rng.normal(size=n)
    b = rho * a + np.sqrt(1 - rho**2) * rng.normal(size=n)
    c = rng.normal(size=n)
    colour = np.where(c + rng.normal(scale=0.5, size=n) > 0, "red", "blue")
    return pd.DataFrame({"a": a, "b": b, "c": c, "colour": colour})


COLUMNS = ["a", "b", "c", "colour"]


def test_error_is_the_mean_distance_to_the_pca_reconstruction() -> None:
    # oracle: scikit-learn's own transform/inverse_transform on the hand-encoded matrix
    rng = np.random.default_rng(1)
    ref = _correlated(rng, 10_000, 0.8)
    live = _correlated(rng, 2_000, 0.8)
    fitted = fit_reconstruction(ref, COLUMNS, chunk_size=2_000)

    def encode(frame: pd.DataFrame) -> np.ndarray:
        share = ref["colour"].value_counts(normalize=True)
        return np.column_stack([frame[["a", "b", "c"]], frame["colour"].map(share)])

    scaler = StandardScaler().fit(encode(ref))
    pca = PCA(n_components=0.65).fit(scaler.transform(encode(ref)))
    x = scaler.transform(encode(live))
    expected = np.linalg.norm(x - pca.inverse_transform(pca.transform(x)), axis=1).mean()
    result = fitted.evaluate(live)
    assert result.value == pytest.approx(expected, rel=1e-9)
    assert result.components == pca.n_components_
    assert len(fitted.chunk_errors) == 5


def test_correlation_change_alone_is_detected() -> None:
    rng = np.random.default_rng(2)
    fitted = fit_reconstruction(_correlated(rng, 40_000, 0.9), COLUMNS, chunk_size=2_000)
    same = fitted.evaluate(_correlated(rng, 2_000, 0.9))
    live = _correlated(rng, 2_000, -0.9)
    reference = _correlated(rng, 2_000, 0.9)
    # no single column moves: each marginal passes a two-sample KS test
    for column in ("a", "b", "c"):
        assert ks_2samp(reference[column], live[column]).pvalue > 0.01, column
    flipped = fitted.evaluate(live)
    assert same.drifted is False
    assert flipped.drifted is True
    assert flipped.value > fitted.upper_threshold > same.value


def test_stationary_windows_rarely_alert() -> None:
    rng = np.random.default_rng(3)
    fitted = fit_reconstruction(_correlated(rng, 40_000, 0.7), COLUMNS, chunk_size=1_000)
    alerts = sum(fitted.evaluate(_correlated(rng, 1_000, 0.7)).drifted for _ in range(60))
    assert alerts <= 2


def test_missing_values_are_imputed_and_unseen_categories_count_zero() -> None:
    rng = np.random.default_rng(4)
    ref = _correlated(rng, 4_000, 0.5)
    ref.loc[:99, "a"] = np.nan
    ref.loc[:49, "colour"] = None
    fitted = fit_reconstruction(ref, COLUMNS, chunk_size=1_000)
    colour = fitted.encodings["colour"]
    assert colour.shares is not None
    assert sum(colour.shares.values()) == pytest.approx(1.0)
    assert colour.shares["<missing>"] == pytest.approx(50 / 4_000)
    assert fitted.encodings["a"].fill == pytest.approx(ref["a"].mean())
    live = _correlated(rng, 500, 0.5)
    live.loc[:9, "colour"] = "green"
    assert np.isfinite(fitted.evaluate(live).value)
    assert colour.apply(pd.Series(["green"]))[0] == 0.0


def test_short_reference_gives_no_verdict_and_says_why() -> None:
    rng = np.random.default_rng(5)
    fitted = fit_reconstruction(_correlated(rng, 1_500, 0.5), COLUMNS, chunk_size=1_000)
    result = fitted.evaluate(_correlated(rng, 1_000, 0.5))
    assert result.drifted is None
    assert "1 complete chunks of 1000 rows" in result.reason


def test_bad_input_names_the_column() -> None:
    rng = np.random.default_rng(6)
    ref = _correlated(rng, 1_000, 0.5)
    with pytest.raises(ColumnError, match="'zz'"):
        fit_reconstruction(ref, ["a", "zz"], chunk_size=100)
    fitted = fit_reconstruction(ref, COLUMNS, chunk_size=100)
    with pytest.raises(ColumnError, match="'colour'"):
        fitted.evaluate(ref.drop(columns="colour"))
    with pytest.raises(ChecksError, match="two feature columns"):
        fit_reconstruction(ref, ["a"], chunk_size=100)


def test_module_examples_run() -> None:
    import doctest

    import checks.multivariate

    result = doctest.testmod(checks.multivariate)
    assert result.attempted and not result.failed


def test_a_fit_stored_as_json_judges_exactly_as_the_original() -> None:
    # the service caches the fit as JSON with the reference profile and reads it back
    rng = np.random.default_rng(8)
    ref = _correlated(rng, 6_000, 0.8)
    ref.loc[:49, "colour"] = None
    fitted = fit_reconstruction(ref, COLUMNS, chunk_size=1_000)
    again = ReconstructionModel.from_json_dict(json.loads(json.dumps(fitted.to_json_dict())))
    live = _correlated(rng, 800, -0.8)
    live.loc[:9, "colour"] = "green"
    assert again.evaluate(live) == fitted.evaluate(live)
    assert again.evaluate(live).drifted is True


def test_uncorrelated_features_give_no_verdict_and_say_why() -> None:
    # two independent features need both components for 65 % of the variance: every row is
    # reconstructed exactly and the "error" is rounding noise, which must not alert
    rng = np.random.default_rng(12)
    ref = pd.DataFrame({"a": rng.normal(size=5_000), "b": rng.normal(size=5_000)})
    fitted = fit_reconstruction(ref, ["a", "b"], chunk_size=500)
    live = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
    result = fitted.evaluate(live)
    assert result.value == pytest.approx(0.0, abs=1e-9)
    assert result.drifted is None and "keeps all 2 components" in (result.reason or "")
