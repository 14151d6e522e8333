"""Session fixtures: the extension points users request or override in conftest.py.

Each fixture is a thin wrapper over :class:`CompatSession` and the domain modules;
a domain error becomes a one-line test failure (no traceback) naming the fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from pytest_traefik_compat import gobuild
from pytest_traefik_compat.bases import BaseImage, images, startcheck
from pytest_traefik_compat.bases.catalogue import ImageSpec
from pytest_traefik_compat.bases.images import ServiceBuild
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.services import ServiceLike, ServiceSpec, service_spec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.gateway.wait import READY_TIMEOUT_S
from pytest_traefik_compat.measure import dns
from pytest_traefik_compat.pki import SessionPKI
from pytest_traefik_compat.plugin.session import (
    CompatSession,
    base_param,
    get_session,
    sample_apps_dir,
)
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records import Record

# Fixtures, plus the types they hand out (for annotations in users' tests).
__all__ = [
    "BaseImage",
    "Gateway",
    "Record",
    "ServiceBuild",
    "SessionPKI",
    "traefik_base",
    "traefik_build",
    "traefik_compat",
    "traefik_dns",
    "traefik_gateway",
    "traefik_pki",
    "traefik_record",
    "traefik_settings",
]


def fail(error: CompatError) -> NoReturn:
    # "from None": raised while handling the CompatError, the failure would otherwise
    # print that error a second time under "During handling of the above exception".
    raise pytest.fail.Exception(str(error), pytrace=False) from None


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn a CompatError into a one-line failure with its detail (log tails)."""
    try:
        yield
    except CompatError as error:
        fail(error)


@pytest.fixture(scope="session")
def traefik_compat(pytestconfig: pytest.Config) -> CompatSession:
    """The run's session object (settings, identity, caches, records)."""
    return get_session(pytestconfig)


@pytest.fixture(scope="session")
def traefik_settings(traefik_compat: CompatSession) -> Settings:
    """The resolved options of this run."""
    return traefik_compat.settings


@pytest.fixture(scope="session")
def traefik_base(request: pytest.FixtureRequest, traefik_compat: CompatSession) -> BaseImage:
    """The base under test (parametrized over --traefik-images), built or found locally."""
    spec: ImageSpec = request.param
    try:
        return traefik_compat.base(spec)
    except CompatError as error:
        fail(CompatError(f"base {spec.name}: {error}"))


@pytest.fixture(scope="session")
def traefik_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionPKI]:
    """The session's CAs and leaves (keys 0600, removed at the end).

    Override it in a conftest.py to bring your own CA.
    """
    with SessionPKI(tmp_path_factory.mktemp("traefik-pki")) as pki:
        yield pki


@pytest.fixture
def traefik_record(
    request: pytest.FixtureRequest, traefik_compat: CompatSession
) -> Callable[..., Record]:
    """``traefik_record(check, base=None, variant="")`` -> a Record in the run's report."""
    spec = base_param(request.node) if isinstance(request.node, pytest.Item) else None
    default_base = spec.name if spec is not None else None

    def record(check: str, base: str | None = None, *, variant: str = "") -> Record:
        name = base or default_base
        if not name:
            raise ValueError("traefik_record needs base= outside a traefik_base test")
        return traefik_compat.new_record(str(name), check, variant=variant)

    return record


@pytest.fixture(scope="session")
def traefik_build(traefik_compat: CompatSession) -> Callable[..., ServiceBuild]:
    """Build a Go module directory onto a base: ``traefik_build(module_dir, base, ...)``.

    Keyword arguments: ``linkage`` (static/glibc/musl), ``package`` (``./cmd/x`` or
    an import path of the module), ``tags``, ``ldflags``, ``flags`` (more ``go build``
    flags), ``env`` (build env), ``ports`` (exposed; the gateway routes to the first),
    ``healthcheck`` (default: the binary's ``-healthcheck`` self-probe; None for
    none). Builds are cached by sources, Go version and flags; the result carries
    the binary's ELF facts and the start prediction for this base.
    """

    def build(
        module_dir: str | Path,
        base: BaseImage,
        *,
        linkage: gobuild.Linkage = "static",
        package: str = ".",
        tags: Sequence[str] = (),
        ldflags: Sequence[str] = (),
        flags: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        ports: Sequence[int] = (8080,),
        healthcheck: images.HealthCheck | str | None = "self-probe",
        name: str | None = None,
        linkage_var: str | None = "main.linkage",
    ) -> ServiceBuild:
        # Absolute, so every message names the directory whatever the cwd.
        module_dir = Path(module_dir).absolute()
        for option, value in (("tags", tags), ("ldflags", ldflags), ("flags", flags)):
            if isinstance(value, str):
                # tuple("-race") would quietly become single characters.
                fail(CompatError(f"traefik_build: {option}= takes a list, e.g. [{value!r}]"))
        try:
            gobuild.check_command_package(module_dir, package)
        except CompatError as error:
            fail(CompatError(f"traefik_build: {error.message}"))
        try:
            request = gobuild.BuildRequest(
                module_dir,
                package=package,
                linkage=linkage,
                tags=tuple(tags),
                ldflags=tuple(ldflags),
                flags=tuple(flags),
                env=dict(env or {}),
                output_name="app",
                linkage_var=linkage_var,
            )
        except (TypeError, ValueError) as error:
            # Bad arguments (unknown linkage, env setting CGO_ENABLED...): one line.
            fail(CompatError(f"traefik_build: {error}"))
        with clear_errors():
            binary = traefik_compat.builds.go_binary(request)
            check = images.self_probe() if healthcheck == "self-probe" else healthcheck
            assert not isinstance(check, str)
            image = traefik_compat.builds.service_image(
                base,
                binary,
                name=name
                or f"{module_dir.name}-{linkage}" + ("-" + "-".join(tags) if tags else ""),
                ports=ports,
                healthcheck=check,
            )
            prediction = startcheck.predict_start(
                binary.elf, base.files, image_glibc=startcheck.glibc_version_of(base.facts)
            )
            return ServiceBuild(base, binary, image, prediction, tuple(ports))

    return build


