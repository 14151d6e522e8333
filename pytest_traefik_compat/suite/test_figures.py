"""Startup and memory figures that hold up (issue 13), and budgets over them.

Every timing series runs under the machine-wide quiet lock (measure.quiet) and records
the conditions; figures are never asserted against a time, only that they were
measured the way their label says (the floor exactly like the service, the parts of a
start adding up). Budgets (--traefik-budget) are the one place figures become pass/fail,
judged on their confidence intervals.

Sample counts (``--traefik-samples``, default 6), chosen for the statistics and the
wall time of a 2-core CI machine. 6 container starts per series: Mann-Whitney on 6 vs 6
reaches p = 0.002 for a clean shift (floor below service, one base slower than another),
well under the 0.05 the report uses, and the bootstrap interval of a median of 6 rests
on its inner order statistics. Each start costs ~0.5 s plus ~0.3 s to remove its
container (measured here), and every sample is taken three times (service, floor and
the drift control), so 8 cost ~5 s more per base for intervals only ~13% narrower.
In-process starts cost ~30 ms, so they get 3x as many (18 per mode, in 3 rounds of
gin, grpc, mixed): enough to tell 12 ms from 29 ms or to say there is no difference.
Route-ready and Traefik starts wait on a 1 s health-check cycle or a whole gateway: at
most 3 each. Memory: 100 warm-up requests and a
sequential load of 300 (every fourth a /metrics scrape, the allocation-heavy one):
measured here, VmHWM after 300 was within 2% of its value after 1000 (26.0 vs 26.4 MB),
and the 700 more cost ~4 s per container.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

import pytest
import requests

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases.images import ServiceBuild
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.stack import Gateway, ServiceSpec
from pytest_traefik_compat.measure import budgets, probes, stats
from pytest_traefik_compat.measure import timing as measure
from pytest_traefik_compat.plugin.session import CompatSession
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    BUDGET,
    INPROCESS_START,
    MEMORY,
    MTLS,
    SERVICE_MODES,
    START_MATRIX,
    START_PARTS,
    STARTUP_LATENCY,
    STATIC,
    TRAEFIK_FIGURES,
    mode_series,
    part_series,
)

RecordFactory = Callable[..., Record]
WARMUP_REQUESTS = 100
LOAD_REQUESTS = 300
MAX_SLOW_SAMPLES = 3  # route-ready and Traefik starts
INPROCESS_FACTOR = 3
INPROCESS_ROUNDS = 3  # rounds of (gin, grpc, mixed); each exec costs ~0.15 s more
EXEC_TIMEOUT_S = 60


def _add_parts(record: Record, series: str, samples: list[measure.StartSample]) -> None:
    for part, values in measure.medians_by_part(samples).items():
        record.add_samples(part_series(series, part), values, "ms")


def test_startup_latency(
    compat_stack: Gateway,
    static_build: ServiceBuild,
    floor_build: ServiceBuild,
    control_build: ServiceBuild | None,
    traefik_compat: CompatSession,
    traefik_settings: Settings,
    traefik_record: RecordFactory,
) -> None:
    """Direct, floor and drift-control starts interleaved, each decomposed; then,
    separately, the route becoming ready in Traefik after the routed service is
    replaced."""
    record = traefik_record(STARTUP_LATENCY.check)
    app = compat_stack.service_specs[0]
    specs_by_key = {
        "direct": ServiceSpec(app.image, alias="latency"),
        "floor": ServiceSpec(floor_build.tag, alias="latency-floor"),
    }
    if control_build is not None:
        specs_by_key["control"] = ServiceSpec(control_build.tag, alias="latency-control")
    n = traefik_settings.samples
    starts: dict[str, list[measure.StartSample]] = {key: [] for key in specs_by_key}
    direct, floor = starts["direct"], starts["floor"]
    route: list[float] = []
    specs: dict[str, Any] = {}
    with traefik_compat.timing_series(compat_stack, "startup") as conditions:
        try:
            for _ in range(n):
                for key, spec in specs_by_key.items():
                    sample, service = measure.time_start(compat_stack, spec)
                    starts[key].append(sample)
                    specs.setdefault(key, measure.container_spec(service))
        finally:
            for alias in (spec.alias for spec in specs_by_key.values()):
                gone = compat_stack.services.pop(alias, None)
                if gone is not None:
                    engine.remove(gone.container)
        for _ in range(min(n, MAX_SLOW_SAMPLES)):
            _sample, routed_ms = measure.time_route_ready(compat_stack, app)
            route.append(routed_ms)
    # Every route (HTTP and gRPC) back in rotation before the next check.
    compat_stack.wait_routes_ready()

    record.add_samples(STARTUP_LATENCY.direct, [s.total_ms for s in direct], "ms")
    record.add_samples(STARTUP_LATENCY.floor, [s.total_ms for s in floor], "ms")
    record.add_samples(STARTUP_LATENCY.route_ready, route, "ms")
    if control_build is not None:
        control = [s.total_ms for s in starts["control"]]
        record.add_samples(STARTUP_LATENCY.control, control, "ms")
        record.add_samples(
            STARTUP_LATENCY.direct_vs_control,
            [s.total_ms - c for s, c in zip(direct, control, strict=True)],
            "ms",
        )
        record.figure(STARTUP_LATENCY.control_image, control_build.tag)
    _add_parts(record, STARTUP_LATENCY.direct, direct)
    _add_parts(record, STARTUP_LATENCY.floor, floor)
    init = [s.init_to_ready_ms for s in direct if s.init_to_ready_ms is not None]
    record.add_samples(STARTUP_LATENCY.init_ready, init, "ms")
    versus = stats.compare(
        [s.total_ms for s in direct], [s.total_ms for s in floor], labels=("service", "floor")
    )
    direct_median = record.value(f"{STARTUP_LATENCY.direct}_median")
    floor_median = record.value(f"{STARTUP_LATENCY.floor}_median")
    record.figure(STARTUP_LATENCY.samples, n, "count")
    record.figure(STARTUP_LATENCY.service_cost, round(direct_median - floor_median, 2), "ms")
    record.figure(STARTUP_LATENCY.floor_below_direct, floor_median < direct_median)
    record.figure(STARTUP_LATENCY.floor_vs_direct_p, versus.p_value, "ratio")
    # The same comparison without the engine's share (create and start, the same for
    # both and the bulk of the noise): StartedAt to the process's ready line.
    programs: dict[str, list[float]] = {}
    for name, samples in (
        (STARTUP_LATENCY.direct_program, direct),
        (STARTUP_LATENCY.floor_program, floor),
    ):
        programs[name] = [v for s in samples if (v := s.started_to_ready_ms) is not None]
        record.add_samples(name, programs[name], "ms")
    if all(programs.values()):
        direct_program = record.value(f"{STARTUP_LATENCY.direct_program}_median")
        floor_program = record.value(f"{STARTUP_LATENCY.floor_program}_median")
        program_versus = stats.compare(
            programs[STARTUP_LATENCY.direct_program],
            programs[STARTUP_LATENCY.floor_program],
            labels=("service", "floor"),
        )
        record.figure(STARTUP_LATENCY.program_cost, round(direct_program - floor_program, 2), "ms")
        record.figure(STARTUP_LATENCY.floor_below_direct_program, floor_program < direct_program)
        record.figure(STARTUP_LATENCY.floor_vs_direct_program_p, program_versus.p_value, "ratio")
    record.figure(STARTUP_LATENCY.health_interval, compat_stack.health_interval)
    record.figure(STARTUP_LATENCY.poll_interval, measure.POLL_S * 1000, "ms")
    cvs = [record.value(f"{s}_cv") or 0 for s in (STARTUP_LATENCY.direct, STARTUP_LATENCY.floor)]
    record.figure(STARTUP_LATENCY.noisy, conditions.noisy or max(cvs) > stats.NOISY_CV)
    record.figure(STARTUP_LATENCY.lock_wait, conditions.lock_wait_ms, "ms")
    record.details[STARTUP_LATENCY.conditions] = conditions.as_dict()
    record.details[STARTUP_LATENCY.container_specs] = specs
    record.details[STARTUP_LATENCY.parts] = dict(measure.PART_MEANING)
    record.details[STARTUP_LATENCY.starts] = {
        key: [s.as_dict() for s in samples] for key, samples in starts.items()
    }
    record.details[STARTUP_LATENCY.definition] = (
        "container create call to the first 200 on /healthz on the published port, polled "
        f"every {measure.POLL_S * 1000:.0f} ms with a fresh connection; the floor is a "
        "net/http-only static server run the same way (same base, network, published "
        "ports, HEALTHCHECK, polling); the control is the floor on the run's first base, "
        "the same image in every base's series (its drift between series is the "
        "machine's; bases are compared on service - control per round); route_ready is "
        "the service's first direct 200 to the first 200 through Traefik (health-check "
        f"interval {compat_stack.health_interval})"
    )
    # The floor and the control are the same measurement: only the image differs.
    for key in specs_by_key:
        assert specs[key] == specs["direct"], f"{key} {specs[key]} vs {specs['direct']}"
        assert len(starts[key]) == n, key


def _linkage_build(sample_builds: dict[str, ServiceBuild | str], linkage: str) -> ServiceBuild:
    build = sample_builds[linkage]
    if isinstance(build, str):
        pytest.skip(f"{linkage} did not build: {build[:120]}")
    if not build.prediction.starts:
        pytest.skip(f"{linkage} does not start on this base: {build.prediction.reason}")
    return build


@pytest.mark.parametrize("linkage", ["static", "glibc", "musl"])
def test_inprocess_start(
    linkage: str,
    sample_builds: dict[str, ServiceBuild | str],
    compat_stack: Gateway,
    traefik_compat: CompatSession,
    traefik_settings: Settings,
    traefik_record: RecordFactory,
) -> None:
    """exec -> listeners ready per -mode, measured by the process itself (the binary
    re-runs itself -start-samples times inside a container of this linkage); then the
    memory of that linkage's service."""
    build = _linkage_build(sample_builds, linkage)
    record = traefik_record(INPROCESS_START.check, variant=linkage)
    n = traefik_settings.samples * INPROCESS_FACTOR
    service = compat_stack.start_service(ServiceSpec(build.tag, alias=f"inproc-{linkage}"))
    try:
        by_mode = {mode: measure.InProcessStarts(mode) for mode in SERVICE_MODES}
        with traefik_compat.timing_series(compat_stack, f"inprocess-{linkage}") as conditions:
            # The modes take turns in rounds, so a drift of the machine during the
            # series lands on every mode alike instead of on the one sampled last.
            for size in measure.split_rounds(n, INPROCESS_ROUNDS):
                for mode in SERVICE_MODES:
                    code, output = measure.run_in(
                        service.container, ["/app", f"-mode={mode}", f"-start-samples={size}"]
                    )
                    assert code == 0, f"-mode={mode} -start-samples: exit {code}: {output[-300:]}"
                    by_mode[mode].extend(measure.parse_start_samples(output))
        memory = _memory(service, traefik_record(MEMORY.check, variant=linkage))
    finally:
        compat_stack.services.pop(service.spec.alias, None)
        engine.remove(service.container)
    for mode, starts in by_mode.items():
        record.add_samples(
            mode_series(mode, INPROCESS_START.exec_ready), starts.exec_to_ready_ms, "ms"
        )
        record.add_samples(
            mode_series(mode, INPROCESS_START.init_ready), starts.init_to_ready_ms, "ms"
        )
    record.figure(INPROCESS_START.samples, n, "count")
    record.figure(INPROCESS_START.exec_resolution, 10, "ms")
    comparisons = []
    for a, b in (("gin", "grpc"), ("gin", "mixed"), ("grpc", "mixed")):
        comparisons.append(
            stats.compare(
                by_mode[a].init_to_ready_ms, by_mode[b].init_to_ready_ms, labels=(a, b)
            ).sentence()
        )
    record.details[INPROCESS_START.comparisons] = comparisons
    record.details[INPROCESS_START.conditions] = conditions.as_dict()
    assert all(len(s.init_to_ready_ms) == n for s in by_mode.values())
    assert memory[MEMORY.rss_peak] >= memory[MEMORY.rss_kernel] > 0


