"""TLS options per route, on a second gateway: the SNI x Host matrix (domain fronting)
and client chain variants.

These cases need routes with other TLS options than the suite's strict one. They get a
second, small gateway per base (``routes_stack``, this module only, closed when the
module is done on that base), so ``compat_stack`` and every check reading it stay as
they are.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.bases.images import ServiceBuild
from pytest_traefik_compat.gateway import tlsprobe as tp
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.services import ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.pki import LeafCertificate, SessionPKI, client_context
from pytest_traefik_compat.pki import chains as pki_chains
from pytest_traefik_compat.records.checks import (
    CHAIN_INTERMEDIATE_ANCHOR,
    CHAIN_LEAF_ONLY,
    CHAIN_NAME,
    CHAIN_PATHLEN,
    FRONT_STRICT_TO_WEAK,
    FRONT_WEAK_TO_STRICT,
    MISSING,
    NO_SNI,
    RECORDED,
    SNI_CORRECT,
    TLS_CHAINS,
    TLS_EVIDENCE,
    TLS_SNI_HOST,
    UNKNOWN_SNI,
)
from pytest_traefik_compat.suite.common import (
    UNKNOWN_HOST,
    RecordFactory,
    health_path,
    record_cases,
)

PROBE_TIMEOUT_S = 5.0

# The routes of the second gateway: host -> TLS option (app.compat.test keeps the
# strict "mtls" option; each of these has its own).
OPEN_HOST = f"open.{traefik.DEFAULT_DOMAIN}"  # TLS 1.2, no client auth: the fronting pair
PATHLEN_HOST = f"pathlen.{traefik.DEFAULT_DOMAIN}"  # strict, trusting the pathlen root
NAMES_HOST = f"names.{traefik.DEFAULT_DOMAIN}"  # strict, trusting the name-constraint root
INTER_HOST = f"inter.{traefik.DEFAULT_DOMAIN}"  # strict, caFiles: the intermediate only
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


@dataclass
class RoutesStack:
    """The second gateway, the TLS option of each route, the constraint-breaking clients."""

    gateway: Gateway
    routes: dict[str, str]
    breaking: dict[str, LeafCertificate]

    def probe(
        self, context: ssl.SSLContext, sni: str | None, host_header: str = traefik.APP_HOST
    ) -> tp.TlsProbe:
        return tp.probe_tls(
            self.gateway.https_port,
            context,
            sni=sni,
            path=health_path(self.gateway),
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


def test_tls_evidence_sni_host(
    routes_stack: RoutesStack, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """SNI x Host on the second gateway: the correct SNI, none, an unknown one, and domain
    fronting both ways between the strict app route and the open route (TLS 1.2, no
    client auth).

    Asserts: the correct SNI answers 200; no SNI and an unknown SNI are refused with
    unrecognized_name; fronting either way ends in 421 Misdirected Request or a TLS
    alert, never in the other route's backend; the certificate served names the app
    host, and every completed handshake got that same certificate.
    Records: one figure per case (its outcome class), cases, unexpected, the served
    certificate's subject; details: each case's outcome, stage, status and served
    certificate, the expected class, findings, the gateway's routes and TLS options.
    """
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
    findings = record_cases(record, outcomes, SNI_HOST_EXPECTED)
    served = outcomes[SNI_CORRECT].peer_dn
    record.figure(TLS_EVIDENCE.served_subject, served or MISSING)
    record.details[TLS_EVIDENCE.routes] = stack.routes
    assert not findings, "\n".join(findings)
    assert served and traefik.APP_HOST in served, outcomes[SNI_CORRECT]
    # Every completed handshake got the gateway's own certificate, fronted ones too.
    subjects = {case: o.peer_dn for case, o in outcomes.items() if o.peer_dn}
    assert set(subjects.values()) == {served}, subjects


def test_tls_evidence_chains(
    routes_stack: RoutesStack, traefik_pki: SessionPKI, traefik_record: RecordFactory
) -> None:
    """Client chain variants on the second gateway, each against a route trusting its root.

    Asserts: a leaf sent without its intermediate while the server trusts the root is
    refused with unknown_ca; complete chains that break an intermediate's path length
    or name constraint are refused with bad_certificate; with caFiles holding the
    intermediate only, a leaf-only client gets some answer (its outcome is recorded,
    not asserted).
    Records: one figure per case (its outcome class), cases, unexpected; details: each
    case's outcome, stage, status and served certificate, the expected class, findings,
    the gateway's routes and TLS options.
    """
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
    findings = record_cases(record, outcomes, CHAIN_EXPECTED)
    record.details[TLS_EVIDENCE.routes] = stack.routes
    assert not findings, "\n".join(findings)
