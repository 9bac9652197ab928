"""Drift of the whole input: PCA data-reconstruction error (NannyML's
``DataReconstructionDriftCalculator``).

Fitted on the reference: a number's missing values take the reference mean, each category is
replaced by its share of the reference rows (category_encoders' ``CountEncoder(normalize=True)``
as NannyML does; a category the reference never saw counts 0, and missing is a category of
its own), every column standardised, and a PCA kept with enough components for 65 % of the
variance. A window's value is the mean Euclidean distance between its standardised rows and
their reconstruction from those components. Rows that keep the reference's correlations
reconstruct as well as the reference did; a change in the correlation between features, which
no single-column test sees, raises the error.

Thresholds come from the reference itself: it is cut into chunks of the live window's size,
each chunk's error computed, and the thresholds are mean ± 3 standard deviations of those
errors (NannyML's ``StandardDeviationThreshold``; a lower threshold at or below 0 is dropped).
An incomplete last chunk is left out, since its smaller size would widen the spread.

A table is a pandas DataFrame, a pyarrow Table or a dict of numpy arrays
(:mod:`checks.columnar`); this module imports neither pandas nor pyarrow.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=20_000)
>>> ref = {"a": x, "b": x + rng.normal(scale=0.3, size=20_000)}
>>> fitted = fit_reconstruction(ref, ["a", "b"], chunk_size=2_000)
>>> y = rng.normal(size=2_000)
>>> fitted.evaluate({"a": y, "b": -y}).drifted
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from checks.columnar import Table, column, factorize, floats, is_categorical
from checks.errors import ChecksError, ColumnError

FloatArray = npt.NDArray[np.float64]
#: share of the variance the kept components explain (NannyML's default)
EXPLAINED_VARIANCE = 0.65
#: standard deviations of the reference-chunk errors either side of their mean
STD_MULTIPLIER = 3.0
#: sampling errors either side of a window's error in its band
BAND_WIDTH = 3.0
#: rows scaled and projected at a time (see :meth:`ReconstructionModel.distances`)
BLOCK_ROWS = 8_192


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconstructionDrift:
    """One window's reconstruction error, the reference thresholds, and the verdict."""

    value: float | None
    sampling_error: float | None
    lower: float | None
    upper: float | None
    lower_threshold: float | None
    upper_threshold: float | None
    drifted: bool | None
    rows: int
    components: int
    how: str
    reason: str | None = None


#: the key under which a category column's missing values are counted
MISSING = "<missing>"


@dataclass(frozen=True, slots=True)
class _Encoding:
    """How a column becomes a number: a number's fill value, or a category's reference shares."""

    fill: float
    shares: Mapping[object, float] | None

    def apply(self, values: Any) -> FloatArray:
        if self.shares is None:
            numbers = floats(values)
            missing = np.isnan(numbers)
            return np.where(missing, self.fill, numbers) if missing.any() else numbers
        # factorize hashes each distinct value once: far cheaper than a map over 1M strings
        codes, uniques = factorize(values)
        known = [self.shares.get(value, 0.0) for value in uniques]
        lookup = np.array([*known, self.shares.get(MISSING, 0.0)], dtype=np.float64)
        shares: FloatArray = lookup[codes]
        return shares  # code -1 (missing) takes the last entry


def _encoding(values: Any, name: str) -> _Encoding:
    """NannyML's rule: text, category and bool columns are categorical; numbers are not."""
    if is_categorical(values):
        codes, uniques = factorize(values)
        counts = np.bincount(codes + 1, minlength=len(uniques) + 1) / len(codes)
        shares: dict[object, float] = {MISSING: float(counts[0])} if counts[0] else {}
        shares.update((u, float(share)) for u, share in zip(uniques, counts[1:], strict=True))
        return _Encoding(float("nan"), shares)
    numbers = floats(values)
    present = numbers[~np.isnan(numbers)]
    if not len(present):
        raise ColumnError(name, "has no values in the reference")
    return _Encoding(float(present.mean()), None)


def _floats(values: object) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Standardiser:
    """scikit-learn's ``StandardScaler``: column means and population standard deviations,
    a constant column's sd taken as 1 (numpy, so a scan need not import scikit-learn)."""

    mean: FloatArray
    scale: FloatArray

    @classmethod
    def fit(cls, x: FloatArray) -> Standardiser:
        mean = x.mean(axis=0)
        scale = np.sqrt(((x - mean) ** 2).mean(axis=0))
        return cls(mean, np.where(scale < 10 * np.finfo(np.float64).eps, 1.0, scale))


