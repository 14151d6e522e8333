"""The container engine: client, labels and cleanup, containers and networks, image builds.

Owns every call to Docker (docker-py and testcontainers); must not import pytest,
gobuild, gateway or report. Which engine (local, remote over tcp/TLS/ssh, Podman) and
the address its published ports are reached at are resolved once in ``resolve``.
"""

from __future__ import annotations

from pytest_traefik_compat.engine.build import build_image, check_from_lines_present
from pytest_traefik_compat.engine.cleanup import CleanupReport, KeptRuns, remove_resources
from pytest_traefik_compat.engine.client import (
    client,
    engine_address,
    engine_host,
    engine_info,
    image_exists,
    is_podman,
    publish_host,
    reset,
    target,
)
from pytest_traefik_compat.engine.containers import (
    LOOPBACK,
    ExecResult,
    create_container,
    create_network,
    exec_in,
    exit_summary,
    host_ports,
    inspect,
    iter_log_tail,
    log_tail,
    pid,
    posture,
    process_status,
    remove,
    remove_network,
    require_image,
    run_container,
    state,
)
from pytest_traefik_compat.engine.hardening import (
    HARDENING,
    NONROOT_USER,
    Posture,
    PostureException,
    read_posture,
)
from pytest_traefik_compat.engine.labels import (
    LABEL_CACHED,
    LABEL_HOST,
    LABEL_KIND,
    LABEL_MANAGED,
    LABEL_PID,
    LABEL_PREFIX,
    LABEL_RUN,
    LABEL_STACK,
    RunIdentity,
    new_run_id,
)
from pytest_traefik_compat.engine.podman import differences as engine_differences
from pytest_traefik_compat.engine.podman import drive_health, strip_localhost
from pytest_traefik_compat.engine.resolve import EngineTarget, parse_engine_host, set_host_override

__all__ = [
    "HARDENING",
    "LABEL_CACHED",
    "LABEL_HOST",
    "LABEL_KIND",
    "LABEL_MANAGED",
    "LABEL_PID",
    "LABEL_PREFIX",
    "LABEL_RUN",
    "LABEL_STACK",
    "LOOPBACK",
    "NONROOT_USER",
    "CleanupReport",
    "EngineTarget",
    "ExecResult",
    "KeptRuns",
    "Posture",
    "PostureException",
    "RunIdentity",
    "build_image",
    "check_from_lines_present",
    "client",
    "create_container",
    "create_network",
    "drive_health",
    "engine_address",
    "engine_differences",
    "engine_host",
    "engine_info",
    "exec_in",
    "exit_summary",
    "host_ports",
    "image_exists",
    "inspect",
    "is_podman",
    "iter_log_tail",
    "log_tail",
    "new_run_id",
    "parse_engine_host",
    "pid",
    "posture",
    "process_status",
    "publish_host",
    "read_posture",
    "remove",
    "remove_network",
    "remove_resources",
    "require_image",
    "reset",
    "run_container",
    "set_host_override",
    "state",
    "strip_localhost",
    "target",
]