def _memory(service: Any, record: Record) -> dict[str, int]:
    """VmRSS after warm-up, VmHWM after a bounded load, cgroup memory without page
    cache, the Go heap in use; VmRSS vs process_resident_memory_bytes as a sanity check."""
    session = requests.Session()
    for index in range(WARMUP_REQUESTS):
        path = "/api/fib/40" if index % 2 else "/healthz"
        session.get(service.url(8080, path), timeout=5).raise_for_status()
    # The first /metrics scrape grows the process by ~2 MB (the handler's buffers):
    # scrape once to warm it, then read the kernel right before the compared scrape.
    session.get(service.url(8080, "/metrics"), timeout=5).raise_for_status()
    pid = service.pid()
    rss = measure.proc_status(pid)["VmRSS"]
    text = session.get(service.url(8080, "/metrics"), timeout=5).text
    audit = probes.audit_metrics(
        text, keep=["process_resident_memory_bytes", "go_memstats_heap_inuse_bytes"]
    )
    for index in range(LOAD_REQUESTS):
        path = f"/api/fib/{index % 90}" if index % 4 else "/metrics"
        session.get(service.url(8080, path), timeout=5).raise_for_status()
    peak = measure.proc_status(pid)["VmHWM"]
    cgroup = None
    with suppress(Exception):
        cgroup = measure.cgroup_memory_without_cache(
            service.container.stats(stream=False, one_shot=True)
        )
    reported = audit.values.get("process_resident_memory_bytes")
    record.figure(MEMORY.rss_kernel, rss, "bytes")
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


