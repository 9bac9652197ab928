"""Database URLs written the way people write them: a password with an unencoded ``@``, the
``postgres://`` of other tools, a driver that is not installed. Each gets a one-line error that
says what to write instead and never shows the password, nor the part of it SQLAlchemy would
take for the host."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from monitor.cli import main
from monitor.config import load_config, parse_config
from monitor.errors import ConfigError
from monitor.redact import redact, url_secrets
from monitor.sources import SourceEngines
from tests.monitor.scancore.conftest import model_dict

HEAD, TAIL = "Cd-SECRET", "AT-99"
AT_URL = f"postgresql+psycopg://monitor:{HEAD}@{TAIL}@127.0.0.1:5432/monitor"


def _config(tmp_path: Path, *, state_db: str | None = None, source: str | None = None) -> Path:
    tree = {
        "state_db": state_db or f"sqlite:///{tmp_path / 's.db'}",
        "sources": {"logs": {"url": source or f"sqlite:///{tmp_path / 'x.db'}"}},
        "models": [model_dict()],
    }
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(tree))
    return path


Run = Callable[..., str]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*argv: str, code: int = 2) -> str:
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
        out = capsys.readouterr()
        assert exited.value.code == code, out.out + out.err
        return out.out + out.err

    return run


@pytest.mark.parametrize("where", ["state_db", "source"])
@pytest.mark.parametrize("command", [["config", "check"], ["status"], ["db", "upgrade"]])
def test_a_password_with_an_unencoded_at_is_refused_with_a_hint(
    tmp_path: Path, run_cli: Run, where: str, command: list[str]
) -> None:
    path = _config(tmp_path, **{where: AT_URL})
    output = run_cli(*command, "-c", str(path))
    key = "state_db" if where == "state_db" else "sources.logs.url"
    assert f"{path}: {key}: the password holds an unencoded '@'" in output, output
    assert "%40" in output and "percent-encode" in output
    assert HEAD not in output and TAIL not in output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1


@pytest.mark.parametrize("where", ["state_db", "source"])
@pytest.mark.parametrize(
    ("password", "secret"),
    [(f"p@ss:{TAIL}!{HEAD}", TAIL), (f"{HEAD}:{TAIL}@x", TAIL), ("plain", None)],
    ids=["at-then-colon", "colon-then-at", "bad-port"],
)
def test_a_password_with_an_unencoded_colon_or_a_bad_port_never_shows_its_tail(
    tmp_path: Path, run_cli: Run, where: str, password: str, secret: str | None
) -> None:
    # SQLAlchemy takes what follows the last ':' for the port and quotes it in int()'s error.
    port = "5432" if secret else "54x2"
    url = f"postgresql+psycopg://monitor:{password}@127.0.0.1:{port}/monitor"
    path = _config(tmp_path, **{where: url})
    output = run_cli("config", "check", "-c", str(path))
    key = "state_db" if where == "state_db" else "sources.logs.url"
    assert f"{path}: {key}: " in output, output
    assert "percent-encode" in output and "%3A" in output, output
    assert HEAD not in output and TAIL not in output and "invalid literal" not in output
    assert "Traceback" not in output


def test_the_percent_encoded_password_is_accepted_and_never_shown(
    tmp_path: Path, run_cli: Run, postgres_admin: Engine
) -> None:
    from tests.conftest import _fresh_postgres_database

    for url in _fresh_postgres_database(postgres_admin):
        # Trust authentication ignores the password; the URL must still parse to this host.
        encoded = url.set(password=f"{HEAD}@{TAIL}").render_as_string(hide_password=False)
        assert "%40" in encoded
        path = _config(tmp_path, state_db=encoded)
        output = run_cli("db", "upgrade", "-c", str(path), code=0)
        assert "is at" in output and "***" in output
        assert HEAD not in output and TAIL not in output


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgres://monitor:SECRETpw@db/monitor",
            "unknown dialect 'postgres': write postgresql+psycopg://",
        ),
        ("postgres+psycopg://monitor@db/monitor", "write postgresql+psycopg://"),
        ("sqlite3:///monitor.db", "write sqlite:///relative/path.db"),
        ("sqlite://monitor.db", "a SQLite URL has no host: write sqlite:///"),
        ("jdbc:postgresql://db:5432/monitor?password=SECRETpw", "drop the jdbc: prefix"),
        ("monitor.db", "for a SQLite file: sqlite:///"),
    ],
)
def test_common_url_mistakes_say_which_url_to_write(url: str, expected: str) -> None:
    for tree in ({"state_db": url}, {"sources": {"logs": {"url": url}}}):
        with pytest.raises(ConfigError) as caught:
            parse_config(tree, file="m.yaml")
        message = str(caught.value)
        assert expected in message, message
        assert url not in message and "SECRETpw" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://monitor:SECRETpw@db/monitor", "needs the driver module 'MySQLdb'"),
        ("postgresql+psycopg2://monitor:SECRETpw@db/monitor", "write postgresql+psycopg://"),
        ("postgresql+asyncpg://monitor:SECRETpw@db/monitor", "write postgresql+psycopg://"),
        ("snowflake://monitor:SECRETpw@account/db", "pip install snowflake-sqlalchemy"),
    ],
)
def test_a_driver_that_is_not_installed_names_the_package_or_url(
    tmp_path: Path, run_cli: Run, url: str, expected: str
) -> None:
    output = run_cli("config", "check", "-c", str(_config(tmp_path, source=url)))
    assert f"source 'logs': {expected}" in output or expected in output, output
    assert "SECRETpw" not in output and "NoSuchModuleError" not in output
    state = run_cli("status", "-c", str(_config(tmp_path, state_db=url)))
    assert state.startswith("error: state DB") and expected in state, state
    assert "SECRETpw" not in state and "Traceback" not in state


def test_url_secrets_cover_the_tail_of_a_password_with_an_unencoded_at() -> None:
    secrets = url_secrets(AT_URL)
    message = f"failed to resolve host '{TAIL}@127.0.0.1': [Errno -2] ({AT_URL})"
    shown = redact(message, secrets)
    assert HEAD not in shown and TAIL not in shown and "***" in shown


def test_any_url_credentials_in_an_error_text_are_masked() -> None:
    text = "connect to postgresql+psycopg://reader:hunter2@db:5432/x failed"
    assert redact(text) == "connect to postgresql+psycopg://reader:***@db:5432/x failed"


def test_a_scan_error_stores_no_source_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engines_for: Callable[..., SourceEngines]
) -> None:
    from monitor.scans import run as scan_run

    secret_url = "sqlite:///" + str(tmp_path / "logs.db") + "?password=SECRETpw99"
    config = parse_config(
        {"sources": {"logs": {"url": secret_url}}, "models": [model_dict()]}, file="m.yaml"
    )
    engines = engines_for(config)

    def fail(*_args: object) -> None:
        # What a driver does when it echoes its connection string into an error.
        raise OperationalError(f"connect({secret_url}) timed out", None, Exception("SECRETpw99"))

    monkeypatch.setattr(scan_run, "require_readable", lambda _log: None)
    monkeypatch.setattr(scan_run, "_scan", fail)
    report = scan_run.run_scan(
        config.models[0],
        datetime(2026, 3, 3, tzinfo=UTC),
        engines=engines,
        session=None,  # type: ignore[arg-type]
    )
    assert report.status == "error" and report.error
    assert "SECRETpw99" not in report.error and "OperationalError" in report.error


def test_the_cli_error_line_is_redacted(
    tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.sources import validate

    url = "postgresql+psycopg://reader:SECRETpw42@127.0.0.1:1/x"
    path = _config(tmp_path, source=url)
    load_config(path)  # valid: only a driver's error text could carry the password
    monkeypatch.setattr(
        validate, "check_model", lambda model, engines: [f"model 'churn': {url} refused SECRETpw42"]
    )
    output = run_cli("config", "check", "-c", str(path))
    assert "SECRETpw42" not in output and "model 'churn'" in output
    assert output.strip() == "error: model 'churn': *** refused ***"
