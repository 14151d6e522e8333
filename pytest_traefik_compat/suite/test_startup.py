"""How fast the service starts on the base: container starts against a floor and a
drift control, and the process's own start per -mode.

Every timing series runs under the machine-wide quiet lock (measure.quiet) and records
the conditions it ran under; figures are never asserted against a time, only that they
were measured the way their label says (the floor exactly like the service, the parts
of a start adding up). Budgets (test_budgets.py) are the one place figures become
pass/fail, judged on their confidence intervals.

Sample counts (--traefik-samples, default 6) are chosen for the statistics and for the
wall time of a 2-core CI machine. 6 is the smallest n that is judged at all: the exact
interval of a median reaches 95% only from n = 6 ([min, max] covers 1 - 2/2^n: 75% at
n = 3, 94% at n = 5, 97% at n = 6), the Wilcoxon signed-rank test on 6 paired rounds
(service vs floor, the same round) can reach p = 0.031 and Mann-Whitney on 6 vs 6
(one base against another) p = 0.002; with fewer a comparison is "not judged". A start
costs about 0.5 s plus 0.3 s to remove its container and every round starts three
containers (service, floor, drift control), so 8 samples would cost about 5 s more per
base for intervals only about 13% narrower. The service's starts replace the routed
service, so each also gives a route-ready sample (Traefik's health check seeing the new
server UP) without a start of its own; route ready gets at least 6 whatever
--traefik-samples says. An in-process start
costs about 30 ms, so those get 3x as many samples.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases.images import ServiceBuild
from pytest_traefik_compat.gateway.services import ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.measure import startup, stats
from pytest_traefik_compat.plugin.session import CompatSession
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records.checks import (
    INPROCESS_START,
    MEMORY,
    SERVICE_MODES,
    STARTUP_LATENCY,
    mode_series,
)
from pytest_traefik_compat.suite.common import (
    RecordFactory,
    add_parts,
    measure_memory,
)

INPROCESS_FACTOR = 3
# The smallest series with a 95% interval and a judgeable comparison (see above).
ROUTE_READY_SAMPLES = stats.MIN_N_INTERVAL
INPROCESS_ROUNDS = 3  # rounds of (gin, grpc, mixed); each exec costs ~0.15 s more
# One exec re-runs the binary a whole round of starts: bounded, but generously.
INPROCESS_TIMEOUT_S = 600.0


def test_startup_latency(
    compat_stack: Gateway,
    static_build: ServiceBuild,
    floor_build: ServiceBuild,
    control_build: ServiceBuild | None,
    traefik_compat: CompatSession,
    traefik_settings: Settings,
    traefik_record: RecordFactory,
) -> None:
    """Container create to the first 200, for the service, the floor and the drift control.

    The three are started interleaved, --traefik-samples times each, in a timing
    series, each start decomposed. The service's start replaces the routed service;
    after its first direct 200 the route becoming ready in Traefik is timed, before
    the floor's start (at least 6 times: the smallest series with a 95% interval).
    Service and floor are compared round by round (Wilcoxon signed-rank); with fewer
    than 6 rounds the comparison is recorded as not judged.

    Asserts: the floor and the control ran with the same container spec as the
    service, and each started --traefik-samples times.
    Records: direct, floor, control and route-ready starts (ms), service minus control
    per round, the parts of direct and floor starts, Go init to ready; samples, the
    service's cost over the floor, whether the floor is below the service, the paired
    test's p-value (absent when not judged) and verdict, the same over the program's
    share (StartedAt to its ready line), the
    control's image, health-check and poll intervals, noisy, lock wait; details: the
    timing conditions, container specs, what each part means, every start, the
    definition of the figures.
    """
    record = traefik_record(STARTUP_LATENCY.check)
    app = compat_stack.service_specs[0]
    # The service's starts replace the routed service itself: after each first direct
    # 200 the same start gives a route-ready sample, with no start of its own.
    specs_by_key = {
        "direct": app,
        "floor": ServiceSpec(floor_build.tag, alias="latency-floor"),
    }
    if control_build is not None:
        specs_by_key["control"] = ServiceSpec(control_build.tag, alias="latency-control")
    n = traefik_settings.samples
    starts: dict[str, list[startup.StartSample]] = {key: [] for key in specs_by_key}
    direct, floor = starts["direct"], starts["floor"]
    route: list[float] = []
    specs: dict[str, Any] = {}
    replaced_at = time.monotonic()
    with traefik_compat.timing_series(compat_stack, "startup") as conditions:
        try:
            for _ in range(n):
                for key, spec in specs_by_key.items():
                    if key == "direct":
                        replaced_at = time.monotonic()
                    sample, service = startup.time_start(compat_stack, spec)
                    starts[key].append(sample)
                    if key not in specs:
                        specs[key] = startup.container_spec(service)
                    if key == "direct":
                        route.append(startup.route_ready_ms(compat_stack, spec))
        finally:
            startup.remove_services(
                compat_stack, [spec.alias for key, spec in specs_by_key.items() if key != "direct"]
            )
        # Route ready is judged on at least its own minimum whatever --traefik-samples says.
        for _ in range(ROUTE_READY_SAMPLES - len(route)):
            replaced_at = time.monotonic()
            _sample, routed_ms = startup.time_route_ready(compat_stack, app)
            route.append(routed_ms)
    # Every route (HTTP and gRPC) back in rotation before the next check; the floor's
    # and control's starts since the last replacement count toward the settling.
    compat_stack.wait_routes_ready(replaced_at=replaced_at)

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
    add_parts(record, STARTUP_LATENCY.direct, direct)
    add_parts(record, STARTUP_LATENCY.floor, floor)
    init = [s.init_to_ready_ms for s in direct if s.init_to_ready_ms is not None]
    record.add_samples(STARTUP_LATENCY.init_ready, init, "ms")
    # Service and floor start in the same round: paired.
    versus = stats.compare(
        [s.total_ms for s in direct],
        [s.total_ms for s in floor],
        labels=("service", "floor"),
        paired=True,
    )
    direct_median = record.value(f"{STARTUP_LATENCY.direct}_median")
    floor_median = record.value(f"{STARTUP_LATENCY.floor}_median")
    record.figure(STARTUP_LATENCY.samples, n, "count")
    record.figure(STARTUP_LATENCY.service_cost, round(direct_median - floor_median, 2), "ms")
    record.figure(STARTUP_LATENCY.floor_below_direct, floor_median < direct_median)
    record.figure(STARTUP_LATENCY.floor_vs_direct_p, versus.p_value, "ratio")
    record.figure(STARTUP_LATENCY.floor_vs_direct_verdict, versus.verdict)
    # The same comparison without the engine's share (create and start, the same for
    # both and the bulk of the noise): StartedAt to the process's ready line.
    programs: dict[str, list[float]] = {}
    for name, samples in (
        (STARTUP_LATENCY.direct_program, direct),
        (STARTUP_LATENCY.floor_program, floor),
    ):
        programs[name] = [v for s in samples if (v := s.started_to_ready_ms) is not None]
        record.add_samples(name, programs[name], "ms")
    # Paired on the rounds where both logged their ready line.
    rounds = [
        (d.started_to_ready_ms, f.started_to_ready_ms)
        for d, f in zip(direct, floor, strict=True)
        if d.started_to_ready_ms is not None and f.started_to_ready_ms is not None
    ]
    if all(programs.values()) and rounds:
        direct_program = record.value(f"{STARTUP_LATENCY.direct_program}_median")
        floor_program = record.value(f"{STARTUP_LATENCY.floor_program}_median")
        program_versus = stats.compare(
            [d for d, _ in rounds], [f for _, f in rounds], labels=("service", "floor"), paired=True
        )
        record.figure(STARTUP_LATENCY.program_cost, round(direct_program - floor_program, 2), "ms")
        record.figure(STARTUP_LATENCY.floor_below_direct_program, floor_program < direct_program)
        record.figure(STARTUP_LATENCY.floor_vs_direct_program_p, program_versus.p_value, "ratio")
        record.figure(STARTUP_LATENCY.floor_vs_direct_program_verdict, program_versus.verdict)
    record.figure(STARTUP_LATENCY.health_interval, compat_stack.health_interval)
    record.figure(STARTUP_LATENCY.poll_interval, startup.POLL_S * 1000, "ms")
    cvs = [record.value(f"{s}_cv") or 0 for s in (STARTUP_LATENCY.direct, STARTUP_LATENCY.floor)]
    record.figure(STARTUP_LATENCY.noisy, conditions.noisy or max(cvs) > stats.NOISY_CV)
    record.figure(STARTUP_LATENCY.lock_wait, conditions.lock_wait_ms, "ms")
    record.details[STARTUP_LATENCY.conditions] = conditions.as_dict()
    record.details[STARTUP_LATENCY.container_specs] = specs
    record.details[STARTUP_LATENCY.parts] = dict(startup.PART_MEANING)
    record.details[STARTUP_LATENCY.starts] = {
        key: [s.as_dict() for s in samples] for key, samples in starts.items()
    }
    record.details[STARTUP_LATENCY.definition] = (
        "container create call to the first 200 on /healthz on the published port, polled "
        f"every {startup.POLL_S * 1000:.0f} ms with a fresh connection; the floor is a "
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
    """The build of ``linkage``; skips the test when it did not build or does not start."""
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
    """exec to listeners ready per -mode, timed by the process itself, per linkage.

    The binary re-runs itself -start-samples times inside a container of the linkage
    (the variant: static, glibc, musl), in a timing series, the modes gin, grpc and
    mixed taking turns in 3 rounds; then the memory of that container's service. A
    linkage that did not build or does not start on the base is skipped.

    Asserts: every run exits 0; each mode has 3x --traefik-samples starts; the memory
    check's assertions, and the peak RSS is at least the RSS after warm-up, above 0.
    Records: exec to ready and Go init to ready per mode (ms), samples, the exec
    clock's resolution; details: the modes compared pairwise (Mann-Whitney verdicts),
    the timing conditions;
    and a memory record of the same variant (see test_memory).
    """
    build = _linkage_build(sample_builds, linkage)
    record = traefik_record(INPROCESS_START.check, variant=linkage)
    n = traefik_settings.samples * INPROCESS_FACTOR
    service = compat_stack.start_service(ServiceSpec(build.tag, alias=f"inproc-{linkage}"))
    try:
        by_mode = {mode: startup.InProcessStarts(mode) for mode in SERVICE_MODES}
        with traefik_compat.timing_series(compat_stack, f"inprocess-{linkage}") as conditions:
            # The modes take turns in rounds, so a drift of the machine during the
            # series lands on every mode alike instead of on the one sampled last.
            for size in startup.split_rounds(n, INPROCESS_ROUNDS):
                for mode in SERVICE_MODES:
                    result = engine.exec_in(
                        service.container,
                        ["/app", f"-mode={mode}", f"-start-samples={size}"],
                        timeout_s=INPROCESS_TIMEOUT_S,
                        keep=None,
                    )
                    assert result.exit_code == 0, (
                        f"-mode={mode} -start-samples: exit {result.exit_code}: "
                        f"{(result.output or result.error)[-300:]}"
                    )
                    by_mode[mode].extend(startup.parse_start_samples(result.output))
        memory = measure_memory(service, traefik_record(MEMORY.check, variant=linkage))
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
