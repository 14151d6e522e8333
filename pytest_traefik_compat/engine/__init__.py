"""The container engine: client, labels and cleanup, containers and networks, image builds.

Owns every call to Docker (docker-py and testcontainers); must not import pytest,
gobuild, gateway or report.
"""

from __future__ import annotations

from pytest_traefik_compat.engine.build import build_image, check_from_lines_present
from pytest_traefik_compat.engine.cleanup import CleanupReport, KeptRuns, remove_resources
from pytest_traefik_compat.engine.client import client, image_exists
from pytest_traefik_compat.engine.containers import (
    HARDENING,
    LOOPBACK,
    create_network,
    exit_summary,
    host_ports,
    inspect,
    iter_log_tail,
    log_tail,
    pid,
    remove,
    remove_network,
    require_image,
    run_container,
    state,
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
    "CleanupReport",
    "KeptRuns",
    "RunIdentity",
    "build_image",
    "check_from_lines_present",
    "client",
    "create_network",
    "exit_summary",
    "host_ports",
    "image_exists",
    "inspect",
    "iter_log_tail",
    "log_tail",
    "new_run_id",
    "pid",
    "remove",
    "remove_network",
    "remove_resources",
    "require_image",
    "run_container",
    "state",
]
