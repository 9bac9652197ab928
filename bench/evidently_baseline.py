"""The baseline: Evidently's DataDriftPreset on two Parquet files, as a user would write it.

    python bench/evidently_baseline.py REF.parquet CUR.parquet --numerical a,b --categorical c

Prints JSON: per-column drift flag and score, and the dataset verdict. Run as its own process
by bench/drift_vs_evidently.py, so its wall time and peak memory include imports and reads.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("reference")
    parser.add_argument("current")
    parser.add_argument("--numerical", required=True)
    parser.add_argument("--categorical", required=True)
    args = parser.parse_args()

    import pandas as pd

    reference, current = pd.read_parquet(args.reference), pd.read_parquet(args.current)
    result = drift_preset(
        reference, current, args.numerical.split(","), args.categorical.split(",")
    )
    print(json.dumps(result))


def drift_preset(
    reference_frame: Any, current_frame: Any, numerical: list[str], categorical: list[str]
) -> dict[str, Any]:
    """Evidently's DataDriftPreset on two frames: per-column flags and scores, dataset verdict."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    reference = Dataset.from_pandas(reference_frame, data_definition=definition)
    current = Dataset.from_pandas(current_frame, data_definition=definition)
    snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference).dict()

    prefix = "Value Drift for column "
    drifted = {
        t["name"][len(prefix) :]: t["status"] == "FAIL"
        for t in snapshot["tests"]
        if t["name"].startswith(prefix)
    }
    scores = {
        m["config"]["column"]: m["value"]
        for m in snapshot["metrics"]
        if m["config"]["type"].endswith("ValueDrift")
    }
    share = sum(drifted.values()) / len(drifted)
    return {"drifted": drifted, "scores": scores, "dataset_drift": share >= 0.5}


if __name__ == "__main__":
    main()
