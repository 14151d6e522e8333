"""Client certificates: the valid chain accepted, every bad client refused, and the
client's identity forwarded to the backend (passTLSClientCert)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from cryptography.x509.oid import NameOID

from pytest_traefik_compat.gateway import tlsprobe as tp
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.pki import BAD_CLIENT_KINDS, SessionPKI
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records.checks import (
    CLIENT_IDENTITY,
    MISSING,
    MTLS,
    NO_SNI,
    REFUSAL,
    TLS_EVIDENCE,
    TLS_FORWARDED,
    UNKNOWN_SNI,
)
from pytest_traefik_compat.suite.common import RecordFactory

# Bound on the valid chain's series (--traefik-handshakes connections).
VALID_BUDGET_S = 120.0


def test_mtls(
    compat_stack: Gateway,
    traefik_pki: SessionPKI,
    traefik_settings: Settings,
    traefik_record: RecordFactory,
) -> None:
    """Handshakes with the valid client chain, then every bad client, no SNI, unknown SNI.

    Asserts: all --traefik-handshakes handshakes with the valid chain succeed; every bad
    client (no certificate, unrelated CA, expired, not yet valid, serverAuth-only EKU,
    missing intermediate), no SNI and an unknown SNI are refused by a TLS alert (a
    timeout, reset or client-side failure counts as let in).
    Records: handshakes, success rate, the TLS handshake alone (ms, the handshake_ms
    budget's series), each request through Traefik (ms: connect, handshake, GET, answer,
    close), bad clients tried and let in; details: each bad client's outcome, stage,
    error and status, the valid chain's errors.
    """
    record = traefik_record(MTLS.check)
    port = compat_stack.https_port
    valid = tp.full_handshakes(
        port,
        traefik_pki.client_context,
        sni=traefik.APP_HOST,
        count=traefik_settings.handshakes,
        time_budget=VALID_BUDGET_S,
    )
    record.figure(MTLS.handshakes, valid.attempts, "count")
    record.figure(MTLS.success_rate, valid.success_rate, "ratio")
    record.add_samples(MTLS.handshake, [s * 1000 for s in valid.seconds], "ms")
    record.add_samples(MTLS.request, [s * 1000 for s in valid.connection_seconds], "ms")
    # Refused means the gateway sent a TLS alert (tlsprobe classes each outcome); a
    # timeout, reset or client-side failure counts as let in: it proves no refusal.
    outcomes: dict[str, tp.TlsProbe] = {
        kind: tp.probe_tls(port, traefik_pki.client_context(kind), sni=traefik.APP_HOST)
        for kind in BAD_CLIENT_KINDS
    }
    anonymous = traefik_pki.client_context()
    anonymous.check_hostname = False
    for label, sni in ((NO_SNI, None), (UNKNOWN_SNI, "other.compat.test")):
        outcomes[label] = tp.probe_tls(port, anonymous, sni=sni)
    refusals: dict[str, dict[str, Any]] = {
        kind: {
            REFUSAL.refused: tp.refused(probe),
            REFUSAL.outcome: probe.outcome,
            REFUSAL.stage: probe.stage,
            REFUSAL.error: probe.error,
            REFUSAL.status: probe.status,
        }
        for kind, probe in outcomes.items()
    }
    let_in = sorted(kind for kind, result in refusals.items() if not result[REFUSAL.refused])
    record.figure(MTLS.bad_tried, len(refusals), "count")
    record.figure(MTLS.bad_let_in, len(let_in), "count")
    record.details[MTLS.refusals] = refusals
    record.details[MTLS.valid_errors] = valid.errors
    assert valid.attempts == traefik_settings.handshakes
    assert valid.success_rate == 1.0, f"valid chain refused: {valid.errors}"
    assert not let_in, f"let in: {let_in}"


def test_client_identity(
    compat_stack: Gateway, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """The backend sees which client called (passTLSClientCert).

    Asserts: the client certificate info the backend received names the client's
    common name.
    Records: the forwarded certificate info (its first 120 characters), whether the
    PEM was forwarded.
    """
    record = traefik_record(CLIENT_IDENTITY.check)
    with compat_stack.https_client() as client:
        seen = client.get("/api/whoami").json()
    info = urllib.parse.unquote_plus(seen.get("client_cert_info") or "")
    record.figure(CLIENT_IDENTITY.forwarded_info, info[:120] or MISSING)
    record.figure(CLIENT_IDENTITY.forwarded_pem, bool(seen.get("client_cert")))
    common_name = traefik_pki.client.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0]
    assert str(common_name.value) in info, f"backend saw {info!r}"


def test_tls_evidence_forwarded(
    compat_stack: Gateway, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """passTLSClientCert forwards the chain the client sent, leaf first.

    Asserts: the backend received at least one certificate entry; the first one has
    the client leaf's serial number and subject.
    Records: how many certificates were forwarded; details: the forwarded entries.
    """
    record = traefik_record(TLS_EVIDENCE.check, variant=TLS_FORWARDED)
    with compat_stack.https_client() as client:
        seen = client.get("/api/whoami").json()
    info = urllib.parse.unquote_plus(seen.get("client_cert_info") or "")
    entries = tp.forwarded_info_entries(info)
    record.figure(TLS_EVIDENCE.forwarded_entries, len(entries), "count")
    record.details[TLS_EVIDENCE.outcomes] = {"entries": entries}
    assert entries, f"backend saw {info!r}"
    leaf = traefik_pki.client.cert
    assert entries[0].get("SerialNumber") == str(leaf.serial_number), entries
    assert leaf.subject.rfc4514_string().split(",")[0][3:] in entries[0]["Subject"], entries
