"""TLS and mTLS with evidence, per base (issue 14): every refusal by the alert the gateway
sent, handshake time alone (full, and resumed with a TLS 1.3 ticket), the gateway's
overhead at steady state, direct vs through Traefik, the SNI x Host matrix (domain
fronting) and client chain variants.

The SNI x Host and chain cases need routes with other TLS options than the suite's
strict one. They get a second, small gateway per base (``routes_stack``, this module
only, closed when the module is done on that base), so ``compat_stack`` and every
check reading it stay exactly as they are.
"""

from __future__ import annotations

import ssl
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.bases.images import ServiceBuild
from pytest_traefik_compat.gateway import overhead, traefik
from pytest_traefik_compat.gateway import tlsprobe as tp
from pytest_traefik_compat.gateway.stack import Gateway, ServiceSpec
from pytest_traefik_compat.pki import BAD_CLIENT_KINDS, LeafCertificate, SessionPKI, client_context
from pytest_traefik_compat.pki import chains as pki_chains
from pytest_traefik_compat.plugin.session import CompatSession
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    CHAIN_INTERMEDIATE_ANCHOR,
    CHAIN_LEAF_ONLY,
    CHAIN_NAME,
    CHAIN_PATHLEN,
    FRONT_STRICT_TO_WEAK,
    FRONT_WEAK_TO_STRICT,
    GATEWAY_OVERHEAD,
    MISSING,
    NO_SNI,
    RECORDED,
    SNI_CORRECT,
    TLS12,
    TLS_CHAINS,
    TLS_EVIDENCE,
    TLS_FORWARDED,
    TLS_HANDSHAKES,
    TLS_REFUSALS,
    TLS_SNI_HOST,
    UNKNOWN_SNI,
)

RecordFactory = Callable[..., Record]
OVERHEAD_REQUESTS = 200
OVERHEAD_BUDGET_S = 60.0
PROBE_TIMEOUT_S = 5.0

# The routes of the second gateway: host -> TLS option (app.compat.test keeps the
# strict "mtls" option; each of these has its own).
OPEN_HOST = f"open.{traefik.DEFAULT_DOMAIN}"  # TLS 1.2, no client auth: the fronting pair
PATHLEN_HOST = f"pathlen.{traefik.DEFAULT_DOMAIN}"  # strict, trusting the pathlen root
NAMES_HOST = f"names.{traefik.DEFAULT_DOMAIN}"  # strict, trusting the name-constraint root
INTER_HOST = f"inter.{traefik.DEFAULT_DOMAIN}"  # strict, caFiles: the intermediate only
UNKNOWN_HOST = f"other.{traefik.DEFAULT_DOMAIN}"
FRONTED = f"{tp.http(421)}|{tp.ANY_ALERT}"  # Misdirected Request, or refused

SNI_HOST_EXPECTED = {
    SNI_CORRECT: tp.http(200),
    NO_SNI: tp.EXPECTED_REFUSALS[NO_SNI],
    UNKNOWN_SNI: tp.EXPECTED_REFUSALS[UNKNOWN_SNI],
    FRONT_WEAK_TO_STRICT: FRONTED,
    FRONT_STRICT_TO_WEAK: FRONTED,
}
# Go's crypto/x509 behind Traefik: no path to a trusted root -> unknown_ca; a path
# that breaks a CA constraint -> bad_certificate. An intermediate in caFiles is an
# anchor of its own (recorded: a leaf-only client of it gets in).
CHAIN_EXPECTED = {
    CHAIN_LEAF_ONLY: tp.alert("unknown_ca"),
    CHAIN_PATHLEN: tp.alert("bad_certificate"),
    CHAIN_NAME: tp.alert("bad_certificate"),
    CHAIN_INTERMEDIATE_ANCHOR: RECORDED,
}


def _health(stack: Gateway) -> str:
    return stack.service_specs[0].health_path


