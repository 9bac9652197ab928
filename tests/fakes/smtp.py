"""A local SMTP sink (aiosmtpd) that records messages and can refuse the next one.

With ``tls`` (a server context, :func:`self_signed`) it offers STARTTLS and requires it
before MAIL and AUTH, as a submission server on port 587 does; it records whether each
message and each login came over TLS.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class FakeSmtp:
    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.over_tls: list[bool] = []  # per message received
        self.logins: list[tuple[str, bool]] = []  # (user, over TLS)
        self._refusals: list[str] = []
        self._lock = threading.Lock()
        self._tls = tls
        self.port = 0

    def refuse_next(self, reply: str, *, times: int = 1) -> None:
        """Answer the next DATA with ``reply``, e.g. ``451 4.3.0 try later``."""
        with self._lock:
            self._refusals.extend([reply] * times)

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
            self.over_tls.append(session.ssl is not None)
        return "250 OK"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        with self._lock:
            self.logins.append((data.login.decode(), session.ssl is not None))
        return AuthResult(success=True)

    @contextmanager
    def running(self) -> Iterator[FakeSmtp]:
        self.port = _free_port()
        tls = {"tls_context": self._tls, "require_starttls": True} if self._tls else {}
        controller = Controller(
            self, hostname="127.0.0.1", port=self.port, authenticator=self._authenticate, **tls
        )
        controller.start()
        try:
            yield self
        finally:
            controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 with a fresh self-signed certificate, and the path of
    that certificate as a CA file a client can trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "monitor test SMTP")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path
