"""Readiness: bounded polls until a service answers or every route of a gateway is in
service, kept apart from the stack that starts the containers (as testcontainers keeps
its wait strategies apart from the container).

Every wait has a deadline. A timeout raises one :class:`StackError` saying what the last
attempt saw, with the containers' last log lines; a container that exits or a Traefik
that refuses its config ends the wait at once instead of at the deadline.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import requests
from docker.models.containers import Container

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import startcheck
from pytest_traefik_compat.errors import StackError
from pytest_traefik_compat.gateway import logs, traefik
from pytest_traefik_compat.gateway.clients import HttpsClient
from pytest_traefik_compat.gateway.services import RunningService, ServiceSpec, start_failure

__all__ = [
    "POLL_S",
    "READY_TIMEOUT_S",
    "RoutedStack",
    "raise_if_exited",
    "raise_if_traefik_failed",
    "route_problems",
    "router_problems",
    "service_problems",
    "wait_routes_ready",
    "wait_service_healthy",
]

READY_TIMEOUT_S = 30.0
POLL_S = 0.05


class RoutedStack(Protocol):
    """What the route wait reads off a gateway (a :class:`~.stack.Gateway` is one)."""

    @property
    def traefik(self) -> Container | None: ...

    @property
    def health_interval(self) -> str: ...

    @property
    def service_specs(self) -> Sequence[ServiceSpec]: ...

    def route_problems(self) -> list[str]: ...

    def https_client(self, host: str = ...) -> HttpsClient: ...

    def traefik_logs(self, lines: int = ...) -> str: ...

    def failure_detail(self) -> str: ...


# ---- a service


def raise_if_exited(service: RunningService) -> None:
    """Raise the service's start failure when its container has exited (else nothing)."""
    exited = engine.exit_summary(service.container)
    if not exited:
        return
    spec, log_tail = service.spec, service.logs()
    evidence = _first_line(startcheck.diagnose_exec_failure(1, log_tail + "\n" + exited).evidence)
    what = f"{exited.split(':')[0]} before {spec.health_path} answered"
    if evidence and evidence not in what:
        what += f": {evidence}"
    raise StackError(start_failure(spec, service.name, what), detail=log_tail)


def wait_service_healthy(service: RunningService, *, timeout: float) -> float:
    """Seconds from container start to the first 200 on the health path.

    On timeout the error says what the last attempt saw: a status other than 200
    (the health path is wrong) or no answer at all (the port is wrong).
    """
    spec = service.spec
    deadline = time.monotonic() + timeout
    last_status: int | None = None
    while time.monotonic() < deadline:
        raise_if_exited(service)
        if spec.http_port not in service.host_ports:
            # Not published (yet): an exit is caught above on the next round.
            service.host_ports = engine.host_ports(service.container)
            time.sleep(POLL_S)
            continue
        try:
            url = service.url(spec.http_port, spec.health_path)
            last_status = requests.get(url, timeout=1).status_code
            if last_status == 200:
                return time.monotonic() - service.started_at
        except requests.RequestException:
            last_status = None
        time.sleep(POLL_S)
    raise_if_exited(service)
    if last_status is None:
        hint = (
            f"nothing answers on container port {spec.http_port} of service "
            f"{spec.alias!r}: check http_port= (the port the service listens on)"
        )
    else:
        hint = (
            f"{spec.health_path} on service {spec.alias!r} answers HTTP {last_status}: "
            "check health_path= (the service's health endpoint)"
        )
    raise StackError(
        f"service {service.name} never answered 200 on {spec.health_path} "
        f"within {timeout:.0f} s; {hint}",
        detail=service.logs(),
    )


# ---- the routes, from Traefik's API


def router_problems(payload: Mapping[str, Any]) -> list[str]:
    """What is wrong with a router, from its ``/api/http/routers/<name>`` JSON.

    Empty when the status is "enabled" and no errors are listed; a router
    Traefik rejected says why in its ``error`` list.
    """
    problems = [str(e) for e in payload.get("error") or () if str(e)]
    status = payload.get("status")
    if status != "enabled" and not problems:
        problems.append(f"router status is {status!r}")
    return problems


