"""One base's stack: a network, the service container(s) and Traefik in front.

Every container runs with all capabilities dropped, a read-only root file system
and no Docker socket; ports are published on one address of the engine host only
(127.0.0.1 for a local engine), on ephemeral host ports. Every wait is bounded (the
polls live in :mod:`~pytest_traefik_compat.gateway.wait`), and a failure carries the
containers' last log lines.
"""

from __future__ import annotations

import shutil
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker.errors
from docker.models.containers import Container
from testcontainers.core.network import Network

from pytest_traefik_compat import engine
from pytest_traefik_compat.errors import StackError
from pytest_traefik_compat.gateway import render, traefik
from pytest_traefik_compat.gateway import wait as readiness
from pytest_traefik_compat.gateway.clients import GrpcClient, HttpsClient
from pytest_traefik_compat.gateway.services import (
    LOG_TAIL,
    RunningService,
    ServiceSpec,
    start_failure,
)
from pytest_traefik_compat.gateway.tlsprobe import TlsProbe, probe_tls
from pytest_traefik_compat.gateway.wait import READY_TIMEOUT_S
from pytest_traefik_compat.pki import SessionPKI

__all__ = ["Gateway", "KeepPolicy", "Progress"]

Progress = Callable[[str], None]
# Asked on close(): True keeps the gateway's containers (--traefik-keep on a failure).
KeepPolicy = Callable[["Gateway"], bool]


def _quiet(_: str) -> None:
    return None


