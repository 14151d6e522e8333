"""One base's stack: a network, the service container(s) and Traefik in front.

Every container runs with all capabilities dropped, a read-only root file system
and no Docker socket; ports are published on one address of the engine host only
(127.0.0.1 for a local engine), on ephemeral host ports. Every wait is bounded, and
a failure carries the containers' last log lines.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import docker.errors
import requests
from docker.models.containers import Container
from testcontainers.core.network import Network

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import startcheck
from pytest_traefik_compat.errors import CompatError, StackError
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.clients import (
    GrpcClient,
    HttpsClient,
    TlsProbe,
    probe_tls,
)
from pytest_traefik_compat.pki import SessionPKI

NONROOT_UID = 65532
READY_TIMEOUT_S = 30.0
POLL_S = 0.05
LOG_TAIL = 25

Progress = Callable[[str], None]
# Asked on close(): True keeps the gateway's containers (--traefik-keep on a failure).
KeepPolicy = Callable[["Gateway"], bool]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class ServiceSpec:
    """A service container on the stack network (the sample or a user's service)."""

    image: str
    alias: str = "app"
    http_port: int | None = 8080
    grpc_port: int | None = 9090
    admin_port: int | None = 8081
    health_path: str = "/healthz"
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    # Why the build is expected not to start here ("interpreter ... not in image"),
    # added to a start failure's message; empty when it is predicted to start.
    start_prediction: str = ""

    @property
    def ports(self) -> list[int]:
        return [p for p in (self.http_port, self.grpc_port, self.admin_port) if p]


@dataclass
class RunningService:
    spec: ServiceSpec
    container: Container
    name: str
    host_ports: dict[int, int]
    started_at: float
    ready_seconds: float | None = None

    def url(self, port: int | None, path: str = "") -> str:
        if port is None or port not in self.host_ports:
            raise StackError(f"service {self.name} publishes no port {port}")
        return f"http://{engine.engine_address()}:{self.host_ports[port]}{path}"

    @property
    def http_url(self) -> str:
        return self.url(self.spec.http_port)

    @property
    def admin_url(self) -> str:
        return self.url(self.spec.admin_port)

    def logs(self) -> str:
        return engine.log_tail(self.container, LOG_TAIL)

    def pid(self) -> int:
        return engine.pid(self.container)


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
            raise StackError(
                self._start_failure(spec, name, f"could not start: {reason}")
            ) from None
        running = RunningService(spec, container, name, engine.host_ports(container), started)
        self.services[spec.alias] = running
        if any(port not in running.host_ports for port in spec.ports):
            # Exited before the engine published its ports: the same story as below.
            self._raise_if_exited(running)
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

    def _start_failure(self, spec: ServiceSpec, name: str, what: str) -> str:
        message = f"service {name} ({spec.image}) {what}"
        if spec.start_prediction:
            message += f"; predicted: {spec.start_prediction}"
        return message

    def _raise_if_exited(self, service: RunningService) -> None:
        exited = engine.exit_summary(service.container)
        if not exited:
            return
        spec, logs = service.spec, service.logs()
        evidence = _first_line(startcheck.diagnose_exec_failure(1, logs + "\n" + exited).evidence)
        what = f"{exited.split(':')[0]} before {spec.health_path} answered"
        if evidence and evidence not in what:
            what += f": {evidence}"
        raise StackError(self._start_failure(spec, service.name, what), detail=logs)

    def wait_service_healthy(self, service: RunningService, *, timeout: float) -> float:
        """Seconds from container start to the first 200 on the health path.

        On timeout the error says what the last attempt saw: a status other than 200
        (the health path is wrong) or no answer at all (the port is wrong).
        """
        spec = service.spec
        deadline = time.monotonic() + timeout
        last_status: int | None = None
        while time.monotonic() < deadline:
            self._raise_if_exited(service)
            if spec.http_port not in service.host_ports:
                # Not published (yet): an exit is caught above on the next round.
                service.host_ports = engine.host_ports(service.container)
                time.sleep(POLL_S)
                continue
            try:
                url = service.url(spec.http_port, spec.health_path)
                last_status = requests.get(url, timeout=1).status_code
                if last_status == 200:
                    return time.monotonic() - service.started_at
            except requests.RequestException:
                last_status = None
            time.sleep(POLL_S)
        self._raise_if_exited(service)
        if last_status is None:
            hint = (
                f"nothing answers on container port {spec.http_port} of service "
                f"{spec.alias!r}: check http_port= (the port the service listens on)"
            )
        else:
            hint = (
                f"{spec.health_path} on service {spec.alias!r} answers HTTP {last_status}: "
                "check health_path= (the service's health endpoint)"
            )
        raise StackError(
            f"service {service.name} never answered 200 on {spec.health_path} "
            f"within {timeout:.0f} s; {hint}",
            detail=service.logs(),
        )

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

    def _write_config(self) -> Path:
        config_dir = self.workdir / "traefik"
        certs = config_dir / "certs"
        certs.mkdir(parents=True, exist_ok=True)
        self.config = traefik.GatewayConfig(
            backends=self.backends,
            plugin=self.plugin,
            extra_dynamic=self.extra_dynamic,
        )
        # The gateway's own leaf carries DNS names only: an IP SAN would let a
        # connection without SNI complete its handshake (Traefik matches its IP).
        server = self.pki.intermediate.issue_server(self.config.hosts)
        (certs / "server.crt").write_bytes(server.chain_pem.bytes())
        server.key_pem.write_to(certs / "server.key", private=True)
        (certs / "root-ca.crt").write_bytes(self.pki.root.cert_pem.bytes())
        traefik.write_config_files(self.config, config_dir)
        if self.plugin_dir is not None:
            shutil.copytree(self.plugin_dir, config_dir / "plugins-local", dirs_exist_ok=True)
        if os.geteuid() == 0:
            # Traefik runs as nonroot; the key stays 0600, owned by that user.
            for path in [config_dir, *config_dir.rglob("*")]:
                os.chown(path, NONROOT_UID, NONROOT_UID, follow_symlinks=False)
        return config_dir

    def _traefik_user(self) -> str:
        if os.geteuid() == 0:
            return f"{NONROOT_UID}:{NONROOT_UID}"
        # Without root we cannot hand the key to uid 65532: run as its owner instead.
        return f"{os.geteuid()}:{os.getegid()}"

    def start_traefik(self, timeout: float = READY_TIMEOUT_S) -> None:
        config_dir = self._write_config()
        started = time.monotonic()
        self.traefik = self.run_container(
            self.traefik_image,
            "traefik",
            ports=[traefik.WEBSECURE_PORT, traefik.ADMIN_PORT],
            command=["--configFile=/etc/traefik/traefik.yml"],
            user=self._traefik_user(),
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
                    f"{what} of stack {self.prefix} {exited}", detail=self._failure_detail()
                )

    def _failure_detail(self) -> str:
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

    def _raise_if_traefik_failed(self) -> None:
        assert self.traefik is not None
        exited = engine.exit_summary(self.traefik)
        errors = traefik.config_errors(self.traefik_logs(200))
        if exited:
            raise StackError(
                f"Traefik {exited}: " + (errors[0] if errors else "see its log"),
                detail=self._failure_detail(),
            )
        if errors:
            raise StackError(
                f"Traefik refused its config: {errors[0]}", detail=self._failure_detail()
            )

    def route_problems(self) -> list[str]:
        """What keeps a route out of service now: router errors, servers not UP."""
        assert self.config is not None
        problems: list[str] = []
        for router in traefik.router_names(self.config):
            answer = requests.get(self.admin_url(f"/api/http/routers/{router}"), timeout=1)
            problems += (
                traefik.router_problems(answer.json())
                if answer.status_code == 200
                else [f"{router}: HTTP {answer.status_code}"]
            )
        for service in traefik.service_names(self.config):
            answer = requests.get(self.admin_url(f"/api/http/services/{service}"), timeout=1)
            problems += (
                traefik.service_problems(service, answer.json())
                if answer.status_code == 200
                else [f"{service}: HTTP {answer.status_code}"]
            )
        return problems

    def wait_traefik_ready(self, *, timeout: float) -> None:
        """Routers enabled, no config error in the log, one 200 through the gateway."""
        self.wait_routes_ready(timeout=timeout, settle=False)

    def wait_routes_ready(self, *, timeout: float = READY_TIMEOUT_S, settle: bool = True) -> None:
        """Every route of the gateway in service: routers enabled, every server UP
        (HTTP and gRPC alike), and a 200 through the gateway on the first HTTP route.

        ``settle`` (after a service was replaced) also waits out one whole health-check
        cycle with every server UP: a check that began while the old container was
        going away may still mark its server DOWN after a first UP was seen.
        """
        deadline = time.monotonic() + timeout
        window = _seconds(self.health_interval) + 1.5 if settle else 0.0
        up_since: float | None = None
        last = "no answer yet"
        while time.monotonic() < deadline:
            self._raise_if_traefik_failed()
            try:
                problems = self.route_problems()
                if not problems:
                    with self.https_client() as client:
                        path = self.service_specs[0].health_path
                        status = client.get(path, timeout=2).status_code
                    if status != 200:
                        problems = [f"GET {path} through Traefik: {status}"]
            except (requests.RequestException, ValueError) as error:
                problems = [f"{type(error).__name__}: {str(error)[:160]}"]
            if problems:
                last, up_since = "; ".join(problems), None
            else:
                up_since = up_since if up_since is not None else time.monotonic()
                if time.monotonic() - up_since >= window:
                    return
            time.sleep(POLL_S * 2)
        raise StackError(
            f"Traefik routes not ready within {timeout:.0f} s ({last})",
            detail=self._failure_detail(),
        )

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


def _seconds(duration: str) -> float:
    """A Go duration as Traefik takes it ("1s", "500ms", "1m30s") in seconds."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", duration):
        total += float(number) * units[unit]
    return total


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# What a service dict may set (start_prediction comes from the build itself).
_SPEC_FIELDS = tuple(
    f.name for f in dataclasses.fields(ServiceSpec) if f.name != "start_prediction"
)


class BuiltService(Protocol):
    """A build on a base (the fixtures' ServiceBuild): an image tag and its ports."""

    tag: str
    ports: tuple[int, ...]


ServiceLike = ServiceSpec | BuiltService | str | Mapping[str, Any]


def service_spec(index: int, service: ServiceLike, defaults: Mapping[str, Any]) -> ServiceSpec:
    """A ServiceSpec from a build, an image tag or a dict, so tests need no internals.

    Unlike a bare ServiceSpec (the sample's three ports), these default to one HTTP
    port: the build's first port, else 8080; gRPC and admin ports only when given.
    """
    if isinstance(service, ServiceSpec):
        return service
    options = dict(service) if isinstance(service, Mapping) else {"image": service}
    unknown = sorted(set(options) - set(_SPEC_FIELDS))
    if unknown:
        raise CompatError(
            f"traefik_gateway: unknown service key {', '.join(unknown)}; "
            f"valid: {', '.join(_SPEC_FIELDS)}"
        )
    image = options.pop("image", None)
    if image is None:
        raise CompatError("traefik_gateway: a service dict needs 'image' (a build or a tag)")
    values: dict[str, Any] = {"alias": "app" if index == 0 else f"app-{index + 1}", **defaults}
    if not isinstance(image, str) and hasattr(image, "tag"):
        if values.get("http_port") is None and image.ports:
            values["http_port"] = image.ports[0]
        prediction = getattr(image, "prediction", None)
        if prediction is not None and not prediction.starts:
            values.setdefault("start_prediction", prediction.reason)
        image = image.tag
    values.update(options)
    values["http_port"] = values.get("http_port") or 8080
    values["args"] = tuple(values.get("args") or ())
    values["env"] = dict(values.get("env") or {})
    return ServiceSpec(image=str(image), **values)
