from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from checks.registry import metric_names
from monitor.config import load_config, parse_config
from monitor.config.schema import KNOWN_METRICS, FileReference
from monitor.errors import ConfigError
from tests.monitor.scancore.conftest import model_dict


def _write(tmp_path: Path, tree: dict[str, Any]) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(tree))
    return path


def _tree(**model: Any) -> dict[str, Any]:
    return {"sources": {"logs": {"url": "sqlite:///x.db"}}, "models": [model_dict(**model)]}


def _error(tree: dict[str, Any], tmp_path: Path, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, tree), env=env or {})
    return str(caught.value)


def test_unset_variable_is_an_error_naming_the_variable_and_key(tmp_path: Path) -> None:
    tree = _tree()
    tree["sources"]["logs"]["url"] = "${PREDICTIONS_DB_URL}"
    message = _error(tree, tmp_path)
    assert (
        "monitor.yaml: sources.logs.url: environment variable PREDICTIONS_DB_URL is not set"
        in message
    )


def test_variable_default_is_used_when_unset_and_value_when_set(tmp_path: Path) -> None:
    tree = _tree()
    tree["state_db"] = "${STATE:-sqlite:///fallback.db}"
    path = _write(tmp_path, tree)
    assert load_config(path, env={}).state_db == "sqlite:///fallback.db"
    assert load_config(path, env={"STATE": "sqlite:///set.db"}).state_db == "sqlite:///set.db"


def test_slack_section_with_unset_token_variable_is_an_error(tmp_path: Path) -> None:
    tree = _tree()
    tree["slack"] = {"token": "${SLACK_BOT_TOKEN}", "channel": "#ml"}
    assert "SLACK_BOT_TOKEN is not set" in _error(tree, tmp_path)


def test_unknown_key_is_reported_with_the_model_name_in_its_path(tmp_path: Path) -> None:
    tree = _tree(checks={"thresholds": [{"metric": "accuracy", "mn": 0.8}]})
    message = _error(tree, tmp_path)
    assert "models[churn].checks.thresholds[0].mn: unknown key" in message


def test_misspelt_key_suggests_the_allowed_key_where_it_was_written(tmp_path: Path) -> None:
    tree = _tree(
        windw="1d",
        checks={"thresholds": [{"metric": "accuracy", "min": 0.8, "segmnts": False}]},
        alerts={"flap_treshold": 3},
    )
    tree["sources"]["logs"]["urll"] = "sqlite:///y.db"
    message = _error(tree, tmp_path)
    assert "models[churn].windw: unknown key, did you mean 'window'?" in message
    assert (
        "models[churn].checks.thresholds[0].segmnts: unknown key, did you mean 'segments'?"
        in message
    )
    assert "models[churn].alerts.flap_treshold: unknown key, did you mean 'flap_threshold'?" in (
        message
    )
    assert "sources.logs.urll: unknown key, did you mean 'url'?" in message


def test_unknown_key_with_no_close_allowed_key_suggests_nothing(tmp_path: Path) -> None:
    tree = _tree()
    tree["models"][0]["reference"]["colour"] = "blue"
    tree["zzzz"] = 1
    message = _error(tree, tmp_path)
    assert "models[churn].reference.colour: unknown key" in message
    assert "zzzz: unknown key" in message and "did you mean" not in message


def test_wrong_type_names_the_key_and_what_was_expected(tmp_path: Path) -> None:
    message = _error(_tree(window="soon"), tmp_path)
    assert message.startswith(
        f"{tmp_path / 'monitor.yaml'}: models[churn].window: expected a duration"
    )


def test_a_secret_in_a_bad_value_is_never_echoed(tmp_path: Path) -> None:
    tree = _tree()
    tree["slack"] = {"token": {"nested": "xoxb-very-secret"}, "channel": "#ml"}
    tree["api"] = {"token": "${API_TOKEN}", "unexpected": 1}
    message = _error(tree, tmp_path, env={"API_TOKEN": "api-very-secret"})
    assert "slack.token" in message and "api.unexpected: unknown key" in message
    assert "very-secret" not in message


def test_secrets_are_hidden_in_the_parsed_config(tmp_path: Path) -> None:
    tree = _tree()
    tree["slack"] = {"token": "${TOKEN}", "channel": "#ml"}
    config = load_config(_write(tmp_path, tree), env={"TOKEN": "xoxb-very-secret"})
    assert config.slack is not None
    assert "very-secret" not in repr(config)
    assert config.slack.token.get_secret_value() == "xoxb-very-secret"


def test_unknown_metric_lists_the_registered_ones(tmp_path: Path) -> None:
    message = _error(_tree(checks={"thresholds": [{"metric": "acuracy", "min": 0.8}]}), tmp_path)
    assert "unknown metric 'acuracy'" in message and "accuracy" in message


def test_unknown_drift_method_lists_the_known_ones(tmp_path: Path) -> None:
    message = _error(_tree(checks={"drift": {"method": "kss"}}), tmp_path)
    assert "models[churn].checks.drift.method" in message and "wasserstein" in message


