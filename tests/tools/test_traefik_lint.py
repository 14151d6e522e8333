"""lint-traefik: each finding class on a sample config, and each proven a real trap on the
real Traefik binary (127.0.0.1, no engine): the config really lets a client through,
drops client auth, or refuses every client."""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat.gateway import lint
from pytest_traefik_compat.gateway import tlsprobe as tp
from pytest_traefik_compat.gateway import traefik as t
from pytest_traefik_compat.gateway.logs import config_errors
from pytest_traefik_compat.gateway.render import write_config_files
from tests.helpers import local_traefik as lt

APP = "app.compat.test"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> lt.Certs:
    return lt.make_certs(tmp_path_factory.mktemp("lint-certs"), [APP, "b.compat.test"])


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    with lt.http_backend() as url:
        yield url


def _dynamic(
    certs: lt.Certs,
    echo: str,
    routers: dict[str, Any],
    options: dict[str, Any],
    *,
    certificates: bool = True,
) -> dict[str, Any]:
    tls = lt.tls_section(certs, options)
    if not certificates:
        tls.pop("certificates")
    return {"http": {"routers": routers, "services": {"echo": lt.service(echo)}}, "tls": tls}


def _lint(tmp_path: Path, **options: Any) -> list[lint.Finding]:
    """The findings on the dynamic config under test. The local Traefik's static file
    opens its API without authentication on purpose: that finding is always there."""
    findings = lint.lint_paths([tmp_path / "traefik.yml", tmp_path / "dynamic"], **options)
    assert [f.router for f in findings if f.code == lint.API_INSECURE] == ["api.insecure"]
    return [f for f in findings if f.code != lint.API_INSECURE]


def _codes(findings: list[lint.Finding]) -> set[str]:
    return {f.code for f in findings}


def _probe(gw: lt.LocalTraefik, context: ssl.SSLContext, sni: str | None) -> tp.TlsProbe:
    return tp.probe_tls(gw.websecure, context, sni=sni, host_header=APP, timeout=3)


def test_no_host_rule_gets_the_default_option_and_lets_a_client_without_cert_in(
    tmp_path: Path, certs: lt.Certs, echo: str
) -> None:
    routers = {"api": lt.router("PathPrefix(`/`)", "echo", "mtls")}
    dynamic = _dynamic(certs, echo, routers, {"mtls": lt.mtls_option([certs.root_ca])})
    with lt.run_traefik(tmp_path, dynamic, allow_errors=True) as gw:
        findings = _lint(tmp_path)
        outcome = _probe(gw, certs.pki.client_context("no-certificate"), APP)
    assert _codes(findings) == {lint.NO_HOST_RULE, lint.WEAK_DEFAULT}
    [finding] = [f for f in findings if f.code == lint.NO_HOST_RULE]
    assert finding.router == "api" and finding.file.endswith("dynamic.yml")
    assert "Host(" in finding.fix
    # The trap: an option requiring a client certificate, and a client without one gets 200.
    assert outcome.outcome == "http:200", outcome


def test_shared_host_with_different_options_falls_back_to_default(
    tmp_path: Path, certs: lt.Certs, echo: str
) -> None:
    routers = {
        "web": lt.router(f"Host(`{APP}`)", "echo", "mtls"),
        "admin": lt.router(f"Host(`{APP}`) && PathPrefix(`/admin`)", "echo", "admin"),
    }
    options = {
        "default": {"minVersion": "VersionTLS12"},
        "mtls": lt.mtls_option([certs.root_ca]),
        "admin": lt.mtls_option([certs.root_ca], minVersion="VersionTLS12"),
    }
    dynamic = _dynamic(certs, echo, routers, options)
    with lt.run_traefik(tmp_path, dynamic, allow_errors=True) as gw:
        findings = _lint(tmp_path)
        outcome = _probe(gw, certs.pki.client_context("no-certificate"), APP)
    shared = [f for f in findings if f.code == lint.SHARED_HOST_OPTIONS]
    assert sorted(f.router for f in shared) == ["admin", "web"]
    assert outcome.outcome == "http:200", outcome


def test_weak_default_drops_client_auth_without_sni(
    tmp_path: Path, certs: lt.Certs, echo: str
) -> None:
    """No ``default`` option: Traefik's built-in one (TLS 1.2, no client auth) serves
    every connection without SNI. With SNI the same client is refused."""
    routers = {"web": lt.router(f"Host(`{APP}`)", "echo", "mtls")}
    dynamic = _dynamic(certs, echo, routers, {"mtls": lt.mtls_option([certs.root_ca])})
    with lt.run_traefik(tmp_path, dynamic) as gw:
        findings = _lint(tmp_path)
        anonymous = certs.pki.client_context("no-certificate")
        with_sni = _probe(gw, anonymous, APP)
        anonymous.check_hostname = False
        anonymous.maximum_version = ssl.TLSVersion.TLSv1_2
        without_sni = _probe(gw, anonymous, None)
    [finding] = findings
    assert finding.code == lint.WEAK_DEFAULT and finding.router == "web"
    assert "clientAuth NoClientCert < RequireAndVerifyClientCert" in finding.why
    assert "minVersion TLS1.2 < TLS1.3" in finding.why
    assert with_sni.outcome == tp.alert("certificate_required")
    # Handshake done at TLS 1.2 with no client certificate: client auth was dropped
    # (the router then answers 421 to this Host, a Host-less router would answer 200).
    assert without_sni.version == "TLSv1.2" and without_sni.accepted, without_sni


