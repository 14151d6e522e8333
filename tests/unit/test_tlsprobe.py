"""Outcome classes from ssl errors, the refusal check's findings, passTLSClientCert's
Info header: pure, no network."""

from __future__ import annotations

import ssl

import pytest

from pytest_traefik_compat.gateway import tlsprobe as tp


@pytest.mark.parametrize(
    ("text", "alert"),
    [
        (
            "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required",
            "certificate_required",
        ),
        ("[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca", "unknown_ca"),
        ("[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate", "bad_certificate"),
        (
            "[SSL: SSLV3_ALERT_CERTIFICATE_EXPIRED] sslv3 alert certificate expired",
            "certificate_expired",
        ),
        ("[SSL: SSLV3_ALERT_UNSUPPORTED_CERTIFICATE] x", "unsupported_certificate"),
        ("[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version", "protocol_version"),
        ("[SSL: TLSV1_UNRECOGNIZED_NAME] tlsv1 unrecognized name", "unrecognized_name"),
    ],
)
def test_alert_read_from_the_openssl_reason(text: str, alert: str) -> None:
    error = ssl.SSLError(1, text)
    assert tp.alert_of(error) == alert
    assert tp.classify_error(error) == tp.alert(alert)
    assert tp.is_evidence(tp.classify_error(error))


def test_non_evidence_classes() -> None:
    assert tp.classify_error(TimeoutError()) == tp.TIMEOUT
    assert tp.classify_error(TimeoutError()) == tp.TIMEOUT
    assert tp.classify_error(ConnectionResetError()) == tp.RESET
    assert tp.classify_error(ConnectionRefusedError()) == tp.CONNECT
    assert tp.classify_error(ssl.SSLEOFError(8, "EOF occurred")) == tp.EOF
    verify = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] x")
    assert tp.classify_error(verify) == tp.CLIENT_VERIFY
    for outcome in (tp.TIMEOUT, tp.RESET, tp.CONNECT, tp.EOF, tp.CLIENT_VERIFY):
        assert not tp.is_evidence(outcome)


def _outcome(outcome: str, stage: str = tp.STAGE_READ, status: int | None = None) -> tp.TlsProbe:
    return tp.TlsProbe(sni="a.test", outcome=outcome, stage=stage, status=status)


def test_refusal_findings() -> None:
    good = {"expired": _outcome(tp.alert("certificate_expired"))}
    assert tp.refusal_findings(good) == []
    wrong = {"expired": _outcome(tp.alert("bad_certificate"))}
    assert tp.refusal_findings(wrong) == [
        "expired: expected alert:certificate_expired, got alert:bad_certificate at read"
    ]
    timeout = {"expired": _outcome(tp.TIMEOUT)}
    assert "no evidence" in tp.refusal_findings(timeout)[0]
    let_in = {"custom": _outcome("http:200", tp.STAGE_OK, 200)}
    assert tp.refusal_findings(let_in) == ["custom: let in with HTTP 200"]
    assert tp.refusal_findings({"custom": _outcome("http:421", tp.STAGE_OK, 421)}) == []


def test_forwarded_info_entries_leaf_first() -> None:
    info = (
        'Subject="CN=client one";SerialNumber="12",Subject="CN=inter, with comma";SerialNumber="34"'
    )
    assert tp.forwarded_info_entries(info) == [
        {"Subject": "CN=client one", "SerialNumber": "12"},
        {"Subject": "CN=inter, with comma", "SerialNumber": "34"},
    ]


def test_outcome_as_dict_is_plain_data() -> None:
    import json

    outcome = _outcome("http:200", tp.STAGE_OK, 200)
    outcome.session = object()  # type: ignore[assignment]  # stands in for an SSLSession
    data = outcome.as_dict()
    assert "session" not in data and json.dumps(data)
