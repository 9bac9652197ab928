"""Read, substitute and validate the configuration file; errors are one readable line each."""

from __future__ import annotations

import hashlib
import json
import os
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, Tag

from monitor.config.envsubst import substitute
from monitor.config.notify import NotifyEntry
from monitor.config.schema import Config, ModelConfig
from monitor.config.yamlsafe import load_yaml
from monitor.errors import ConfigError, did_you_mean
from monitor.redact import remember, url_secrets

DEFAULT_FILE = "monitor.yaml"
ENV_VAR = "MONITOR_CONFIG"


def config_path(explicit: str | Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """``-c`` wins, then ``$MONITOR_CONFIG``, then ``./monitor.yaml``."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    return Path(DEFAULT_FILE)


def open_config(path: str | Path | None) -> Config:
    """The config at ``path`` (see :func:`config_path`); its secrets are remembered so an
    error line printed later by this process is redacted with them."""
    config = load_config(config_path(path))
    remember(config_secrets(config))
    return config


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """The validated config in ``path``; any problem raises ``ConfigError`` naming file and key."""
    path = Path(path)
    raw = _read_yaml(path)
    tree = substitute(raw, os.environ if env is None else env, file=str(path))
    return parse_config(tree, file=str(path), base_dir=path.resolve().parent)


def parse_config(tree: Any, *, file: str, base_dir: Path | None = None) -> Config:
    from pydantic import ValidationError

    if not isinstance(tree, dict):
        raise ConfigError(f"{file}: expected a mapping at the top level")
    try:
        config = Config.model_validate(tree, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, tree, file)) from None
    problems = config.reference_problems()
    if problems:
        raise ConfigError("\n".join(f"{file}: {where}: {what}" for where, what in problems))
    return config


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        message = "config file not found (run `monitor init` to write one)"
        raise ConfigError(f"{path}: {message}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return load_yaml(text, file=str(path))


def _describe(exc: Any, tree: Mapping[str, Any], file: str) -> str:
    """One line per error: file, key path (models named, not numbered) and what was expected.

    The offending input is never printed: it may be a secret.
    """
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        where = _key_path(error["loc"], tree)
        message = _MESSAGES.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message += _did_you_mean(error["loc"])
        lines.append(f"{file}: {where or '(top level)'}: {message}")
    return "\n".join(dict.fromkeys(lines))


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


def _key_path(loc: Sequence[Any], tree: Any) -> str:
    parts: list[str] = []
    node = tree
    previous = None
    for item in loc:
        if _is_union_tag(item, previous):
            # A reference's tag is also its only key (``previous.previous``): drop it once.
            previous = item if previous == "reference" else previous
            continue
        previous = item
        if isinstance(item, int):
            label = item
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    label = node["name"]
            parts.append(f"[{label}]")
            continue
        parts.append(f".{item}" if parts else str(item))
        node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def _did_you_mean(loc: Sequence[Any]) -> str:
    """``, did you mean 'window'?`` for a misspelt key: the closest allowed key where it is."""
    allowed = {name for cls in _models_at(loc[:-1]) for name in cls.model_fields}
    return did_you_mean(str(loc[-1]), allowed)


def _models_at(loc: Sequence[Any]) -> list[type[BaseModel]]:
    """The config models that a pydantic error location can point into, from ``Config``."""
    candidates: list[tuple[Any, str | None]] = [(Config, None)]
    for item in loc:
        tagged = [(t, tag) for t, tag in candidates if item in (tag, getattr(t, "__name__", 0))]
        candidates = tagged or [m for t, _ in candidates for m in _members(_inside(t, item))]
    return [t for t, _ in candidates if isinstance(t, type) and issubclass(t, BaseModel)]


def _inside(annotation: Any, item: Any) -> Any:
    """The type of ``annotation``'s field, list item or mapping value ``item``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(item) if isinstance(item, str) else None
        return None if field is None else field.annotation
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, Sequence) and isinstance(item, int) and args:
        return args[0]
    if origin in (dict, Mapping) and len(args) == 2:
        return args[1]
    return None


def _members(annotation: Any, tag: str | None = None) -> list[tuple[Any, str | None]]:
    """A union's members, ``Annotated`` unwrapped, each with its discriminator ``Tag``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extras = typing.get_args(annotation)
        tags = [x.tag for x in extras if isinstance(x, Tag)]
        return _members(inner, tags[0] if tags else tag)
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [(annotation, tag)]


_SCALAR_TAGS = {"str", "int", "float", "bool", "none"}
_REFERENCE_TAGS = {"table", "between", "previous", "file"}


def _is_union_tag(item: Any, previous: Any) -> bool:
    """pydantic puts union member names (``str``, ``EverySchedule``) into the location."""
    if not isinstance(item, str):
        return False
    if previous == "reference" and item in _REFERENCE_TAGS:
        return True
    return item[:1].isupper() or item in _SCALAR_TAGS or item.startswith(("function-", "constr"))


def model_config_hash(model: ModelConfig) -> str:
    """A short stable hash of one model's settings, stored with each scan as evidence."""
    payload = model.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def config_secrets(config: Config) -> list[str]:
    """Every secret of ``config``: tokens, and the URLs of databases and their passwords."""
    found: list[str] = []
    for url in [source.url.get_secret_value() for source in config.sources.values()]:
        found += url_secrets(url)
    found += url_secrets(config.state_db)
    for value in (config.api.token, config.api.read_token):
        if value is not None:
            found.append(value.get_secret_value())
    if config.slack is not None:
        for secret in (config.slack.token, config.slack.signing_secret, config.slack.app_token):
            if secret is not None:
                found.append(secret.get_secret_value())
    if config.smtp is not None and config.smtp.password is not None:
        found.append(config.smtp.password.get_secret_value())
    for entries in config.notify_lists().values():
        found += [s.get_secret_value() for e in entries for s in _entry_secrets(e)]
    return found


def _entry_secrets(entry: NotifyEntry) -> list[SecretStr]:
    pd = entry.pagerduty
    candidates = [entry.secret] + ([pd.routing_key, pd.webhook_secret] if pd else [])
    return [secret for secret in candidates if secret is not None]