@dataclass
class RoutesStack:
    """The second gateway, the TLS option of each route, the constraint-breaking clients."""

    gateway: Gateway
    routes: dict[str, str]
    breaking: dict[str, LeafCertificate]

    def probe(
        self, context: ssl.SSLContext, sni: str | None, host_header: str = traefik.APP_HOST
    ) -> tp.Outcome:
        return tp.timed_handshake(
            self.gateway.https_port,
            context,
            sni=sni,
            path=_health(self.gateway),
            host_header=host_header,
            timeout=PROBE_TIMEOUT_S,
        )


@pytest.fixture(scope="module")
def routes_stack(
    traefik_base: BaseImage,
    static_build: ServiceBuild,
    traefik_gateway: Callable[..., Gateway],
    traefik_pki: SessionPKI,
) -> Iterator[RoutesStack]:
    """A small gateway on this base: the sample service behind app.compat.test (the
    suite's strict option) and behind one route per other TLS option. The constraint
    roots go into caFiles as PEM text: nothing more is mounted."""
    pathlen_root, pathlen_client = pki_chains.constraint_breaking_client("pathlen")
    names_root, names_client = pki_chains.constraint_breaking_client("name")
    options = {
        "open": {"minVersion": "VersionTLS12"},
        "pathlen": traefik.strict_option([pathlen_root.cert_pem.text()]),
        "names": traefik.strict_option([names_root.cert_pem.text()]),
        "inter": traefik.strict_option([traefik_pki.intermediate.cert_pem.text()]),
    }
    routes = {OPEN_HOST: "open", PATHLEN_HOST: "pathlen", NAMES_HOST: "names", INTER_HOST: "inter"}
    extra = {
        "http": {
            "routers": {option: traefik.tls_router(host, option) for host, option in routes.items()}
        },
        "tls": {"options": options},
    }
    gateway = traefik_gateway(
        traefik_base, [ServiceSpec(static_build.tag, grpc_port=None)], extra_dynamic=extra
    )
    yield RoutesStack(
        gateway,
        {traefik.APP_HOST: traefik.MTLS_OPTION, **routes},
        {CHAIN_PATHLEN: pathlen_client, CHAIN_NAME: names_client},
    )
    gateway.close()


def _record_cases(
    record: Record, outcomes: dict[str, tp.Outcome], expected: dict[str, str]
) -> list[str]:
    """One figure per case (its outcome class), the outcomes and expectations in the
    details; returns the findings (a case off its expectation, or no evidence)."""
    findings = tp.refusal_findings(outcomes, expected)
    for case, outcome in outcomes.items():
        record.figure(case, outcome.outcome)
    record.figure(TLS_EVIDENCE.cases, len(outcomes), "count")
    record.figure(TLS_EVIDENCE.unexpected, len(findings), "count")
    record.details[TLS_EVIDENCE.outcomes] = {k: o.as_dict() for k, o in outcomes.items()}
    record.details[TLS_EVIDENCE.expected] = {k: expected.get(k, MISSING) for k in outcomes}
    record.details[TLS_EVIDENCE.findings] = findings
    return findings


def test_refusals_by_alert(
    compat_stack: Gateway, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """Each bad client, a TLS-1.2-capped client, no SNI and an unknown SNI: refused
    with the expected TLS alert. A timeout, reset or client-side failure fails."""
    record = traefik_record(TLS_EVIDENCE.check, variant=TLS_REFUSALS)
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
    outcomes[UNKNOWN_SNI] = tp.timed_handshake(port, anonymous, sni=UNKNOWN_HOST, path=path)
    findings = _record_cases(record, outcomes, tp.EXPECTED_REFUSALS)
    assert not findings, "\n".join(findings)


def test_handshake_time_and_resumption(
    compat_stack: Gateway,
    traefik_pki: SessionPKI,
    traefik_settings: Settings,
    traefik_compat: CompatSession,
    traefik_record: RecordFactory,
) -> None:
    record = traefik_record(TLS_EVIDENCE.check, variant=TLS_HANDSHAKES)
    port, path = compat_stack.https_port, _health(compat_stack)
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
    record.figure(TLS_EVIDENCE.resumed_offered, resumed.attempts, "count")
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
    traefik_compat: CompatSession,
    traefik_record: RecordFactory,
) -> None:
    record = traefik_record(GATEWAY_OVERHEAD.check, variant=f"{mode}-c{concurrency}")
    service = next(iter(compat_stack.services.values()))
    direct_url = urllib.parse.urlsplit(service.http_url)
    path = _health(compat_stack)
    with traefik_compat.timing_series(
        compat_stack, f"overhead-{mode}-c{concurrency}"
    ) as conditions:
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
    record.figure(GATEWAY_OVERHEAD.noisy, conditions.noisy)
    record.details[GATEWAY_OVERHEAD.conditions] = conditions.as_dict()
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


