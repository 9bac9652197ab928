"""`monitor drift` end to end, with Evidently's DataDriftPreset as the oracle for verdicts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from monitor.cli import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


def evidently_verdicts(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    *,
    numerical: list[str] | None = None,
    categorical: list[str] | None = None,
    method: str | None = None,
    threshold: float | None = None,
    share: float = 0.5,
) -> dict[str, Any]:
    """Per-column drift flags and scores, and the dataset verdict, from DataDriftPreset."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    report = Report(
        [DataDriftPreset(method=method, threshold=threshold, drift_share=share)],
        include_tests=True,
    )
    snapshot = report.run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    ).dict()
    prefix = "Value Drift for column "
    flags = {
        t["name"][len(prefix) :]: t["status"] == "FAIL"
        for t in snapshot["tests"]
        if t["name"].startswith(prefix)
    }
    scores = {
        m["config"]["column"]: m["value"]
        for m in snapshot["metrics"]
        if m["config"]["type"].endswith("ValueDrift")
    }
    # DriftedColumnsCount's test fails when the share of drifted columns reaches drift_share
    dataset = [t for t in snapshot["tests"] if t["name"].startswith("Share of Drifted Columns")]
    assert len(dataset) == 1
    drift = dataset[0]["status"] == "FAIL"
    return {"drifted": flags, "scores": scores, "dataset_drift": drift}


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["drift", *args])
    out = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out.out, out.err


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "drift", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def assert_same_verdicts(ours: dict[str, Any], oracle: dict[str, Any]) -> None:
    by_column = {c["column"]: c for c in ours["columns"]}
    assert {name: c["drifted"] for name, c in by_column.items()} == oracle["drifted"]
    for name, score in oracle["scores"].items():
        assert by_column[name]["score"] == pytest.approx(score, rel=1e-6, abs=1e-12)
    assert ours["dataset_drift"] is oracle["dataset_drift"]


@pytest.fixture(scope="module")
def large_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """3000 seeded rows in Parquet: above Evidently's 1000-row switch (Wasserstein / JS)."""
    rng = np.random.default_rng(17)
    folder = tmp_path_factory.mktemp("drift")

    def frame(shift: float) -> pd.DataFrame:
        y = rng.exponential(1 + shift, 3000)
        y[::40] = np.nan  # nulls travel through the Parquet reader as NaN
        n, d = 3000, shift / 4
        return pd.DataFrame(
            {
                "x": rng.normal(shift, 1, n),
                "y": y,
                "z": rng.uniform(0, 1, n),
                "k": rng.integers(0, 4 + int(shift * 5), n),
                "color": rng.choice(["red", "green", "blue"], n, p=[0.4 + d, 0.4, 0.2 - d]),
                "flag": rng.choice(["a", "b"], n),
            }
        )

    ref_path, cur_path = folder / "ref.parquet", folder / "cur.parquet"
    frame(0.0).to_parquet(ref_path)
    frame(0.6).to_parquet(cur_path)
    return ref_path, cur_path


# --- verdicts against Evidently -------------------------------------------------------------


def test_example_files_give_evidentlys_verdicts_and_exit_code() -> None:
    proc = run_cli("examples/reference.csv", "examples/current.csv", "--json")
    ours = json.loads(proc.stdout)
    oracle = evidently_verdicts(
        pd.read_csv(EXAMPLES / "reference.csv"), pd.read_csv(EXAMPLES / "current.csv")
    )
    assert_same_verdicts(ours, oracle)
    assert proc.returncode == (1 if oracle["dataset_drift"] else 0), proc.stderr
    assert oracle["dataset_drift"], "the examples are meant to show dataset drift"


def test_parquet_above_1000_rows_matches_evidently(large_files: tuple[Path, Path]) -> None:
    ref, cur = large_files
    proc = run_cli(
        str(ref), str(cur), "--numerical", "x,y,z,k", "--categorical", "color,flag", "--json"
    )
    oracle = evidently_verdicts(
        pd.read_parquet(ref),
        pd.read_parquet(cur),
        numerical=["x", "y", "z", "k"],
        categorical=["color", "flag"],
    )
    assert_same_verdicts(json.loads(proc.stdout), oracle)
    assert proc.returncode == (1 if oracle["dataset_drift"] else 0), proc.stderr