def test_sni_strict_without_a_listed_certificate_refuses_everyone(
    tmp_path: Path, certs: lt.Certs, echo: str
) -> None:
    routers = {"web": lt.router(f"Host(`{APP}`)", "echo", "mtls")}
    strict = lt.mtls_option([certs.root_ca])
    options = {"default": strict, "mtls": dict(strict)}
    dynamic = _dynamic(certs, echo, routers, options, certificates=False)
    with lt.run_traefik(tmp_path, dynamic) as gw:
        findings = _lint(tmp_path)
        outcome = _probe(gw, certs.pki.client_context(), APP)
    assert {f.code for f in findings} == {lint.SNI_STRICT_NO_CERTIFICATE}
    assert outcome.outcome == tp.alert("unrecognized_name"), outcome


@pytest.mark.parametrize("ca_files", [[], ["/nonexistent/clients-ca.pem"]])
def test_client_auth_without_readable_ca_files_breaks_the_router(
    tmp_path: Path, certs: lt.Certs, echo: str, ca_files: list[str]
) -> None:
    routers = {"web": lt.router(f"Host(`{APP}`)", "echo", "mtls")}
    broken = lt.mtls_option(ca_files)
    dynamic = _dynamic(certs, echo, routers, {"default": broken, "mtls": dict(broken)})
    with lt.run_traefik(tmp_path, dynamic, allow_errors=True) as gw:
        # An absent absolute path is only a finding with strict_files (else a note).
        findings = _lint(tmp_path, strict_files=True)
        outcome = _probe(gw, certs.pki.client_context(), APP)
        log = gw.log()
    assert {f.code for f in findings} == {lint.CLIENT_AUTH_CA_FILES}
    assert {f.router for f in findings} == {"tls.options.default", "web"}
    # A valid client gets no answer at all: the TLS config could not be built.
    assert outcome.outcome == tp.EOF and outcome.stage == tp.STAGE_HANDSHAKE, outcome
    assert any("building TLS config" in line for line in config_errors(log))


def test_min_version_below_tls12_lets_a_tls11_client_in(
    tmp_path: Path, certs: lt.Certs, echo: str
) -> None:
    routers = {"web": lt.router(f"Host(`{APP}`)", "echo", "legacy")}
    options = {"default": {"minVersion": "VersionTLS12"}, "legacy": {"minVersion": "VersionTLS11"}}
    dynamic = _dynamic(certs, echo, routers, options)
    with lt.run_traefik(tmp_path, dynamic) as gw:
        findings = _lint(tmp_path)
        old = certs.pki.client_context()
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        with pytest.warns(DeprecationWarning):
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        outcome = _probe(gw, old, APP)
    assert {f.code for f in findings} == {lint.MIN_VERSION_BELOW_TLS12}
    assert outcome.outcome == "http:200" and outcome.version == "TLSv1.1", outcome


def test_the_projects_own_rendered_config_is_clean(tmp_path: Path) -> None:
    config = t.GatewayConfig(
        backends=t.sample_backends("http://app:8080", "h2c://app:9090"),
        ca_file=str(tmp_path / "ca.pem"),
    )
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    files = write_config_files(config, tmp_path)
    # Its API is open on the admin entry point, published on 127.0.0.1 only: the tests
    # read routers through it. Nothing else.
    findings = lint.lint_paths([files.static, files.dynamic_dir])
    assert [(f.code, f.router) for f in findings] == [(lint.API_INSECURE, "api.insecure")]


def test_toml_and_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "dynamic.toml").write_text(
        """
[http.routers.api]
rule = "PathPrefix(`/api`)"
entryPoints = ["websecure"]
service = "api"
[http.routers.api.tls]
options = "mtls"

[tls.options.default]
minVersion = "VersionTLS13"
[tls.options.default.clientAuth]
caFiles = ["/nonexistent/ca.pem"]
clientAuthType = "RequireAndVerifyClientCert"
[tls.options.mtls]
minVersion = "VersionTLS10"
"""
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_traefik_compat",
            "lint-traefik",
            "--strict-files",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert f"{tmp_path / 'dynamic.toml'}: api: [no-host-rule]" in proc.stdout
    assert "[min-version-below-tls12]" in proc.stdout
    assert "[client-auth-ca-files]" in proc.stdout
    assert "fix: " in proc.stdout
    from pytest_traefik_compat import cli

    clean = tmp_path / "clean.yml"
    clean.write_text("http: {}\n")
    assert cli.main(["lint-traefik", str(clean)]) == 0
    assert capsys.readouterr().out == "no findings\n"
    assert cli.main(["lint-traefik", str(tmp_path / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["lint-traefik", "--format", "json", str(tmp_path / "dynamic.toml")]) == 1
    captured = capsys.readouterr()
    assert '"router": "api"' in captured.out
    # Without --strict-files the absent /nonexistent/ca.pem is a note on stderr.
    assert '"client-auth-ca-files"' not in captured.out
    assert "note: " in captured.err and "/nonexistent/ca.pem not checked here" in captured.err
    assert cli.main(["lint-traefik", "--path-map", "certs", str(clean)]) == 2
    assert "CONTAINER_PATH=LOCAL_PATH" in capsys.readouterr().err
