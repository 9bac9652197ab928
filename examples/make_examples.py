"""Write examples/reference.csv and examples/current.csv: 500 seeded rows each, mixed types.

In the current file `age` shifts up by about one standard deviation, `tenure_months` by a
third, and the `plan` mix moves towards enterprise; `income`, `region` and `has_card` keep
their distribution, and `income` has a few more nulls. Run from the repository root:

    python examples/make_examples.py
    monitor drift examples/reference.csv examples/current.csv
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 500
HERE = Path(__file__).resolve().parent


def make(rng: np.random.Generator, *, shifted: bool) -> pd.DataFrame:
    shift = 1.0 if shifted else 0.0
    income = rng.lognormal(10, 0.5, ROWS).round(2)
    income[rng.random(ROWS) < (0.08 if shifted else 0.03)] = np.nan
    plan_mix = [0.2, 0.3, 0.5] if shifted else [0.5, 0.3, 0.2]
    return pd.DataFrame(
        {
            "age": rng.normal(40 + 10 * shift, 10, ROWS).round(1),
            "income": income,
            "tenure_months": rng.poisson(24 + 8 * shift, ROWS),
            "plan": rng.choice(["basic", "pro", "enterprise"], ROWS, p=plan_mix),
            "region": rng.choice(["eu", "us", "apac"], ROWS, p=[0.5, 0.35, 0.15]),
            "has_card": rng.random(ROWS) < 0.7,
        }
    )


def main() -> None:
    rng = np.random.default_rng(2026)
    make(rng, shifted=False).to_csv(HERE / "reference.csv", index=False)
    make(rng, shifted=True).to_csv(HERE / "current.csv", index=False)
    print(f"wrote {HERE / 'reference.csv'} and {HERE / 'current.csv'} ({ROWS} rows each)")


if __name__ == "__main__":
    main()