def test_config_metric_families_cover_exactly_the_registry() -> None:
    assert sorted(KNOWN_METRICS) == metric_names()


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            {"target": None, "checks": {"thresholds": [{"metric": "accuracy", "min": 0.8}]}},
            "needs target",
        ),
        (
            {"latency": None, "checks": {"thresholds": [{"metric": "latency_p99", "max": 9}]}},
            "needs latency",
        ),
        ({"checks": {"thresholds": [{"metric": "missing_share", "max": 0.1}]}}, "needs a column"),
        ({"checks": {"thresholds": [{"metric": "log_loss", "max_drop": 0.1}]}}, "lower is better"),
        ({"checks": {"thresholds": [{"metric": "accuracy"}]}}, "needs at least one of"),
        (
            {"checks": {"drift": {"per_column": {"nope": {"severity": "critical"}}}}},
            "'nope' is not a feature",
        ),
        ({"query": "SELECT 1"}, "exactly one of table or query"),
        ({"prediction": None, "score": None}, "prediction, score or both"),
        ({"schedule": "61 * * * *"}, "invalid cron expression"),
        ({"reference": {"between": ["2026-03-02", "2026-03-01"]}}, "must be before"),
        ({"reference": {"tabel": "x"}}, "exactly one of table, between, previous or file"),
        ({"reference": {"file": "train.json"}}, ".parquet or .csv"),
        ({"source": "warehouse"}, "unknown source 'warehouse'; known: logs"),
    ],
)
def test_inconsistent_model_settings_are_rejected(model: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match="models") as caught:
        parse_config(_tree(**model), file="m.yaml")
    assert expected in str(caught.value)


def test_duplicate_model_names_are_rejected() -> None:
    tree = _tree()
    tree["models"].append(model_dict())
    with pytest.raises(ConfigError, match="duplicate model names: churn"):
        parse_config(tree, file="m.yaml")


def test_reference_file_is_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, _tree(reference={"file": "train.parquet"})), env={})
    ref = config.models[0].reference
    assert isinstance(ref, FileReference)
    assert ref.file == tmp_path.resolve() / "train.parquet"


def test_threshold_entries_of_one_metric_form_a_ladder_with_one_check_id() -> None:
    ladder = [
        {"metric": "accuracy", "min": 0.85},
        {"metric": "accuracy", "min": 0.8, "severity": "critical"},
    ]
    config = parse_config(_tree(checks={"thresholds": ladder}), file="m.yaml")
    assert {t.check_id for t in config.models[0].checks.thresholds} == {"accuracy"}


def test_example_config_from_init_is_valid(tmp_path: Path) -> None:
    target = tmp_path / "monitor.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "init", str(target)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    config = load_config(target, env={})
    assert [m.name for m in config.models] == ["churn"]
    again = subprocess.run(
        [sys.executable, "-m", "monitor", "init", str(target)], capture_output=True, text=True
    )
    assert again.returncode == 2 and "exists" in again.stderr


def test_bad_config_on_the_command_line_is_one_line_and_exit_two(tmp_path: Path) -> None:
    path = _write(tmp_path, _tree(window="soon"))
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "config", "check", "-c", str(path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    expected = "expected a duration such as 15m, 2h, 1d or 7d, got 'soon'"
    assert proc.stderr.strip().splitlines() == [f"error: {path}: models[churn].window: {expected}"]


def test_missing_config_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found .*monitor init"):
        load_config(tmp_path / "absent.yaml")


def test_a_malformed_source_url_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    tree = _tree()
    tree["sources"]["logs"]["url"] = "${URL}"
    message = _error(tree, tmp_path, env={"URL": "postgres ql://admin:hunter2@db"})
    assert "sources.logs.url: not a valid SQLAlchemy URL" in message
    assert "hunter2" not in message


def test_an_unknown_time_zone_is_rejected() -> None:
    tree = _tree(timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match=r"models\[churn\].timezone: unknown time zone"):
        parse_config(tree, file="m.yaml")


def test_per_column_settings_inherit_what_they_leave_out() -> None:
    drift = {
        "method": "psi",
        "threshold": 0.2,
        "per_column": {
            "age": {"severity": "critical"},
            "income": {"threshold": 0.3},
            "plan": {"method": "jensenshannon"},
        },
    }
    checks = parse_config(_tree(checks={"drift": drift}), file="m.yaml").models[0].checks.drift
    assert checks.column_test("age") == ("psi", 0.2)
    assert checks.column_test("income") == ("psi", 0.3)
    assert checks.column_test("plan") == ("jensenshannon", None)
    assert checks.column_test("region") == ("psi", 0.2)


def test_parallel_reads_defaults_to_two_and_is_bounded(tmp_path: Path) -> None:
    assert parse_config(_tree(), file="m.yaml").sources["logs"].parallel_reads == 2
    tree = _tree()
    tree["sources"]["logs"]["parallel_reads"] = 0
    message = _error(tree, tmp_path)
    assert "sources.logs.parallel_reads" in message and "greater than or equal to 1" in message


@pytest.mark.parametrize(
    ("drift", "key", "says"),
    [
        ({"mode": "nannyml"}, "checks.drift.mode", "'calibrated' or 'evidently'"),
        ({"false_alarm_rate": 0}, "checks.drift.false_alarm_rate", "greater than 0"),
        ({"false_alarm_rate": 0.5}, "checks.drift.false_alarm_rate", "less than 0.5"),
        ({"min_rows": 0}, "checks.drift.min_rows", "greater than or equal to 1"),
    ],
)
def test_bad_drift_mode_settings_name_the_model_and_key(
    tmp_path: Path, drift: dict[str, Any], key: str, says: str
) -> None:
    message = _error(_tree(checks={"drift": drift}), tmp_path)
    assert f"models[churn].{key}" in message and says in message


def test_drift_mode_defaults_to_calibrated_at_one_percent() -> None:
    from monitor.config.checks import DriftChecks

    cfg = DriftChecks()
    assert (cfg.mode, cfg.false_alarm_rate, cfg.min_rows) == ("calibrated", 0.01, 100)