def test_memory_rss(compat_stack: Gateway, traefik_record: RecordFactory) -> None:
    """The routed service (static) on this base: the figures the memory table shows."""
    _memory(compat_stack.services["app"], traefik_record(MEMORY.check))


def _traefik_run(stack: Gateway, index: int) -> Callable[[], Any]:
    """Start a second Traefik exactly like the gateway's own (image, user, command,
    config mount, ports), for timing its start."""
    assert stack.traefik is not None
    stack.traefik.reload()
    config = stack.traefik.attrs["Config"]
    binds = stack.traefik.attrs["HostConfig"].get("Binds") or []
    volumes = {b.split(":")[0]: b.split(":")[1] for b in binds}

    def run() -> Any:
        return stack.run_container(
            stack.traefik_image,
            f"traefik-timing{index}",
            ports=[traefik.WEBSECURE_PORT, traefik.ADMIN_PORT],
            command=list(config.get("Cmd") or []),
            user=config.get("User") or "",
            volumes=volumes,
        )

    return run


def _admin_ping_url(container: Any) -> str:
    port = engine.host_ports(container)[traefik.ADMIN_PORT]
    return f"http://{engine.engine_address()}:{port}/ping"


def test_traefik_figures(
    compat_stack: Gateway,
    traefik_compat: CompatSession,
    traefik_settings: Settings,
    traefik_record: RecordFactory,
) -> None:
    """Traefik on this base: create to /ping 200 (decomposed; Traefik logs no ready
    line, so exec comes from the host's /proc), its RSS after the suite's traffic, peak."""
    record = traefik_record(TRAEFIK_FIGURES.check)
    assert compat_stack.traefik is not None
    status = measure.proc_status(engine.pid(compat_stack.traefik))
    record.figure(TRAEFIK_FIGURES.rss, status["VmRSS"], "bytes")
    record.figure(TRAEFIK_FIGURES.rss_peak, status["VmHWM"], "bytes")
    with suppress(Exception):
        record.figure(
            TRAEFIK_FIGURES.cgroup_memory,
            measure.cgroup_memory_without_cache(
                compat_stack.traefik.stats(stream=False, one_shot=True)
            ),
            "bytes",
        )
    starts: list[measure.StartSample] = []
    with traefik_compat.timing_series(compat_stack, "traefik") as conditions:
        for index in range(min(traefik_settings.samples, MAX_SLOW_SAMPLES)):
            sample, container = measure.time_container(
                _traefik_run(compat_stack, index), _admin_ping_url
            )
            engine.remove(container)
            starts.append(sample)
    record.add_samples(TRAEFIK_FIGURES.start, [s.total_ms for s in starts], "ms")
    _add_parts(record, TRAEFIK_FIGURES.start, starts)
    record.details[TRAEFIK_FIGURES.conditions] = conditions.as_dict()
    record.details[TRAEFIK_FIGURES.starts] = [s.as_dict() for s in starts]
    assert status["VmHWM"] >= status["VmRSS"] > 0


