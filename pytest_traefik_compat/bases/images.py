"""Thin images on a base: a Go service binary, or the Traefik binary.

Both are cached by a tag derived from the base image id and the binary's identity,
so a warm run builds nothing. The base must already exist locally; nothing pulls.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker.errors

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import locks
from pytest_traefik_compat.bases.facts import BaseImage

if TYPE_CHECKING:
    from pytest_traefik_compat.bases.startcheck import Prediction
    from pytest_traefik_compat.gobuild import BuiltBinary, Linkage

IMAGE_SCHEMA = 1
NONROOT = "65532:65532"


@dataclass(frozen=True)
class HealthCheck:
    """A Docker HEALTHCHECK; exec form so bases without a shell can run it."""

    test: tuple[str, ...]
    interval_s: float = 1.0
    timeout_s: float = 2.0
    retries: int = 3
    start_period_s: float = 0.0

    def dockerfile_line(self) -> str:
        # The engine refuses a zero start period in a Dockerfile: leave it out.
        start = f"--start-period={self.start_period_s}s " if self.start_period_s else ""
        return (
            f"HEALTHCHECK --interval={self.interval_s}s --timeout={self.timeout_s}s "
            f"--retries={self.retries} {start}CMD {json.dumps(list(self.test))}"
        )

    def as_docker(self) -> dict[str, object]:
        """The same check in the engine API's form (nanoseconds)."""
        return {
            "Test": ["CMD", *self.test],
            "Interval": int(self.interval_s * 1e9),
            "Timeout": int(self.timeout_s * 1e9),
            "Retries": self.retries,
            "StartPeriod": int(self.start_period_s * 1e9),
        }


def self_probe(binary_path: str = "/app") -> HealthCheck:
    return HealthCheck((binary_path, "-healthcheck"))


