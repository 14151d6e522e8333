"""Measurements: latency, resident memory, TLS and mTLS, metrics text, health checks.

Plain functions over ports, contexts and containers; every loop is bounded in count
and in time.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
import requests
from prometheus_client.parser import text_string_to_metric_families

from pytest_traefik_compat import engine
from pytest_traefik_compat.gateway.clients import probe_tls

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


# ---------------------------------------------------------------- memory


def vm_rss_bytes(pid: int, proc: Path = Path("/proc")) -> int:
    """The kernel's resident set size of a process (VmRSS), in bytes.

    docker's memory_stats.usage counts the cgroup's page cache too; the process's
    own RSS is what its /metrics reports as process_resident_memory_bytes.
    """
    text = (proc / str(pid) / "status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+)\s+kB", text, re.M)
    if not match:
        raise ValueError(f"no VmRSS for pid {pid}")
    return int(match.group(1)) * 1024


# ---------------------------------------------------------------- metrics text


@dataclass
class MetricsAudit:
    families: int = 0
    samples: int = 0
    findings: list[str] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings and self.families > 0


def audit_metrics(text: str, *, keep: Iterable[str] = ()) -> MetricsAudit:
    """Parse exposition text with prometheus_client's parser; every family needs
    both HELP and TYPE lines. ``keep`` names samples whose values to return."""
    audit = MetricsAudit()
    wanted = set(keep)
    helps = set(re.findall(r"^# HELP (\S+)", text, re.M))
    types = set(re.findall(r"^# TYPE (\S+)", text, re.M))
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as error:
        audit.findings.append(f"exposition text does not parse: {error}")
        return audit
    for family in families:
        audit.families += 1
        audit.samples += len(family.samples)
        # The parser strips _total from counter family names; the text keeps it.
        names = {family.name, f"{family.name}_total"}
        if not names & helps:
            audit.findings.append(f"{family.name}: no HELP line")
        if not names & types:
            audit.findings.append(f"{family.name}: no TYPE line")
        for sample in family.samples:
            if sample.name in wanted and not sample.labels:
                audit.values[sample.name] = float(sample.value)
    if not families:
        audit.findings.append("no metric families")
    return audit


# ---------------------------------------------------------------- TLS and mTLS


@dataclass
class HandshakeStats:
    attempts: int = 0
    accepted: int = 0
    seconds: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def success_rate(self) -> float:
        return self.accepted / self.attempts if self.attempts else 0.0


def handshakes(
    port: int,
    context_factory: Callable[[], ssl.SSLContext],
    *,
    sni: str | None,
    count: int,
    time_budget: float = 120.0,
    path: str = "/healthz",
) -> HandshakeStats:
    """``count`` fresh connections (each a full handshake + one request), bounded in time."""
    stats = HandshakeStats()
    context = context_factory()
    deadline = time.monotonic() + time_budget
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        probe = probe_tls(port, context, sni=sni, path=path)
        stats.attempts += 1
        stats.seconds.append(probe.seconds)
        if probe.accepted and probe.status == 200:
            stats.accepted += 1
        else:
            key = (probe.error or f"HTTP {probe.status}").split("(_ssl")[0].strip()
            stats.errors[key] = stats.errors.get(key, 0) + 1
    return stats


# ---------------------------------------------------------------- containers


@dataclass
class ExecResult:
    command: list[str]
    exit_code: int | None
    output: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def exec_in(container: Any, command: Sequence[str], *, timeout_s: float = 10) -> ExecResult:
    """Run a command in a running container; a missing program is a result, not a crash.

    Bounded: the Engine API has no exec timeout, so the call runs in a daemon thread
    and a command still running after ``timeout_s`` is reported as timed out (it dies
    with its container).
    """
    outcome: list[ExecResult] = []

    def run() -> None:
        try:
            result = container.exec_run(list(command), demux=False, user="")
        except docker.errors.APIError as error:
            outcome.append(
                ExecResult(list(command), None, "", str(error.explanation or error)[:300])
            )
            return
        output = (result.output or b"").decode("utf-8", "replace")[-500:]
        outcome.append(ExecResult(list(command), result.exit_code, output))

    worker = threading.Thread(target=run, name="traefik-compat-exec", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not outcome:
        return ExecResult(list(command), None, "", f"timed out after {timeout_s:g} s")
    return outcome[0]


def wait_health_status(
    container: Any, wanted: str, *, timeout: float
) -> tuple[str | None, float | None]:
    """Poll the engine's health status until it is ``wanted`` (bounded)."""
    status: str | None = None

    def check() -> bool:
        nonlocal status
        engine.drive_health(container)  # Podman without systemd: nothing runs the check
        container.reload()
        status = ((container.attrs.get("State") or {}).get("Health") or {}).get("Status")
        return status == wanted

    seconds = wait_for(check, timeout=timeout, interval=0.1)
    return status, seconds


def container_exit(container: Any, *, timeout: float) -> tuple[int | None, float | None]:
    """Block (bounded) until a container exits: its exit code and the seconds taken."""
    started = time.monotonic()
    try:
        result = container.wait(timeout=timeout)
    except (requests.RequestException, docker.errors.DockerException):
        return None, None
    return int(result.get("StatusCode", -1)), time.monotonic() - started
