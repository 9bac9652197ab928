"""Random, truncated and mutated YAML never produces a traceback: only a ConfigError line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import load_config
from monitor.errors import ConfigError

EXAMPLE = (Path(__file__).resolve().parents[2] / "monitor" / "monitor.example.yaml").read_text()
FUZZ = settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ENV = {"PREDICTIONS_DB_URL": "sqlite:///p.db"}
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["1d", "-1h", "0s", "${UNSET}", "${X:-1}", "sqlite://", "* * * *", "[", "{"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path, env=ENV)
    except ConfigError as exc:
        assert str(exc).startswith(str(path)) or "monitor.yaml" in str(exc), exc
        assert "Traceback" not in str(exc)


@FUZZ
@given(cut=st.integers(0, len(EXAMPLE)))
def test_truncated_config_gives_a_config_error_or_loads(tmp_path: Path, cut: int) -> None:
    _load(tmp_path, EXAMPLE[:cut])


@FUZZ
@given(text=st.text(max_size=300))
def test_random_text_gives_a_config_error_or_loads(tmp_path: Path, text: str) -> None:
    _load(tmp_path, text.replace("\x00", ""))


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += _paths(value, (*prefix, index))
    return found


TREE = yaml.safe_load(EXAMPLE)
PATHS = _paths(TREE)


@FUZZ
@given(path=st.sampled_from(PATHS), value=values)
def test_any_key_given_a_random_value_gives_a_config_error_or_loads(
    tmp_path: Path, path: tuple[Any, ...], value: Any
) -> None:
    tree = copy.deepcopy(TREE)
    node = tree
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    _load(tmp_path, yaml.safe_dump(tree, allow_unicode=True))


def test_a_null_or_enormous_duration_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    for value in (None, 10**30, "99999999999999d"):
        tree = copy.deepcopy(TREE)
        tree["models"][0]["window"] = value
        path = tmp_path / "monitor.yaml"
        path.write_text(yaml.safe_dump(tree))
        try:
            load_config(path, env=ENV)
        except ConfigError as exc:
            assert "models[churn].window" in str(exc) and "duration" in str(exc)
        else:
            raise AssertionError(f"window: {value!r} was accepted")
