"""The one Docker client: connection with a clear error, image presence.

Cached per process; every other engine module reaches the engine through :func:`client`.
"""

from __future__ import annotations

import os
import re
from contextlib import suppress
from typing import Any

import docker
import docker.errors
from docker import DockerClient

from pytest_traefik_compat.engine import resolve as _resolve
from pytest_traefik_compat.errors import CompatError

MIN_API_VERSION = (1, 41)  # Docker Engine 20.10
CONNECT_TIMEOUT_S = 10
REQUEST_TIMEOUT_S = 120

_client: DockerClient | None = None
_target: _resolve.EngineTarget | None = None
_version: dict[str, object] = {}


def target() -> _resolve.EngineTarget:
    """The resolved engine of this process (DOCKER_HOST, context or default socket)."""
    global _target
    if _target is None:
        _target = _resolve.resolve()
    return _target


def engine_host() -> str:
    """The address clients and probes use to reach ports published by the engine."""
    return target().connect_host


def engine_address() -> str:
    """:func:`engine_host` ready for a URL or ``host:port`` (IPv6 in brackets)."""
    return _resolve.url_host(engine_host())


def publish_host() -> str:
    """The address on the engine host that published ports bind to."""
    return target().publish_host


def reset() -> None:
    """Forget the cached client and target (after DOCKER_HOST or the override changed)."""
    global _client, _target
    if _client is not None:
        with suppress(Exception):
            _client.close()
    _client, _target = None, None
    _version.clear()


def _describe_host() -> str:
    return target().address


def _tolerate_finished_ssh() -> None:
    """docker-py's shell ssh transport writes to the ssh process's stdin on close; when
    that process has already ended (after an exec's hijacked stream, for one) the close
    raises BrokenPipeError in whichever thread closes it. Closing a finished process is
    done: patched once, for ssh:// engines only."""
    from docker.transport import sshconn

    original = sshconn.SSHSocket.close
    if getattr(original, "_ptc_tolerant", False):
        return

    def close(self: Any) -> None:
        try:
            original(self)
        except (BrokenPipeError, ValueError):
            with suppress(Exception):
                self.proc.terminate()

    close._ptc_tolerant = True  # type: ignore[attr-defined]
    sshconn.SSHSocket.close = close


def _connect(resolved: _resolve.EngineTarget) -> DockerClient:
    if resolved.scheme == "ssh":
        _tolerate_finished_ssh()
    if resolved.context_tls is not None:
        return DockerClient(
            base_url=resolved.url, tls=resolved.context_tls, timeout=CONNECT_TIMEOUT_S
        )
    environment = dict(os.environ)
    environment["DOCKER_HOST"] = resolved.url
    return docker.from_env(
        environment=environment,
        timeout=CONNECT_TIMEOUT_S,
        use_ssh_client=resolved.scheme == "ssh",
    )


def client() -> DockerClient:
    """A connected client, or CompatError naming the fix; cached per process."""
    global _client
    if _client is not None:
        return _client
    resolved = target()
    try:
        candidate = _connect(resolved)
        version = candidate.version()
    except (docker.errors.DockerException, OSError, ValueError) as error:
        fix = (
            "start one (`make setup` installs docker.io and starts dockerd) or fix DOCKER_HOST"
            if resolved.scheme == "unix"
            else f"check that the engine listens there and is reachable, or fix {resolved.source}"
        )
        raise CompatError(
            f"no Docker engine answers at {resolved.address}: {fix} ({_short(error)})"
        ) from None
    api = tuple(int(part) for part in str(version.get("ApiVersion", "0.0")).split(".")[:2])
    if api < MIN_API_VERSION:
        raise CompatError(
            f"Docker Engine {version.get('Version')} (API {'.'.join(map(str, api))}) is "
            f"too old: need API >= {'.'.join(map(str, MIN_API_VERSION))} (Engine 20.10+)"
        )
    candidate.api.timeout = REQUEST_TIMEOUT_S
    _version.update(version)
    _client = candidate
    return _client


def engine_kind(version: dict[str, object] | None = None) -> str:
    """'podman' or 'docker', from the engine's version answer (as testcontainers does)."""
    answer = version if version is not None else _version
    platform = answer.get("Platform") or {}
    names = [str(platform.get("Name", "")) if isinstance(platform, dict) else ""]
    components = answer.get("Components") or []
    if isinstance(components, list):
        names += [str(c.get("Name", "")) for c in components if isinstance(c, dict)]
    return "podman" if any("podman" in name.lower() for name in names) else "docker"


def is_podman() -> bool:
    client()
    return engine_kind() == "podman"


def engine_info() -> dict[str, str]:
    """What the run used: kind, version, API, address and how ports are reached."""
    engine = client()
    resolved = target()
    if "_runtime" not in _version:
        try:
            _version["_runtime"] = str(engine.info().get("DefaultRuntime") or "")
        except docker.errors.DockerException:
            _version["_runtime"] = ""
    return {
        "kind": engine_kind(),
        "runtime": str(_version["_runtime"]),
        "version": str(_version.get("Version", "")),
        "api_version": str(_version.get("ApiVersion", "")),
        "address": resolved.address,
        "source": resolved.source,
        "tls": "yes" if resolved.tls else "no",
        "host": resolved.connect_host,
        "host_source": resolved.host_source,
        "publish_address": resolved.publish_host,
    }


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
