"""The gateway's overhead at steady state: the same GET directly to the service (plain
HTTP on its published port) and through Traefik (HTTPS with mTLS), with keep-alive and
with a new connection per request (for Traefik a full mTLS handshake each time), at a
given concurrency. Bounded in count and in time; statistics from numpy/scipy.

What "added latency" means: the median of the through-Traefik latencies minus the
median of the direct ones, with a bootstrap 95% confidence interval (``stats``). It
includes everything Traefik adds: TLS (and for new connections the handshake and the
client-certificate verification), routing, the middlewares, the proxy hop.
"""

from __future__ import annotations

import http.client
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pytest_traefik_compat import engine
from pytest_traefik_compat.measure import stats

KEEPALIVE = "keepalive"
NEW_CONNECTION = "new-connection"
MODES = (KEEPALIVE, NEW_CONNECTION)
CONCURRENCIES = (1, 8)
PERCENTILES = (50, 95, 99)
# p99 needs at least this many samples to be more than the maximum.
MIN_REQUESTS = 200
SEED = 14  # the bootstrap's: the same latencies give the same interval in every report


class _SniHttps(http.client.HTTPSConnection):
    """HTTPS to ``address`` (the engine host) presenting (and verifying) ``sni``."""

    def __init__(
        self, address: str, port: int, *, context: ssl.SSLContext, sni: str, timeout: float
    ) -> None:
        super().__init__(address, port, timeout=timeout, context=context)
        self._sni = sni
        self._ctx = context

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._ctx.wrap_socket(self.sock, server_hostname=self._sni)


@dataclass(frozen=True)
class Target:
    """Where to send: plain HTTP (context None) or HTTPS with mTLS as ``sni``."""

    port: int
    path: str = "/healthz"
    context_factory: Callable[[], ssl.SSLContext] | None = None
    sni: str = ""
    # Where the engine publishes ports: 127.0.0.1 for a local engine (engine.engine_host).
    address: str = field(default_factory=engine.engine_host)

    def connection(
        self, timeout: float, context: ssl.SSLContext | None = None
    ) -> http.client.HTTPConnection:
        if self.context_factory is None:
            return http.client.HTTPConnection(self.address, self.port, timeout=timeout)
        context = context or self.context_factory()
        return _SniHttps(self.address, self.port, context=context, sni=self.sni, timeout=timeout)

    @property
    def host(self) -> str:
        return self.sni or self.address


@dataclass
class Series:
    """Latencies (seconds) of one target x mode x concurrency."""

    target: str
    mode: str
    concurrency: int
    seconds: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def ms(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.asarray(self.seconds, dtype=float) * 1000.0

    def percentiles(self) -> dict[str, float]:
        if not self.seconds:
            return {}
        values = np.percentile(self.ms, PERCENTILES)
        return {f"p{p}": float(v) for p, v in zip(PERCENTILES, values, strict=True)}


def _worker(
    target: Target, mode: str, count: int, deadline: float, timeout: float
) -> tuple[list[float], dict[str, int]]:
    seconds: list[float] = []
    errors: dict[str, int] = {}
    headers = {"Host": target.host, "User-Agent": "pytest-traefik-compat"}
    conn: http.client.HTTPConnection | None = None
    # One context per worker (building one costs ~30 ms); without a session offered
    # every new connection is a full handshake.
    context = target.context_factory() if target.context_factory is not None else None
    try:
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            try:
                if conn is None or mode == NEW_CONNECTION:
                    if conn is not None:
                        conn.close()
                    conn = target.connection(timeout, context)
                conn.request("GET", target.path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise http.client.HTTPException(f"HTTP {response.status}")
            except (OSError, http.client.HTTPException) as error:
                key = f"{type(error).__name__}: {str(error)[:80]}"
                errors[key] = errors.get(key, 0) + 1
                if conn is not None:
                    conn.close()
                conn = None
                continue
            seconds.append(time.perf_counter() - started)
    finally:
        if conn is not None:
            with suppress(OSError):
                conn.close()
    return seconds, errors


def measure(
    name: str,
    target: Target,
    *,
    mode: str,
    concurrency: int,
    requests: int = MIN_REQUESTS,
    warmup: int = 10,
    time_budget: float = 30.0,
    timeout: float = 5.0,
) -> Series:
    """``requests`` GETs split over ``concurrency`` workers (each its own connection
    in keep-alive mode), after ``warmup`` untimed ones; stops at ``time_budget``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}: {mode!r}")
    _worker(target, KEEPALIVE, warmup, time.monotonic() + time_budget, timeout)
    series = Series(name, mode, concurrency)
    per_worker = [
        requests // concurrency + (i < requests % concurrency) for i in range(concurrency)
    ]
    started = time.monotonic()
    deadline = started + time_budget
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(_worker, target, mode, n, deadline, timeout) for n in per_worker]
        for future in futures:
            seconds, errors = future.result(timeout=time_budget + timeout + 5)
            series.seconds += seconds
            for key, value in errors.items():
                series.errors[key] = series.errors.get(key, 0) + value
    series.wall_s = time.monotonic() - started
    return series


@dataclass
class Overhead:
    """Direct vs through Traefik for one mode and concurrency."""

    mode: str
    concurrency: int
    direct: Series
    traefik: Series
    added_ms: float | None = None
    ci_low_ms: float | None = None
    ci_high_ms: float | None = None

    def figures(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {
            "requests_direct": len(self.direct.seconds),
            "requests_traefik": len(self.traefik.seconds),
        }
        for label, series in (("direct", self.direct), ("traefik", self.traefik)):
            for key, value in series.percentiles().items():
                out[f"{label}_{key}"] = round(value, 3)
        out["added_median"] = None if self.added_ms is None else round(self.added_ms, 3)
        out["added_ci_low"] = None if self.ci_low_ms is None else round(self.ci_low_ms, 3)
        out["added_ci_high"] = None if self.ci_high_ms is None else round(self.ci_high_ms, 3)
        return out


def added_latency(
    direct: Series, traefik: Series, *, confidence: float = 0.95, resamples: int = 2000
) -> tuple[float | None, float | None, float | None]:
    """(median difference, CI low, CI high) in ms: a bootstrap over both samples."""
    found = stats.median_difference_ci(
        traefik.ms.tolist(),
        direct.ms.tolist(),
        confidence=confidence,
        resamples=resamples,
        seed=SEED,
    )
    return found if found is not None else (None, None, None)


def compare(
    direct: Target,
    through: Target,
    *,
    mode: str,
    concurrency: int,
    requests: int = MIN_REQUESTS,
    time_budget: float = 30.0,
) -> Overhead:
    """Direct first, then through Traefik, same count, concurrency and bounds."""
    d = measure(
        "direct",
        direct,
        mode=mode,
        concurrency=concurrency,
        requests=requests,
        time_budget=time_budget,
    )
    t = measure(
        "traefik",
        through,
        mode=mode,
        concurrency=concurrency,
        requests=requests,
        time_budget=time_budget,
    )
    result = Overhead(mode, concurrency, d, t)
    result.added_ms, result.ci_low_ms, result.ci_high_ms = added_latency(d, t)
    return result
