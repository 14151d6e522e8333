"""The public fixture API as another repository meets it, driven through pytester.

Each test writes a small user project (conftest.py, test module, the example's Go
service) and runs pytest on it in a subprocess, as the user's CI would.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "examples" / "own-service" / "go-service"
SAMPLE_SERVICE = ROOT / "sample_apps" / "service"
# pytester points HOME at its temporary directory; the user's HOME holds the Go
# build cache and the plugin's cache of bases and images.
USER_HOME = str(Path.home())
RUN_TIMEOUT_S = 600


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user project with the example's Go service in ``go-service/``."""
    shutil.copytree(SERVICE, pytester.path / "go-service")
    monkeypatch.setenv("HOME", USER_HOME)
    yield pytester.path


def skip_reasons(output: str) -> dict[str, int]:
    """``-rs`` lines as {reason: count}, whatever location pytest gives them."""
    found = re.findall(r"^SKIPPED \[(\d+)\] \S+: (.+)$", output, re.MULTILINE)
    return {reason: int(count) for count, reason in found}


@pytest.mark.docker
def test_bring_your_own_ca(pytester: pytest.Pytester, project: Path) -> None:
    """A conftest.py overrides traefik_pki: the gateway serves and verifies with it."""
    pytester.makeconftest(
        """
        import pytest
        from pytest_traefik_compat.pki import SessionPKI

        @pytest.fixture(scope="session")
        def traefik_pki(tmp_path_factory):
            # The team's own CA: root, intermediate and leaves, keys 0600.
            with SessionPKI(tmp_path_factory.mktemp("team-ca"), label="team-ca") as pki:
                yield pki
        """
    )
    pytester.makepyfile(
        test_ca="""
        import socket
        import ssl

        from pytest_traefik_compat.pki import SessionPKI

        def handshake(port, context):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with context.wrap_socket(raw, server_hostname="app.compat.test") as tls:
                    issuer = dict(rdn[0] for rdn in tls.getpeercert()["issuer"])
                    tls.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: app.compat.test\\r\\n"
                                b"Connection: close\\r\\n\\r\\n")
                    return issuer["commonName"], tls.recv(4096)

        def test_gateway_uses_team_ca(
            traefik_base, traefik_build, traefik_gateway, traefik_pki, tmp_path
        ):
            gateway = traefik_gateway(traefik_base, [traefik_build("go-service", traefik_base)])
            # The client trusts nothing but the team's root file and shows the team's
            # client certificate: it gets in, so the server chain ends at that root.
            team = ssl.create_default_context(cafile=str(traefik_pki.root_ca_file))
            team.load_cert_chain(traefik_pki.client_cert_file, traefik_pki.client_key_file)
            issuer, answer = handshake(gateway.https_port, team)
            assert issuer == "pytest-traefik-compat intermediate CA team-ca"
            assert answer.startswith(b"HTTP/1.1 200"), answer

            # A client certificate from any other CA is refused (clientAuth uses it too).
            with SessionPKI(tmp_path / "stranger", label="stranger") as stranger:
                other = ssl.create_default_context(cafile=str(traefik_pki.root_ca_file))
                other.load_cert_chain(stranger.client_cert_file, stranger.client_key_file)
                try:
                    _, answer = handshake(gateway.https_port, other)
                except (ssl.SSLError, OSError):
                    answer = b""
                assert not answer.startswith(b"HTTP/"), answer
            probe = gateway.tls_probe()
            assert "commonName=pytest-traefik-compat intermediate CA team-ca" in probe.peer_issuer
        """
    )
    result = pytester.runpytest_subprocess(
        "--traefik-images=alpine", "-p", "no:cacheprovider", timeout=RUN_TIMEOUT_S
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    result.assert_outcomes(passed=1)


@pytest.mark.docker
def test_marker_skip_reasons(pytester: pytest.Pytester, project: Path) -> None:
    pytester.makepyfile(
        test_marker="""
        import pytest

        @pytest.mark.traefik_bases("debian-slim", "distroless")
        def test_names(traefik_base):
            assert traefik_base.name != "alpine"

        @pytest.mark.parametrize("linkage", ["static", "glibc", "musl"])
        @pytest.mark.traefik_bases(linkages="musl")
        def test_linkages(traefik_base, linkage):
            assert linkage == "musl"

        @pytest.mark.traefik_bases(requires="shell")
        def test_shell(traefik_base):
            assert traefik_base.facts.shell

        @pytest.mark.traefik_bases(requires=["ca_bundle", "zoneinfo"])
        def test_bundle_and_zones(traefik_base):
            assert traefik_base.name == "distroless"

        @pytest.mark.traefik_bases("alpine", requires="musl")
        def test_names_and_facts(traefik_base):
            assert "musl" in traefik_base.facts.libc_kind
        """
    )
    result = pytester.runpytest_subprocess(
        "--traefik-images=alpine,debian-slim,distroless",
        "-p",
        "no:cacheprovider",
        "-rs",
        timeout=RUN_TIMEOUT_S,
    )
    output = result.stdout.str()
    result.assert_outcomes(passed=9, skipped=12)
    assert skip_reasons(output) == {
        "only for bases debian-slim, distroless (this is alpine)": 1,
        "only for linkages musl (this is static)": 3,
        "only for linkages musl (this is glibc)": 3,
        "base distroless has no shell": 1,
        "base alpine has no zoneinfo": 1,
        "base debian-slim has no ca bundle": 1,
        "only for bases alpine (this is debian-slim)": 1,
        "only for bases alpine (this is distroless)": 1,
    }, output[-3000:]


def test_marker_is_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.traefik_bases(*names, linkages=None, requires=None): *requires='shell'*"]
    )


