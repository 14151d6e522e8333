"""The gateway's overhead: direct vs through Traefik at steady state."""

from __future__ import annotations

import urllib.parse

import pytest

from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.measure import overhead
from pytest_traefik_compat.pki import SessionPKI
from pytest_traefik_compat.plugin.session import CompatSession
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records.checks import GATEWAY_OVERHEAD, MISSING
from pytest_traefik_compat.suite.common import RecordFactory, health_path

OVERHEAD_BUDGET_S = 60.0


@pytest.mark.parametrize("concurrency", overhead.CONCURRENCIES)
@pytest.mark.parametrize("mode", overhead.MODES)
def test_gateway_overhead(
    mode: str,
    concurrency: int,
    compat_stack: Gateway,
    traefik_pki: SessionPKI,
    traefik_compat: CompatSession,
    traefik_settings: Settings,
    traefik_record: RecordFactory,
) -> None:
    """The same requests direct to the service and through Traefik with mTLS, at steady state.

    Per mode (keepalive, new-connection) and concurrency (1, 8), the variant
    "<mode>-c<concurrency>", --traefik-overhead-requests (200) each way in a timing
    series, direct and through Traefik taking turns in 10 rounds (the order
    alternating). With keep-alive every worker's connection is opened before the
    clock starts, so no timed request includes a connect or a handshake.

    Asserts: no request failed either way; every request asked for was timed each way.
    Records: direct and through-Traefik times (ms), their p50, p95 and p99 (p95 from 20
    requests, p99 from 100), the median
    added by Traefik with its 95% interval, noisy; details: the timing conditions, the
    errors each way.
    """
    record = traefik_record(GATEWAY_OVERHEAD.check, variant=f"{mode}-c{concurrency}")
    service = next(iter(compat_stack.services.values()))
    direct_url = urllib.parse.urlsplit(service.http_url)
    path = health_path(compat_stack)
    with traefik_compat.timing_series(
        compat_stack, f"overhead-{mode}-c{concurrency}"
    ) as conditions:
        result = overhead.compare(
            overhead.Target(int(direct_url.port or 80), path, address=direct_url.hostname or ""),
            overhead.Target(
                compat_stack.https_port, path, traefik_pki.client_context, traefik.APP_HOST
            ),
            mode=mode,
            concurrency=concurrency,
            requests=traefik_settings.overhead_requests,
            time_budget=OVERHEAD_BUDGET_S,
        )
    record.figure(GATEWAY_OVERHEAD.noisy, conditions.noisy)
    record.details[GATEWAY_OVERHEAD.conditions] = conditions.as_dict()
    for name, value in result.figures().items():
        record.figure(name, MISSING if value is None else value, "" if "requests" in name else "ms")
    record.add_samples(GATEWAY_OVERHEAD.direct, list(result.direct.ms), "ms")
    record.add_samples(GATEWAY_OVERHEAD.traefik, list(result.traefik.ms), "ms")
    record.details[GATEWAY_OVERHEAD.errors] = {
        "direct": result.direct.errors,
        "traefik": result.traefik.errors,
    }
    assert not result.direct.errors and not result.traefik.errors, record.details
    asked = traefik_settings.overhead_requests
    assert len(result.direct.seconds) == len(result.traefik.seconds) == asked
