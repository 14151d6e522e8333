"""The one Docker client wrapper: connection with a clear error, labels, cleanup.

Every container, network, volume and temporary image the plugin creates carries
:func:`run_labels`, so a run removes exactly what it made, and a later run (or
``python -m pytest_traefik_compat cleanup``) can find the leftovers of a killed one
without a reaper container.
"""

from __future__ import annotations

import json
import os
import re
import socket
import uuid
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker import DockerClient

from pytest_traefik_compat.errors import CompatError

LABEL_PREFIX = "io.pytest-traefik-compat"
LABEL_MANAGED = f"{LABEL_PREFIX}.managed"
LABEL_RUN = f"{LABEL_PREFIX}.run"
LABEL_PID = f"{LABEL_PREFIX}.pid"
LABEL_HOST = f"{LABEL_PREFIX}.host"
LABEL_KIND = f"{LABEL_PREFIX}.kind"
# Cached images (bases, service images) are kept across runs on purpose.
LABEL_CACHED = f"{LABEL_PREFIX}.cached"
LABEL_STACK = f"{LABEL_PREFIX}.stack"

MIN_API_VERSION = (1, 41)  # Docker Engine 20.10
CONNECT_TIMEOUT_S = 10
REQUEST_TIMEOUT_S = 120

_client: DockerClient | None = None


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class RunIdentity:
    """Who owns a resource: the run, its controlling process and its host."""

    run_id: str
    pid: int
    host: str

    @classmethod
    def create(cls) -> RunIdentity:
        return cls(new_run_id(), os.getpid(), socket.gethostname())

    def labels(self, kind: str, **extra: str) -> dict[str, str]:
        labels = {
            LABEL_MANAGED: "true",
            LABEL_RUN: self.run_id,
            LABEL_PID: str(self.pid),
            LABEL_HOST: self.host,
            LABEL_KIND: kind,
        }
        labels.update({f"{LABEL_PREFIX}.{key}": value for key, value in extra.items()})
        return labels

    def filter(self) -> dict[str, Any]:
        return {"label": [f"{LABEL_RUN}={self.run_id}"]}


def _describe_host() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def client() -> DockerClient:
    """A connected client, or CompatError naming the fix; cached per process."""
    global _client
    if _client is not None:
        return _client
    try:
        candidate = docker.from_env(timeout=CONNECT_TIMEOUT_S)
        version = candidate.version()
    except docker.errors.DockerException as error:
        raise CompatError(
            f"no Docker engine answers at {_describe_host()}: start one "
            "(`make setup` installs docker.io and starts dockerd) or fix DOCKER_HOST "
            f"({_short(error)})"
        ) from None
    api = tuple(int(part) for part in str(version.get("ApiVersion", "0.0")).split(".")[:2])
    if api < MIN_API_VERSION:
        raise CompatError(
            f"Docker Engine {version.get('Version')} (API {'.'.join(map(str, api))}) is "
            f"too old: need API >= {'.'.join(map(str, MIN_API_VERSION))} (Engine 20.10+)"
        )
    candidate.api.timeout = REQUEST_TIMEOUT_S
    _client = candidate
    return _client