# ---------------------------------------------------------------- budgets

# budget name -> (check, variant, sample series or figure, unit of the values)
BUDGET_SOURCES: dict[str, tuple[str, str, str]] = {
    "startup_ms": (STARTUP_LATENCY.check, "", STARTUP_LATENCY.direct),
    "exec_ready_ms": (STARTUP_LATENCY.check, "", part_series(STARTUP_LATENCY.direct, "init_ready")),
    "route_ready_ms": (STARTUP_LATENCY.check, "", STARTUP_LATENCY.route_ready),
    "rss_mb": (MEMORY.check, "", MEMORY.rss_kernel),
    "peak_rss_mb": (MEMORY.check, "", MEMORY.rss_peak),
    "handshake_ms": (MTLS.check, "", MTLS.handshake),
    "image_mb": (START_MATRIX.check, STATIC, START_MATRIX.image_size),
    "traefik_startup_ms": (TRAEFIK_FIGURES.check, "", TRAEFIK_FIGURES.start),
    "traefik_rss_mb": (TRAEFIK_FIGURES.check, "", TRAEFIK_FIGURES.rss),
}
assert set(BUDGET_SOURCES) == set(budgets.BUDGETS)
assert START_PARTS[3] == "init_ready"


def test_budget(
    budget_name: str,
    traefik_base: Any,
    traefik_compat: CompatSession,
    traefik_settings: Settings,
    traefik_record: RecordFactory,
) -> None:
    """One --traefik-budget on this base: pass, FAIL, or inconclusive (skipped, with
    how many samples would settle it). Runs after the base's measuring tests."""
    limit = traefik_settings.budgets.limit(budget_name, traefik_base.name)
    if limit is None:
        pytest.skip(f"no {budget_name} budget for {traefik_base.name}")
    check, variant, name = BUDGET_SOURCES[budget_name]
    unit = budgets.BUDGETS[budget_name].unit
    source = next(
        (
            r
            for r in traefik_compat.records
            if r.base == traefik_base.name and r.check == check and r.variant == variant
        ),
        None,
    )
    values: Any = None
    values_unit = unit
    if source is not None and name in source.samples:
        values, values_unit = source.samples[name], source.sample_units[name]
    elif source is not None and name in source.figures:
        values, values_unit = source.figures[name].value, source.figures[name].unit
    verdict = budgets.judge(
        budget_name, limit, values, unit=unit, values_unit=values_unit, base=traefik_base.name
    )
    record = traefik_record(BUDGET.check, variant=budget_name)
    record.figure(BUDGET.outcome, verdict.outcome).figure(BUDGET.limit, limit, unit)
    record.figure(BUDGET.median, verdict.median, unit)
    record.figure(BUDGET.ci_low, verdict.low, unit).figure(BUDGET.ci_high, verdict.high, unit)
    record.figure(BUDGET.more_samples, verdict.more_samples, "count")
    record.details[BUDGET.sentence] = verdict.sentence
    if verdict.outcome == budgets.MISSING:
        pytest.skip(f"{verdict.sentence} (was {check} measured on this base?)")
    if verdict.outcome == budgets.INCONCLUSIVE:
        pytest.skip(verdict.sentence)
    assert verdict.outcome == budgets.PASS, verdict.sentence
