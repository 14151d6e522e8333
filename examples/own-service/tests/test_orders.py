"""The orders service on every base, behind Traefik with mTLS.

Only the plugin's public API: the fixtures ``traefik_base`` (one run per base of
--traefik-images / the ``traefik_images`` ini key), ``traefik_build``,
``traefik_gateway`` and ``traefik_record``, and the ``traefik_bases`` marker.
"""

from __future__ import annotations

import ssl
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # types for annotations only; the fixtures need no imports
    from pytest_traefik_compat import BaseImage, Gateway, Record, ServiceBuild

SERVICE_DIR = Path(__file__).resolve().parent.parent / "go-service"
LINKAGES = ("static", "glibc", "musl")
LOAD_REQUESTS = 50
# The team's latency budget for one order through the gateway (loopback, no load).
P95_BUDGET_MS = 1000.0


def reference(order_id: int, item: str) -> str:
    """The service's order reference: Adler-32 of "ORD-<id>-<item>" (in C or in Go)."""
    return f"ORD-{order_id}-{zlib.adler32(f'ORD-{order_id}-{item}'.encode()):08x}"


@pytest.fixture(scope="session")
def orders_build(
    traefik_base: BaseImage, traefik_build: Callable[..., ServiceBuild]
) -> ServiceBuild:
    # Static (CGO_ENABLED=0) starts on every base; the cgo linkages get their own test.
    return traefik_build(SERVICE_DIR, traefik_base, linkage="static", ports=(8080,))


@pytest.fixture(scope="session")
def orders(
    traefik_base: BaseImage,
    orders_build: ServiceBuild,
    traefik_gateway: Callable[..., Gateway],
) -> Iterator[Gateway]:
    # Session scope + traefik_base: one gateway per base, shared by that base's tests
    # and closed before the next base starts (pytest orders the tests by base).
    gateway = traefik_gateway(traefik_base, [orders_build])
    yield gateway
    gateway.close()


def test_orders_through_traefik(orders: Gateway) -> None:
    with orders.https_client() as client:  # mTLS client certificate, SNI app.compat.test
        created = client.post("/orders", json={"item": "espresso beans", "quantity": 3})
        assert created.status_code == 201, created.text
        order = created.json()
        assert order["reference"] == reference(order["id"], "espresso beans")
        assert client.get(created.headers["Location"]).json() == order
        assert order in client.get("/orders").json()
        assert client.get("/orders/999999").status_code == 404
        assert client.post("/orders", json={"item": "", "quantity": 0}).status_code == 422


def test_tls13_with_client_certificate(orders: Gateway) -> None:
    probe = orders.tls_probe(path="/orders")
    assert probe.accepted and probe.status == 200, probe.error
    assert probe.version == "TLSv1.3", probe
    # The gateway's policy, not the service's: no client certificate, or a client
    # capped at TLS 1.2, never reaches /orders.
    assert not orders.tls_probe(bad="no-certificate").accepted
    assert not orders.tls_probe(max_version=ssl.TLSVersion.TLSv1_2).accepted


def test_order_latency(orders: Gateway, traefik_record: Callable[..., Record]) -> None:
    # A user measurement in the same report (and JUnit properties) as the plugin's.
    record = traefik_record("orders-latency")
    samples: list[float] = []
    with orders.https_client() as client:
        started = time.perf_counter()
        for index in range(LOAD_REQUESTS):
            before = time.perf_counter()
            answer = client.post("/orders", json={"item": f"load-{index}", "quantity": 1})
            samples.append((time.perf_counter() - before) * 1000)
            assert answer.status_code == 201, answer.text
        elapsed = time.perf_counter() - started
    record.add_samples("create", samples, "ms")  # raw samples + min/median/p95/max
    record.figure("orders_per_second", round(LOAD_REQUESTS / elapsed, 1), "1/s")
    assert record.value("create_p95") < P95_BUDGET_MS


def test_info(
    orders: Gateway, traefik_base: BaseImage, traefik_record: Callable[..., Record]
) -> None:
    with orders.https_client() as client:
        info: dict[str, Any] = client.get("/info").json()
    zone = info["timezone"]
    traefik_record("paris-time-zone").figure("loads", zone["ok"])
    assert info["linkage"] == "static" and info["checksum_impl"] == "go"
    assert info["uid"] == 65532, "service images run as nonroot"
    # Go reads /usr/share/zoneinfo: Europe/Paris loads exactly where the base ships
    # tzdata (not on alpine) unless the binary embeds time/tzdata.
    assert zone["ok"] == traefik_base.facts.zoneinfo, zone


@pytest.mark.traefik_bases(requires="zoneinfo")
def test_paris_opening_hours(orders: Gateway) -> None:
    with orders.https_client() as client:
        zone = client.get("/info").json()["timezone"]
    assert zone["ok"], zone["error"]
    assert zone["abbreviation"] in ("CET", "CEST")
    assert zone["utc_offset_s"] in (3600, 7200)


@pytest.mark.traefik_bases(requires="shell")
def test_shell_form_healthcheck(orders: Gateway) -> None:
    # A HEALTHCHECK written in shell form (`CMD /app -healthcheck || exit 1`) only
    # works where /bin/sh exists: distroless has none, hence the marker.
    container = orders.services["app"].container
    exit_code, output = container.exec_run(["/bin/sh", "-c", "/app -healthcheck && echo ok"])
    assert exit_code == 0, output
    assert output.strip() == b"ok"


@pytest.mark.parametrize("linkage", LINKAGES)
@pytest.mark.traefik_bases(linkages=("glibc", "musl"))
def test_cgo_checksum(
    linkage: str,
    traefik_base: BaseImage,
    traefik_build: Callable[..., ServiceBuild],
    traefik_gateway: Callable[..., Gateway],
) -> None:
    """The C checksum, where the base has the loader the cgo build needs."""
    build = traefik_build(SERVICE_DIR, traefik_base, linkage=linkage)
    if not build.prediction.starts:
        # Predicted from the binary's ELF interpreter and needed libraries against the
        # base's files, e.g. "interpreter /lib64/ld-linux-x86-64.so.2 not in image":
        # at run time the kernel would only say `exec /app: no such file or directory`.
        pytest.xfail(f"{linkage} build on {traefik_base.name}: {build.prediction.reason}")
    # `with`: this gateway is closed at the end of the test, not of the session.
    with traefik_gateway(traefik_base, [build]) as gateway, gateway.https_client() as client:
        info = client.get("/info").json()
        order = client.post("/orders", json={"item": "cgo", "quantity": 1}).json()
    assert (info["linkage"], info["checksum_impl"]) == (linkage, "c")
    assert order["reference"] == reference(order["id"], "cgo"), "C and Go checksums differ"
