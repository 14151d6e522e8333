"""What several topics of the suite share: the record factory's type, time limits, the
parts of a start, the memory figures of a running service, the record of TLS cases."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

import requests

from pytest_traefik_compat.gateway import tlsprobe as tp
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.measure import memory, metrics, startup
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import MEMORY, MISSING, TLS_EVIDENCE, part_series

RecordFactory = Callable[..., Record]
# A container of the start matrix or the Go plugin host: exited or answering by then.
START_TIMEOUT_S = 20.0
# Route-ready and Traefik starts wait on a 1 s health-check cycle or a whole gateway.
MAX_SLOW_SAMPLES = 3
# Memory: VmHWM after 300 sequential requests is within 2% of its value after 1000,
# and the 700 more cost about 4 s per container.
WARMUP_REQUESTS = 100
LOAD_REQUESTS = 300
# An SNI that no route of the gateway serves.
UNKNOWN_HOST = f"other.{traefik.DEFAULT_DOMAIN}"


def health_path(stack: Gateway) -> str:
    """The health path of the stack's first service (the routed one)."""
    return stack.service_specs[0].health_path


def add_parts(record: Record, series: str, samples: list[startup.StartSample]) -> None:
    """One sample series per part of a start (``part_series(series, part)``), in ms."""
    for part, values in startup.medians_by_part(samples).items():
        record.add_samples(part_series(series, part), values, "ms")


def measure_memory(service: Any, record: Record) -> dict[str, int]:
    """VmRSS after warm-up, VmHWM after a bounded load, cgroup memory without page
    cache, the Go heap in use; VmRSS vs process_resident_memory_bytes as a sanity check.

    Asserts that /metrics has process_resident_memory_bytes and that it is within 10%
    of the kernel's VmRSS. Returns the kernel's VmRSS and VmHWM in bytes.
    """
    session = requests.Session()
    for index in range(WARMUP_REQUESTS):
        path = "/api/fib/40" if index % 2 else "/healthz"
        session.get(service.url(8080, path), timeout=5).raise_for_status()
    # The first /metrics scrape grows the process by ~2 MB (the handler's buffers):
    # scrape once to warm it, then read the kernel right before the compared scrape.
    session.get(service.url(8080, "/metrics"), timeout=5).raise_for_status()
    pid = service.pid()
    readings = memory.rss_readings(pid)  # the rss_mb budget's series; the last is compared
    rss = readings[-1]
    text = session.get(service.url(8080, "/metrics"), timeout=5).text
    audit = metrics.audit_metrics(
        text, keep=["process_resident_memory_bytes", "go_memstats_heap_inuse_bytes"]
    )
    for index in range(LOAD_REQUESTS):
        path = f"/api/fib/{index % 90}" if index % 4 else "/metrics"
        session.get(service.url(8080, path), timeout=5).raise_for_status()
    peak = memory.proc_status(pid)["VmHWM"]
    cgroup = None
    with suppress(Exception):
        cgroup = memory.cgroup_memory_without_cache(
            service.container.stats(stream=False, one_shot=True)
        )
    reported = audit.values.get("process_resident_memory_bytes")
    record.figure(MEMORY.rss_kernel, rss, "bytes")
    record.add_samples(MEMORY.rss_readings, readings, "bytes")
    record.figure(MEMORY.warmup_requests, WARMUP_REQUESTS, "count")
    record.figure(MEMORY.rss_metrics, reported, "bytes")
    record.figure(MEMORY.rss_peak, peak, "bytes")
    record.figure(MEMORY.load_requests, LOAD_REQUESTS, "count")
    record.figure(MEMORY.cgroup_memory, cgroup, "bytes")
    record.figure(MEMORY.go_heap_inuse, audit.values.get("go_memstats_heap_inuse_bytes"), "bytes")
    assert reported is not None, "process_resident_memory_bytes missing from /metrics"
    ratio = rss / reported
    record.figure(MEMORY.ratio, round(ratio, 4), "ratio")
    record.details[MEMORY.sanity_check] = (
        "kernel VmRSS vs process_resident_memory_bytes: client_golang reads the same "
        "kernel counter, so this only proves the right pid was read"
    )
    assert 0.9 <= ratio <= 1.1, f"sanity check: kernel VmRSS {rss} vs /metrics {reported}"
    return {MEMORY.rss_kernel: rss, MEMORY.rss_peak: peak}


def record_cases(
    record: Record, outcomes: dict[str, tp.TlsProbe], expected: dict[str, str]
) -> list[str]:
    """One figure per case (its outcome class), the outcomes and expectations in the
    details; returns the findings (a case off its expectation, or no evidence)."""
    findings = tp.refusal_findings(outcomes, expected)
    for case, outcome in outcomes.items():
        record.figure(case, outcome.outcome)
    record.figure(TLS_EVIDENCE.cases, len(outcomes), "count")
    record.figure(TLS_EVIDENCE.unexpected, len(findings), "count")
    record.details[TLS_EVIDENCE.outcomes] = {k: o.as_dict() for k, o in outcomes.items()}
    record.details[TLS_EVIDENCE.expected] = {k: expected.get(k, MISSING) for k in outcomes}
    record.details[TLS_EVIDENCE.findings] = findings
    return findings
