"""The one Docker client: connection with a clear error, image presence.

Cached per process; every other engine module reaches the engine through :func:`client`.
"""

from __future__ import annotations

import os
import re

import docker
import docker.errors
from docker import DockerClient

from pytest_traefik_compat.errors import CompatError

MIN_API_VERSION = (1, 41)  # Docker Engine 20.10
CONNECT_TIMEOUT_S = 10
REQUEST_TIMEOUT_S = 120

_client: DockerClient | None = None


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