class Gateway:
    """One base's stack: a network, the service container(s) and Traefik with mTLS in front.

    The one owner of its containers: :meth:`start` brings everything up (bounded),
    :meth:`close` removes it unless the keep policy (``--traefik-keep`` on a failure)
    says to keep it. ``with Gateway(...) as gateway:`` starts (if not started yet)
    and closes. Every client connects to Traefik on the engine host and presents the
    route's host name as SNI (TLS options are chosen by SNI), with the session
    PKI's client certificate unless told otherwise.
    """

    app_host = traefik.APP_HOST
    grpc_host = traefik.GRPC_HOST

    def __init__(
        self,
        *,
        identity: engine.RunIdentity,
        label: str,
        workdir: Path,
        pki: SessionPKI,
        traefik_image: str,
        services: Sequence[ServiceSpec],
        backends: Sequence[traefik.Backend] | None = None,
        plugin_dir: Path | None = None,
        plugin: traefik.LocalPlugin | None = None,
        extra_dynamic: Mapping[str, Any] | None = None,
        health_interval: str = "1s",
        ready_timeout: float = READY_TIMEOUT_S,
        progress: Progress = _quiet,
        keep_policy: KeepPolicy | None = None,
    ) -> None:
        self.identity = identity
        self.label = label
        self.prefix = f"ptc-{identity.run_id}-{label}"
        self.workdir = workdir
        self.pki = pki
        self.traefik_image = traefik_image
        self.service_specs = list(services)
        self._backends = backends
        self.plugin_dir = plugin_dir
        self.plugin = plugin
        self.extra_dynamic = dict(extra_dynamic or {})
        self.health_interval = health_interval
        self.ready_timeout = ready_timeout
        self.progress = progress
        self.keep_policy = keep_policy
        self.network: Network | None = None
        self.services: dict[str, RunningService] = {}
        self.traefik: Container | None = None
        self.traefik_ports: dict[int, int] = {}
        self.config: traefik.GatewayConfig | None = None
        self.timings: dict[str, float] = {}
        self.kept = False

    # ---- naming and labels
    def _name(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def labels(self, kind: str) -> dict[str, str]:
        return self.identity.labels(kind, stack=self.prefix)

    # ---- lifecycle
    @property
    def started(self) -> bool:
        return self.network is not None

    def __enter__(self) -> Gateway:
        if not self.started:
            try:
                self.start()
            except BaseException:
                self.close()
                raise
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> None:
        started = time.monotonic()
        self.progress(f"starting stack {self.prefix}")
        self.network = engine.create_network(self._name("net"), self.labels("network"))
        for spec in self.service_specs:
            self.start_service(spec, timeout=self.ready_timeout)
        self.start_traefik(timeout=self.ready_timeout)
        self.timings["stack_ready_s"] = time.monotonic() - started
        self.progress(f"stack {self.prefix} ready in {self.timings['stack_ready_s']:.1f} s")

    def close(self) -> None:
        """Remove the containers, the network and the work dir (it holds the server key).

        Idempotent. When the keep policy asks to keep the gateway, nothing is removed
        and :attr:`kept` is set; the session's clean-up skips kept gateways.
        """
        if not self.started or self.kept:
            return
        if self.keep_policy is not None and self.keep_policy(self):
            return
        for service in self.services.values():
            engine.remove(service.container)
        engine.remove(self.traefik)
        engine.remove_network(self.network)
        self.services.clear()
        self.traefik = self.network = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- services
    def run_container(
        self,
        image: str,
        role: str,
        *,
        ports: Sequence[int] = (),
        command: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> Container:
        """A hardened container on this gateway's network (ports on the engine host)."""
        if self.network is None:
            raise StackError(f"stack {self.prefix} is not started")
        return engine.run_container(
            image,
            name=self._name(role),
            labels=self.labels(role.split("-")[0]),
            network=self.network,
            ports=ports,
            command=command,
            **kwargs,
        )

    def start_service(
        self, spec: ServiceSpec, *, wait: bool = True, timeout: float = READY_TIMEOUT_S
    ) -> RunningService:
        """Start (or replace) a service container and by default wait for its health path.

        A service that cannot come up, whichever way it fails (exec failure before or
        after its ports are published, exit, crash loop, never healthy), raises one
        :class:`StackError`: what happened, the prediction when there is one, and the
        log tail.
        """
        old = self.services.pop(spec.alias, None)
        if old is not None:
            engine.remove(old.container)
        started = time.monotonic()
        name = self._name(spec.alias)
        try:
            container = self.run_container(
                spec.image,
                spec.alias,
                ports=spec.ports,
                command=spec.args or None,
                environment=dict(spec.env),
            )
        except docker.errors.APIError as error:  # the runtime refused the exec at start
            reason = " ".join(str(error.explanation or error).split())
            raise StackError(start_failure(spec, name, f"could not start: {reason}")) from None
        running = RunningService(spec, container, name, engine.host_ports(container), started)
        self.services[spec.alias] = running
        if any(port not in running.host_ports for port in spec.ports):
            # Exited before the engine published its ports: the same story as below.
            readiness.raise_if_exited(running)
        if wait and spec.http_port:
            running.ready_seconds = self.wait_service_healthy(running, timeout=timeout)
        return running

    def replace_service(self, spec: ServiceSpec, *, timeout: float = READY_TIMEOUT_S) -> float:
        """Replace a service and return the gateway to ready: every route back in rotation.

        A check that replaces a service calls this, so the next check never sees a
        route that Traefik's health check has not re-admitted yet. Returns the seconds
        from the new container's start to the service's own first 200.
        """
        running = self.start_service(spec, timeout=timeout)
        self.wait_routes_ready(timeout=timeout)
        return running.ready_seconds or 0.0

    def wait_service_healthy(self, service: RunningService, *, timeout: float) -> float:
        """Seconds from container start to the first 200 on the health path.

        On timeout the error says what the last attempt saw: a status other than 200
        (the health path is wrong) or no answer at all (the port is wrong).
        """
        return readiness.wait_service_healthy(service, timeout=timeout)

    # ---- Traefik
    @property
    def backends(self) -> tuple[traefik.Backend, ...]:
        if self._backends is not None:
            return tuple(self._backends)
        spec = self.service_specs[0]
        name = self._name(spec.alias)
        grpc_url = f"h2c://{name}:{spec.grpc_port}" if spec.grpc_port else None
        backends = traefik.sample_backends(f"http://{name}:{spec.http_port}", grpc_url)
        return tuple(
            traefik.Backend(
                b.name,
                b.url,
                kind=b.kind,
                host=b.host,
                health_path=spec.health_path if b.kind == "http" else b.health_path,
                health_interval=self.health_interval,
            )
            for b in backends
        )

    def start_traefik(self, timeout: float = READY_TIMEOUT_S) -> None:
        self.config = traefik.GatewayConfig(
            backends=self.backends,
            plugin=self.plugin,
            extra_dynamic=self.extra_dynamic,
        )
        config_dir = render.write_mounted_config(
            self.config, self.workdir / "traefik", self.pki, self.plugin_dir
        )
        started = time.monotonic()
        self.traefik = self.run_container(
            self.traefik_image,
            "traefik",
            ports=[traefik.WEBSECURE_PORT, traefik.ADMIN_PORT],
            command=["--configFile=/etc/traefik/traefik.yml"],
            user=render.container_user(),
            volumes={str(config_dir): "/etc/traefik"},
        )
        self.traefik_ports = engine.host_ports(self.traefik)
        self.wait_traefik_ready(timeout=timeout)
        self.timings["traefik_ready_s"] = time.monotonic() - started

    @property
    def https_port(self) -> int:
        return self.traefik_ports[traefik.WEBSECURE_PORT]

    @property
    def admin_port(self) -> int:
        return self.traefik_ports[traefik.ADMIN_PORT]

    def admin_url(self, path: str) -> str:
        return f"http://{engine.engine_address()}:{self.admin_port}{path}"

    def traefik_logs(self, lines: int = LOG_TAIL) -> str:
        return engine.log_tail(self.traefik, lines) if self.traefik is not None else ""

    def check_alive(self) -> None:
        """Raise StackError naming the first container of the stack that is not running.

        A test that sees a refused connection or a 502 cannot tell a dead gateway
        from a broken route; this says which container died, how, and with its last
        log lines, without waiting for any timeout.
        """
        containers: list[tuple[str, Container | None]] = [("Traefik", self.traefik)]
        containers += [(f"service {s.name}", s.container) for s in self.services.values()]
        for what, container in containers:
            if container is None:
                raise StackError(f"{what} of stack {self.prefix} was never started")
            exited = engine.exit_summary(container)
            status = engine.state(container).Status or ""
            if exited is None and status != "running":
                exited = f"is {status}"  # created, paused, restarting
            if exited:
                raise StackError(
                    f"{what} of stack {self.prefix} {exited}", detail=self.failure_detail()
                )

    def failure_detail(self) -> str:
        """The last log lines of Traefik and of every service of the stack."""
        parts = [f"--- traefik (last lines)\n{self.traefik_logs()}"]
        parts += [f"--- {s.name} (last lines)\n{s.logs()}" for s in self.services.values()]
        return "\n".join(parts)

    def https_client(self, host: str = traefik.APP_HOST) -> HttpsClient:
        return HttpsClient(
            self.https_port,
            host,
            ca_file=str(self.pki.root_ca_file),
            cert=(str(self.pki.client_cert_file), str(self.pki.client_key_file)),
        )

    def route_problems(self) -> list[str]:
        """What keeps a route out of service now: router errors, servers not UP."""
        assert self.config is not None
        return readiness.route_problems(self.config, self.admin_url)

    def wait_traefik_ready(self, *, timeout: float) -> None:
        """Routers enabled, no config error in the log, one 200 through the gateway."""
        self.wait_routes_ready(timeout=timeout, settle=False)

    def wait_routes_ready(
        self,
        *,
        timeout: float = READY_TIMEOUT_S,
        settle: bool = True,
        replaced_at: float | None = None,
    ) -> None:
        """Every route of the gateway in service: routers enabled, every server UP
        (HTTP and gRPC alike), and a 200 through the gateway on the first HTTP route.

        ``settle`` (after a service was replaced) also waits out one whole health-check
        cycle with every server UP: a check that began while the old container was
        going away may still mark its server DOWN after a first UP was seen.
        ``replaced_at`` (``time.monotonic()`` of the last replacement) ends that wait
        once the cycle has passed since the replacement itself.
        """
        readiness.wait_routes_ready(self, timeout=timeout, settle=settle, replaced_at=replaced_at)

    def tls_probe(
        self,
        host: str = traefik.APP_HOST,
        path: str | None = None,
        *,
        bad: str | None = None,
        max_version: ssl.TLSVersion | None = None,
        alpn: Sequence[str] = (),
        timeout: float = 5.0,
    ) -> TlsProbe:
        """One raw TLS connection and one GET: negotiated version, cipher, ALPN, status.

        ``bad`` presents one of the PKI's bad clients instead ("no-certificate",
        "expired", ...); ``max_version`` caps the client (e.g. ``ssl.TLSVersion.TLSv1_2``);
        ``alpn`` offers protocols (the negotiated one is ``.alpn``).
        """
        context = self.pki.client_context(bad, max_version=max_version)
        if alpn:
            context.set_alpn_protocols(list(alpn))
        return probe_tls(
            self.https_port,
            context,
            sni=host,
            path=path or self.service_specs[0].health_path,
            timeout=timeout,
        )

    def grpc_client(self, host: str = traefik.GRPC_HOST) -> GrpcClient:
        """A gRPC channel through Traefik with mTLS (``.channel`` for your own stubs,
        ``.health()`` for grpc.health.v1); needs ``grpc_port=`` on the service."""
        return GrpcClient(
            self.https_port,
            host,
            root_pem=self.pki.root.cert_pem.bytes(),
            cert_chain_pem=self.pki.client.chain_pem.bytes(),
            key_pem=self.pki.client.key_pem.bytes(),
        )
