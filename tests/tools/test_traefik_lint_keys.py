"""lint-traefik's unknown-key, docker-socket and api-insecure, each proven on the real
Traefik binary (127.0.0.1, no engine, no network): what Traefik does with a key it does
not know, what the Docker provider talks to, what an unauthenticated API request gets.
Also: the lint's own Traefik runs reach nothing, and a clean real-world config with
``--path-map`` lints clean."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_traefik_compat.gateway import lint
from tests.helpers import local_traefik as lt

ARTICLE_STATIC = {
    "entryPoints": {"websecure": {"address": "127.0.0.1:0", "http": {"tls": {}}}},
    "providers": {"file": {"directory": "/etc/traefik/dynamic"}},
    # "Resolver tuning for alpine", as a widely shared article recommends: no such key.
    "serversTransport": {"dns": {"timeout": "2s", "retry": 3}},
}


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _traefik(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            [str(lt.binary_or_skip()), f"--configFile={config}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(timeout=10)


def _wait_for(log: Path, text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        if text in content:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the log: {log.read_text(errors='replace')}")


def _router_names(admin: int, timeout: float = 15.0) -> set[str]:
    """The routers Traefik's API lists, once the API itself is up (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            url = f"http://127.0.0.1:{admin}/api/http/routers"
            with urllib.request.urlopen(url, timeout=5) as response:
                return {str(router["name"]) for router in json.load(response)}
        except OSError:
            assert time.monotonic() < deadline, "Traefik's API never answered"
            time.sleep(0.05)