@dataclass(frozen=True, slots=True)
class Components:
    """scikit-learn's ``PCA(n_components=<share>)``: the fewest principal axes whose share of
    the variance reaches ``share`` (its ``searchsorted(..., side="right") + 1`` rule), from the
    eigenvectors of the covariance as its ``covariance_eigh`` solver takes them for a tall
    matrix. Axes are defined up to sign; the reconstruction does not depend on it."""

    mean: FloatArray
    basis: FloatArray  # one kept axis per row

    @property
    def count(self) -> int:
        return len(self.basis)

    @classmethod
    def fit(cls, x: FloatArray, share: float) -> Components:
        mean = x.mean(axis=0)
        centred = x - mean
        variances, vectors = np.linalg.eigh(centred.T @ centred / max(len(x) - 1, 1))
        order = np.argsort(variances)[::-1]
        variances = np.clip(variances[order], 0.0, None)
        ratio = np.cumsum(variances / variances.sum())
        kept = min(int(np.searchsorted(ratio, share, side="right")) + 1, len(ratio))
        return cls(mean, np.ascontiguousarray(vectors[:, order[:kept]].T))


@dataclass(frozen=True, slots=True)
class ReconstructionModel:
    """The fitted encoding, scaler and PCA, and the thresholds for one window size."""

    columns: tuple[str, ...]
    encodings: Mapping[str, _Encoding]
    scaler: Standardiser
    pca: Components
    chunk_size: int
    chunk_errors: tuple[float, ...]
    lower_threshold: float | None
    upper_threshold: float | None

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON, so a fit on a fixed reference can be cached and reused by later scans.
        Category shares are ``[value, share]`` pairs: JSON keeps a number a number there."""
        return {
            "columns": list(self.columns),
            "encodings": {
                c: {
                    "fill": None if np.isnan(e.fill) else e.fill,
                    "shares": None if e.shares is None else [[k, v] for k, v in e.shares.items()],
                }
                for c, e in self.encodings.items()
            },
            "scaler": {"mean": self.scaler.mean.tolist(), "scale": self.scaler.scale.tolist()},
            "pca": {"mean": self.pca.mean.tolist(), "components": self.pca.basis.tolist()},
            "chunk_size": self.chunk_size,
            "chunk_errors": list(self.chunk_errors),
            "lower_threshold": self.lower_threshold,
            "upper_threshold": self.upper_threshold,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> ReconstructionModel:
        """The fit :meth:`to_json_dict` stored."""
        scaler = Standardiser(_floats(data["scaler"]["mean"]), _floats(data["scaler"]["scale"]))
        pca = Components(_floats(data["pca"]["mean"]), _floats(data["pca"]["components"]))
        encodings = {
            c: _Encoding(
                float("nan") if e["fill"] is None else float(e["fill"]),
                None if e["shares"] is None else {k: float(v) for k, v in e["shares"]},
            )
            for c, e in data["encodings"].items()
        }
        return cls(
            tuple(data["columns"]), encodings, scaler, pca, int(data["chunk_size"]),
            tuple(float(x) for x in data["chunk_errors"]),
            data["lower_threshold"], data["upper_threshold"],
        )  # fmt: skip

    def encoded(self, table: Table) -> list[FloatArray]:
        """Each column as numbers; ``table`` is a DataFrame, a pyarrow Table or a dict of arrays."""
        out = []
        for name in self.columns:
            values = column(table, name)
            if values is None:
                raise ColumnError(name, "is not in the window (multivariate drift needs it)")
            out.append(self.encodings[name].apply(values))
        return out

    def distances(self, columns: Sequence[FloatArray]) -> FloatArray:
        """Each row's Euclidean distance to its reconstruction (``columns`` as :meth:`encoded`).

        Scaling, PCA transform and inverse are scikit-learn's formulas applied a block of rows
        at a time, so a 1M-row window never holds more than one block's temporaries. The
        block is held one row per column (each column's slice is contiguous, no column_stack
        copy), and the projection and reconstruction are two small matrix products on it.
        Blocks of 8,192 rows stay in cache and under OpenBLAS's threading threshold: a
        second thread cost more CPU than it saved on so narrow a product (65,536-row blocks
        doubled the CPU for the same wall time), and a column-at-a-time loop of scaled sums
        took twice the CPU of these products. The squared residuals are added up row by row
        into the output (what ``sum(axis=0)`` does, without its temporary).
        """
        shift, scale = self.scaler.mean, self.scaler.scale
        mean, basis = self.pca.mean, self.pca.basis
        rows = len(columns[0])
        out = np.empty(rows, dtype=np.float64)
        block = max(min(BLOCK_ROWS, rows), 1)
        centred = np.empty((len(columns), block))
        projected = np.empty((len(basis), block))
        residual = np.empty((len(columns), block))
        for start in range(0, rows, block):
            stop = min(start + block, rows)
            c, p, r = (
                centred[:, : stop - start],
                projected[:, : stop - start],
                residual[:, : stop - start],
            )
            for j, values in enumerate(columns):
                np.subtract(values[start:stop], shift[j], out=c[j])
                c[j] /= scale[j]
                c[j] -= mean[j]
            np.matmul(basis, c, out=p)
            np.matmul(basis.T, p, out=r)
            np.subtract(c, r, out=r)
            r *= r
            total = out[start:stop]  # the squares summed row by row into the output, in place
            np.add(r[0], r[1], out=total)
            for row in r[2:]:
                total += row
            np.sqrt(total, out=total)
        return out

    def evaluate(self, table: Table) -> ReconstructionDrift:
        """Judge one window: a DataFrame, a pyarrow Table or a dict of arrays by column."""
        columns = self.encoded(table)
        rows = len(columns[0])
        none = ReconstructionDrift(
            value=None,
            sampling_error=None,
            lower=None,
            upper=None,
            lower_threshold=self.lower_threshold,
            upper_threshold=self.upper_threshold,
            drifted=None,
            rows=rows,
            components=int(self.pca.count),
            how=self._how(),
            reason="no rows",
        )
        if rows == 0:
            return none
        errors = self.distances(columns)
        value = float(errors.mean())
        spread = float(errors.std(ddof=1) / np.sqrt(rows)) if rows > 1 else None
        band = BAND_WIDTH * (spread or 0.0)
        drifted = None if self.keeps_everything else self._outside(value)
        return replace(
            none,
            value=value,
            sampling_error=spread,
            lower=max(0.0, value - band),
            upper=value + band,
            drifted=drifted,
            reason=None if drifted is not None else self._why_not(),
        )

    def _how(self) -> str:
        return (
            f"PCA reconstruction error, {self.pca.count} of {len(self.columns)} "
            f"components ({EXPLAINED_VARIANCE:.0%} of the reference variance); thresholds "
            f"mean ± {STD_MULTIPLIER:g} sd of {len(self.chunk_errors)} reference chunks of "
            f"{self.chunk_size} rows"
        )

    @property
    def keeps_everything(self) -> bool:
        """Whether the PCA keeps as many components as there are columns: then every row is
        reconstructed exactly and the error is rounding noise (uncorrelated features need
        all their components for 65 % of the variance). NannyML judges that noise; we do not."""
        return int(self.pca.count) >= len(self.columns)

    def _why_not(self) -> str:
        if self.keeps_everything:
            return (
                f"the PCA keeps all {len(self.columns)} components ({EXPLAINED_VARIANCE:.0%} of "
                "the reference variance needs them all: the features are barely correlated), so "
                "every row is reconstructed exactly; there is no correlation to watch"
            )
        return self._no_thresholds()

    def _no_thresholds(self) -> str:
        return (
            f"no thresholds: the reference holds {len(self.chunk_errors)} complete chunks of "
            f"{self.chunk_size} rows, at least 2 are needed"
        )

    def _outside(self, value: float) -> bool | None:
        if self.lower_threshold is None and self.upper_threshold is None:
            return None
        low = -np.inf if self.lower_threshold is None else self.lower_threshold
        high = np.inf if self.upper_threshold is None else self.upper_threshold
        return not low < value < high


def fit_reconstruction(
    reference: Table,
    columns: Sequence[str],
    *,
    chunk_size: int,
    explained_variance: float = EXPLAINED_VARIANCE,
) -> ReconstructionModel:
    """Fit on the reference and take thresholds from its chunks of ``chunk_size`` rows."""
    if len(columns) < 2:
        raise ChecksError("multivariate drift needs at least two feature columns")
    values = {}
    for name in columns:
        values[name] = column(reference, name)
        if values[name] is None:
            raise ColumnError(name, "is not in the reference")
    if chunk_size < 2:
        raise ChecksError(f"multivariate drift: chunk_size {chunk_size} must be at least 2")
    encodings = {c: _encoding(values[c], c) for c in columns}
    encoded = [encodings[c].apply(values[c]) for c in columns]
    stacked = np.column_stack(encoded)
    scaler = Standardiser.fit(stacked)
    pca = Components.fit((stacked - scaler.mean) / scaler.scale, explained_variance)
    model = ReconstructionModel(tuple(columns), encodings, scaler, pca, chunk_size, (), None, None)
    return _with_thresholds(model, encoded)


def _with_thresholds(
    model: ReconstructionModel, reference: Sequence[FloatArray]
) -> ReconstructionModel:
    chunks = len(reference[0]) // model.chunk_size
    # no complete chunk (a reference smaller than the window): no error to measure on it
    distances = model.distances(reference) if chunks else np.empty(0)
    errors = tuple(
        float(distances[i * model.chunk_size : (i + 1) * model.chunk_size].mean())
        for i in range(chunks)
    )
    lower = upper = None
    if chunks >= 2:
        centre, sd = float(np.mean(errors)), float(np.std(errors))
        upper = centre + STD_MULTIPLIER * sd
        lower = centre - STD_MULTIPLIER * sd
        lower = lower if lower > 0 else None
    return ReconstructionModel(
        model.columns, model.encodings, model.scaler, model.pca, model.chunk_size,
        errors, lower, upper,
    )  # fmt: skip
