"""The raw TLS probe: one connection, one GET, and *why* it ended as it did (the alert
the server sent, the stage), with the handshake timed alone.

:func:`probe_tls` answers "did a request get through" and what a refusal was. Every
outcome gets one class:

- ``alert:<description>``: the server sent a TLS alert (``certificate_required``,
  ``unknown_ca``, ``bad_certificate``, ``certificate_expired``,
  ``unsupported_certificate``, ``protocol_version``, ``unrecognized_name``, ...),
  read from the OpenSSL reason of the ``ssl.SSLError`` (``TLSV1_ALERT_UNKNOWN_CA``);
- ``http:<status>``: the handshake and request went through and the server answered;
- ``timeout``, ``reset``, ``eof`` (closed with no alert), ``connect``: no evidence of a
  deliberate refusal;
- ``client-verify``: *our* client refused the server's certificate; the server's
  policy was never tested;
- ``ssl:<reason>``: any other local TLS error.

A check that expects a refusal asserts the specific ``alert:`` class; the classes of
the third and fourth kinds are findings that fail it (:func:`is_evidence`).

Timing: :func:`probe_tls` times ``do_handshake`` alone (TCP connect before it,
the request after it, neither counted) and records ``session_reused``; a series of
full handshakes offers no session, and ``session_reused`` false proves each was full.
Under TLS 1.3 the client finishes its handshake before the server has checked the
client certificate, so a refusal of the certificate arrives at the first read
(stage ``read``), never at ``handshake``.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_traefik_compat import engine

LOOPBACK = "127.0.0.1"
DEFAULT_TIMEOUT_S = 5.0

# Outcome classes that are not alerts or HTTP statuses.
TIMEOUT = "timeout"
RESET = "reset"
EOF = "eof"
CONNECT = "connect"
CLIENT_VERIFY = "client-verify"
# Stages.
STAGE_CONNECT = "connect"
STAGE_HANDSHAKE = "handshake"
STAGE_READ = "read"
STAGE_OK = "ok"

ALERT_PREFIX = "alert:"
HTTP_PREFIX = "http:"

# OpenSSL spells alerts as <PROTO>_ALERT_<NAME> (SSLV3_ALERT_BAD_CERTIFICATE,
# TLSV1_ALERT_UNKNOWN_CA, TLSV13_ALERT_CERTIFICATE_REQUIRED); unrecognized_name is
# the one spelled TLSV1_UNRECOGNIZED_NAME.
_ALERT_RE = re.compile(r"\b(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)\b")
_SPECIAL_ALERTS = {"TLSV1_UNRECOGNIZED_NAME": "unrecognized_name"}


def alert(name: str) -> str:
    """The outcome class of a TLS alert: ``alert("unknown_ca") == "alert:unknown_ca"``."""
    return f"{ALERT_PREFIX}{name}"


def http(status: int) -> str:
    return f"{HTTP_PREFIX}{status}"


def alert_of(error: BaseException) -> str | None:
    """The alert description an ``ssl.SSLError`` carries (lower case), or None."""
    texts = [str(getattr(error, "reason", "") or ""), str(error)]
    for text in texts:
        for special, name in _SPECIAL_ALERTS.items():
            if special in text:
                return name
        match = _ALERT_RE.search(text)
        if match:
            return match.group(1).lower()
    return None


def classify_error(error: BaseException) -> str:
    """One outcome class for an exception raised while connecting, handshaking or reading."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return CLIENT_VERIFY
    if isinstance(error, ssl.SSLError):
        name = alert_of(error)
        if name is not None:
            return alert(name)
        if isinstance(error, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
            return EOF
        reason = str(getattr(error, "reason", "") or "").lower()
        if "unexpected_eof" in reason:
            return EOF
        return f"ssl:{reason or type(error).__name__}"
    if isinstance(error, (TimeoutError, socket.timeout)):
        return TIMEOUT
    if isinstance(error, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return RESET
    if isinstance(error, ConnectionRefusedError):
        return CONNECT
    return f"error:{type(error).__name__}"


def is_alert(outcome: str) -> bool:
    return outcome.startswith(ALERT_PREFIX)


# An expectation matching any TLS alert ("http:421|alert:*": a 421, or refused).
ANY_ALERT = f"{ALERT_PREFIX}*"
# An expectation that records the outcome without asserting it (any evidence will do);
# the same word as the record vocabulary's RECORDED, which the report reads.
RECORDED = "recorded"


def matches(outcome: str, expected: str) -> bool:
    """Whether an outcome class meets an expectation: one class, or alternatives joined
    by "|"; an alternative ending in ":*" matches every class of that kind."""
    for want in expected.split("|"):
        if outcome == want or (want.endswith(":*") and outcome.startswith(want[:-1])):
            return True
    return False


def refused(outcome: TlsProbe) -> bool:
    """Refused by the TLS layer: the server sent an alert. Not "not accepted": a
    timeout, a reset or our own client's verification failure is no refusal. An HTTP
    status after the handshake, even 421, means the TLS layer let the client in."""
    return is_alert(outcome.outcome)


def is_evidence(outcome: str) -> bool:
    """True for a deliberate answer of the server: a TLS alert or an HTTP status.

    A timeout, a reset, an EOF, a refused connect or our own client rejecting the
    server's certificate prove nothing about the server's policy.
    """
    return outcome.startswith((ALERT_PREFIX, HTTP_PREFIX))


@dataclass
class TlsProbe:
    """One connection: where it ended, its class, what was negotiated on the way, and
    the server's answer.

    ``peer_subject`` and ``peer_issuer`` are spelled as :meth:`ssl.SSLSocket.getpeercert`
    names them (``commonName=...``, set only when the context verified the server);
    :attr:`peer_dn` is the subject in RFC 4514 (``CN=...``), as a case's record holds it.
    """

    sni: str | None
    outcome: str = ""
    stage: str = ""  # "connect", "handshake", "read" or "ok"
    error: str | None = None
    status: int | None = None
    version: str | None = None
    cipher: str | None = None
    alpn: str | None = None
    peer_subject: str | None = None
    peer_issuer: str | None = None
    peer_dn: str | None = None
    peer_serial: str | None = None
    session_reused: bool | None = None
    handshake_s: float | None = None
    seconds: float = 0.0  # connect to the answer read (or to the failure)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    session: ssl.SSLSession | None = field(default=None, repr=False)

    @property
    def accepted(self) -> bool:
        return self.stage == STAGE_OK

    def as_dict(self) -> dict[str, Any]:
        """The record of one case (the keys the TLS evidence has always written)."""
        return {
            "sni": self.sni,
            "outcome": self.outcome,
            "stage": self.stage,
            "error": self.error,
            "status": self.status,
            "version": self.version,
            "cipher": self.cipher,
            "peer_subject": self.peer_dn,
            "peer_serial": self.peer_serial,
            "session_reused": self.session_reused,
            "handshake_s": self.handshake_s,
            "total_s": self.seconds,
        }


def _openssl_name(cert: dict[str, Any], key: str) -> str | None:
    parts = [f"{k}={v}" for rdn in cert.get(key, ()) for (k, v) in rdn]
    return ",".join(parts) or None


def _peer(tls: ssl.SSLSocket, result: TlsProbe) -> None:
    """The served certificate's names: getpeercert's (verified contexts only) and RFC 4514."""
    peer = tls.getpeercert()
    if peer:
        result.peer_subject = _openssl_name(peer, "subject")
        result.peer_issuer = _openssl_name(peer, "issuer")
    der = tls.getpeercert(binary_form=True)
    if not der:
        return
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
    except Exception:  # any parse problem leaves the fields empty
        return
    result.peer_dn = cert.subject.rfc4514_string()
    result.peer_serial = format(cert.serial_number, "x")


class HttpAnswer(Protocol):
    """What a raw HTTP/1.1 answer is parsed into."""

    status: int | None
    headers: dict[str, str]
    body: bytes


def parse_http_into(data: bytes, result: HttpAnswer) -> None:
    """Status line, headers (lower-cased names) and body of a raw HTTP/1.1 answer."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    with suppress(IndexError, ValueError):
        result.status = int(lines[0].split()[1])
    for line in lines[1:]:
        key, _, value = line.partition(":")
        result.headers[key.strip().lower()] = value.strip()
    result.body = body


def _read_response(tls: ssl.SSLSocket, deadline: float, limit: int = 1 << 20) -> bytes:
    """Read until the end of one HTTP/1.1 response (Content-Length or close), bounded."""
    data = b""
    while time.monotonic() < deadline and len(data) < limit:
        tls.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = tls.recv(65536)
        except ssl.SSLZeroReturnError:
            break
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if match and len(body) >= int(match.group(1)):
                break
    if time.monotonic() >= deadline and not data:
        raise TimeoutError("no response before the deadline")
    return data


def probe_tls(
    port: int,
    context: ssl.SSLContext,
    *,
    sni: str | None,
    path: str = "/healthz",
    host_header: str | None = None,
    session: ssl.SSLSession | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    host: str | None = None,
) -> TlsProbe:
    """Connect, handshake (timed alone), send one GET, read the answer, classify.

    Under TLS 1.3 a server that rejects the client certificate does so after the
    handshake, so acceptance is only known once the response (or an alert) is read.
    ``session`` offers a saved session (a TLS 1.3 ticket) for resumption; the returned
    ``.session`` is the one to offer next time (read after the response, since TLS 1.3
    tickets arrive after the handshake).
    """
    result = TlsProbe(sni=sni)
    host = host or engine.engine_host()
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as error:
        result.stage, result.error = STAGE_CONNECT, f"connect: {error}"
        result.outcome = classify_error(error)
        result.seconds = time.perf_counter() - started
        return result
    try:
        tls = context.wrap_socket(
            raw, server_hostname=sni, do_handshake_on_connect=False, session=session
        )
        try:
            shake = time.perf_counter()
            tls.do_handshake()
            result.handshake_s = time.perf_counter() - shake
        except (ssl.SSLError, OSError) as error:
            result.stage, result.error = STAGE_HANDSHAKE, f"handshake: {error}"
            result.outcome = classify_error(error)
            return result
        result.version = tls.version()
        cipher = tls.cipher()
        result.cipher = cipher[0] if cipher else None
        result.alpn = tls.selected_alpn_protocol()
        result.session_reused = tls.session_reused
        _peer(tls, result)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host_header or sni or host}\r\n"
            "Connection: close\r\nUser-Agent: pytest-traefik-compat\r\n\r\n"
        )
        try:
            tls.sendall(request.encode())
            data = _read_response(tls, deadline)
        except (ssl.SSLError, OSError) as error:
            result.stage, result.error = STAGE_READ, f"read: {error}"
            result.outcome = classify_error(error)
            return result
        if not data:
            result.stage, result.error = STAGE_READ, "read: closed without a response or alert"
            result.outcome = EOF
            return result
        parse_http_into(data, result)
        result.session = tls.session
        result.stage = STAGE_OK
        result.outcome = http(result.status) if result.status is not None else "http:?"
        with suppress(OSError, ValueError):
            tls.close()
        return result
    finally:
        result.seconds = time.perf_counter() - started
        with suppress(OSError):
            raw.close()


# ---------------------------------------------------------------- series


@dataclass
class HandshakeSeries:
    """Timed handshakes of one kind (full or resumed), each checked on its own."""

    kind: str  # "full" or "resumed"
    attempts: int = 0
    accepted: int = 0
    seconds: list[float] = field(default_factory=list)  # handshake alone, accepted ones
    # Every attempt, connect to the answer read (or to the failure).
    connection_seconds: list[float] = field(default_factory=list)
    reused: list[bool] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    # The first words of every attempt's error, or its HTTP status, when not let in.
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def success_rate(self) -> float:
        return self.accepted / self.attempts if self.attempts else 0.0

    @property
    def reused_count(self) -> int:
        return sum(self.reused)

    def add(self, probe: TlsProbe, *, ok_status: int = 200) -> None:
        self.attempts += 1
        self.connection_seconds.append(probe.seconds)
        self.outcomes[probe.outcome] = self.outcomes.get(probe.outcome, 0) + 1
        if probe.accepted and probe.status == ok_status and probe.handshake_s is not None:
            self.accepted += 1
            self.seconds.append(probe.handshake_s)
            self.reused.append(bool(probe.session_reused))
        else:
            key = (probe.error or f"HTTP {probe.status}").split("(_ssl")[0].strip()
            self.errors[key] = self.errors.get(key, 0) + 1


def full_handshakes(
    port: int,
    context_factory: Callable[[], ssl.SSLContext],
    *,
    sni: str | None,
    count: int,
    path: str = "/healthz",
    time_budget: float = 60.0,
) -> HandshakeSeries:
    """``count`` full handshakes, no session offered (bounded). One context for all:
    an ssl client resumes only when given a session, and ``session_reused`` records
    that none was (building a context per connection costs ~30 ms)."""
    series = HandshakeSeries("full")
    context = context_factory()
    deadline = time.monotonic() + time_budget
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        series.add(probe_tls(port, context, sni=sni, path=path))
    return series


def resumed_handshakes(
    port: int,
    context_factory: Callable[[], ssl.SSLContext],
    *,
    sni: str | None,
    count: int,
    path: str = "/healthz",
    time_budget: float = 60.0,
) -> tuple[HandshakeSeries, TlsProbe]:
    """One full handshake to get a ticket, then ``count`` handshakes offering the
    newest ticket (TLS 1.3 tickets are meant for one use). Returns the series and
    the first, full connection. Whether the server resumed is ``series.reused``."""
    context = context_factory()
    first = probe_tls(port, context, sni=sni, path=path)
    series = HandshakeSeries("resumed")
    session = first.session
    deadline = time.monotonic() + time_budget
    for _ in range(count):
        if time.monotonic() > deadline or session is None:
            break
        outcome = probe_tls(port, context, sni=sni, path=path, session=session)
        series.add(outcome)
        session = outcome.session or session
    return series, first


# ---------------------------------------------------------------- expectations

# What Traefik (Go's crypto/tls server, RequireAndVerifyClientCert, minVersion TLS 1.3,
# sniStrict) answers each bad client with, as seen with Traefik 3.7.15. Go maps an
# x509.UnknownAuthorityError to unknown_ca, x509.Expired (which covers "not yet
# valid" too) to certificate_expired and any other verification error (wrong EKU,
# path length, name constraints) to bad_certificate.
EXPECTED_REFUSALS: dict[str, str] = {
    "no-certificate": alert("certificate_required"),
    "unrelated-ca": alert("unknown_ca"),
    "expired": alert("certificate_expired"),
    "not-yet-valid": alert("certificate_expired"),
    "server-auth-eku": alert("bad_certificate"),
    "missing-intermediate": alert("unknown_ca"),
    "tls12": alert("protocol_version"),
    "no-sni": alert("unrecognized_name"),
    "unknown-sni": alert("unrecognized_name"),
}


def refusal_findings(
    outcomes: dict[str, TlsProbe], expected: dict[str, str] | None = None
) -> list[str]:
    """One line per case whose outcome is not the expected refusal class.

    A timeout, reset, EOF or client-side verification failure is a finding even
    where no class is expected: it is no evidence of a refusal. A case without an
    expectation must at least be refused with an alert or a 4xx status; one expected
    as ``RECORDED`` only needs evidence of some answer; otherwise the class must
    :func:`matches` the expectation.
    """
    expected = EXPECTED_REFUSALS if expected is None else expected
    findings: list[str] = []
    for case, outcome in outcomes.items():
        want = expected.get(case)
        got = outcome.outcome
        if not is_evidence(got):
            findings.append(
                f"{case}: {got} at {outcome.stage or '?'} is no evidence of a refusal"
                f" ({outcome.error or 'no error text'})"
            )
        elif want == RECORDED:
            continue
        elif want is not None and not matches(got, want):
            findings.append(f"{case}: expected {want}, got {got} at {outcome.stage}")
        elif want is None and outcome.accepted and (outcome.status or 0) < 400:
            findings.append(f"{case}: let in with HTTP {outcome.status}")
    return findings


# ---------------------------------------------------------------- passTLSClientCert

_INFO_FIELD_RE = re.compile(r'(\w+)="([^"]*)"')


def forwarded_info_entries(info: str) -> list[dict[str, str]]:
    """``X-Forwarded-Tls-Client-Cert-Info`` (already URL-unescaped) as one dict per
    certificate, in the order sent. Traefik 3.7 writes one entry per certificate the
    client sent, leaf first: ``Subject="...";SerialNumber="...",Subject="..."...``;
    entries are separated by commas outside quotes, fields by semicolons."""
    entries: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for match in _INFO_FIELD_RE.finditer(info):
        key, value = match.group(1), match.group(2)
        gap = info[: match.start()].rstrip()
        if current and (key in current or gap.endswith(",")):
            entries.append(current)
            current = {}
        current[key] = value
    if current:
        entries.append(current)
    return entries
