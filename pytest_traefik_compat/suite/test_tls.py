"""TLS on the gateway: the protocol negotiated, every refusal by the TLS alert the
gateway sent, and the handshake timed alone (full, and resumed with a TLS 1.3 ticket)."""

from __future__ import annotations

import ssl

from pytest_traefik_compat.gateway import tlsprobe as tp
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.measure import stats
from pytest_traefik_compat.pki import BAD_CLIENT_KINDS, SessionPKI
from pytest_traefik_compat.plugin.session import CompatSession
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records.checks import (
    MISSING,
    NO_SNI,
    TLS,
    TLS12,
    TLS_EVIDENCE,
    TLS_HANDSHAKES,
    TLS_REFUSALS,
    UNKNOWN_SNI,
)
from pytest_traefik_compat.suite.common import (
    UNKNOWN_HOST,
    RecordFactory,
    health_path,
    record_cases,
)


def test_tls(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """TLS 1.3 through Traefik with the suite's client; a client capped at TLS 1.2 refused.

    Asserts: the valid client's handshake is accepted and its request answers 200; the
    version is TLSv1.3; a client capped at TLS 1.2 is refused by a TLS alert, the
    protocol_version one (a timeout or reset is no refusal).
    Records: version, cipher, the ALPN protocol chosen when h2 and http/1.1 are offered,
    status, whether TLS 1.2 was refused; details: the TLS 1.2 probe's outcome, stage and
    error, the served certificate's subject and issuer.
    """
    record = traefik_record(TLS.check)
    probe = compat_stack.tls_probe()
    alpn = compat_stack.tls_probe(alpn=("h2", "http/1.1")).alpn
    # Refused means the gateway sent a TLS alert: a timeout or reset is no evidence.
    capped = tp.probe_tls(
        compat_stack.https_port,
        compat_stack.pki.client_context(max_version=ssl.TLSVersion.TLSv1_2),
        sni=traefik.APP_HOST,
        path=compat_stack.service_specs[0].health_path,
    )
    record.figure(TLS.version, probe.version).figure(TLS.cipher, probe.cipher)
    record.figure(TLS.alpn_offered_h2, alpn or MISSING).figure(TLS.status, probe.status)
    record.figure(TLS.tls12_refused, tp.refused(capped))
    record.details[TLS.tls12_error] = f"{capped.outcome} at {capped.stage}: {capped.error}"
    record.details[TLS.peer] = {"subject": probe.peer_subject, "issuer": probe.peer_issuer}
    assert probe.accepted and probe.status == 200, probe.error
    assert probe.version == "TLSv1.3"
    assert tp.refused(capped), f"a client capped at TLS 1.2 was not refused: {capped.outcome}"
    assert capped.outcome == tp.EXPECTED_REFUSALS[TLS12], capped


def test_tls_evidence_refusals(
    compat_stack: Gateway, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """Each bad client, a TLS-1.2-capped client, no SNI and an unknown SNI, refused.

    Asserts: every case ends in the TLS alert expected for it (no certificate:
    certificate_required; unrelated CA or missing intermediate: unknown_ca; expired or
    not yet valid: certificate_expired; serverAuth-only EKU: bad_certificate; TLS 1.2:
    protocol_version; no or unknown SNI: unrecognized_name); a timeout, reset or
    client-side failure fails.
    Records: one figure per case (its outcome class), cases, unexpected; details: each
    case's outcome, stage, status and served certificate, the expected class, findings.
    """
    record = traefik_record(TLS_EVIDENCE.check, variant=TLS_REFUSALS)
    port, path = compat_stack.https_port, health_path(compat_stack)
    outcomes: dict[str, tp.TlsProbe] = {}
    for kind in BAD_CLIENT_KINDS:
        context = traefik_pki.client_context(kind)
        outcomes[kind] = tp.probe_tls(port, context, sni=traefik.APP_HOST, path=path)
    capped = traefik_pki.client_context(max_version=ssl.TLSVersion.TLSv1_2)
    outcomes[TLS12] = tp.probe_tls(port, capped, sni=traefik.APP_HOST, path=path)
    anonymous = traefik_pki.client_context()
    anonymous.check_hostname = False
    outcomes[NO_SNI] = tp.probe_tls(port, anonymous, sni=None, path=path)
    outcomes[UNKNOWN_SNI] = tp.probe_tls(port, anonymous, sni=UNKNOWN_HOST, path=path)
    findings = record_cases(record, outcomes, tp.EXPECTED_REFUSALS)
    assert not findings, "\n".join(findings)


def test_tls_evidence_handshakes(
    compat_stack: Gateway,
    traefik_pki: SessionPKI,
    traefik_settings: Settings,
    traefik_compat: CompatSession,
    traefik_record: RecordFactory,
) -> None:
    """The handshake alone, full and resumed with a TLS 1.3 ticket, in a timing series.

    Asserts: max(--traefik-handshakes, 20) full handshakes are all accepted and none was
    resumed; every resumed attempt is accepted (whether the gateway resumes is recorded,
    not asserted).
    Records: full and resumed handshake times (ms) with the medians' 95% intervals, how
    many full handshakes were resumed, how many tickets were offered and accepted,
    noisy; details: the timing conditions, every handshake's outcome.
    """
    record = traefik_record(TLS_EVIDENCE.check, variant=TLS_HANDSHAKES)
    port, path = compat_stack.https_port, health_path(compat_stack)
    count = max(traefik_settings.handshakes, 20)
    with traefik_compat.timing_series(compat_stack, "handshakes") as conditions:
        full = tp.full_handshakes(
            port, traefik_pki.client_context, sni=traefik.APP_HOST, count=count, path=path
        )
        resumed, first = tp.resumed_handshakes(
            port, traefik_pki.client_context, sni=traefik.APP_HOST, count=count, path=path
        )
    record.figure(TLS_EVIDENCE.noisy, conditions.noisy)
    record.details[TLS_EVIDENCE.conditions] = conditions.as_dict()
    full_ms = [s * 1000 for s in full.seconds]
    resumed_ms = [s * 1000 for s in resumed.seconds]
    record.add_samples(TLS_EVIDENCE.full_handshake, full_ms, "ms")
    record.add_samples(TLS_EVIDENCE.resumed_handshake, resumed_ms, "ms")
    # The median's exact interval (order statistics): the same times, the same interval.
    for ms, (low_name, high_name) in (
        (full_ms, (TLS_EVIDENCE.full_ci_low, TLS_EVIDENCE.full_ci_high)),
        (resumed_ms, (TLS_EVIDENCE.resumed_ci_low, TLS_EVIDENCE.resumed_ci_high)),
    ):
        interval = stats.median_ci(ms)
        for name, bound in zip((low_name, high_name), interval or (None, None), strict=True):
            record.figure(name, MISSING if bound is None else round(bound, 3), "ms")
    record.figure(TLS_EVIDENCE.full_reused, full.reused_count, "count")
    record.figure(TLS_EVIDENCE.resumed, resumed.reused_count, "count")
    record.figure(TLS_EVIDENCE.resumed_offered, resumed.attempts, "count")
    record.details[TLS_EVIDENCE.outcomes] = {
        "full": full.outcomes,
        "resumed": resumed.outcomes,
        "first": first.as_dict(),
    }
    assert full.accepted == full.attempts == count, full.outcomes
    assert full.reused_count == 0, "a handshake timed as full was resumed"
    assert resumed.accepted == resumed.attempts, resumed.outcomes
