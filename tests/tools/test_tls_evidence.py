"""Refusals by their TLS alert, handshake timing and resumption, the SNI x Host matrix
(domain fronting), passTLSClientCert and client chain variants, all on the real Traefik
binary on 127.0.0.1 (no engine). One gateway for the module: it starts in about 1 s."""

from __future__ import annotations

import base64
import ssl
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography import x509

from pytest_traefik_compat.gateway import tlsprobe as tp
from pytest_traefik_compat.pki import BAD_CLIENT_KINDS, client_context
from tests.helpers import local_traefik as lt

APP = "app.compat.test"
OPEN = "open.compat.test"  # another route with a weaker TLS option (no client auth, TLS 1.2)
INTER = "inter.compat.test"  # caFiles: the intermediate only
PATHLEN = "pathlen.compat.test"
NAMES = "names.compat.test"
HANG = "hang.compat.test"  # a backend that never answers
HOSTS = (APP, OPEN, INTER, PATHLEN, NAMES, HANG)


@dataclass
class Stack:
    gw: lt.LocalTraefik
    certs: lt.Certs
    pathlen: lt.CustomChain
    names: lt.CustomChain

    def probe(self, context: ssl.SSLContext, sni: str | None, **kwargs: object) -> tp.TlsProbe:
        return tp.probe_tls(self.gw.websecure, context, sni=sni, timeout=3, **kwargs)  # type: ignore[arg-type]

    def valid(self) -> ssl.SSLContext:
        return self.certs.pki.client_context()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    lt.binary_or_skip()
    tmp = tmp_path_factory.mktemp("tls-evidence")
    certs = lt.make_certs(tmp / "certs", HOSTS)
    pathlen = lt.custom_chain(tmp / "pathlen", "pathlen")
    names = lt.custom_chain(tmp / "names", "name")
    mtls = lt.mtls_option([certs.root_ca])
    with lt.http_backend() as echo, lt.http_backend(lt._Hang) as hang:
        dynamic = {
            "http": {
                "routers": {
                    "app": lt.router(f"Host(`{APP}`)", "echo", "mtls", middlewares=["cert"]),
                    "open": lt.router(f"Host(`{OPEN}`)", "echo", "open"),
                    "inter": lt.router(f"Host(`{INTER}`)", "echo", "inter", middlewares=["cert"]),
                    "pathlen": lt.router(f"Host(`{PATHLEN}`)", "echo", "pathlen"),
                    "names": lt.router(f"Host(`{NAMES}`)", "echo", "names"),
                    "hang": lt.router(f"Host(`{HANG}`)", "hang", "mtls"),
                },
                "services": {"echo": lt.service(echo), "hang": lt.service(hang)},
                "middlewares": {
                    "cert": {
                        "passTLSClientCert": {
                            "pem": True,
                            "info": {"serialNumber": True, "subject": {"commonName": True}},
                        }
                    }
                },
            },
            "tls": lt.tls_section(
                certs,
                {
                    "default": mtls,
                    "mtls": dict(mtls),
                    "open": {"minVersion": "VersionTLS12"},
                    "inter": lt.mtls_option([certs.intermediate_ca]),
                    "pathlen": lt.mtls_option([pathlen.root_ca]),
                    "names": lt.mtls_option([names.root_ca]),
                },
            ),
        }
        with lt.run_traefik(tmp, dynamic) as gw:
            yield Stack(gw, certs, pathlen, names)


# ----------------------------------------------------- every refusal by its alert


@pytest.mark.parametrize("kind", BAD_CLIENT_KINDS)
def test_bad_client_refused_with_its_alert(stack: Stack, kind: str) -> None:
    outcome = stack.probe(stack.certs.pki.client_context(kind), APP)
    assert outcome.outcome == tp.EXPECTED_REFUSALS[kind], outcome
    # TLS 1.3: the client's handshake completes; the server's verdict comes on the read.
    assert outcome.stage == tp.STAGE_READ
    assert tp.refusal_findings({kind: outcome}) == []


