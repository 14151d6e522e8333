"""The lint's path mapping, file notes, static traps and the unknown-key search's
bookkeeping, without the Traefik binary (``check_keys=False``; the binary's answers are
proven in tests/tools/test_traefik_lint_keys.py)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.gateway import lint, lint_keys

PEM = "-----BEGIN CERTIFICATE-----\n"


def _dynamic(ca: str) -> dict[str, Any]:
    strict = {
        "minVersion": "VersionTLS13",
        "clientAuth": {"caFiles": [ca], "clientAuthType": "RequireAndVerifyClientCert"},
    }
    return {
        "http": {"routers": {"web": {"rule": "Host(`a.test`)", "tls": {"options": "mtls"}}}},
        "tls": {"options": {"default": strict, "mtls": dict(strict)}},
    }


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def _lint(files: list[Path], **options: Any) -> lint.Findings:
    return lint.lint_paths(files, check_keys=False, **options)


def test_parse_path_map_forms_and_order(tmp_path: Path) -> None:
    pairs = lint.parse_path_map(["/certs=deploy/certs", "/certs/clients=other"])
    assert pairs == [
        (PurePosixPath("/certs/clients"), Path("other")),
        (PurePosixPath("/certs"), Path("deploy/certs")),
    ]
    assert lint.parse_path_map({"/etc/traefik": tmp_path}) == [
        (PurePosixPath("/etc/traefik"), tmp_path)
    ]
    assert lint.parse_path_map("/a=b") == [(PurePosixPath("/a"), Path("b"))]
    assert lint.parse_path_map(None) == []
    for bad in ("/certs", "=here", "/certs=", "certs=here"):
        with pytest.raises(CompatError):
            lint.parse_path_map([bad])


def test_a_mapped_ca_file_is_checked_where_it_will_be(tmp_path: Path) -> None:
    routes = _write(tmp_path / "routes.yml", _dynamic("/certs/clients/root.pem"))
    local = tmp_path / "deploy" / "certs"
    assert [f.code for f in _lint([routes], path_map={"/certs": local})] == [
        lint.CLIENT_AUTH_CA_FILES
    ] * 2
    (local / "clients").mkdir(parents=True)
    (local / "clients" / "root.pem").write_text(PEM)
    findings = _lint([routes], path_map=[f"/certs={local}"])
    assert findings == [] and findings.notes == []
    # The longest container path wins.
    findings = _lint([routes], path_map={"/certs": local, "/certs/clients": tmp_path / "no"})
    assert {f.code for f in findings} == {lint.CLIENT_AUTH_CA_FILES}
    assert "mapped to" in findings[0].why


def test_an_absent_unmapped_absolute_path_is_a_note_unless_strict(tmp_path: Path) -> None:
    routes = _write(tmp_path / "routes.yml", _dynamic("/certs/root.pem"))
    findings = _lint([routes])
    assert findings == []
    assert len(findings.notes) == 2 and "/certs/root.pem not checked here" in findings.notes[0]
    strict = _lint([routes], strict_files=True)
    assert [f.code for f in strict] == [lint.CLIENT_AUTH_CA_FILES] * 2
    assert "absent on this machine" in strict[0].why


def test_a_relative_path_resolves_against_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = _write(tmp_path / "conf" / "routes.yml", _dynamic("ca.pem"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ca.pem").write_text(PEM)  # in the working directory: not where it counts
    findings = _lint([routes])
    assert {f.code for f in findings} == {lint.CLIENT_AUTH_CA_FILES}
    assert "relative to" in findings[0].why
    (tmp_path / "conf" / "ca.pem").write_text(PEM)
    assert _lint([routes]) == []


@pytest.mark.parametrize(
    ("providers", "expected"),
    [
        ({"docker": {}}, "unix:///var/run/docker.sock (the default)"),
        # "docker:" with no value: Traefik reads no provider at all (seen on 3.7.15).
        ({"docker": None}, None),
        ({"Docker": {"Endpoint": "unix:///run/user/1000/docker.sock"}}, "/run/user/1000/"),
        ({"swarm": {"exposedByDefault": False}}, "swarm provider"),
        ({"docker": {"endpoint": "tcp://socket-proxy:2375"}}, None),
        ({"file": {"directory": "/etc/traefik/dynamic"}}, None),
    ],
)
def test_docker_socket(tmp_path: Path, providers: dict[str, Any], expected: str | None) -> None:
    static = _write(tmp_path / "traefik.yml", {"entryPoints": {}, "providers": providers})
    findings = _lint([static])
    if expected is None:
        assert findings == []
    else:
        [finding] = findings
        assert finding.code == lint.DOCKER_SOCKET and expected in finding.why
        assert "socket proxy" in finding.fix


@pytest.mark.parametrize(
    ("api", "flagged"),
    [({"insecure": True}, True), ({"insecure": False}, False), ({"dashboard": True}, False)],
)
def test_api_insecure(tmp_path: Path, api: dict[str, Any], flagged: bool) -> None:
    static = _write(tmp_path / "traefik.yml", {"entryPoints": {}, "providers": {}, "api": api})
    assert [f.code for f in _lint([static])] == ([lint.API_INSECURE] if flagged else [])


def test_file_kind() -> None:
    assert lint_keys.file_kind({"http": {}, "tls": {}}) == lint_keys.DYNAMIC
    assert lint_keys.file_kind({"TLS": {}}) == lint_keys.DYNAMIC
    assert lint_keys.file_kind({"entryPoints": {}, "http": {}}) == lint_keys.STATIC
    assert lint_keys.file_kind({"serversTransport": {}}) == lint_keys.STATIC


def test_paths_removal_and_skeletons() -> None:
    data = {"a": {"b": [{"c": 1, "dns": 2}], "dns": {"x": 1}}, "e": 1}
    assert [lint_keys.dotted(p) for p in lint_keys._candidates(data, "DNS")] == [
        "a.b[0].dns",
        "a.dns",
    ]
    # Removing the last key of a section removes the section (Traefik refuses it empty).
    assert lint_keys._without({"s": {"dns": 1}, "e": 1}, ("s", "dns")) == {"e": 1}
    assert lint_keys._without(data, ("a", "b", 0, "dns")) == {
        "a": {"b": [{"c": 1}], "dns": {"x": 1}},
        "e": 1,
    }
    assert lint_keys._skeleton(("a", "b", 0, "dns")) == {"a": {"b": [{"dns": {}}]}}


def test_the_copies_traefik_runs_on_reach_nothing() -> None:
    static = lint_keys._static_copy({"ping": {"entryPoint": "traefik"}, "global": {}})
    assert static["ping"] == {"entryPoint": "lint-no-such-entrypoint"}
    assert static["global"] == {"checkNewVersion": False, "sendAnonymousUsage": False}
    dynamic = lint_keys._dynamic_copy(
        {
            "http": {"routers": {"r": {"entrypoints": ["web"], "rule": "x"}}},
            "tcp": {"routers": {"t": {}}},
        }
    )
    assert dynamic["http"]["routers"]["r"] == {
        "rule": "x",
        "entryPoints": ["lint-no-such-entrypoint"],
    }
    assert dynamic["tcp"]["routers"]["t"] == {"entryPoints": ["lint-no-such-entrypoint"]}


def test_findings_keep_their_notes_out_of_the_printed_text() -> None:
    findings = lint.Findings([], ["a note"])
    assert findings == [] and findings.notes == ["a note"] and repr(findings) == "no findings"
