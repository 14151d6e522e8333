"""TLS and mTLS with evidence, per base (issue 14): every refusal by the alert the gateway
sent, handshake time alone (full, and resumed with a TLS 1.3 ticket), and the gateway's
overhead at steady state, direct vs through Traefik."""

from __future__ import annotations

import ssl
import urllib.parse
from collections.abc import Callable

import pytest

from pytest_traefik_compat.checks import (
    GATEWAY_OVERHEAD,
    MISSING,
    NO_SNI,
    TLS_EVIDENCE,
    UNKNOWN_SNI,
)
from pytest_traefik_compat.gateway import overhead, traefik
from pytest_traefik_compat.gateway import tlsprobe as tp
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.pki import BAD_CLIENT_KINDS, SessionPKI
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.settings import Settings

RecordFactory = Callable[..., Record]
TLS12 = "tls12"
OVERHEAD_REQUESTS = 200
OVERHEAD_BUDGET_S = 60.0


def _health(stack: Gateway) -> str:
    return stack.service_specs[0].health_path


def test_refusals_by_alert(
    compat_stack: Gateway, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """Each bad client, a TLS-1.2-capped client, no SNI and an unknown SNI: refused
    with the expected TLS alert. A timeout, reset or client-side failure fails."""
    record = traefik_record(TLS_EVIDENCE.check, variant="refusals")
    port, path = compat_stack.https_port, _health(compat_stack)
    outcomes: dict[str, tp.Outcome] = {}
    for kind in BAD_CLIENT_KINDS:
        context = traefik_pki.client_context(kind)
        outcomes[kind] = tp.timed_handshake(port, context, sni=traefik.APP_HOST, path=path)
    capped = traefik_pki.client_context(max_version=ssl.TLSVersion.TLSv1_2)
    outcomes[TLS12] = tp.timed_handshake(port, capped, sni=traefik.APP_HOST, path=path)
    anonymous = traefik_pki.client_context()
    anonymous.check_hostname = False
    outcomes[NO_SNI] = tp.timed_handshake(port, anonymous, sni=None, path=path)
    outcomes[UNKNOWN_SNI] = tp.timed_handshake(port, anonymous, sni="other.compat.test", path=path)
    findings = tp.refusal_findings(outcomes)
    for case, outcome in outcomes.items():
        record.figure(case, outcome.outcome)
    record.figure(TLS_EVIDENCE.cases, len(outcomes), "count")
    record.figure(TLS_EVIDENCE.unexpected, len(findings), "count")
    record.details[TLS_EVIDENCE.outcomes] = {k: o.as_dict() for k, o in outcomes.items()}
    record.details[TLS_EVIDENCE.findings] = findings
    assert not findings, "\n".join(findings)


def test_handshake_time_and_resumption(
    compat_stack: Gateway,
    traefik_pki: SessionPKI,
    traefik_settings: Settings,
    traefik_record: RecordFactory,
) -> None:
    record = traefik_record(TLS_EVIDENCE.check, variant="handshakes")
    port, path = compat_stack.https_port, _health(compat_stack)
    count = max(traefik_settings.handshakes, 20)
    full = tp.full_handshakes(
        port, traefik_pki.client_context, sni=traefik.APP_HOST, count=count, path=path
    )
    resumed, first = tp.resumed_handshakes(
        port, traefik_pki.client_context, sni=traefik.APP_HOST, count=count, path=path
    )
    record.add_samples(TLS_EVIDENCE.full_handshake, [s * 1000 for s in full.seconds], "ms")
    record.add_samples(TLS_EVIDENCE.resumed_handshake, [s * 1000 for s in resumed.seconds], "ms")
    _, low, high = overhead.median_ci([s * 1000 for s in full.seconds])
    record.figure(TLS_EVIDENCE.full_ci_low, MISSING if low is None else round(low, 3), "ms")
    record.figure(TLS_EVIDENCE.full_ci_high, MISSING if high is None else round(high, 3), "ms")
    _, low, high = overhead.median_ci([s * 1000 for s in resumed.seconds])
    record.figure(TLS_EVIDENCE.resumed_ci_low, MISSING if low is None else round(low, 3), "ms")
    record.figure(TLS_EVIDENCE.resumed_ci_high, MISSING if high is None else round(high, 3), "ms")
    record.figure(TLS_EVIDENCE.full_reused, full.reused_count, "count")
    record.figure(TLS_EVIDENCE.resumed, resumed.reused_count, "count")
    record.details[TLS_EVIDENCE.outcomes] = {
        "full": full.outcomes,
        "resumed": resumed.outcomes,
        "first": first.as_dict(),
    }
    assert full.accepted == full.attempts == count, full.outcomes
    assert full.reused_count == 0, "a handshake timed as full was resumed"
    assert resumed.accepted == resumed.attempts, resumed.outcomes
    # Recorded, not asserted: whether this gateway resumes is what the figure says.


@pytest.mark.parametrize("concurrency", overhead.CONCURRENCIES)
@pytest.mark.parametrize("mode", overhead.MODES)
def test_gateway_overhead(
    mode: str,
    concurrency: int,
    compat_stack: Gateway,
    traefik_pki: SessionPKI,
    traefik_record: RecordFactory,
) -> None:
    record = traefik_record(GATEWAY_OVERHEAD.check, variant=f"{mode}-c{concurrency}")
    service = next(iter(compat_stack.services.values()))
    direct_url = urllib.parse.urlsplit(service.http_url)
    path = _health(compat_stack)
    result = overhead.compare(
        overhead.Target(int(direct_url.port or 80), path, address=direct_url.hostname or ""),
        overhead.Target(
            compat_stack.https_port, path, traefik_pki.client_context, traefik.APP_HOST
        ),
        mode=mode,
        concurrency=concurrency,
        requests=OVERHEAD_REQUESTS,
        time_budget=OVERHEAD_BUDGET_S,
    )
    for name, value in result.figures().items():
        record.figure(name, MISSING if value is None else value, "" if "requests" in name else "ms")
    record.add_samples(GATEWAY_OVERHEAD.direct, list(result.direct.ms), "ms")
    record.add_samples(GATEWAY_OVERHEAD.traefik, list(result.traefik.ms), "ms")
    record.details[GATEWAY_OVERHEAD.errors] = {
        "direct": result.direct.errors,
        "traefik": result.traefik.errors,
    }
    assert not result.direct.errors and not result.traefik.errors, record.details
    assert len(result.direct.seconds) == len(result.traefik.seconds) == OVERHEAD_REQUESTS


def test_forwarded_leaf_serial(
    compat_stack: Gateway, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """passTLSClientCert: the first forwarded certificate is the client's leaf (subject
    and serial); Traefik forwards the whole chain the client sent, leaf first."""
    record = traefik_record(TLS_EVIDENCE.check, variant="forwarded")
    with compat_stack.https_client() as client:
        seen = client.get("/api/whoami").json()
    info = urllib.parse.unquote_plus(seen.get("client_cert_info") or "")
    entries = tp.forwarded_info_entries(info)
    record.figure("forwarded_entries", len(entries), "count")
    record.details[TLS_EVIDENCE.outcomes] = {"entries": entries}
    assert entries, f"backend saw {info!r}"
    leaf = traefik_pki.client.cert
    assert entries[0].get("SerialNumber") == str(leaf.serial_number), entries
    assert leaf.subject.rfc4514_string().split(",")[0][3:] in entries[0]["Subject"], entries
