"""Cleanup by label: a run's own resources, or those of runs whose owner is dead.

No reaper container: a later run (or ``python -m pytest_traefik_compat cleanup``)
finds a killed run's leftovers by their labels and the owner's pid on this host.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from pytest_traefik_compat.engine.client import client
from pytest_traefik_compat.engine.labels import (
    LABEL_CACHED,
    LABEL_HOST,
    LABEL_MANAGED,
    LABEL_PID,
    LABEL_RUN,
    LABEL_STACK,
)


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (killed, not yet reaped) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) != "Z"


def _proc_state(pid: int, proc: Path = Path("/proc")) -> str:
    """The state letter of /proc/PID/stat ('R', 'S', 'Z', ...); '' when unreadable."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return ""
    # The command name may hold spaces and parentheses: the state follows the last ')'.
    fields = stat[stat.rfind(")") + 1 :].split()
    return fields[0] if fields else ""


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