def test_tls12_no_sni_and_unknown_sni_refused_with_their_alerts(stack: Stack) -> None:
    capped = stack.certs.pki.client_context(max_version=ssl.TLSVersion.TLSv1_2)
    anonymous = stack.valid()
    anonymous.check_hostname = False
    outcomes = {
        "tls12": stack.probe(capped, APP),
        "no-sni": stack.probe(anonymous, None),
        "unknown-sni": stack.probe(anonymous, "other.compat.test"),
    }
    assert {k: o.outcome for k, o in outcomes.items()} == {
        k: tp.EXPECTED_REFUSALS[k] for k in outcomes
    }
    assert all(o.stage == tp.STAGE_HANDSHAKE for o in outcomes.values())
    assert tp.refusal_findings(outcomes) == []


def test_a_hanging_backend_is_a_finding_not_a_refusal(stack: Stack) -> None:
    """The old rule (refused = not accepted) counted this timeout as a bad client refused."""
    outcome = tp.probe_tls(stack.gw.websecure, stack.valid(), sni=HANG, timeout=1.5)
    assert outcome.outcome == tp.TIMEOUT and outcome.stage == tp.STAGE_READ, outcome
    findings = tp.refusal_findings({"no-certificate": outcome})
    assert len(findings) == 1 and "timeout" in findings[0] and "no evidence" in findings[0]


def test_a_silent_server_and_a_reset_fail_the_check() -> None:
    context = ssl.create_default_context()
    with lt.hanging_server() as port:
        silent = tp.probe_tls(port, context, sni=APP, timeout=1.0)
    assert (silent.outcome, silent.stage) == (tp.TIMEOUT, tp.STAGE_HANDSHAKE)
    port = lt.free_port()  # nothing listens
    closed = tp.probe_tls(port, context, sni=APP, timeout=1.0)
    assert closed.outcome == tp.CONNECT
    findings = tp.refusal_findings({"expired": silent, "unrelated-ca": closed})
    assert len(findings) == 2


def test_client_side_verification_failure_is_a_finding(stack: Stack) -> None:
    """Our client not trusting the gateway's certificate says nothing about its policy."""
    from pytest_traefik_compat.pki import CertificateAuthority

    stranger = client_context(CertificateAuthority.root("someone else"), stack.certs.pki.client)
    outcome = stack.probe(stranger, APP)
    assert (outcome.outcome, outcome.stage) == (tp.CLIENT_VERIFY, tp.STAGE_HANDSHAKE)
    assert tp.refusal_findings({"unrelated-ca": outcome})


# ----------------------------------------------------- handshake time and resumption


def test_full_handshakes_are_timed_alone_and_never_resumed(stack: Stack) -> None:
    series = tp.full_handshakes(stack.gw.websecure, stack.valid, sni=APP, count=8)
    assert series.attempts == series.accepted == 8, series.outcomes
    assert series.reused == [False] * 8
    assert all(0 < s < 3 for s in series.seconds)


def test_traefik_resumes_tls13_sessions_with_a_ticket(stack: Stack) -> None:
    series, first = tp.resumed_handshakes(stack.gw.websecure, stack.valid, sni=APP, count=6)
    assert first.outcome == "http:200" and first.session_reused is False
    assert series.accepted == 6, series.outcomes
    # Seen with Traefik 3.7.15: every ticket offered is accepted (client auth kept).
    assert series.reused == [True] * 6


# ----------------------------------------------------- SNI x Host, domain fronting


def test_sni_host_matrix_and_domain_fronting(stack: Stack) -> None:
    valid = stack.valid()
    anonymous = stack.valid()
    anonymous.check_hostname = False
    cases = {
        "correct": stack.probe(valid, APP, host_header=APP),
        "no-sni": stack.probe(anonymous, None, host_header=APP),
        "unknown-sni": stack.probe(anonymous, "other.compat.test", host_header=APP),
        # SNI of the weak route (no client auth), Host of the mTLS route: fronting.
        "front-open-to-app": stack.probe(valid, OPEN, host_header=APP),
        "front-app-to-open": stack.probe(valid, APP, host_header=OPEN),
    }
    got = {k: o.outcome for k, o in cases.items()}
    assert got == {
        "correct": "http:200",
        "no-sni": tp.alert("unrecognized_name"),
        "unknown-sni": tp.alert("unrecognized_name"),
        "front-open-to-app": "http:421",
        "front-app-to-open": "http:421",
    }
    for case in ("correct", "front-open-to-app", "front-app-to-open"):
        assert cases[case].peer_dn == "CN=compat gateway", cases[case]
    # The fronted request never reached the backend (echo would answer JSON with 200).
    assert b"headers" not in cases["front-open-to-app"].body


