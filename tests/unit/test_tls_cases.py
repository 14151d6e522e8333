"""The per-base TLS cases (issue 14): expectations and refusals on outcome classes, the
routes a second gateway adds through extra_dynamic, the constraint-breaking chains, and
the report's table of the gateway's answer per case and base. Pure, no network."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
from cryptography import x509

from pytest_traefik_compat import report
from pytest_traefik_compat.gateway import tlsprobe as tp
from pytest_traefik_compat.gateway import traefik as t
from pytest_traefik_compat.gateway.render import render_dynamic
from pytest_traefik_compat.pki import chains as pki_chains
from pytest_traefik_compat.records import Record, checks
from pytest_traefik_compat.records.checks import CASE_OUTCOME, TLS_EVIDENCE
from pytest_traefik_compat.report import tables

# ----------------------------------------------------- expectations on outcome classes


def test_matches_one_class_alternatives_and_any_alert() -> None:
    fronted = f"{tp.http(421)}|{tp.ANY_ALERT}"
    assert tp.matches("http:421", fronted)
    assert tp.matches("alert:certificate_required", fronted)
    assert not tp.matches("http:200", fronted)
    assert not tp.matches("timeout", fronted)
    assert tp.matches("alert:unknown_ca", "alert:unknown_ca")
    assert not tp.matches("alert:bad_certificate", "alert:unknown_ca")


def _outcome(cls: str, stage: str = tp.STAGE_READ, status: int | None = None) -> tp.TlsProbe:
    return tp.TlsProbe(sni="app.compat.test", outcome=cls, stage=stage, status=status)


def test_refused_means_an_alert_and_nothing_else() -> None:
    """Only an alert is a refusal: a timeout, a reset or our own client failing is not."""
    assert tp.refused(_outcome("alert:unknown_ca"))
    for cls in (tp.TIMEOUT, tp.RESET, tp.EOF, tp.CLIENT_VERIFY, tp.CONNECT):
        assert not tp.refused(_outcome(cls))
    # An HTTP status, even 421, comes after the TLS layer let the client in.
    assert not tp.refused(_outcome("http:421", tp.STAGE_OK, 421))


def test_recorded_cases_need_evidence_only() -> None:
    outcomes = {"anchor": _outcome("http:200", tp.STAGE_OK, 200), "late": _outcome(tp.TIMEOUT)}
    expected = {"anchor": checks.RECORDED, "late": checks.RECORDED}
    findings = tp.refusal_findings(outcomes, expected)
    assert len(findings) == 1 and findings[0].startswith("late: timeout")
    # The probe's own word for "record only" is the vocabulary's, which the report reads.
    assert tp.RECORDED == checks.RECORDED


def test_case_outcome_keys_are_outcome_fields() -> None:
    keys = set(_outcome("http:200").as_dict())
    assert {getattr(CASE_OUTCOME, f.name) for f in fields(CASE_OUTCOME)} <= keys


def test_a_case_record_keeps_its_keys_and_the_rfc4514_subject() -> None:
    probe = _outcome("http:200", tp.STAGE_OK, 200)
    probe.peer_subject, probe.peer_dn = "commonName=app", "CN=app"
    probe.seconds = 0.25
    record = probe.as_dict()
    assert list(record) == [
        "sni", "outcome", "stage", "error", "status", "version", "cipher",
        "peer_subject", "peer_serial", "session_reused", "handshake_s", "total_s",
    ]  # fmt: skip
    assert record["peer_subject"] == "CN=app" and record["total_s"] == 0.25


def test_case_vocabulary_has_one_name_per_case() -> None:
    for cases in (checks.SNI_HOST_CASES, checks.CHAIN_CASES):
        assert len(set(cases)) == len(cases)
    assert set(checks.TLS_CASE_VARIANTS) == {
        checks.TLS_REFUSALS,
        checks.TLS_SNI_HOST,
        checks.TLS_CHAINS,
    }
    assert checks.TLS12 in tp.EXPECTED_REFUSALS
    assert TLS_EVIDENCE.check in checks.CHECK_ORDER


# ----------------------------------------------------- routes added through extra_dynamic


def _config(**extra: Any) -> t.GatewayConfig:
    return t.GatewayConfig(backends=t.sample_backends("http://svc:8080", "h2c://svc:9090"), **extra)


def test_extra_routers_get_certificate_names_and_readiness() -> None:
    extra = {
        "http": {
            "routers": {
                # amends a backend's router: not a new one
                "app": {"middlewares": ["limit"]},
                "open": t.tls_router("open.compat.test", "open"),
                "pathlen": t.tls_router("pathlen.compat.test", "pathlen"),
            }
        },
        "tls": {"options": {"open": {"minVersion": "VersionTLS12"}}},
    }
    config = _config(extra_dynamic=extra)
    assert config.hosts == [
        "app.compat.test",
        "grpc.compat.test",
        "open.compat.test",
        "pathlen.compat.test",
    ]
    assert t.router_names(config) == ["app@file", "grpc@file", "open@file", "pathlen@file"]
    assert t.service_names(config) == ["app@file", "grpc@file"]
    router = render_dynamic(config)["http"]["routers"]["open"]
    assert router == {
        "rule": "Host(`open.compat.test`)",
        "entryPoints": [t.WEBSECURE_ENTRYPOINT],
        "service": "app",
        "tls": {"options": "open"},
    }
    # Without extra routers nothing changes.
    assert _config().hosts == ["app.compat.test", "grpc.compat.test"]
    with pytest.raises(ValueError):
        t.tls_router("10.0.0.1", "open")  # no SNI is ever an IP literal


def test_strict_option_is_the_gateways_policy_with_other_ca_files() -> None:
    config = _config()
    dynamic = render_dynamic(config)
    assert t.strict_option([config.ca_file]) == dynamic["tls"]["options"]["default"]
    pem = "-----BEGIN CERTIFICATE-----\n..."
    assert t.strict_option([pem])["clientAuth"]["caFiles"] == [pem]


# ----------------------------------------------------- chains breaking a CA constraint


def _basic(cert: x509.Certificate) -> x509.BasicConstraints:
    return cert.extensions.get_extension_for_class(x509.BasicConstraints).value


def test_pathlen_chain_has_one_ca_too_many() -> None:
    root, client = pki_chains.constraint_breaking_client("pathlen")
    sub, inter = client.chain
    assert _basic(inter).path_length == 0 and _basic(sub).ca
    assert inter.issuer == root.cert.subject and sub.issuer == inter.subject
    assert client.cert.issuer == sub.subject
    assert b"PRIVATE KEY" in client.key_pem.bytes()


def test_name_chain_leaf_is_outside_the_constraint() -> None:
    root, client = pki_chains.constraint_breaking_client("name")
    [inter] = client.chain
    constraint = inter.extensions.get_extension_for_class(x509.NameConstraints).value
    assert [n.value for n in constraint.permitted_subtrees or ()] == [pki_chains.PERMITTED_NAME]
    sans = client.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [pki_chains.OUTSIDE_NAME]
    assert inter.issuer == root.cert.subject
    with pytest.raises(ValueError):
        pki_chains.constraint_breaking_client("expired")  # type: ignore[arg-type]


# ----------------------------------------------------- the report's table


def _cases(base: str, variant: str, got: dict[str, str], want: dict[str, str]) -> Record:
    record = Record(base=base, check=TLS_EVIDENCE.check, variant=variant)
    for case, cls in got.items():
        record.figure(case, cls)
    record.details[TLS_EVIDENCE.outcomes] = {
        case: {"outcome": cls, "stage": "read", "status": None, "peer_subject": "CN=app"}
        for case, cls in got.items()
    }
    record.details[TLS_EVIDENCE.expected] = want
    return record


def _records() -> list[Record]:
    fronted = "http:421|alert:*"
    want = {"correct": "http:200", "front-open-to-app": fronted}
    records = []
    for base, front in (("alpine", "http:421"), ("distroless", "timeout")):
        records.append(
            _cases(
                base,
                checks.TLS_REFUSALS,
                {"no-certificate": "alert:certificate_required"},
                {"no-certificate": "alert:certificate_required"},
            )
        )
        records.append(
            _cases(
                base,
                checks.TLS_SNI_HOST,
                {"correct": "http:200", "front-open-to-app": front},
                want,
            )
        )
        records.append(
            _cases(
                base,
                checks.TLS_CHAINS,
                {"intermediate-in-ca-files": "http:200"},
                {"intermediate-in-ca-files": checks.RECORDED},
            )
        )
        handshakes = Record(base=base, check=TLS_EVIDENCE.check, variant=checks.TLS_HANDSHAKES)
        handshakes.add_samples(TLS_EVIDENCE.full_handshake, [1.0, 1.2, 1.1], "ms")
        handshakes.figure(TLS_EVIDENCE.resumed, 20, "count")
        handshakes.figure(TLS_EVIDENCE.resumed_offered, 20, "count")
        records.append(handshakes)
    return records


def test_the_report_shows_the_answer_per_case_and_base() -> None:
    built = tables.build_tables(tables.Index(_records()))
    table = next(x for x in built if x.key == f"{TLS_EVIDENCE.check}-cases")
    rows = {r[0].text: [c.text for c in r[1:]] for r in table.rows}
    assert rows["no-certificate"] == ["certificate_required"] * 3
    assert rows["sni-host/correct"] == ["HTTP 200"] * 3
    # distroless timed out: a finding, marked, never read as a refusal.
    assert rows["sni-host/front-open-to-app"] == ["HTTP 421 or any alert", "HTTP 421", "timeout !"]
    assert rows["chains/intermediate-in-ca-files"] == ["recorded", "HTTP 200", "HTTP 200"]
    assert not any(x.generic and x.title == TLS_EVIDENCE.check for x in built)
    handshakes = next(x for x in built if x.key == f"{TLS_EVIDENCE.check}-handshakes")
    assert [c.text for c in handshakes.rows[0]][4] == "20/20"


def test_the_tls_tables_fit_the_terminal() -> None:
    lines = report.terminal_tables(_records())
    assert max(len(line) for line in lines) <= 100
    assert "TLS evidence: the gateway's answer per case" in lines
