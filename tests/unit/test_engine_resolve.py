"""Engine resolution: each source, precedence, and bad values as one-line errors."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest

from pytest_traefik_compat.engine import resolve
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.plugin.settings import parse_engine_host

# the module, not the function ``engine.client`` that the package re-exports
engine_client = importlib.import_module("pytest_traefik_compat.engine.client")


@pytest.fixture(autouse=True)
def _no_ambient_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ~/.testcontainers.properties, docker context or override from this machine."""
    from testcontainers.core.config import testcontainers_config

    monkeypatch.setattr(testcontainers_config, "tc_properties", {})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setattr(resolve, "_override", None)


def _resolve(env: dict[str, str], override: str | None = None) -> resolve.EngineTarget:
    return resolve.resolve(env, host_override=override)


def test_default_socket_is_local_and_loopback() -> None:
    target = _resolve({})
    assert target.url == resolve.DEFAULT_SOCKET
    assert target.source == "default socket"
    assert (target.connect_host, target.publish_host) == ("127.0.0.1", "127.0.0.1")
    assert not target.remote


def test_docker_host_unix_socket() -> None:
    target = _resolve({"DOCKER_HOST": "unix:///run/podman/api.sock"})
    assert target.source == "DOCKER_HOST" and target.scheme == "unix"
    assert target.publish_host == "127.0.0.1"


def test_docker_host_tcp_publishes_on_the_engine_address() -> None:
    target = _resolve({"DOCKER_HOST": "tcp://10.216.0.2:2375"})
    assert target.scheme == "tcp" and not target.tls and target.remote
    assert target.connect_host == "10.216.0.2"
    # never 0.0.0.0 when the engine's own address is known
    assert target.publish_host == "10.216.0.2"


def test_docker_host_tcp_loopback_stays_loopback() -> None:
    target = _resolve({"DOCKER_HOST": "tcp://localhost:2375"})
    assert (target.connect_host, target.publish_host) == ("127.0.0.1", "127.0.0.1")


def test_docker_host_tcp_tls_needs_its_files(tmp_path: Path) -> None:
    env = {
        "DOCKER_HOST": "tcp://10.216.0.2:2376",
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(tmp_path),
    }
    with pytest.raises(CompatError) as missing:
        _resolve(env)
    message = str(missing.value)
    assert "\n" not in message
    assert "ca.pem, cert.pem, key.pem" in message and str(tmp_path) in message
    for name in resolve.TLS_FILES:
        (tmp_path / name).write_text("x")
    target = _resolve(env)
    assert target.tls and target.cert_path == str(tmp_path)


def test_ssh_uses_the_host_of_the_url() -> None:
    target = _resolve({"DOCKER_HOST": "ssh://ci@10.216.0.6"})
    assert target.scheme == "ssh" and target.connect_host == "10.216.0.6"
    assert target.publish_host == "10.216.0.6"
    assert target.address == "ssh://10.216.0.6"  # no user name in reports


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("foo://engine:2375", "unsupported scheme 'foo'"),
        ("engine:2375", "unsupported scheme"),
        ("tcp://10.216.0.2", "no port"),
        ("tcp://:2375", "no host"),
        ("tcp://10.216.0.2:99999", "bad port"),
        ("unix://", "no socket path"),
    ],
)
def test_bad_docker_host_is_one_line(value: str, words: str) -> None:
    with pytest.raises(CompatError) as bad:
        _resolve({"DOCKER_HOST": value})
    message = str(bad.value)
    assert words in message and "\n" not in message
    assert message.startswith(f"DOCKER_HOST={value}")


def test_docker_context_is_used_after_docker_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from testcontainers.core import docker_client

    monkeypatch.setattr(
        docker_client, "_get_docker_host_from_context", lambda: "tcp://10.216.0.9:2375"
    )
    assert _resolve({}).source.startswith("docker context")
    assert _resolve({}).connect_host == "10.216.0.9"
    # DOCKER_HOST wins over the context
    assert _resolve({"DOCKER_HOST": "tcp://10.216.0.2:2375"}).connect_host == "10.216.0.2"


def test_testcontainers_properties_win(monkeypatch: pytest.MonkeyPatch) -> None:
    from testcontainers.core.config import testcontainers_config

    monkeypatch.setattr(
        testcontainers_config, "tc_properties", {"tc.host": "tcp://10.216.0.5:2375"}
    )
    target = _resolve({"DOCKER_HOST": "tcp://10.216.0.2:2375"})
    assert target.connect_host == "10.216.0.5" and target.source.startswith("tc.host")


