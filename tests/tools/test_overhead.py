"""The gateway-overhead measurement on the real Traefik binary (127.0.0.1, no engine) in
front of a loopback backend: counts, bounds and statistics; never timing thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_traefik_compat.measure import overhead
from tests.helpers import local_traefik as lt

APP = "app.compat.test"


@pytest.mark.parametrize(
    ("mode", "concurrency"), [(overhead.KEEPALIVE, 8), (overhead.NEW_CONNECTION, 1)]
)
def test_overhead_direct_vs_through_traefik(tmp_path: Path, mode: str, concurrency: int) -> None:
    certs = lt.make_certs(tmp_path / "certs", [APP])
    strict = lt.mtls_option([certs.root_ca])
    with lt.http_backend() as url:
        dynamic = {
            "http": {
                "routers": {"app": lt.router(f"Host(`{APP}`)", "echo", "mtls")},
                "services": {"echo": lt.service(url)},
            },
            "tls": lt.tls_section(certs, {"default": strict, "mtls": dict(strict)}),
        }
        with lt.run_traefik(tmp_path, dynamic) as gw:
            port = int(url.rsplit(":", 1)[1])
            result = overhead.compare(
                overhead.Target(port, "/"),
                overhead.Target(gw.websecure, "/", certs.pki.client_context, APP),
                mode=mode,
                concurrency=concurrency,
                requests=200,
                time_budget=30,
            )
    assert result.direct.errors == {} and result.traefik.errors == {}
    assert len(result.direct.seconds) == len(result.traefik.seconds) == 200
    figures = result.figures()
    for label in ("direct", "traefik"):
        assert figures[f"{label}_p50"] <= figures[f"{label}_p95"] <= figures[f"{label}_p99"]
    assert result.added_ms is not None and result.ci_low_ms is not None
    assert result.ci_low_ms <= result.added_ms <= result.ci_high_ms  # type: ignore[operator]


def test_a_bounded_measurement_stops_at_its_time_budget() -> None:
    with lt.hanging_server() as port:
        series = overhead.measure(
            "hang",
            overhead.Target(port),
            mode=overhead.KEEPALIVE,
            concurrency=2,
            requests=50,
            warmup=0,
            time_budget=1.0,
            timeout=0.5,
        )
    assert series.seconds == [] and sum(series.errors.values()) <= 8
    assert series.wall_s < 10
