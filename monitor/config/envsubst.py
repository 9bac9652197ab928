"""``${VAR}`` and ``${VAR:-default}`` in the string values of a parsed YAML tree.

Substitution runs on values after YAML parsing, so a variable's content can never change the
structure of the file, and the error names the key that referenced an unset variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from monitor.errors import ConfigError

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def substitute(tree: Any, env: Mapping[str, str], *, file: str, path: str = "") -> Any:
    """A copy of ``tree`` with every ``${VAR}`` replaced; an unset one raises ``ConfigError``."""
    if isinstance(tree, dict):
        return {
            key: substitute(value, env, file=file, path=_join(path, str(key)))
            for key, value in tree.items()
        }
    if isinstance(tree, list):
        return [
            substitute(item, env, file=file, path=f"{path}[{index}]")
            for index, item in enumerate(tree)
        ]
    if isinstance(tree, str):
        return _substitute_string(tree, env, file=file, path=path)
    return tree


def _substitute_string(text: str, env: Mapping[str, str], *, file: str, path: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value is not None and value != "":
            return value
        if default is not None:
            return default
        if value is None:
            raise ConfigError(f"{file}: {path}: environment variable {name} is not set")
        return value

    return _VAR.sub(replace, text)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