def test_host_override_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "DOCKER_HOST": "tcp://10.216.0.2:2375",
        "TESTCONTAINERS_HOST_OVERRIDE": "10.216.0.30",
    }
    assert _resolve(env).connect_host == "10.216.0.30"
    assert _resolve(env).host_source == "TESTCONTAINERS_HOST_OVERRIDE"
    env[resolve.ENGINE_HOST_ENV] = "10.216.0.20"
    assert _resolve(env).connect_host == "10.216.0.20"
    monkeypatch.setattr(resolve, "_override", "10.216.0.10")  # the plugin's setting
    assert _resolve(env).connect_host == "10.216.0.10"
    assert _resolve(env, "10.216.0.1").connect_host == "10.216.0.1"
    # ports still bind to the engine's own address, the override only reaches them
    assert _resolve(env, "10.216.0.1").publish_host == "10.216.0.2"


def test_override_on_a_forwarded_socket_binds_where_it_can() -> None:
    by_ip = _resolve({"DOCKER_HOST": "unix:///tmp/forwarded.sock"}, "10.216.0.2")
    assert by_ip.publish_host == "10.216.0.2"
    by_name = _resolve({"DOCKER_HOST": "unix:///tmp/forwarded.sock"}, "engine.invalid")
    assert by_name.publish_host == resolve.ALL_ADDRESSES  # no narrower address known


def test_bad_override_in_the_environment_is_one_line() -> None:
    with pytest.raises(CompatError) as bad:
        _resolve({resolve.ENGINE_HOST_ENV: "tcp://10.0.0.1:80"})
    assert str(bad.value).startswith(resolve.ENGINE_HOST_ENV)
    assert "\n" not in str(bad.value)


@pytest.mark.parametrize("value", ["10.216.0.2", "engine-1.ci.internal", "::1", "[fe80::1]"])
def test_engine_host_option_accepts_hosts(value: str) -> None:
    assert parse_engine_host(value)


@pytest.mark.parametrize("value", ["tcp://10.0.0.1", "10.0.0.1:2375", "", "a b", "1.2.3"])
def test_engine_host_option_refuses_the_rest(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="host name or an IP address"):
        parse_engine_host(value)


def test_unreachable_engine_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    engine_client.reset()
    try:
        with pytest.raises(CompatError) as unreachable:
            engine_client.client()
    finally:
        engine_client.reset()
    message = str(unreachable.value)
    assert "\n" not in message
    assert message.startswith("no Docker engine answers at tcp://127.0.0.1:1")
    assert "Connection refused" in message


def test_engine_kind_from_the_version_answer() -> None:
    podman = {"Components": [{"Name": "Podman Engine", "Version": "4.3.1"}]}
    assert engine_client.engine_kind(podman) == "podman"
    docker = {"Platform": {"Name": "Docker Engine - Community"}}
    assert engine_client.engine_kind(docker) == "docker"
    assert resolve.url_host("::1") == "[::1]" and resolve.url_host("10.0.0.1") == "10.0.0.1"


def test_merged_shards_name_their_engines(tmp_path: Path) -> None:
    """A shard run on a remote engine merges as before; different engines are a note."""
    import jsonschema

    from pytest_traefik_compat import report
    from tests.helpers.report_samples import sample_records

    records = sample_records()
    engines = [
        {"kind": "docker", "version": "20.10.24", "address": "unix:///var/run/docker.sock"},
        {"kind": "podman", "version": "4.3.1", "address": "unix:///run/podman.sock"},
    ]
    paths = []
    for index, base in enumerate(sorted({r.base for r in records})[:2]):
        mine = [r for r in records if r.base == base]
        meta = {"run_id": f"r{index}", "bases": [base], "engine": engines[index]}
        paths.append(report.write_reports(mine, tmp_path / base, meta=meta).json)
    merged = report.merge_reports(paths)
    assert [m["engine"]["kind"] for m in merged["meta"]["merged_from"]] == ["docker", "podman"]
    assert any("different engines" in note for note in merged["meta"]["notes"])
    jsonschema.Draft202012Validator(report.load_schema()).validate(merged)