@pytest.fixture(scope="session")
def traefik_gateway(
    traefik_compat: CompatSession,
    traefik_pki: SessionPKI,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Gateway]]:
    """Start Traefik with mTLS in front of services: ``traefik_gateway(base, services)``.

    ``services`` are builds from ``traefik_build``, image tags, dicts of service
    options (``{"image": build, "alias": ..., "http_port": ...}``) or
    :class:`ServiceSpec`. Keyword options apply to every non-ServiceSpec service:
    ``http_port`` (default: the build's first port, else 8080), ``grpc_port`` and
    ``admin_port`` (default none), ``health_path``, ``args``, ``env``. Routes:
    ``app.compat.test`` -> the first service's HTTP port, ``grpc.compat.test`` -> its
    gRPC port (h2c); ``backends`` replaces them. The returned :class:`Gateway` is
    started and ready (bounded by ``ready_timeout`` per container); it is torn down
    at session end or with ``gateway.close()``.
    """
    gateways: list[Gateway] = []

    def start_gateway(
        base: BaseImage,
        services: Sequence[ServiceLike],
        *,
        http_port: int | None = None,
        grpc_port: int | None = None,
        admin_port: int | None = None,
        health_path: str = "/healthz",
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        backends: Sequence[traefik.Backend] | None = None,
        plugin: traefik.LocalPlugin | None = None,
        plugin_dir: Path | None = None,
        extra_dynamic: Mapping[str, Any] | None = None,
        health_interval: str = "1s",
        ready_timeout: float = READY_TIMEOUT_S,
    ) -> Gateway:
        if isinstance(services, (str, ServiceBuild, ServiceSpec, Mapping)) or not services:
            fail(CompatError("traefik_gateway: services must be a non-empty list"))
        defaults = {
            "http_port": http_port,
            "grpc_port": grpc_port,
            "admin_port": admin_port,
            "health_path": health_path,
            "args": tuple(args),
            "env": dict(env or {}),
        }
        with clear_errors():
            specs = [service_spec(i, s, defaults) for i, s in enumerate(services)]
        with clear_errors():
            traefik_image = traefik_compat.builds.traefik_image(base)
            label = f"{traefik_compat.worker_id}-{base.name}-{len(gateways)}"
            gateway = Gateway(
                identity=traefik_compat.identity,
                label=label,
                workdir=tmp_path_factory.mktemp(f"stack-{base.name}"),
                pki=traefik_pki,
                traefik_image=traefik_image.tag,
                services=specs,
                backends=backends,
                plugin=plugin,
                plugin_dir=plugin_dir,
                extra_dynamic=extra_dynamic,
                health_interval=health_interval,
                ready_timeout=ready_timeout,
                progress=traefik_compat.progress,
                keep_policy=traefik_compat.keep_policy(base.name),
            )
            gateways.append(gateway)
            try:
                gateway.start()
            except CompatError:
                # A gateway that never came up is of no use to later tests: free its
                # containers now (kept instead under --traefik-keep, at teardown).
                gateway.close()
                raise
            return gateway

    yield start_gateway
    for gateway in gateways:
        gateway.close()


class TraefikLint:
    """What the ``traefik_lint`` fixture hands out: call it for the findings, or
    ``assert_clean`` to fail the test with one readable entry per finding."""

    def __repr__(self) -> str:
        return "traefik_lint"

    def __call__(
        self,
        paths: Sequence[str | Path] | str | Path,
        *,
        path_map: Mapping[str, str | Path] | Sequence[str] | None = None,
        strict_files: bool = False,
    ) -> list[Any]:
        """``path_map``: {container path: local path} for the files the config names
        (caFiles); see ``docs/lint.md``."""
        from pytest_traefik_compat.gateway.lint import lint_paths

        if isinstance(paths, (str, Path)):
            paths = [paths]
        with clear_errors():
            return lint_paths(paths, path_map=path_map, strict_files=strict_files)

    def assert_clean(
        self,
        paths: Sequence[str | Path] | str | Path,
        *,
        path_map: Mapping[str, str | Path] | Sequence[str] | None = None,
        strict_files: bool = False,
    ) -> None:
        findings = self(paths, path_map=path_map, strict_files=strict_files)
        if findings:
            pytest.fail(f"{len(findings)} Traefik config finding(s):\n{findings}", pytrace=False)