def _short(error: BaseException) -> str:
    """The useful end of a connection error: 'Connection refused', not the URL chain."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    match = re.search(
        r"\[Errno -?\d+\] ([^'\")]+)|Failed to establish a new connection: ([^'\")]+)", text
    )
    if match:
        return (match.group(1) or match.group(2)).strip()
    return text if len(text) <= 160 else text[:157] + "..."


def image_exists(reference: str) -> bool:
    try:
        client().images.get(reference)
    except docker.errors.ImageNotFound:
        return False
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class CleanupReport:
    containers: int = 0
    networks: int = 0
    volumes: int = 0
    images: int = 0

    @property
    def total(self) -> int:
        return self.containers + self.networks + self.volumes + self.images

    def __str__(self) -> str:
        return (
            f"{self.containers} containers, {self.networks} networks, "
            f"{self.volumes} volumes, {self.images} images"
        )


def _owner_dead(labels: dict[str, str]) -> bool:
    """True when the labels name a run whose controlling process is gone."""
    if labels.get(LABEL_HOST) != socket.gethostname():
        return False  # another machine's run sharing this engine: not ours to judge
    try:
        pid = int(labels.get(LABEL_PID, ""))
    except ValueError:
        return False
    return not _pid_alive(pid)


def remove_resources(
    *,
    run_id: str | None = None,
    dead_only: bool = False,
    keep_runs: Iterable[str] = (),
    keep_stacks: Iterable[str] = (),
) -> CleanupReport:
    """Remove the plugin's labelled, non-cached resources.

    ``run_id`` limits removal to one run; ``dead_only`` limits it to runs whose owner
    process no longer exists (a killed run), never touching a live run. Runs in
    ``keep_runs`` and stacks in ``keep_stacks`` (kept with --traefik-keep) stay.
    """
    engine = client()
    label = f"{LABEL_RUN}={run_id}" if run_id else LABEL_MANAGED
    filters = {"label": [label]}
    report = CleanupReport()
    kept_runs, kept_stacks = set(keep_runs), set(keep_stacks)

    def wanted(labels: dict[str, str] | None, *, image: bool = False) -> bool:
        labels = labels or {}
        # Only images can be cache entries. Containers inherit their image's labels,
        # so "cached" on a container says nothing about the container itself.
        if image and labels.get(LABEL_CACHED) == "true":
            return False
        if LABEL_RUN not in labels:
            return False  # e.g. a cached image's container made by hand: not a run's
        if labels.get(LABEL_RUN) in kept_runs or labels.get(LABEL_STACK) in kept_stacks:
            return False
        return not dead_only or _owner_dead(labels)

    # sparse: no per-container inspect, which races with other runs removing theirs.
    for container in engine.containers.list(all=True, filters=filters, sparse=True):
        if wanted(container.attrs.get("Labels")):
            with suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
                report.containers += 1
    for network in engine.networks.list(filters=filters):
        if wanted(network.attrs.get("Labels")):
            with suppress(docker.errors.NotFound, docker.errors.APIError):
                network.remove()
                report.networks += 1
    for volume in engine.volumes.list(filters=filters):
        if wanted(volume.attrs.get("Labels")):
            with suppress(docker.errors.NotFound, docker.errors.APIError):
                volume.remove(force=True)
                report.volumes += 1
    for image in engine.images.list(filters=filters):
        if wanted(image.labels, image=True):
            with suppress(docker.errors.NotFound, docker.errors.APIError):
                engine.images.remove(image.id, force=True)
                report.images += 1
    return report


def iter_log_tail(container: Any, lines: int = 30) -> Iterator[str]:
    """The last lines a container printed, decoded; empty when it is gone."""
    try:
        raw = container.logs(tail=lines)
    except docker.errors.DockerException:
        return iter(())
    return iter(raw.decode("utf-8", "replace").splitlines())


def log_tail(container: Any, lines: int = 30) -> str:
    return "\n".join(iter_log_tail(container, lines))


class KeptRuns:
    """Run ids whose resources a user kept with --traefik-keep (a JSON list on disk).

    Cleanup of killed runs skips them until ``cleanup --run ID`` (or ``--all``).
    """

    def __init__(self, cache_dir: Path) -> None:
        self.path = cache_dir / "kept-runs.json"

    def load(self) -> set[str]:
        try:
            return {str(run) for run in json.loads(self.path.read_text())}
        except (OSError, ValueError, TypeError):
            return set()

    def _save(self, runs: set[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(sorted(runs)))
        os.replace(tmp, self.path)

    def add(self, run_id: str) -> None:
        self._save(self.load() | {run_id})

    def discard(self, run_id: str | None) -> None:
        runs = self.load()
        self._save(set() if run_id is None else runs - {run_id})
