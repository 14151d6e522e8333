"""Temporary: re-exports for call sites being moved; remove.

Waits live in ``measure.waiting``, the metrics audit in ``measure.metrics``, the
HEALTHCHECK status in ``measure.healthcheck``, the exec helper in ``engine.exec_in`` and
the handshake series in ``gateway.tlsprobe``. ``handshakes`` keeps the shape the mTLS
check still reads (``.seconds``: every connection, connect to the answer).
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Callable

from pytest_traefik_compat.engine import exec_in as exec_in
from pytest_traefik_compat.gateway.tlsprobe import HandshakeSeries, full_handshakes
from pytest_traefik_compat.measure.healthcheck import wait_health_status as wait_health_status
from pytest_traefik_compat.measure.metrics import audit_metrics as audit_metrics
from pytest_traefik_compat.measure.waiting import container_exit as container_exit
from pytest_traefik_compat.measure.waiting import http_ok as http_ok
from pytest_traefik_compat.measure.waiting import wait_for as wait_for


def handshakes(
    port: int,
    context_factory: Callable[[], ssl.SSLContext],
    *,
    sni: str | None,
    count: int,
    time_budget: float = 120.0,
    path: str = "/healthz",
) -> HandshakeSeries:
    """``full_handshakes`` with ``.seconds`` holding every connection's total."""
    series = full_handshakes(
        port, context_factory, sni=sni, count=count, path=path, time_budget=time_budget
    )
    return dataclasses.replace(series, seconds=series.connection_seconds)
