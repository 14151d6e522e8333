"""Bounded waits: for a condition, an HTTP 200, a container's exit."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import docker.errors
import requests

POLL_S = 0.02


def wait_for(
    check: Callable[[], bool], *, timeout: float, interval: float = POLL_S
) -> float | None:
    """Seconds until ``check()`` is true, or None after ``timeout`` (bounded)."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        with suppress(Exception):
            if check():
                return time.monotonic() - started
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def http_ok(url: str, *, timeout: float = 1.0) -> bool:
    return requests.get(url, timeout=timeout).status_code == 200


def container_exit(container: Any, *, timeout: float) -> tuple[int | None, float | None]:
    """Block (bounded) until a container exits: its exit code and the seconds taken."""
    started = time.monotonic()
    try:
        result = container.wait(timeout=timeout)
    except (requests.RequestException, docker.errors.DockerException):
        return None, None
    return int(result.get("StatusCode", -1)), time.monotonic() - started
