"""Hostile or careless config files: each gives one clear ConfigError naming the file and key.

Alias bombs and deep nesting fail fast, duplicate keys are refused, and values that would
crash or silently disable the service later (``every: 0s``, ``min: .nan``) are refused at load.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config import load_config
from monitor.errors import ConfigError
from tests.monitor.scancore.conftest import model_dict

GOOD = 'sources: {logs: {url: "sqlite:///x.db"}}\n'


def _load(tmp_path: Path, text: str) -> str:
    path = tmp_path / "monitor.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert message.startswith(str(path)), message
    return message


def _tree_text(**model: Any) -> str:
    tree = {"sources": {"logs": {"url": "sqlite:///x.db"}}, "models": [model_dict(**model)]}
    return yaml.safe_dump(tree)


def _laughs(levels: int, fan_out: int = 9) -> str:
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * fan_out)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return GOOD + "\n".join(lines) + "\n"


def test_billion_laughs_fails_fast_with_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(_laughs(9))
    # A generous bound: the old loader expanded 9**9 strings and ran for minutes.
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "config", "check", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: line "), proc.stderr
    assert "aliases expand" in lines[0]


def test_a_smaller_alias_bomb_is_refused_too(tmp_path: Path) -> None:
    # 9**7 = 4.8 million strings: the old loader accepted it after seconds of work.
    message = _load(tmp_path, _laughs(7))
    assert "a7" in message and "aliases expand" in message


def test_anchors_and_merge_keys_of_a_normal_config_still_work(tmp_path: Path) -> None:
    text = GOOD + "models:\n  - &base\n"
    text += "".join(f"    {key}: {json.dumps(value)}\n" for key, value in model_dict().items())
    text += "  - {<<: *base, name: churn2, window: 2d}\n"
    path = tmp_path / "monitor.yaml"
    path.write_text(text)
    config = load_config(path, env={})
    assert [m.name for m in config.models] == ["churn", "churn2"]
    assert config.models[1].window.days == 2 and config.models[1].table == "preds"


def test_a_5000_deep_list_is_a_config_error_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("models: " + "[" * 5000 + "]" * 5000 + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "config", "check", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "RecursionError" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: line 1: models"), lines
    assert "nested deeper than" in lines[0]


def test_a_duplicate_top_level_key_names_the_key_and_both_lines(tmp_path: Path) -> None:
    message = _load(tmp_path, "models: []\nsources: {}\nmodels: []\n")
    assert message.endswith("line 3: models: duplicate key (first at line 1)"), message


def test_a_duplicate_key_in_any_mapping_names_its_path(tmp_path: Path) -> None:
    text = "sources:\n  logs:\n    url: sqlite:///a.db\n    url: sqlite:///b.db\nmodels: []\n"
    message = _load(tmp_path, text)
    assert "line 4: sources.logs.url: duplicate key (first at line 3)" in message
    listed = GOOD + "models:\n  - name: a\n    window: 1d\n    window: 2d\n"
    assert "line 5: models[0].window: duplicate key (first at line 4)" in _load(tmp_path, listed)


@pytest.mark.parametrize(
    ("model", "where"),
    [
        ({"schedule": {"every": "0s"}}, "models[churn].schedule.every"),
        ({"schedule": {"every": -60}}, "models[churn].schedule.every"),
        ({"window": 0}, "models[churn].window"),
        ({"reference": {"previous": "0s"}}, "models[churn].reference.previous"),
        ({"label_delay": -3600}, "models[churn].label_delay"),
        ({"alerts": {"remind_every": "0s"}}, "models[churn].alerts.remind_every.critical"),
    ],
)
def test_zero_or_negative_model_durations_are_config_errors(
    tmp_path: Path, model: dict[str, Any], where: str
) -> None:
    message = _load(tmp_path, _tree_text(**model))
    assert f": {where}: " in message, message
    assert "must be" in message


@pytest.mark.parametrize(
    ("section", "where"),
    [
        ({"run": {"tick_every": "0s"}}, "run.tick_every"),
        ({"run": {"lease": "0s"}}, "run.lease"),
        ({"run": {"shutdown_timeout": -1}}, "run.shutdown_timeout"),
        ({"retention": {"scans": "0s"}}, "retention.scans"),
        ({"retention": {"notifications": -5}}, "retention.notifications"),
    ],
)
def test_zero_or_negative_service_durations_are_config_errors(
    tmp_path: Path, section: dict[str, Any], where: str
) -> None:
    message = _load(tmp_path, GOOD + yaml.safe_dump(section))
    assert f": {where}: " in message and "must be" in message, message


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ("{metric: accuracy, min: VALUE}", "checks.thresholds[0].min"),
        ("{metric: latency_p99, max: VALUE}", "checks.thresholds[0].max"),
        ("{metric: accuracy, max_drop: VALUE}", "checks.thresholds[0].max_drop"),
    ],
)
def test_non_finite_thresholds_are_config_errors_naming_the_key(
    tmp_path: Path, value: str, entry: str, where: str
) -> None:
    text = _tree_text(checks={"thresholds": ["ENTRY"]}).replace("ENTRY", entry)
    message = _load(tmp_path, text.replace("VALUE", value).replace("'", ""))
    assert f"models[churn].{where}: " in message and "finite" in message, message


@pytest.mark.parametrize(
    ("drift", "where"),
    [
        ("{threshold: .nan}", "checks.drift.threshold"),
        ("{per_column: {income: {threshold: .inf}}}", "checks.drift.per_column.income.threshold"),
    ],
)
def test_non_finite_drift_thresholds_are_config_errors(
    tmp_path: Path, drift: str, where: str
) -> None:
    text = _tree_text(checks={"drift": "DRIFT"}).replace("DRIFT", drift).replace("'", "")
    message = _load(tmp_path, text)
    assert f"models[churn].{where}: " in message and "finite" in message, message