def test_parquet_column_types_are_inferred_like_evidently(
    large_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ref, cur = large_files
    code, out, _ = run_main([str(ref), str(cur), "--json"], capsys)
    ours = json.loads(out)
    oracle = evidently_verdicts(pd.read_parquet(ref), pd.read_parquet(cur))
    assert_same_verdicts(ours, oracle)
    types = {c["column"]: c["type"] for c in ours["columns"]}
    assert types == {
        "x": "numerical",
        "y": "numerical",
        "z": "numerical",
        "k": "categorical",  # an integer column with <= 10 values, as Evidently types it
        "color": "categorical",
        "flag": "categorical",
    }
    assert code == (1 if oracle["dataset_drift"] else 0)


def test_method_and_threshold_apply_to_every_column(
    large_files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ref, cur = large_files
    args = ["--numerical", "x,y,z", "--categorical", "color", "--method", "psi"]
    code, out, _ = run_main([str(ref), str(cur), *args, "--threshold", "0.05", "--json"], capsys)
    ours = json.loads(out)
    oracle = evidently_verdicts(
        pd.read_parquet(ref),
        pd.read_parquet(cur),
        numerical=["x", "y", "z"],
        categorical=["color"],
        method="psi",
        threshold=0.05,
    )
    assert_same_verdicts(ours, oracle)
    assert {c["method"] for c in ours["columns"]} == {"psi"}
    assert {c["threshold"] for c in ours["columns"]} == {0.05}
    assert code == (1 if oracle["dataset_drift"] else 0)


def test_share_decides_dataset_drift_like_evidently(capsys: pytest.CaptureFixture[str]) -> None:
    ref, cur = EXAMPLES / "reference.csv", EXAMPLES / "current.csv"
    code, out, _ = run_main([str(ref), str(cur), "--share", "0.9", "--json"], capsys)
    oracle = evidently_verdicts(pd.read_csv(ref), pd.read_csv(cur), share=0.9)
    assert_same_verdicts(json.loads(out), oracle)
    assert (code, oracle["dataset_drift"]) == (0, False)


def test_types_not_given_are_inferred_from_the_other_columns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref, cur = EXAMPLES / "reference.csv", EXAMPLES / "current.csv"
    _, out, _ = run_main([str(ref), str(cur), "--numerical", "age", "--json"], capsys)
    ours = json.loads(out)
    oracle = evidently_verdicts(pd.read_csv(ref), pd.read_csv(cur), numerical=["age"])
    assert_same_verdicts(ours, oracle)
    types = {c["column"]: c["type"] for c in ours["columns"]}
    assert types["age"] == "numerical"
    assert types["plan"] == "categorical"


def test_a_csv_and_a_parquet_file_can_be_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cur_frame = pd.read_csv(EXAMPLES / "current.csv")
    cur_frame.to_parquet(tmp_path / "current.parquet")
    ref = EXAMPLES / "reference.csv"
    _, out, _ = run_main([str(ref), str(tmp_path / "current.parquet"), "--json"], capsys)
    assert_same_verdicts(json.loads(out), evidently_verdicts(pd.read_csv(ref), cur_frame))


def test_json_has_exactly_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    ref, cur = EXAMPLES / "reference.csv", EXAMPLES / "current.csv"
    _, out, _ = run_main([str(ref), str(cur), "--json"], capsys)
    result = json.loads(out)
    assert set(result) == {"columns", "share_drifted", "dataset_drift"}
    keys = {
        "column",
        "type",
        "method",
        "kind",
        "score",
        "threshold",
        "drifted",
        "reason",
        "missing_share",
    }
    for column in result["columns"]:
        assert set(column) == keys
        assert column["kind"] in {"p_value", "distance"}
        assert set(column["missing_share"]) == {"reference", "current"}
    income = next(c for c in result["columns"] if c["column"] == "income")
    expected = pd.read_csv(cur)["income"].isna().mean()
    assert income["missing_share"]["current"] == pytest.approx(expected)


def test_human_output_is_a_table_with_every_column_and_the_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref, cur = EXAMPLES / "reference.csv", EXAMPLES / "current.csv"
    code, out, _ = run_main([str(ref), str(cur)], capsys)
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["column", "type", "method"]
    for name in pd.read_csv(ref, nrows=0).columns:
        assert any(line.startswith(name + " ") for line in lines), name
    assert lines[-1].startswith("DATASET DRIFT" if code == 1 else "no dataset drift")


# --- errors: one line on stderr, exit 2 -------------------------------------------------------


def _write_bad_files(folder: Path) -> dict[str, Path]:
    garbage = folder / "garbage.parquet"
    garbage.write_bytes(b"not a parquet file at all")
    text = folder / "data.txt"
    text.write_text("a,b\n1,2\n")
    other = folder / "other.csv"
    pd.DataFrame({"q": [1, 2, 3]}).to_csv(other, index=False)
    return {"garbage": garbage, "text": text, "other": other}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "reference file 'nope.csv' does not exist"),
        ("garbage", "cannot read current file"),
        ("text", "unsupported extension"),
        ("unknown_column", "column 'salary' not in reference file"),
        ("column_missing_in_current", "column 'plan' not in current file"),
        ("unknown_method", "unknown"),
        ("threshold_word", "--threshold: 'high' is not a number"),
        ("threshold_negative", "--threshold: must be above 0"),
        ("p_value_threshold_above_1", "'ks' scores a p-value, so the threshold must be at most 1"),
        ("share_out_of_range", "--share: must be in (0, 1]"),
        ("both_types", "column 'age' is both --numerical and --categorical"),
        ("no_shared_columns", "share no column"),
    ],
)
def test_errors_print_one_line_and_exit_2(
    case: str,
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = _write_bad_files(tmp_path)
    ref, cur = str(EXAMPLES / "reference.csv"), str(EXAMPLES / "current.csv")
    monkeypatch.chdir(tmp_path)
    args = {
        "missing": ["nope.csv", cur],
        "garbage": [ref, str(bad["garbage"])],
        "text": [ref, str(bad["text"])],
        "unknown_column": [ref, cur, "--numerical", "age,salary"],
        "column_missing_in_current": [ref, str(bad["other"]), "--categorical", "plan"],
        "unknown_method": [ref, cur, "--method", "kstest"],
        "threshold_word": [ref, cur, "--threshold", "high"],
        "threshold_negative": [ref, cur, "--threshold", "-0.1"],
        "p_value_threshold_above_1": [ref, cur, "--method", "ks", "--threshold", "5"],
        "share_out_of_range": [ref, cur, "--share", "1.5"],
        "both_types": [ref, cur, "--numerical", "age", "--categorical", "age,plan"],
        "no_shared_columns": [ref, str(bad["other"])],
    }[case]
    code, out, err = run_main(args, capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert expected in err


def test_unknown_method_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    ref, cur = str(EXAMPLES / "reference.csv"), str(EXAMPLES / "current.csv")
    _, _, err = run_main([ref, cur, "--method", "kstest"], capsys)
    for known in ("ks", "wasserstein", "jensenshannon", "psi", "chisquare"):
        assert known in err


def test_error_in_a_real_process_has_no_traceback() -> None:
    proc = run_cli("examples/reference.csv", "examples/current.csv", "--categorical", "salary")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: column 'salary' not in reference file")
    assert "Traceback" not in proc.stderr


def test_mode_calibrated_learns_thresholds_and_leads_with_the_effect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(11)
    ref, same, shifted = tmp_path / "ref.csv", tmp_path / "same.csv", tmp_path / "shifted.csv"
    pd.DataFrame({"x": rng.normal(0, 1, 5000), "c": rng.choice(list("abc"), 5000)}).to_csv(
        ref, index=False
    )
    pd.DataFrame({"x": rng.normal(0, 1, 500), "c": rng.choice(list("abc"), 500)}).to_csv(
        same, index=False
    )
    pd.DataFrame({"x": rng.normal(0.5, 1, 500), "c": rng.choice(list("abc"), 500)}).to_csv(
        shifted, index=False
    )
    code, out, _ = run_main([str(ref), str(same), "--mode", "calibrated", "--json"], capsys)
    result = json.loads(out)
    assert code == 0 and not any(c["drifted"] for c in result["columns"])
    assert result["columns"][0]["how"].startswith("ad > ")
    code, out, _ = run_main([str(ref), str(shifted), "--mode", "calibrated"], capsys)
    assert re.search(r"x: mean \+0\.[456]\d sd \(ad > ", out) and "DRIFT" in out
    # Evidently mode stays the default
    code, out, _ = run_main([str(ref), str(shifted), "--json"], capsys)
    assert "how" not in json.loads(out)["columns"][0]
