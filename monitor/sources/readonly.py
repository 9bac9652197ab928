"""Is a configured ``query:`` exactly one read-only SELECT? A conservative lexer decides.

Literals, quoted identifiers and comments are recognised the way standard SQL reads them;
anything whose reading differs between dialects (backslash escapes, ``$$`` quoting, ``#``
comments, nested comments) is refused rather than guessed, so no text the check took for a
literal or a comment can be code to the database. What remains must hold no ``;``, start with
SELECT or WITH, and name no writing or locking keyword. Reads also run in a read-only
transaction where the dialect has one; a read-only database user is the strongest guard.

Why not a parser (sqlglot 30, tried on tests/security): it reads a query in one dialect, and
the refusals must hold for any database. Parsed as SQLite, ``SELECT E'\\'' ; DROP ...`` is one
harmless statement; as MySQL or Spark, ``SELECT $$'$$ ; DROP ...`` is; as PostgreSQL, the
MySQL ``#`` comment case is. Requiring every dialect to agree refuses those, but also queries
accepted today (``'it''s'`` fails in BigQuery, backquoted names in PostgreSQL).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from monitor.sources.errors import SourceError

_LEXEME = re.compile(
    r"(?P<string>'(?:[^']|'')*')"
    r"|(?P<ident>\"(?:[^\"]|\"\")*\"|`[^`]*`)"
    r"|(?P<line>--[^\n]*)"
    r"|(?P<block>/\*.*?\*/)",
    re.DOTALL,
)
_WRITES = re.compile(
    r"\b(insert|update|delete|merge|upsert|drop|alter|create|truncate|grant|revoke|into|"
    r"copy|attach|detach|pragma|vacuum|reindex|call|exec|execute|lock|load|install|"
    r"nextval|setval)\b",
    re.IGNORECASE,
)
Refuse = Callable[[str], SourceError]
_LOCKS = re.compile(r"\bfor\s+(share|no\s+key|key\s+share)\b", re.IGNORECASE)
_AMBIGUOUS = {
    ";": "must be a single statement (found ';')",
    "$": "must not use $-quoting or $ parameters",
    "#": "must not use '#' (a comment in MySQL)",
    "'": "has an unterminated string literal",
    '"': "has an unterminated quoted identifier",
    "`": "has an unterminated quoted identifier",
    "/*": "has an unterminated block comment",
    "*/": "has an unterminated block comment",
}


def check_read_only(query: str, *, model: str) -> str:
    """The query without trailing semicolons, if it is exactly one read-only SELECT."""
    body = query.strip().rstrip(";").strip()

    def refuse(problem: str) -> SourceError:
        return SourceError(f"model {model!r}: query {problem}")

    if "\\" in body:
        raise refuse("must not contain backslashes (escape rules differ between databases)")
    code = _code(body, refuse)
    for token, problem in _AMBIGUOUS.items():
        if token in code:
            raise refuse(problem)
    _balanced(code, refuse)
    words = code.split()
    first = words[0].lower() if words else ""
    if first not in {"select", "with"}:
        raise refuse(f"must be a SELECT (starts with {first!r})")
    write = _WRITES.search(code) or _LOCKS.search(code)
    if write is not None:
        raise refuse(f"must be read-only (contains {write.group(0).upper()!r})")
    return body


def _code(body: str, refuse: Refuse) -> str:
    """``body`` with literals, quoted identifiers and comments blanked out."""
    pieces, pos = [], 0
    for match in _LEXEME.finditer(body):
        pieces.append(body[pos : match.start()])
        text = match.group(0)
        if match.lastgroup == "block" and "/*" in text[2:]:
            raise refuse("must not nest block comments")
        if match.lastgroup == "line" and text[2:3] not in ("", " ", "\t", "\r"):
            raise refuse("must write '-- ' with a space (MySQL reads '--x' as code)")
        # An identifier stays a word (it may be the first one); the rest becomes a space.
        pieces.append(" ident " if match.lastgroup == "ident" else " ")
        pos = match.end()
    pieces.append(body[pos:])
    return "".join(pieces)


def _balanced(code: str, refuse: Refuse) -> None:
    # The query becomes a subquery; a stray ')' would close it and let text escape.
    depth = 0
    for char in code:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise refuse("has an unbalanced ')'")
    if depth:
        raise refuse("has an unbalanced '('")
