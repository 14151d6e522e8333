"""What differs when the engine is Podman's Docker-compatible API service.

Each difference below makes a Docker-shaped call fail or mislead, so it is handled
here (Podman 4.3.1 as Debian ships it, served by ``podman system service``; see also
docs/engines.md):

- rlimits: Podman's default rlimits are refused in unprivileged sandboxes ("setrlimit
  RLIMIT_NOFILE: Operation not permitted"), and the failed start leaves the published
  port bound ("address already in use" on the next start). Containers get explicit
  ``nofile``/``nproc`` ulimits equal to the caller's own, nproc at most the service's
  own 32768 (:func:`run_options`).
- runtime: crun refuses cgroups v1 hybrid mode; the service must run with
  ``podman --runtime runc system service``; the engine info names the runtime.
- health checks: Podman runs them from systemd timers; without systemd the status
  stays ``starting`` forever. :func:`drive_health` runs the container's own check
  through the libpod endpoint, at the container's interval, as the timer would.
- images: loaded or built images are stored as ``localhost/NAME:TAG``; lookups by
  ``NAME:TAG`` still resolve, but RepoTags carry the prefix (:func:`strip_localhost`).
- exec of a missing program: exit code 127 with runc's words, where Docker answers
  126 ("OCI runtime exec failed"); both are "the program is not there".
- network: removing a container from a network stalls traffic between the others
  for 1-2 s (Traefik's health checks to the service time out: "context deadline
  exceeded", the route answers 503); the suite waits for its routes before each check.
- export: a created container's export has no engine mount points (Docker's adds
  /.dockerenv, /etc/hosts, /etc/hostname, /etc/resolv.conf, /etc/mtab, /dev/console,
  /dev/pts, /dev/shm), so an image's file count reads up to 8 lower than on Docker.
- inspect: ``State.Health.Log`` is ``null`` until a check ran (Docker: a list), which
  testcontainers' typed inspect cannot parse (:func:`normalize_inspect`).

Every difference is named in :data:`DIFFERENCES` so the report can say it is the
engine's, not the base's.
"""

from __future__ import annotations

import resource
import time
from typing import Any

import docker.errors
import requests
from docker.types import Ulimit

from pytest_traefik_compat.engine.client import client, is_podman

LIBPOD_API = "v4.0.0"
ULIMIT_FALLBACK = 65536  # when the caller's own limit is unlimited
# `podman system service` (4.3.1, rootful) runs with RLIMIT_NPROC 32768 whatever its
# caller had; a container may not get more (32769: "error setting rlimit type 6").
PODMAN_NPROC_CEILING = 32768
LOCALHOST_PREFIX = "localhost/"

DIFFERENCES: dict[str, str] = {
    "ulimits": "containers get explicit nofile/nproc ulimits (Podman's defaults are refused "
    "without CAP_SYS_RESOURCE)",
    "healthcheck": "health checks run by the plugin through the libpod healthcheck endpoint "
    "at the container's interval (Podman schedules them with systemd timers)",
    "image-names": "images are stored as localhost/NAME:TAG",
    "exec-exit-code": "exec of a missing program exits 127 (Docker: 126)",
    "inspect": "State.Health.Log is null before the first check (normalised to [])",
    "export": "a container's export leaves out the engine's own mount points (Docker "
    "adds .dockerenv, /etc/hosts, /etc/hostname, /etc/resolv.conf, /etc/mtab, /dev/console, "
    "/dev/pts, /dev/shm): image facts count up to 8 files fewer",
    "network-stall": "removing a container from a network stalls traffic between the "
    "others for 1-2 s (Traefik's health checks time out); each suite check starts once "
    "every route is back in service",
}

_last_run: dict[str, float] = {}


def _limits(kind: int) -> tuple[int, int]:
    """The caller's own (soft, hard) limit: never higher, so Podman's setrlimit succeeds.

    Not lower either: RLIMIT_NPROC counts every thread of the container's uid on the
    whole host (65532 runs every container here), so a small cap starves Go programs.
    """
    soft, hard = resource.getrlimit(kind)
    if hard == resource.RLIM_INFINITY:
        hard = ULIMIT_FALLBACK
    if soft == resource.RLIM_INFINITY or soft > hard:
        soft = hard
    return soft, hard


def run_options() -> dict[str, Any]:
    """Extra create options for this engine: none for Docker, explicit ulimits for Podman."""
    if not is_podman():
        return {}
    nofile, nproc = _limits(resource.RLIMIT_NOFILE), _limits(resource.RLIMIT_NPROC)
    nproc = (min(nproc[0], PODMAN_NPROC_CEILING), min(nproc[1], PODMAN_NPROC_CEILING))
    return {
        "ulimits": [
            Ulimit(name="nofile", soft=nofile[0], hard=nofile[1]),
            Ulimit(name="nproc", soft=nproc[0], hard=nproc[1]),
        ]
    }


def differences() -> dict[str, str]:
    """The engine differences that apply to this run (empty for Docker)."""
    return dict(DIFFERENCES) if is_podman() else {}


def _interval_s(container: Any) -> float:
    check = ((container.attrs.get("Config") or {}).get("Healthcheck")) or {}
    interval = check.get("Interval") or 0
    return max(float(interval) / 1e9, 0.5) if interval else 30.0


def drive_health(container: Any) -> None:
    """On Podman, run the container's health check when its interval has passed.

    No-op on Docker (its daemon runs the checks). Errors are swallowed: the caller
    reads the status the engine reports, which stays 'starting' if nothing ran.
    """
    if not is_podman():
        return
    name = str(getattr(container, "id", "") or getattr(container, "name", ""))
    if not name:
        return
    with _suppress_engine_errors():
        container.reload()
    now = time.monotonic()
    if now - _last_run.get(name, 0.0) < _interval_s(container):
        return
    _last_run[name] = now
    run_healthcheck(name)


def run_healthcheck(container_id: str) -> str | None:
    """Run a Podman container's health check once; its status after the run."""
    api = client().api
    url = f"{api.base_url}/{LIBPOD_API}/libpod/containers/{container_id}/healthcheck"
    with _suppress_engine_errors():
        answer = api._get(url, timeout=30)
        if answer.status_code == 200:
            return str(answer.json().get("Status") or "")
    return None


def normalize_inspect(attrs: dict[str, Any]) -> dict[str, Any]:
    """Podman answers ``State.Health.Log: null`` before a first check, where Docker has a
    list; testcontainers' typed inspect expects the list."""
    health = (attrs.get("State") or {}).get("Health")
    if isinstance(health, dict) and health.get("Log") is None:
        attrs = {**attrs, "State": {**attrs["State"], "Health": {**health, "Log": []}}}
    return attrs


def strip_localhost(tag: str) -> str:
    """``localhost/NAME:TAG`` (Podman's name for a local image) as ``NAME:TAG``."""
    return tag[len(LOCALHOST_PREFIX) :] if tag.startswith(LOCALHOST_PREFIX) else tag


class _suppress_engine_errors:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is not None and issubclass(
            kind, (docker.errors.DockerException, requests.RequestException, ValueError)
        )
