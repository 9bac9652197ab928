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
from urllib.parse import parse_qsl, unquote

MASK = "***"
# Shorter values would mask ordinary words; a password this short is no protection anyway.
MIN_SECRET = 4
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key", re.IGNORECASE)
_CREDENTIALS = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*):[^\s'\"]*@")


# The secrets of every config this process loaded: the CLI's `error:` line is redacted with them.
_REMEMBERED: list[str] = []


def remember(secrets: Iterable[str]) -> None:
    _REMEMBERED.extend(secrets)


def remembered() -> list[str]:
    """The secrets of every config loaded by this process so far."""
    return list(_REMEMBERED)


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
