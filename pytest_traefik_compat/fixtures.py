"""Session fixtures: the extension points users request or override in conftest.py.

Each fixture is a thin wrapper over :class:`CompatSession` and the domain modules;
a domain error becomes a one-line test failure (no traceback) naming the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from pytest_traefik_compat import gobuild, images, traefik
from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.pki import SessionPKI
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.session import CompatSession, get_session
from pytest_traefik_compat.settings import Settings
from pytest_traefik_compat.stack import ServiceSpec, Stack

__all__ = [
    "ServiceBuild",
    "traefik_base",
    "traefik_build",
    "traefik_compat",
    "traefik_gateway",
    "traefik_pki",
    "traefik_record",
    "traefik_settings",
]


def fail(error: CompatError) -> NoReturn:
    pytest.fail(str(error), pytrace=False)


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
    name = str(request.param)
    try:
        return traefik_compat.base(name)
    except CompatError as error:
        pytest.fail(f"base {name}: {error}", pytrace=False)


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
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    default_base = params.get("traefik_base")

    def record(check: str, base: str | None = None, *, variant: str = "") -> Record:
        name = base or default_base
        if not name:
            raise ValueError("traefik_record needs base= outside a traefik_base test")
        return traefik_compat.new_record(str(name), check, variant=variant)

    return record


def _glibc_version(base: BaseImage) -> tuple[int, int] | None:
    version = base.facts.libc_version
    if "glibc" not in base.facts.libc_kind or not version:
        return None
    major, _, minor = version.partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


@dataclass
class ServiceBuild:
    """A Go module built for one linkage and put on one base."""

    base: BaseImage
    binary: gobuild.BuiltBinary
    image: images.BuiltImage
    prediction: gobuild.Prediction

    @property
    def tag(self) -> str:
        return self.image.tag


@pytest.fixture(scope="session")
def traefik_build(traefik_compat: CompatSession) -> Callable[..., ServiceBuild]:
    """Build a Go module directory onto a base: ``traefik_build(module_dir, base, ...)``.

    Keyword arguments: ``linkage`` (static/glibc/musl), ``package``, ``tags``,
    ``ldflags``, ``env`` (build env), ``ports``, ``healthcheck`` (default: the
    binary's ``-healthcheck`` self-probe; None for none).
    """

    def build(
        module_dir: str | Path,
        base: BaseImage,
        *,
        linkage: gobuild.Linkage = "static",
        package: str = ".",
        tags: Sequence[str] = (),
        ldflags: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        ports: Sequence[int] = (8080,),
        healthcheck: images.HealthCheck | str | None = "self-probe",
        name: str | None = None,
        linkage_var: str | None = "main.linkage",
    ) -> ServiceBuild:
        with clear_errors():
            request = gobuild.BuildRequest(
                Path(module_dir),
                package=package,
                linkage=linkage,
                tags=tuple(tags),
                ldflags=tuple(ldflags),
                env=dict(env or {}),
                output_name="app",
                linkage_var=linkage_var,
            )
            binary = traefik_compat.build_go(request)
            check = images.self_probe() if healthcheck == "self-probe" else healthcheck
            assert not isinstance(check, str)
            image = traefik_compat.service_image(
                base,
                binary,
                name=name
                or f"{Path(module_dir).name}-{linkage}" + ("-" + "-".join(tags) if tags else ""),
                ports=ports,
                healthcheck=check,
            )
            prediction = gobuild.predict_start(
                binary.elf, base.files, image_glibc=_glibc_version(base)
            )
            return ServiceBuild(base, binary, image, prediction)

    return build


@pytest.fixture(scope="session")
def traefik_gateway(
    traefik_compat: CompatSession,
    traefik_pki: SessionPKI,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Stack]]:
    """Start Traefik with mTLS in front of services: ``traefik_gateway(base, services)``.

    ``services`` are :class:`ServiceSpec` (or image tags); ``backends`` overrides the
    default routes (app.compat.test -> HTTP port, grpc.compat.test -> gRPC port).
    The returned :class:`Stack` is started and ready; it is torn down at session end
    or with ``stack.close()``.
    """
    stacks: list[Stack] = []

    def gateway(
        base: BaseImage,
        services: Sequence[ServiceSpec | str],
        *,
        backends: Sequence[traefik.Backend] | None = None,
        plugin: traefik.LocalPlugin | None = None,
        plugin_dir: Path | None = None,
        extra_dynamic: Mapping[str, Any] | None = None,
        health_interval: str = "1s",
    ) -> Stack:
        specs = [ServiceSpec(s) if isinstance(s, str) else s for s in services]
        with clear_errors():
            traefik_image = traefik_compat.traefik_image(base)
            label = f"{traefik_compat.worker_id}-{base.name}-{len(stacks)}"
            stack = Stack(
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
                progress=traefik_compat.progress,
            )
            stacks.append(stack)
            stack.start()
            return stack

    yield gateway
    for stack in stacks:
        stack.close()
