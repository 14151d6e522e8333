"""Health: the service's and Traefik's endpoints, the image's HEALTHCHECK, and Traefik's
health check following the service's state."""

from __future__ import annotations

import time

import requests

from pytest_traefik_compat import engine
from pytest_traefik_compat.gateway.services import ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.measure import healthcheck, metrics, waiting
from pytest_traefik_compat.records.checks import (
    ALIGNMENT,
    HEALTH_METRICS,
    HEALTHCHECK,
    HEALTHCHECK_STYLES,
    MISSING,
    STYLE_RESULT,
    UNAVAILABLE,
    WORKS,
)
from pytest_traefik_compat.suite.common import RecordFactory

ALIGNMENT_TIMEOUT_S = 20.0


def test_health_metrics(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """The health and metrics endpoints of the service and of Traefik, direct and routed.

    Asserts: the service's /healthz answers 200 with JSON; the service's and Traefik's
    /metrics answer 200 as text/plain, and their exposition text parses, has families
    and HELP and TYPE lines for each; Traefik's /ping answers 200 "OK"; the service's /metrics
    answers 200 through Traefik.
    Records: findings; metric families and content type of the service's and of
    Traefik's /metrics; details: every finding.
    """
    record = traefik_record(HEALTH_METRICS.check)
    service = compat_stack.services["app"]
    findings: list[str] = []
    healthz = requests.get(service.url(8080, "/healthz"), timeout=5)
    if healthz.status_code != 200 or "application/json" not in healthz.headers["content-type"]:
        findings.append(
            f"service /healthz: {healthz.status_code} {healthz.headers['content-type']}"
        )
    targets = {
        "service": (
            service.url(8080, "/metrics"),
            HEALTH_METRICS.service_metric_families,
            HEALTH_METRICS.service_metrics_content_type,
        ),
        "traefik": (
            compat_stack.admin_url("/metrics"),
            HEALTH_METRICS.traefik_metric_families,
            HEALTH_METRICS.traefik_metrics_content_type,
        ),
    }
    for name, (url, families, content_type) in targets.items():
        answer = requests.get(url, timeout=5)
        audit = metrics.audit_metrics(answer.text)
        record.figure(families, audit.families, "count")
        record.figure(content_type, answer.headers.get("content-type", ""))
        if answer.status_code != 200 or not answer.headers.get("content-type", "").startswith(
            "text/plain"
        ):
            findings.append(
                f"{name} /metrics: {answer.status_code} {answer.headers.get('content-type')}"
            )
        findings += [f"{name}: {finding}" for finding in audit.findings]
    ping = requests.get(compat_stack.admin_url("/ping"), timeout=5)
    if ping.status_code != 200 or ping.text.strip() != "OK":
        findings.append(f"traefik /ping: {ping.status_code} {ping.text[:40]!r}")
    with compat_stack.https_client() as client:
        through = client.get("/metrics")
    if through.status_code != 200:
        findings.append(f"service /metrics through Traefik: {through.status_code}")
    record.figure(HEALTH_METRICS.findings, len(findings), "count")
    record.details[HEALTH_METRICS.findings_list] = findings
    assert not findings, "; ".join(findings)


HEALTHCHECK_COMMANDS: dict[str, list[str]] = {
    HEALTHCHECK.curl: ["curl", "-fsS", "http://127.0.0.1:8080/healthz"],
    HEALTHCHECK.wget: ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/healthz"],
    HEALTHCHECK.shell: ["/bin/sh", "-c", "/app -healthcheck"],
    HEALTHCHECK.self_probe: ["/app", "-healthcheck"],
}


def test_healthcheck(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """Which HEALTHCHECK styles run on the base, and when a fresh container turns healthy.

    Asserts: the exec-form self-probe (/app -healthcheck) works in the running service;
    a fresh container of the service reaches "healthy" with it.
    Records: per style (curl, wget, shell, self-probe) works or unavailable; the fresh
    container's health status, StartedAt to the first passing probe from the engine's
    own health log (ms), the health interval and start period (ms); details: the health
    log, each style's exit code and error.
    """
    record = traefik_record(HEALTHCHECK.check)
    container = compat_stack.services["app"].container
    results = {}
    for style in HEALTHCHECK_STYLES:
        result = engine.exec_in(container, HEALTHCHECK_COMMANDS[style])
        results[style] = {
            STYLE_RESULT.works: result.ok,
            STYLE_RESULT.exit_code: result.exit_code,
            STYLE_RESULT.error: result.error or result.output.strip()[:200],
        }
        record.figure(style, WORKS if result.ok else UNAVAILABLE)
    # On a fresh container: StartedAt to the first passing probe, from the engine's
    # own health log (not from a poll of a container healthy for seconds already).
    fresh = compat_stack.start_service(
        ServiceSpec(compat_stack.service_specs[0].image, alias="hc-fresh"), wait=False
    )
    try:
        status, _ = healthcheck.wait_health_status(fresh.container, "healthy", timeout=30)
        timing = healthcheck.health_timing(fresh.container)
    finally:
        compat_stack.services.pop("hc-fresh", None)
        engine.remove(fresh.container)
    record.figure(HEALTHCHECK.self_probe_status, status or MISSING)
    record.figure(HEALTHCHECK.healthy_after, timing.get("healthy_after_ms"), "ms")
    record.figure(HEALTHCHECK.health_interval, timing.get("interval_ms"), "ms")
    record.figure(HEALTHCHECK.start_period, timing.get("start_period_ms"), "ms")
    record.details[HEALTHCHECK.health_log] = timing.get("log", [])
    record.details[HEALTHCHECK.styles] = results
    self_probe = results[HEALTHCHECK.self_probe]
    assert self_probe[STYLE_RESULT.works], self_probe
    assert status == "healthy", f"container health is {status!r} with the self-probe"


def test_alignment(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """Flip the service unhealthy: Traefik's health check must take it out of rotation.

    The probe path is an API route, not /healthz: /healthz itself answers 503 when
    unhealthy, which would look like removal before Traefik noticed anything.

    Asserts: the route answers 200, then 503 within 20 s of the flip to unhealthy, then
    200 again within 20 s of the flip back.
    Records: the health-check interval, the time from the flip to removal and from the
    heal to routing again (ms), whether the route still answered right after the flip;
    details: Traefik's server status when removed, the wall time from flip to removal.
    """
    record = traefik_record(ALIGNMENT.check)
    service = compat_stack.services["app"]
    record.figure(ALIGNMENT.health_interval, compat_stack.health_interval)
    with compat_stack.https_client() as client:

        def gateway_status() -> int:
            return client.get("/api/fib/10", timeout=2).status_code

        assert gateway_status() == 200
        flipped = time.monotonic()
        requests.post(
            service.url(8081, "/admin/health?state=unhealthy"), timeout=5
        ).raise_for_status()
        still_routed = gateway_status() == 200  # right after the flip Traefik has not looked yet
        removed = waiting.wait_for(lambda: gateway_status() == 503, timeout=ALIGNMENT_TIMEOUT_S)
        if removed is not None:
            removed = time.monotonic() - flipped
        removed_status = requests.get(
            compat_stack.admin_url("/api/http/services/app@file"), timeout=5
        ).json()
        requests.post(
            service.url(8081, "/admin/health?state=healthy"), timeout=5
        ).raise_for_status()
        healed = time.monotonic()
        restored = waiting.wait_for(lambda: gateway_status() == 200, timeout=ALIGNMENT_TIMEOUT_S)
        if restored is not None:
            restored = time.monotonic() - healed
    removed_ms = round(removed * 1000) if removed is not None else None
    restored_ms = round(restored * 1000) if restored is not None else None
    record.figure(ALIGNMENT.removed_after, removed_ms, "ms")
    record.figure(ALIGNMENT.restored_after, restored_ms, "ms")
    record.figure(ALIGNMENT.routed_right_after_flip, still_routed)
    record.details[ALIGNMENT.server_status_when_removed] = removed_status.get("serverStatus")
    record.details[ALIGNMENT.flip_to_removed_wall_s] = round(time.monotonic() - flipped, 3)
    assert removed is not None, "Traefik kept routing to an unhealthy service"
    assert restored is not None, "Traefik did not route again after the service recovered"
