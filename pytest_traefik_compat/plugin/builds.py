"""The run's builds: Go binaries, the service images made from them, Traefik's image.

Each build is cached on disk by the domain modules (gobuild, bases.images); this adds
the run's progress lines and its build locks, and keeps one Go builder and one Traefik
binary for the whole run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

from pytest_traefik_compat import gobuild
from pytest_traefik_compat.bases import BaseImage, images
from pytest_traefik_compat.gateway import binary as traefik_bin

__all__ = ["Builds"]


class Builds:
    """Build what a run needs, once per run and cache.

    Args:
        cache_dir: the run's cache (Go builds under ``go/``).
        lock_dir: build locks shared by every run on the machine.
        progress: where long work is announced.
    """

    def __init__(self, cache_dir: Path, lock_dir: Path, progress: Callable[[str], None]) -> None:
        self.cache_dir = cache_dir
        self.lock_dir = lock_dir
        self.progress = progress

    @cached_property
    def go(self) -> gobuild.GoBuilder:
        return gobuild.GoBuilder(self.cache_dir / "go", progress=self.progress)

    def go_binary(self, request: gobuild.BuildRequest) -> gobuild.BuiltBinary:
        """Build (or find in the cache) a Go binary."""
        label = f"{request.module_dir.name}/{request.package} ({request.linkage})"
        started = time.monotonic()
        built = self.go.build(request)
        if not built.cached:
            self.progress(f"go build {label} in {time.monotonic() - started:.1f} s")
        return built

    def service_image(
        self,
        base: BaseImage,
        binary: gobuild.BuiltBinary,
        *,
        name: str,
        ports: Sequence[int] = (8080, 8081, 9090),
        healthcheck: images.HealthCheck | None = None,
    ) -> images.BuiltImage:
        """The service image: ``binary`` on ``base``."""
        request = images.service_request(
            base,
            binary.path,
            binary.key,
            name=name,
            ports=ports,
            healthcheck=healthcheck,
            labels={"linkage": binary.linkage},
        )
        built = images.ensure_image(request, self.lock_dir)
        if built.built_now:
            self.progress(f"built image {built.tag}")
        return built

    @cached_property
    def traefik_binary(self) -> Path:
        return traefik_bin.traefik_binary_path()

    @cached_property
    def traefik_version(self) -> str:
        return traefik_bin.traefik_version(self.traefik_binary)

    def traefik_image(self, base: BaseImage) -> images.BuiltImage:
        """The pinned Traefik binary on ``base``."""
        request = images.traefik_request(base, self.traefik_binary, self.traefik_version)
        built = images.ensure_image(request, self.lock_dir)
        if built.built_now:
            self.progress(f"built Traefik image {built.tag}")
        return built