@pytest.mark.docker
def test_unknown_requirement_is_a_usage_error(pytester: pytest.Pytester, project: Path) -> None:
    pytester.makepyfile(
        test_typo="""
        import pytest

        @pytest.mark.traefik_bases(requires="gpu")
        def test_needs_gpu(traefik_base):
            pass

        def test_unrelated():
            pass
        """
    )
    result = pytester.runpytest_subprocess(
        "--traefik-images=alpine", "-p", "no:cacheprovider", timeout=RUN_TIMEOUT_S
    )
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output[-3000:]
    assert (
        "traefik_bases(requires='gpu'): unknown requirement; valid: shell, bash, curl, wget, "
        "ca_bundle, zoneinfo, glibc, musl, libc" in output
    )
    assert "Traceback" not in output
    assert "During handling" not in output


@pytest.mark.docker
def test_routes_records_and_bad_inputs(pytester: pytest.Pytester, project: Path) -> None:
    """One user run (alpine and distroless), three test files, each judged on its own:

    - ``test_grpc.py`` (distroless): HTTP and gRPC routes from keyword options; the
      clients the Gateway hands out.
    - ``test_measure.py`` (alpine): user records in JUnit properties and the report.
    - ``test_bad.py`` (alpine): every bad input fails in one clear line.
    """
    shutil.copytree(SAMPLE_SERVICE, project / "service")
    library = project / "library"
    (library / "lib").mkdir(parents=True)
    (library / "go.mod").write_text("module example.com/team/library\n\ngo 1.22\n")
    (library / "lib" / "lib.go").write_text("package lib\n\nfunc Answer() int { return 42 }\n")
    broken = project / "broken"
    broken.mkdir()
    (broken / "go.mod").write_text("module example.com/team/broken\n\ngo 1.22\n")
    (broken / "main.go").write_text("package main\n\nfunc main() { undefinedCall() }\n")
    plain = project / "plain"
    plain.mkdir()
    (plain / "main.go").write_text("package main\n\nfunc main() {}\n")
    pytester.makepyfile(
        test_grpc="""
        import ssl

        import pytest

        pytestmark = pytest.mark.traefik_bases("distroless")

        def test_http_and_grpc(traefik_base, traefik_build, traefik_gateway):
            # The sample: gin on 8080, an admin port on 8081, grpc-go (h2c) on 9090.
            build = traefik_build("service", traefik_base, ports=(8080, 8081, 9090))
            gateway = traefik_gateway(traefik_base, [build], grpc_port=9090, admin_port=8081)
            with gateway.https_client() as client:
                assert client.get("/healthz").status_code == 200
            with gateway.grpc_client() as grpc_client:
                assert grpc_client.health() == "SERVING"
            probe = gateway.tls_probe(gateway.grpc_host, bad="expired")
            assert not probe.accepted, probe
            assert gateway.tls_probe(max_version=ssl.TLSVersion.TLSv1_3).version == "TLSv1.3"
        """,
        test_measure="""
        import pytest

        @pytest.mark.traefik_bases("alpine")
        def test_team_figures(traefik_base, traefik_record):
            record = traefik_record("team-check")
            record.figure("orders_per_second", 123.5, "1/s").figure("cold_start", 42, "ms")
            record.figure("verdict", "fine")  # text: report only, not a JUnit property
            record.add_samples("latency", [1.0, 2.0, 3.0], "ms")

        def test_record_needs_a_base_outside_base_tests(traefik_record):
            with pytest.raises(ValueError, match="traefik_record needs base="):
                traefik_record("team-check")
            assert traefik_record("team-check", base="alpine").base == "alpine"
        """,
        test_bad="""
        import pytest

        pytestmark = pytest.mark.traefik_bases("alpine")

        @pytest.fixture
        def orders(traefik_base, traefik_build):
            return traefik_build("go-service", traefik_base)

        def test_not_a_go_module(traefik_base, traefik_build):
            traefik_build("plain", traefik_base)

        def test_missing_directory(traefik_base, traefik_build):
            traefik_build("no-such-dir", traefik_base)

        def test_package_does_not_exist(traefik_base, traefik_build):
            traefik_build("go-service", traefik_base, package="./cmd/orders-admin")

        def test_not_a_command(traefik_base, traefik_build):
            traefik_build("library", traefik_base, package="example.com/team/library/lib")

        def test_unknown_linkage(traefik_base, traefik_build):
            traefik_build("go-service", traefik_base, linkage="uclibc")

        def test_flags_as_a_string(traefik_base, traefik_build):
            traefik_build("go-service", traefik_base, flags="-race")

        def test_does_not_compile(traefik_base, traefik_build):
            traefik_build("broken", traefik_base)

        def test_health_path_404(traefik_base, orders, traefik_gateway):
            traefik_gateway(traefik_base, [orders], health_path="/health", ready_timeout=5)

        def test_port_never_opened(traefik_base, orders, traefik_gateway):
            traefik_gateway(traefik_base, [orders], http_port=9000, ready_timeout=5)

        def test_unknown_service_key(traefik_base, orders, traefik_gateway):
            traefik_gateway(traefik_base, [{"image": orders, "grpc": 9090}])
        """,
    )
    result = pytester.runpytest_subprocess(
        "--traefik-images=alpine,distroless",
        "-p",
        "no:cacheprovider",
        "-rf",
        "-vv",
        "--junitxml=junit.xml",
        timeout=RUN_TIMEOUT_S,
    )
    output = result.stdout.str()
    # grpc 1 + measure 2 passed; the 10 bad inputs fail; each file's other base skipped
    result.assert_outcomes(passed=3, failed=10, skipped=1 + 1 + 10)
    for passed in (
        "test_grpc.py::test_http_and_grpc[distroless]",
        "test_measure.py::test_team_figures[alpine]",
        "test_measure.py::test_record_needs_a_base_outside_base_tests",
    ):
        assert f"{passed} PASSED" in output, passed
    _assert_user_records(project)
    _assert_bad_inputs(output, project)


