"""The ``traefik_lint`` fixture in a user's project, driven through pytester (no engine;
the bundled Traefik binary checks the keys): a trap in their config fails their test
with the finding's line; a clean config passes, with caFiles mapped from Traefik's
container to the project."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")

STATIC = """\
entryPoints:
  websecure:
    address: ":8443"
    http:
      tls: {}
providers:
  file:
    directory: dynamic
"""

# A router on the TLS entry point without Host(): it gets the default option, not mtls.
TRAP = """\
http:
  routers:
    api:
      rule: "PathPrefix(`/`)"
      entryPoints: [websecure]
      service: api
      tls:
        options: mtls
  services:
    api:
      loadBalancer:
        servers: [{url: "http://api:8080"}]
tls:
  options:
    default: &strict
      minVersion: VersionTLS13
      sniStrict: true
      clientAuth:
        caFiles: [ca.pem]
        clientAuthType: RequireAndVerifyClientCert
    mtls: *strict
  certificates:
    - certFile: server.crt
      keyFile: server.key
"""

CLEAN = TRAP.replace('rule: "PathPrefix(`/`)"', 'rule: "Host(`api.example.test`)"')

TESTS = """\
def test_config_is_clean(traefik_lint):
    traefik_lint.assert_clean(["traefik.yml", "dynamic"])


def test_assert_not(traefik_lint):
    assert not traefik_lint(["traefik.yml", "dynamic"])
"""


def _project(pytester: pytest.Pytester, dynamic: str) -> None:
    pytester.makefile(".yml", traefik=STATIC)
    pytester.mkdir("dynamic")
    (pytester.path / "dynamic" / "routes.yml").write_text(dynamic)
    # A relative caFile resolves against the config file that names it.
    (pytester.path / "dynamic" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    pytester.makepyfile(test_traefik_config=TESTS)


def test_a_finding_fails_the_users_test_with_its_line(pytester: pytest.Pytester) -> None:
    _project(pytester, TRAP)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    # assert_clean: one line per finding, no traceback, then the fix.
    result.stdout.fnmatch_lines(
        [
            "*1 Traefik config finding(s):*",
            "*dynamic/routes.yml: api: [[]no-host-rule[]] rule 'PathPrefix(`/`)' has no Host()*"
            "'default' TLS option, not 'mtls'",
            "*fix: add Host(`your.host`) to the rule*",
        ]
    )
    assert "def assert_clean" not in out, "the failure must not show the plugin's code"
    # assert not traefik_lint(...): the list shows as the finding's text, not a repr.
    assert "Finding(code=" not in out
    assert "[no-host-rule]" in out.split("test_assert_not", 1)[1]


def test_a_clean_config_passes(pytester: pytest.Pytester) -> None:
    _project(pytester, CLEAN)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


MAPPED_TESTS = """\
def test_mapped(traefik_lint):
    traefik_lint.assert_clean(["traefik.yml", "dynamic"], path_map={"/certs": "certs"})


def test_strict_without_the_map(traefik_lint):
    traefik_lint.assert_clean(["traefik.yml", "dynamic"], strict_files=True)


def test_unmapped_is_a_note(traefik_lint):
    findings = traefik_lint(["traefik.yml", "dynamic"])
    assert not findings
    assert any("/certs/ca.pem not checked here" in note for note in findings.notes)
"""


def test_path_map_checks_the_ca_file_where_traefik_will_read_it(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, CLEAN.replace("caFiles: [ca.pem]", "caFiles: [/certs/ca.pem]"))
    (pytester.path / "certs").mkdir()
    (pytester.path / "certs" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    pytester.makepyfile(test_traefik_config=MAPPED_TESTS)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*[[]client-auth-ca-files[]]*/certs/ca.pem (absent on this machine and not mapped*"]
    )
