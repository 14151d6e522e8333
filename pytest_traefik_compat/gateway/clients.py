"""Clients that talk to a gateway on the engine host with a chosen SNI name.

The gateway's TLS options are picked by SNI, so every client here connects to a
published port on the engine host (127.0.0.1 for a local engine, the engine's address
for a remote one: ``engine.engine_host()``) while presenting the public host name
(app.compat.test, ...).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc
from requests.adapters import HTTPAdapter

from pytest_traefik_compat import engine
from pytest_traefik_compat.grpc_stubs.demo.v1 import demo_pb2, demo_pb2_grpc

LOOPBACK = "127.0.0.1"
DEFAULT_TIMEOUT_S = 5.0


class _SniAdapter(HTTPAdapter):
    """Connects wherever the URL says but presents and verifies ``server_hostname``.

    The SSL context is ours (trust + client certificate), so requests' own
    ``verify``/``cert`` handling never replaces it with the default bundle.
    """

    def __init__(self, server_hostname: str, context: ssl.SSLContext, **kwargs: Any) -> None:
        self._server_hostname = server_hostname
        self._context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self._server_hostname
        kwargs["assert_hostname"] = self._server_hostname
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        return None  # trust and client certificate live in our context


def https_context(ca_file: str, cert: tuple[str, str] | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    if cert is not None:
        context.load_cert_chain(*cert)
    return context


class HttpsClient:
    """requests.Session to ``https://ENGINE_HOST:<port>`` as ``host`` with a client cert."""

    def __init__(
        self,
        port: int,
        host: str,
        *,
        ca_file: str,
        cert: tuple[str, str] | None,
        timeout: float = DEFAULT_TIMEOUT_S,
        address: str | None = None,
    ) -> None:
        self.base_url = f"https://{address or engine.engine_address()}:{port}"
        self.host = host
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Host"] = host
        self.session.mount(
            "https://", _SniAdapter(host, https_context(ca_file, cert), max_retries=0)
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.session.get(self.base_url + path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.session.post(self.base_url + path, **kwargs)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpsClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass
class GrpcResult:
    health: str
    echo: dict[str, str]
    health_seconds: float
    echo_seconds: float


class GrpcClient:
    """A grpcio channel through the gateway with mTLS, authority = the public host."""

    def __init__(
        self,
        port: int,
        host: str,
        *,
        root_pem: bytes,
        cert_chain_pem: bytes,
        key_pem: bytes,
        address: str | None = None,
    ) -> None:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=root_pem, private_key=key_pem, certificate_chain=cert_chain_pem
        )
        self.channel = grpc.secure_channel(
            f"{address or engine.engine_address()}:{port}",
            credentials,
            options=[
                ("grpc.ssl_target_name_override", host),
                ("grpc.default_authority", host),
            ],
        )

    def health(self, service: str = "", timeout: float = DEFAULT_TIMEOUT_S) -> str:
        stub = health_pb2_grpc.HealthStub(self.channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

    def echo(self, message: str, timeout: float = DEFAULT_TIMEOUT_S) -> dict[str, str]:
        stub = demo_pb2_grpc.DemoServiceStub(self.channel)  # type: ignore[no-untyped-call]
        reply = stub.Echo(demo_pb2.EchoRequest(message=message), timeout=timeout)
        return {
            "message": reply.message,
            "hostname": reply.hostname,
            "linkage": reply.linkage,
            "linkage_label": reply.linkage_label,
            "go_version": reply.go_version,
            "client_cert_info": reply.client_cert_info,
        }

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> GrpcClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@contextmanager
def grpc_client(port: int, host: str, **kwargs: Any) -> Iterator[GrpcClient]:
    client = GrpcClient(port, host, **kwargs)
    try:
        yield client
    finally:
        client.close()