def test_the_articles_serverstransport_dns_block_makes_traefik_refuse_to_start(
    tmp_path: Path,
) -> None:
    static = _write(tmp_path / "traefik.yml", ARTICLE_STATIC)
    findings = lint.lint_paths([static])
    [finding] = findings
    assert finding.code == lint.UNKNOWN_KEY and finding.router == "serversTransport.dns"
    assert "refuses to start" in finding.why
    assert "field not found, node: dns" in finding.why
    # The real Traefik on the same file: it exits at once with the error the finding quotes.
    proc = subprocess.run(
        [str(lt.binary_or_skip()), f"--configFile={static}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "command traefik error: field not found, node: dns" in proc.stdout + proc.stderr


def test_a_misspelt_dynamic_key_drops_the_file_and_its_routers_while_traefik_runs_on(
    tmp_path: Path,
) -> None:
    websecure, admin = lt.free_port(), lt.free_port()
    dynamic = tmp_path / "dynamic"
    service = {"loadBalancer": {"servers": [{"url": "http://127.0.0.1:9"}]}}
    typo = {
        "loadBalancer": {
            "servers": [{"url": "http://127.0.0.1:9"}],
            "healthCheck": {"path": "/healthz", "intervall": "5s"},
        }
    }
    _write(
        dynamic / "good.yml",
        {
            "http": {
                "routers": {"good": lt.router("Host(`a.test`)", "a")},
                "services": {"a": service},
            }
        },
    )
    bad = _write(
        dynamic / "bad.yml",
        {"http": {"routers": {"bad": lt.router("Host(`b.test`)", "b")}, "services": {"b": typo}}},
    )
    static = lt.static_config(websecure, admin, dynamic)
    static["providers"]["file"]["watch"] = True  # Traefik's default
    config = _write(tmp_path / "traefik.yml", static)

    findings = lint.lint_paths([config, dynamic])
    assert [(f.code, f.router) for f in findings] == [
        (lint.UNKNOWN_KEY, "http.services.b.loadBalancer.healthCheck.intervall"),
        (lint.API_INSECURE, "api.insecure"),
    ]
    assert findings[0].file == str(bad) and "drops the whole file" in findings[0].why

    proc = _traefik(config, tmp_path / "traefik.log")
    try:
        log = _wait_for(tmp_path / "traefik.log", "field not found, node: intervall")
        names = _router_names(admin)
        assert proc.poll() is None, "Traefik runs on"
    finally:
        _stop(proc)
    assert "Error while building configuration" in log
    # Both files of the directory are gone, the good one with the bad.
    assert not names & {"good@file", "bad@file"}, names


def test_every_unknown_key_is_found_and_a_known_key_of_the_same_name_is_not(
    tmp_path: Path,
) -> None:
    static = dict(ARTICLE_STATIC, log={"levl": "INFO"})
    dynamic = {
        "http": {
            "routers": {"r": {"rule": "Host(`a.test`)", "service": "s", "timeout": "5s"}},
            "services": {
                "s": {
                    "loadBalancer": {
                        "servers": [{"url": "http://127.0.0.1:9", "wieght": 1}],
                        # a known key named like the unknown one above
                        "healthCheck": {"path": "/h", "timeout": "2s"},
                    }
                }
            },
        },
        "tls": {"certificates": [{"certFile": "a.crt", "keyFile": "a.key", "sni": "x"}]},
    }
    files = [_write(tmp_path / "traefik.yml", static), _write(tmp_path / "d" / "x.yml", dynamic)]
    findings = lint.lint_paths(files)
    assert sorted(f.router for f in findings if f.code == lint.UNKNOWN_KEY) == [
        "http.routers.r.timeout",
        "http.services.s.loadBalancer.servers[0].wieght",
        "log.levl",
        "serversTransport.dns",
        "tls.certificates[0].sni",
    ]
    assert not findings.notes


def test_the_lints_own_traefik_runs_reach_nothing(tmp_path: Path) -> None:
    """A config with a health check and a ping to local listeners: the lint runs Traefik
    on it (static and dynamic) and no connection arrives."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    static = {
        "entryPoints": {"traefik": {"address": f"127.0.0.1:{port}"}},
        "ping": {"entryPoint": "traefik"},
        "providers": {"file": {"directory": "dynamic"}},
    }
    backend = {
        "loadBalancer": {
            "servers": [{"url": f"http://127.0.0.1:{port}"}],
            "healthCheck": {"path": "/h", "interval": "100ms"},
        }
    }
    dynamic = {
        "http": {"routers": {"r": lt.router("Host(`a.test`)", "s")}, "services": {"s": backend}}
    }
    files = [
        _write(tmp_path / "traefik.yml", static),
        _write(tmp_path / "dynamic" / "d.yml", dynamic),
    ]
    try:
        assert lint.lint_paths(files) == []
        time.sleep(0.3)
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()


@contextmanager
def _fake_engine() -> Iterator[tuple[str, list[bytes]]]:
    """A unix socket in a short temp dir that records what is sent to it."""
    directory = tempfile.mkdtemp(prefix="lint-engine-")
    path = f"{directory}/docker.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(8)
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with suppress(OSError):
                conn, _ = server.accept()
                with conn:
                    conn.settimeout(2)
                    with suppress(OSError):
                        received.append(conn.recv(4096))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield path, received
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
        shutil.rmtree(directory, ignore_errors=True)


def test_docker_provider_speaks_the_engine_api_on_the_socket_it_is_given(tmp_path: Path) -> None:
    with _fake_engine() as (path, received):
        static = {
            "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
            "entryPoints": {"web": {"address": "127.0.0.1:0"}},
            "providers": {"docker": {"endpoint": f"unix://{path}", "exposedByDefault": False}},
            "log": {"level": "DEBUG", "format": "json"},
        }
        config = _write(tmp_path / "traefik.yml", static)
        findings = lint.lint_paths([config])
        proc = _traefik(config, tmp_path / "traefik.log")
        try:
            deadline = time.monotonic() + 15
            while not any(b"/version " in r for r in received) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            _stop(proc)
    [finding] = findings
    assert finding.code == lint.DOCKER_SOCKET and finding.router == "providers.docker"
    assert f"unix://{path}" in finding.why
    # What Traefik sends on the socket: the Engine API's ping, then its version call.
    lines = [r.split(b"\r\n", 1)[0].decode() for r in received]
    assert lines[0].endswith(" /_ping HTTP/1.1"), lines
    assert any(re.fullmatch(r"GET /v1\.\d+/version HTTP/1\.1", line) for line in lines), lines


def test_docker_provider_without_endpoint_is_the_engines_socket(tmp_path: Path) -> None:
    """Traefik's own static configuration dump shows the default endpoint. The entry
    point cannot be built, so Traefik exits before any provider starts: the real socket
    is never reached."""
    static = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {"web": {"address": "127.0.0.1:99999"}},
        "providers": {"docker": {"exposedByDefault": False}},
        "log": {"level": "DEBUG", "format": "json"},
    }
    config = _write(tmp_path / "traefik.yml", static)
    [finding] = lint.lint_paths([config])
    proc = subprocess.run(
        [str(lt.binary_or_skip()), f"--configFile={config}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=tmp_path,
    )
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    [loaded] = [r["staticConfiguration"] for r in records if "staticConfiguration" in r]
    assert loaded["providers"]["docker"]["endpoint"] == "unix:///var/run/docker.sock"
    assert not any("Starting provider" in str(r.get("message")) for r in records)
    assert finding.code == lint.DOCKER_SOCKET
    assert "unix:///var/run/docker.sock (the default)" in finding.why


def test_api_insecure_serves_the_whole_configuration_without_authentication(
    tmp_path: Path,
) -> None:
    routers = {"web": lt.router("Host(`app.compat.test`)", "echo")}
    dynamic = {"http": {"routers": routers, "services": {"echo": lt.service("http://127.0.0.1:9")}}}
    with lt.run_traefik(tmp_path, dynamic) as gw:
        findings = lint.lint_paths([tmp_path / "traefik.yml"])
        with urllib.request.urlopen(f"http://127.0.0.1:{gw.admin}/api/rawdata", timeout=5) as r:
            status, raw = r.status, json.load(r)
    [finding] = findings
    assert finding.code == lint.API_INSECURE and finding.router == "api.insecure"
    assert status == 200 and "web@file" in raw["routers"], raw


def test_a_clean_real_world_config_with_path_map_lints_clean(tmp_path: Path) -> None:
    certs = tmp_path / "deploy" / "certs"
    certs.mkdir(parents=True)
    (certs / "root.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    strict = {
        "minVersion": "VersionTLS13",
        "sniStrict": True,
        "clientAuth": {
            "caFiles": ["/certs/root.pem"],
            "clientAuthType": "RequireAndVerifyClientCert",
        },
    }
    static = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {"websecure": {"address": ":8443", "http": {"tls": {}}}},
        "providers": {"file": {"directory": "/etc/traefik/dynamic", "watch": True}},
        "ping": {"entryPoint": "websecure"},
        "log": {"level": "INFO", "format": "json"},
    }
    routers = {
        "web": lt.router("Host(`app.example.com`)", "web", "mtls"),
        "api": lt.router("Host(`api.example.com`) && PathPrefix(`/v1`)", "api", "mtls"),
    }
    dynamic = {
        "http": {
            "routers": routers,
            "services": {
                "web": lt.service("http://web:8080"),
                "api": lt.service("http://api:8080"),
            },
        },
        "tls": {
            "options": {"default": strict, "mtls": dict(strict)},
            "certificates": [{"certFile": "/certs/server.crt", "keyFile": "/certs/server.key"}],
        },
    }
    _write(tmp_path / "deploy" / "traefik.yml", static)
    _write(tmp_path / "deploy" / "dynamic" / "routes.yml", dynamic)
    command = [
        sys.executable,
        "-m",
        "pytest_traefik_compat",
        "lint-traefik",
        "--path-map",
        f"/certs={certs}",
        "deploy/traefik.yml",
        "deploy/dynamic",
    ]
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "no findings\n", "")
    # Without the map the caFile is a note on stderr, not a finding: still exit 0.
    unmapped = [c for c in command if c not in ("--path-map", f"/certs={certs}")]
    proc = subprocess.run(
        unmapped, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )
    assert (proc.returncode, proc.stdout) == (0, "no findings\n")
    assert "note: " in proc.stderr and "/certs/root.pem not checked here" in proc.stderr
    # --strict-files: the same absent file is a finding.
    proc = subprocess.run(
        [*unmapped[:4], "--strict-files", *unmapped[4:]],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 1 and "[client-auth-ca-files]" in proc.stdout, proc.stdout
