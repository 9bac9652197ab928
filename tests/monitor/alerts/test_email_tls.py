"""Email over STARTTLS against a local aiosmtpd sink that requires it (port 587 style): the
connection is encrypted before the login and the message, the certificate is checked, and a
server that offers no STARTTLS or an untrusted certificate is refused for good, never a
fall-back to plain text."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.notify import DeliveryError
from monitor.config import parse_config
from monitor.errors import ConfigError
from monitor.notifiers.email import EmailNotifier, SmtpServer
from monitor.run.notifiers import smtp_server
from tests.fakes.smtp import FakeSmtp, self_signed
from tests.monitor.alerts.test_notifier_contract import _alert

PASSWORD = "smtp-pass-7f3a"


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    return self_signed(tmp_path)


@pytest.fixture
def tls_sink(tls: tuple[ssl.SSLContext, Path]) -> Iterator[FakeSmtp]:
    with FakeSmtp(tls=tls[0]).running() as sink:
        yield sink


def _mail(port: int, **server: Any) -> EmailNotifier:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": "monitor@example.com",
        "username": "monitor",
        "password": PASSWORD,
    }
    return EmailNotifier(server=SmtpServer(**(settings | server)), to=["oncall@example.com"])


def test_mail_is_sent_over_starttls_and_the_login_only_after_it(
    tls: tuple[ssl.SSLContext, Path], tls_sink: FakeSmtp
) -> None:
    mail = _mail(tls_sink.port, ca_file=str(tls[1]))
    parent = mail.post(_alert(), channel="email:team", mention=None)
    assert [m["Message-ID"] for m in tls_sink.received()] == [mail.message_id(parent.ts)]
    assert tls_sink.over_tls == [True]
    assert tls_sink.logins == [("monitor", True)]


def test_a_server_requiring_starttls_refuses_a_client_that_skips_it(tls_sink: FakeSmtp) -> None:
    # The sink is strict (530 before STARTTLS), so the test above cannot pass by accident.
    with pytest.raises(DeliveryError) as refused:
        _mail(tls_sink.port, starttls=False, username=None).post(
            _alert(), channel="email:team", mention=None
        )
    assert "530" in str(refused.value) and tls_sink.received() == []


def test_a_server_without_starttls_is_refused_for_good_and_gets_no_password() -> None:
    with FakeSmtp().running() as plain:
        with pytest.raises(DeliveryError) as refused:
            _mail(plain.port).post(_alert(), channel="email:team", mention=None)
        assert (plain.received(), plain.logins) == ([], [])
    assert refused.value.permanent
    assert "does not offer STARTTLS" in str(refused.value)
    assert PASSWORD not in str(refused.value)


def test_an_untrusted_certificate_is_refused_for_good(tls_sink: FakeSmtp) -> None:
    with pytest.raises(DeliveryError) as refused:
        _mail(tls_sink.port).post(_alert(), channel="email:team", mention=None)  # system CAs
    assert refused.value.permanent
    assert "not trusted" in str(refused.value) and "smtp.ca_file" in str(refused.value)
    assert (tls_sink.received(), tls_sink.logins) == ([], [])


def _smtp_config(**smtp: Any) -> Any:
    tree = {
        "sources": {"prod": {"url": "sqlite://"}},
        "smtp": {"host": "smtp.example.com", "sender": "m@example.com"} | smtp,
        "notify": [{"email": {"to": ["oncall@example.com"]}}],
        "models": [],
    }
    return parse_config(tree, file="monitor.yaml")


def test_smtp_ca_file_reaches_the_notifier_and_a_missing_one_is_a_config_error(
    tmp_path: Path, tls: tuple[ssl.SSLContext, Path]
) -> None:
    config = _smtp_config(ca_file=str(tls[1]))
    assert smtp_server(config.smtp).ca_file == str(tls[1])
    assert smtp_server(config.smtp).starttls  # the default
    with pytest.raises(ConfigError, match=r"smtp\.ca_file.*no such file"):
        _smtp_config(ca_file=str(tmp_path / "missing.pem"))