@dataclass(frozen=True)
class ImageRequest:
    """One binary on one base."""

    base: BaseImage
    binary: Path
    binary_identity: str  # a build cache key, or version + size + mtime
    kind: str  # "svc" or "traefik"
    name: str  # short name in the tag, e.g. "static" or "service"
    target_path: str = "/app"
    entrypoint: tuple[str, ...] = ("/app",)
    user: str = NONROOT
    ports: tuple[int, ...] = ()
    healthcheck: HealthCheck | None = None
    workdir: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    extra_labels: Mapping[str, str] = field(default_factory=dict)
    # More files next to the binary: (host path, path in the image).
    extra_files: tuple[tuple[Path, str], ...] = ()

    def dockerfile(self) -> str:
        lines = [f"FROM {self.base.reference}", f"COPY bin {self.target_path}"]
        lines += [f"COPY extra{i} {target}" for i, (_, target) in enumerate(self.extra_files)]
        lines += [f"ENV {key}={value}" for key, value in sorted(self.env.items())]
        if self.workdir:
            lines.append(f"WORKDIR {self.workdir}")
        lines.append(f"USER {self.user}")
        lines += [f"EXPOSE {port}" for port in self.ports]
        if self.healthcheck is not None:
            lines.append(self.healthcheck.dockerfile_line())
        lines.append(f"ENTRYPOINT {json.dumps(list(self.entrypoint))}")
        return "\n".join(lines) + "\n"

    @property
    def digest(self) -> str:
        payload = {
            "schema": IMAGE_SCHEMA,
            "base": self.base.facts.image_id,
            "binary": self.binary_identity,
            "dockerfile": self.dockerfile(),
            "labels": dict(self.extra_labels),
            "extra": [(file_identity(path, ""), target) for path, target in self.extra_files],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    @property
    def tag(self) -> str:
        safe_base = self.base.name.replace("/", "-")
        return f"pytest-traefik-compat/{self.kind}-{safe_base}-{self.name}:{self.digest[:16]}"


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    size_bytes: int
    built_now: bool


def ensure_image(request: ImageRequest, lock_dir: Path) -> BuiltImage:
    """Build the image unless its tag exists; once across processes."""
    tag = request.tag
    built_now = locks.build_once(
        locks.lock_file(lock_dir, tag),
        exists=lambda: engine.image_exists(tag),
        build=lambda: _build(request, tag),
        what=f"image {tag}",
    )
    size = int(engine.client().images.get(tag).attrs.get("Size", 0))
    return BuiltImage(tag, size, built_now)


def _build(request: ImageRequest, tag: str) -> None:
    with tempfile.TemporaryDirectory(prefix="ptc-img-") as tmp:
        context = Path(tmp)
        target = context / "bin"
        # A hard link avoids copying Traefik's 180 MB when the cache shares a disk.
        try:
            os.link(request.binary, target)
        except OSError:
            shutil.copy2(request.binary, target)
        os.chmod(target, 0o755)
        for index, (source, _) in enumerate(request.extra_files):
            shutil.copy2(source, context / f"extra{index}")
        (context / "Dockerfile").write_text(request.dockerfile())
        labels = {
            engine.LABEL_MANAGED: "true",
            engine.LABEL_CACHED: "true",
            engine.LABEL_KIND: request.kind,
            f"{engine.LABEL_PREFIX}.base": request.base.name,
            f"{engine.LABEL_PREFIX}.base-image": request.base.facts.image_id,
            f"{engine.LABEL_PREFIX}.binary": request.binary_identity,
            **{f"{engine.LABEL_PREFIX}.{k}": v for k, v in request.extra_labels.items()},
        }
        engine.build_image(context, tag, labels)


def file_identity(path: Path, version: str) -> str:
    """Cheap identity for a large binary we did not build (hashing 180 MB each run is slow)."""
    stat = path.stat()
    return f"{version}:{stat.st_size}:{stat.st_mtime_ns}"


def service_request(
    base: BaseImage,
    binary: Path,
    binary_key: str,
    *,
    name: str,
    ports: Sequence[int],
    healthcheck: HealthCheck | None,
    labels: Mapping[str, str] | None = None,
    user: str = NONROOT,
) -> ImageRequest:
    return ImageRequest(
        base=base,
        binary=binary,
        binary_identity=binary_key,
        kind="svc",
        name=name,
        ports=tuple(ports),
        healthcheck=healthcheck,
        extra_labels=dict(labels or {}),
        user=user,
    )


def traefik_request(base: BaseImage, binary: Path, version: str) -> ImageRequest:
    return ImageRequest(
        base=base,
        binary=binary,
        binary_identity=file_identity(binary, version),
        kind="traefik",
        name="gateway",
        target_path="/usr/local/bin/traefik",
        entrypoint=("/usr/local/bin/traefik",),
        workdir="/etc/traefik",
        extra_labels={"traefik-version": version},
    )


def prune_stale_images() -> list[str]:
    """Remove cached images no current build can reuse; returns their tags or ids.

    A base whose tag's recipe hash is no longer the catalogue's is stale; a service or
    Traefik image whose base image is gone (or stale) is stale with it. Images without
    the plugin's labels are never looked at.
    """
    from pytest_traefik_compat.bases.catalogue import VARIANTS

    client = engine.client()
    # all=True: a base that lost its tag stays as the untagged parent of its images
    cached = client.images.list(all=True, filters={"label": [f"{engine.LABEL_CACHED}=true"]})
    existing = {image.id for image in client.images.list(all=True)}
    stale: list[Any] = []
    for image in cached:
        labels = image.labels or {}
        if labels.get(engine.LABEL_KIND) != "base":
            continue
        variant = VARIANTS.get(labels.get(f"{engine.LABEL_PREFIX}.variant", ""))
        # Podman names local images localhost/NAME:TAG
        tags = {engine.strip_localhost(tag) for tag in image.tags}
        if variant is None or variant.local_tag not in tags:
            stale.append(image)
    stale_bases = {image.id for image in stale}
    for image in cached:
        labels = image.labels or {}
        if labels.get(engine.LABEL_KIND) in ("svc", "traefik"):
            # A user's own base stays as long as it exists; a catalogue base as long
            # as its recipe is current.
            base_id = labels.get(f"{engine.LABEL_PREFIX}.base-image", "")
            if base_id not in existing or base_id in stale_bases:
                stale.append(image)
    removed: list[str] = []
    # Images built on a stale base go first, then the bases themselves.
    for image in sorted(stale, key=lambda i: (i.labels or {}).get(engine.LABEL_KIND) == "base"):
        with suppress(docker.errors.APIError):
            client.images.remove(image.id, force=True)
            removed.append(image.tags[0] if image.tags else image.short_id)
    return removed


@dataclass
class ServiceBuild:
    """A Go module built for one linkage and put on one base."""

    base: BaseImage
    binary: BuiltBinary
    image: BuiltImage
    prediction: Prediction
    # The container ports the image exposes (traefik_build's ports=): the gateway
    # routes to the first one unless told otherwise.
    ports: tuple[int, ...] = ()

    @property
    def tag(self) -> str:
        return self.image.tag

    @property
    def linkage(self) -> Linkage:
        return self.binary.linkage