def _assert_user_records(project: Path) -> None:
    case = ET.parse(project / "junit.xml").find(".//testcase[@name='test_team_figures[alpine]']")
    assert case is not None
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties == {
        "team-check.orders_per_second": "123.5 1/s",
        "team-check.cold_start": "42 ms",
        # Three samples: a median without an interval (a 95% one needs 6), no p95.
        "team-check.latency_min": "1.0 ms",
        "team-check.latency_median": "2.0 ms",
        "team-check.latency_max": "3.0 ms",
        "team-check.latency_cv": "0.5 ratio",
        "team-check.latency_n": "3 count",
    }
    # The same record, text figures and raw samples included, in the run's report.
    report = json.loads((project / "compat-report" / "report.json").read_text())
    (record,) = [r for r in report["records"] if r["test_id"].endswith("test_team_figures[alpine]")]
    assert (record["base"], record["check"]) == ("alpine", "team-check")
    assert record["figures"]["verdict"]["value"] == "fine"
    assert record["samples"]["latency"] == [1.0, 2.0, 3.0]
    assert record["provenance"]["variant"] == "alpine"


def _assert_bad_inputs(output: str, project: Path) -> None:
    where = str(project)
    summary = {
        name: message
        for name, message in re.findall(
            r"^FAILED test_bad\.py::(\w+)\[alpine\] - (?:Failed: )?(.*)$", output, re.MULTILINE
        )
    }
    expected = {
        "test_not_a_go_module": (
            f"no go.mod in {where}/plain: point the builder at a Go module directory"
        ),
        "test_missing_directory": (
            f"traefik_build: module directory {where}/no-such-dir does not exist"
        ),
        "test_package_does_not_exist": (
            "traefik_build: package ./cmd/orders-admin does not exist in module "
            f"example.com/team/orders ({where}/go-service)"
        ),
        "test_not_a_command": (
            "traefik_build: package example.com/team/library/lib in module "
            f"example.com/team/library ({where}/library) is package lib, "
            "not a command (package main)"
        ),
        "test_unknown_linkage": (
            "traefik_build: unknown linkage 'uclibc': expected one of static, glibc, musl"
        ),
        "test_flags_as_a_string": "traefik_build: flags= takes a list, e.g. ['-race']",
        "test_does_not_compile": f"go build failed for {where}/broken (., static)",
        "test_health_path_404": (
            r"service \S+-app never answered 200 on /health within 5 s; /health on "
            r"service 'app' answers HTTP 404: check health_path= \(the service's health endpoint\)"
        ),
        "test_port_never_opened": (
            r"service \S+-app never answered 200 on /healthz within 5 s; nothing "
            r"answers on container port 9000 of service 'app': check http_port= "
            r"\(the port the service listens on\)"
        ),
        "test_unknown_service_key": (
            "traefik_gateway: unknown service key grpc; valid: image, alias, http_port, "
            "grpc_port, admin_port, health_path, args, env"
        ),
    }
    assert sorted(summary) == sorted(expected), output[-4000:]
    for name, message in expected.items():
        if name in ("test_health_path_404", "test_port_never_opened"):
            assert re.fullmatch(message, summary[name]), summary[name]
        else:
            assert summary[name] == message
    # Below the line: the compiler's words and the service's log tail.
    assert "undefined: undefinedCall" in output
    assert output.count("orders listening on [::]:8080 (linkage static, checksum in go)") >= 2
    assert "Traceback" not in output
    assert "During handling" not in output
