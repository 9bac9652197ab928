"""The one redaction of error text: wherever an error is recorded (a stored scan, a log line,
the CLI's ``error:`` line, a notification), its text goes through :func:`redact` first.

Secrets are the configured tokens and, for every source and state DB URL, the URL itself and
its password: as SQLAlchemy parses it, as written, and everything between the user name and
the last ``@`` (so a password with an unencoded ``@`` is hidden whole, not only its head).
Beyond the known secrets, any ``scheme://user:password@`` in the text is masked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

if TYPE_CHECKING:
    from monitor.config.schema import Config

MASK = "***"
# Shorter values would mask ordinary words; a password this short is no protection anyway.
MIN_SECRET = 4
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key", re.IGNORECASE)
_CREDENTIALS = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*):[^\s'\"]*@")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret and every URL password replaced by ``***``."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _CREDENTIALS.sub(rf"\1:{MASK}@", text)


def url_secrets(url: str) -> list[str]:
    """What of a database URL must never be shown (empty for a URL without a password)."""
    rest, _, query = url.partition("://")[2].partition("?")
    found = [value for key, value in parse_qsl(query) if _SECRET_PARAM.search(key)]
    userinfo, at, host = rest.rpartition("@")
    password = userinfo.partition(":")[2] if at else ""
    if password:
        found += [password, unquote(password)]
        # Everything after the first '@' of the password: with an unencoded '@' that tail is
        # what SQLAlchemy takes for the host and what a failed connection reports.
        head, at, tail = password.partition("@")
        if at:
            found += [head, tail, f"{tail}@{host}".split("/")[0]]
    return [url, *found] if found else []


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
    return found