@pytest.fixture
def traefik_lint() -> TraefikLint:
    """Lint your own Traefik config for the mTLS traps: ``traefik_lint(paths)`` returns
    the findings (each with ``file``, ``router``, ``why``, ``fix``, ``code``; ``line()``
    for a readable line; the list prints as those lines). Paths are static and dynamic
    files, YAML or TOML, or directories of them. ``traefik_lint.assert_clean(paths)``
    fails the test with ``<file>: <router>: [<code>] <why>`` and the fix per finding;
    ``assert not traefik_lint([...])`` works too.
    """
    return TraefikLint()


@dataclass(frozen=True)
class DnsResults:
    """What ``traefik_dns(base)`` hands back: one :class:`~measure.dns.ResolverRun` per
    resolver that ran (``figures()``, ``details()``, ``matches``, ``unanswered``), and
    why each other resolver did not run on this base."""

    base: str
    runs: tuple[dns.ResolverRun, ...]
    not_run: Mapping[str, str]
    wall_s: float

    def run(self, resolver: str) -> dns.ResolverRun | None:
        return next((r for r in self.runs if r.resolver == resolver), None)


class TraefikDns:
    """What the ``traefik_dns`` fixture hands out: call it with a base for the name
    resolution cases of ``docs/dns.md``."""

    def __init__(self, session: CompatSession, build: Callable[..., ServiceBuild]) -> None:
        self._session = session
        self._build = build

    def __repr__(self) -> str:
        return "traefik_dns"

    def __call__(
        self,
        base: BaseImage,
        *,
        resolvers: Sequence[dns.Resolver] = dns.RESOLVERS,
        cases: Sequence[dns.Case] = dns.CASES,
        probes: Mapping[dns.Resolver, str] | None = None,
    ) -> DnsResults:
        """Run ``cases`` on ``base`` for each resolver that runs there.

        Go's resolver runs from a static build (on every base); glibc's and musl's
        ``getaddrinfo`` where the probe built in that linkage is predicted to start on
        the base (the start matrix's prediction), else ``not_run`` says why.

        Args:
            base: the base under test (``traefik_base``), or your own base from
                ``traefik_compat.base(ImageSpec(...))``.
            resolvers: a subset of go, glibc, musl.
            cases: a subset of ``measure.dns.CASES``.
            probes: your own probe image per resolver (an image whose entrypoint is
                ``sample_apps/resolveprobe``, e.g. built onto your service's image);
                these are run as they are, without a start prediction.
        """
        started = time.monotonic()
        samples = sample_apps_dir()
        chosen: list[dns.Probe] = []
        not_run: dict[str, str] = {}
        for resolver in resolvers:
            if probes and resolver in probes:
                chosen.append(dns.Probe(resolver, probes[resolver], base.facts.libc_version))
                continue
            try:
                build = self._build(
                    samples / "resolveprobe",
                    base,
                    linkage=dns.RESOLVER_LINKAGE[resolver],
                    ports=(),
                    healthcheck=None,
                )
            except pytest.fail.Exception as failure:
                not_run[resolver] = f"build failed: {failure}"
                continue
            if not build.prediction.starts:
                not_run[resolver] = f"does not start here: {build.prediction.reason}"
                continue
            chosen.append(dns.Probe(resolver, build.tag, base.facts.libc_version))
        server = self._build(
            samples / "dnsserver", base, ports=(), healthcheck=None, linkage_var=None
        )
        identity = self._session.identity
        names = ", ".join(p.resolver for p in chosen)
        self._session.progress(f"dns on {base.name}: {len(cases)} cases x {names}")
        with clear_errors(), dns.DnsLab(server.tag, identity.labels("dns")) as lab:
            runs = lab.run_resolvers(chosen, base=base.name, cases=cases)
        return DnsResults(base.name, tuple(runs), not_run, time.monotonic() - started)


@pytest.fixture(scope="session")
def traefik_dns(
    traefik_compat: CompatSession, traefik_build: Callable[..., ServiceBuild]
) -> TraefikDns:
    """Name resolution per resolver on a base: ``traefik_dns(base)`` runs the cases of
    ``docs/dns.md`` (large answer, silent first nameserver, search list after ndots,
    AAAA only, resolv.conf timeout) against name servers of its own, with Go's resolver
    and each C library's ``getaddrinfo`` that starts on the base, and returns
    :class:`DnsResults`; each run's ``figures()`` go into a record, ``matches`` says
    whether every case went as the library's documented behaviour predicts. Needs a
    local engine (the probe's resolv.conf is a file mounted from this machine).
    """
    return TraefikDns(traefik_compat, traefik_build)