def test_sni_host_matrix(
    routes_stack: RoutesStack, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """Correct SNI, none, an unknown one, and domain fronting both ways between the
    strict app route and the open route (TLS 1.2, no client auth): fronting must end
    in 421 Misdirected Request or a refusal, never in the other route's backend. The
    certificate served (its subject) and the status are recorded per case."""
    record = traefik_record(TLS_EVIDENCE.check, variant=TLS_SNI_HOST)
    valid = traefik_pki.client_context()
    anonymous = traefik_pki.client_context()
    anonymous.check_hostname = False
    stack = routes_stack
    outcomes = {
        SNI_CORRECT: stack.probe(valid, traefik.APP_HOST),
        NO_SNI: stack.probe(anonymous, None),
        UNKNOWN_SNI: stack.probe(anonymous, UNKNOWN_HOST),
        FRONT_WEAK_TO_STRICT: stack.probe(valid, OPEN_HOST, host_header=traefik.APP_HOST),
        FRONT_STRICT_TO_WEAK: stack.probe(valid, traefik.APP_HOST, host_header=OPEN_HOST),
    }
    findings = _record_cases(record, outcomes, SNI_HOST_EXPECTED)
    served = outcomes[SNI_CORRECT].peer_subject
    record.figure(TLS_EVIDENCE.served_subject, served or MISSING)
    record.details[TLS_EVIDENCE.routes] = stack.routes
    assert not findings, "\n".join(findings)
    assert served and traefik.APP_HOST in served, outcomes[SNI_CORRECT]
    # Every completed handshake got the gateway's own certificate, fronted ones too.
    subjects = {case: o.peer_subject for case, o in outcomes.items() if o.peer_subject}
    assert set(subjects.values()) == {served}, subjects


def test_client_chain_variants(
    routes_stack: RoutesStack, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """A leaf sent without its intermediate while the server trusts the root is
    unknown_ca; complete chains that break an intermediate's path length or name
    constraint are bad_certificate; caFiles holding the intermediate only: recorded."""
    record = traefik_record(TLS_EVIDENCE.check, variant=TLS_CHAINS)
    stack, root, leaf = routes_stack, traefik_pki.root, traefik_pki.client
    leaf_only = client_context(root, leaf, include_chain=False)
    outcomes = {
        CHAIN_LEAF_ONLY: stack.probe(leaf_only, traefik.APP_HOST),
        CHAIN_PATHLEN: stack.probe(
            client_context(root, stack.breaking[CHAIN_PATHLEN]), PATHLEN_HOST, PATHLEN_HOST
        ),
        CHAIN_NAME: stack.probe(
            client_context(root, stack.breaking[CHAIN_NAME]), NAMES_HOST, NAMES_HOST
        ),
        CHAIN_INTERMEDIATE_ANCHOR: stack.probe(leaf_only, INTER_HOST, INTER_HOST),
    }
    findings = _record_cases(record, outcomes, CHAIN_EXPECTED)
    record.details[TLS_EVIDENCE.routes] = stack.routes
    assert not findings, "\n".join(findings)