# ----------------------------------------------------- what the backend receives


def _forwarded(outcome: tp.TlsProbe) -> list[x509.Certificate]:
    import json

    headers = json.loads(outcome.body)["headers"]
    value = urllib.parse.unquote(headers["X-Forwarded-Tls-Client-Cert"])
    return [x509.load_der_x509_certificate(base64.b64decode(p)) for p in value.split(",") if p]


def test_pass_tls_client_cert_forwards_the_leaf_first(stack: Stack) -> None:
    """Seen with Traefik 3.7.15: both headers carry every certificate the client sent,
    leaf first, comma-separated (here leaf, intermediate): the PEM header as base64 DER
    entries, the Info header as one Subject/SerialNumber entry per certificate. So the
    leaf is the *first* entry; a backend that reads the last one, or the whole header
    as one certificate, gets the intermediate."""
    import json

    pki = stack.certs.pki
    outcome = stack.probe(stack.valid(), APP, path="/whoami")
    assert outcome.outcome == "http:200", outcome
    forwarded = _forwarded(outcome)
    assert forwarded[0].serial_number == pki.client.cert.serial_number
    assert forwarded[0].subject == pki.client.cert.subject
    assert [c.subject for c in forwarded[1:]] == [pki.intermediate.cert.subject]
    headers = json.loads(outcome.body)["headers"]
    info = urllib.parse.unquote_plus(headers["X-Forwarded-Tls-Client-Cert-Info"])
    entries = tp.forwarded_info_entries(info)
    assert entries[0] == {
        "Subject": f"CN={pki.client.cert.subject.rfc4514_string().split(',')[0][3:]}",
        "SerialNumber": str(pki.client.cert.serial_number),
    }, info
    assert entries[1]["SerialNumber"] == str(pki.intermediate.cert.serial_number)


# ----------------------------------------------------- client chain variants


def test_leaf_only_while_server_trusts_the_root_is_unknown_ca(stack: Stack) -> None:
    leaf_only = client_context(stack.certs.pki.root, stack.certs.pki.client, include_chain=False)
    assert stack.probe(leaf_only, APP).outcome == tp.alert("unknown_ca")


def test_ca_files_holding_the_intermediate_only(stack: Stack) -> None:
    """Recorded behaviour (Traefik 3.7.15, Go crypto/x509): an intermediate in caFiles is
    an anchor of its own; clients of that intermediate get in with or without sending
    it, and a client of another intermediate of the same root is unknown_ca."""
    pki = stack.certs.pki
    full = stack.probe(stack.valid(), INTER, path="/whoami")
    leaf_only = stack.probe(client_context(pki.root, pki.client, include_chain=False), INTER)
    sibling = pki.root.intermediate("sibling intermediate").issue_client("sibling client")
    other = stack.probe(client_context(pki.root, sibling), INTER)
    assert (full.outcome, leaf_only.outcome, other.outcome) == (
        "http:200",
        "http:200",
        tp.alert("unknown_ca"),
    )


@pytest.mark.parametrize("violation", ["pathlen", "names"])
def test_a_chain_breaking_a_ca_constraint_is_refused(stack: Stack, violation: str) -> None:
    chain = stack.pathlen if violation == "pathlen" else stack.names
    context = client_context(stack.certs.pki.root)
    context.load_cert_chain(chain.client_cert, chain.client_key)
    host = PATHLEN if violation == "pathlen" else NAMES
    outcome = stack.probe(context, host)
    assert outcome.outcome == tp.alert("bad_certificate"), outcome


def test_log_has_no_config_error(stack: Stack) -> None:
    from pytest_traefik_compat.gateway.logs import config_errors

    assert config_errors(stack.gw.log()) == []