def service_problems(name: str, payload: Mapping[str, Any]) -> list[str]:
    """Servers of a service that Traefik's health check has out of rotation.

    ``serverStatus`` maps each server URL to "UP" or "DOWN" (from
    ``/api/http/services/<name>``); a server that is not UP gets a 503 from Traefik.
    """
    statuses = payload.get("serverStatus") or {}
    return [f"{name}: server {url} is {state}" for url, state in statuses.items() if state != "UP"]


def route_problems(config: traefik.GatewayConfig, admin_url: Callable[[str], str]) -> list[str]:
    """What keeps a route out of service now: router errors, servers not UP.

    Args:
        config: the gateway's config (which routers and services to ask about).
        admin_url: the URL of a path on Traefik's admin entry point.
    """
    problems: list[str] = []
    for router in traefik.router_names(config):
        answer = requests.get(admin_url(f"/api/http/routers/{router}"), timeout=1)
        problems += (
            router_problems(answer.json())
            if answer.status_code == 200
            else [f"{router}: HTTP {answer.status_code}"]
        )
    for service in traefik.service_names(config):
        answer = requests.get(admin_url(f"/api/http/services/{service}"), timeout=1)
        problems += (
            service_problems(service, answer.json())
            if answer.status_code == 200
            else [f"{service}: HTTP {answer.status_code}"]
        )
    return problems


def raise_if_traefik_failed(stack: RoutedStack) -> None:
    """Raise when Traefik exited or its log says it refused (part of) its config."""
    assert stack.traefik is not None
    exited = engine.exit_summary(stack.traefik)
    errors = logs.config_errors(stack.traefik_logs(200))
    if exited:
        raise StackError(
            f"Traefik {exited}: " + (errors[0] if errors else "see its log"),
            detail=stack.failure_detail(),
        )
    if errors:
        raise StackError(f"Traefik refused its config: {errors[0]}", detail=stack.failure_detail())


def wait_routes_ready(
    stack: RoutedStack,
    *,
    timeout: float = READY_TIMEOUT_S,
    settle: bool = True,
    replaced_at: float | None = None,
) -> None:
    """Every route of the gateway in service: routers enabled, every server UP
    (HTTP and gRPC alike), and a 200 through the gateway on the first HTTP route.

    ``settle`` (after a service was replaced) also waits out one whole health-check
    cycle with every server UP: a check that began while the old container was
    going away may still mark its server DOWN after a first UP was seen. Traefik
    checks a server one check at a time, each bounded by its timeout (shorter than
    the window), so when ``replaced_at`` (``time.monotonic()`` of the last
    replacement) is at least the window ago no such check is still running: every
    route UP now is enough.
    """
    deadline = time.monotonic() + timeout
    window = _seconds(stack.health_interval) + 1.5 if settle else 0.0
    up_since: float | None = None
    last = "no answer yet"
    while time.monotonic() < deadline:
        raise_if_traefik_failed(stack)
        try:
            problems = stack.route_problems()
            if not problems:
                with stack.https_client() as client:
                    path = stack.service_specs[0].health_path
                    status = client.get(path, timeout=2).status_code
                if status != 200:
                    problems = [f"GET {path} through Traefik: {status}"]
        except (requests.RequestException, ValueError) as error:
            problems = [f"{type(error).__name__}: {str(error)[:160]}"]
        if problems:
            last, up_since = "; ".join(problems), None
        else:
            up_since = up_since if up_since is not None else time.monotonic()
            if time.monotonic() - up_since >= window:
                return
            if replaced_at is not None and time.monotonic() - replaced_at >= window:
                return
        time.sleep(POLL_S * 2)
    raise StackError(
        f"Traefik routes not ready within {timeout:.0f} s ({last})",
        detail=stack.failure_detail(),
    )


def _seconds(duration: str) -> float:
    """A Go duration as Traefik takes it ("1s", "500ms", "1m30s") in seconds."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", duration):
        total += float(number) * units[unit]
    return total


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
