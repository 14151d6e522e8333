"""The tables of measured figures: startup latency, memory and size, the in-process
start per mode, Traefik on each base, and the budgets' verdicts."""

from __future__ import annotations

from typing import Any

from pytest_traefik_compat.measure import stats
from pytest_traefik_compat.records.checks import (
    BUDGET,
    IMAGE_FACTS,
    INPROCESS_START,
    MEMORY,
    SAMPLE_STATS,
    SERVICE_MODES,
    START_MATRIX,
    STARTUP_LATENCY,
    STAT_MEDIAN,
    STATIC,
    TRAEFIK_FIGURES,
    stat_figure,
)
from pytest_traefik_compat.records.record import Record, summarize
from pytest_traefik_compat.report import figures
from pytest_traefik_compat.report.cells import (
    Column,
    Cost,
    Index,
    Table,
    _get,
    as_float,
    fmt_bytes,
    fmt_cost,
    fmt_ms,
    row,
    text,
)

# The startup-latency series, in the table's (and the chart's) order.
LATENCY_SERIES = (STARTUP_LATENCY.direct, STARTUP_LATENCY.traefik, STARTUP_LATENCY.floor)


def latency_table(index: Index) -> Table:
    table = Table(
        "latency",
        "Startup latency, memory and size",
        [
            Column("base"),
            Column("direct med", numeric=True),
            Column("direct tail", numeric=True, terminal=False),
            Column("floor med", numeric=True),
            Column("own cost", numeric=True),
            Column("own cost, process", numeric=True, terminal=False),
            Column("vs drift control", numeric=True, terminal=False),
            Column("route ready", numeric=True),
            Column("RSS", numeric=True),
            Column("peak RSS", numeric=True),
            Column("base image", numeric=True, terminal=False),
            Column("direct 95% CI", numeric=True, terminal=False),
            Column("floor 95% CI", numeric=True, terminal=False),
            Column("cgroup mem", numeric=True, terminal=False),
            Column("Go heap", numeric=True, terminal=False),
            Column("RSS /metrics", numeric=True, terminal=False),
            Column("service image", numeric=True, terminal=False),
        ],
        caption="Container create call to the first 200 on /healthz (polled every 20 ms), "
        "median (its 95% interval in report.json and the chart where n allows one); the "
        "floor is a net/http-only server run exactly the same way in the same rounds, own "
        'cost = service - floor per round with its interval, "no measurable cost" where '
        "that interval holds zero. The engine's create and start are the same for both and "
        "carry most of the jitter, so own cost, process compares the program's share alone: "
        "State.StartedAt to the process's own ready line (p: service vs floor). Bases are "
        "measured one after another, so each series also starts a drift control (the floor "
        "on the run's first base, one image in every series); vs drift control is service "
        "- control per round, and bases are compared on it (Between bases). Route ready "
        "(service's first 200 to routed by Traefik) depends on the health-check interval "
        "and is not part of the start. RSS is VmRSS after warm-up, peak is VmHWM after a "
        "bounded load; cgroup memory excludes page cache. (noisy) marks a series measured "
        "on a busy machine.",
        checks=(STARTUP_LATENCY.check, MEMORY.check),
    )
    for base in index.bases:
        record = index.get(base, STARTUP_LATENCY.check)
        direct = figures.median_ci(record, STARTUP_LATENCY.direct)
        floor = figures.median_ci(record, STARTUP_LATENCY.floor)
        route = figures.median_ci(record, STARTUP_LATENCY.route_ready)
        memory = index.get(base, MEMORY.check)
        facts = index.get(base, IMAGE_FACTS.check)
        flag = " (noisy)" if _get(record, STARTUP_LATENCY.noisy) is True else ""
        heap, cgroup = _get(memory, MEMORY.go_heap_inuse), _get(memory, MEMORY.cgroup_memory)
        table.rows.append(
            row(
                base,
                fmt_ms(direct.get(STAT_MEDIAN)) + flag,
                figures.fmt_tail(direct),
                fmt_ms(floor.get(STAT_MEDIAN)),
                fmt_cost(figures.own_cost(record)),
                _program_cost(record),
                figures.fmt_median_ci(figures.median_ci(record, STARTUP_LATENCY.direct_vs_control)),
                fmt_ms(route.get(STAT_MEDIAN)),
                fmt_bytes(_get(memory, MEMORY.rss_kernel)),
                fmt_bytes(_get(memory, MEMORY.rss_peak)),
                fmt_bytes(facts.value(IMAGE_FACTS.size) if facts else provenance_size(index, base)),
                figures.fmt_ci(direct),
                figures.fmt_ci(floor),
                fmt_bytes(cgroup),
                fmt_bytes(heap),
                fmt_bytes(_get(memory, MEMORY.rss_metrics)),
                fmt_bytes(service_image_size(index, base)),
            )
        )
    busy = figures.noisy_bases(index, index.bases)
    if busy:
        table.caption += f" Measured on a busy machine (noisy): {', '.join(busy)}."
    return table


def _program_cost(record: Record | None) -> str:
    cost = _get(record, STARTUP_LATENCY.program_cost)
    p_value = as_float(_get(record, STARTUP_LATENCY.floor_vs_direct_program_p))
    if cost is None or p_value is None:
        return fmt_cost(Cost(as_float(cost)))
    shown = fmt_cost(Cost(as_float(cost), measurable=p_value < stats.ALPHA))
    return f"{shown} (p={p_value:.2g})"


def inprocess_table(index: Index) -> Table:
    table = Table(
        INPROCESS_START.check,
        "In-process start per mode (Go init to listeners ready)",
        [Column("base"), Column("linkage")]
        + [Column(f"{mode} [95% CI]", numeric=True) for mode in SERVICE_MODES]
        + [Column("RSS", numeric=True), Column("peak RSS", numeric=True)],
        caption="The service's own start, as it reports it: init to ready (sub-ms; exec to "
        "ready at 10 ms resolution is in report.json), per -mode, on each linkage that "
        "starts on the base; memory of that linkage's service after warm-up and load.",
        checks=(INPROCESS_START.check,),
    )
    for base in index.bases:
        for linkage in index.variants(INPROCESS_START.check):
            record = index.get(base, INPROCESS_START.check, linkage)
            if record is None:
                continue
            rss, peak, _cgroup, _heap = figures.memory_values(
                index.get(base, MEMORY.check, linkage)
            )
            cells = figures.inprocess_cells(record)
            table.rows.append(row(base, linkage, *cells, fmt_bytes(rss), fmt_bytes(peak)))
    return table


def traefik_figures_table(index: Index) -> Table:
    table = Table(
        TRAEFIK_FIGURES.check,
        "Traefik on each base",
        [
            Column("base"),
            Column("start to /ping [95% CI]", numeric=True),
            Column("RSS", numeric=True),
            Column("peak RSS", numeric=True),
        ],
        caption="A second Traefik started exactly like the gateway's, create call to the "
        "first 200 on /ping; RSS after the suite's traffic and its peak (VmHWM).",
        checks=(TRAEFIK_FIGURES.check,),
    )
    for base in index.bases:
        record = index.get(base, TRAEFIK_FIGURES.check)
        table.rows.append(
            row(
                base,
                figures.fmt_median_ci(figures.median_ci(record, TRAEFIK_FIGURES.start)),
                fmt_bytes(_get(record, TRAEFIK_FIGURES.rss)),
                fmt_bytes(_get(record, TRAEFIK_FIGURES.rss_peak)),
            )
        )
    return table


def budget_table(index: Index) -> Table:
    table = Table(
        BUDGET.check,
        "Budgets",
        [Column("base"), Column("budget"), Column("verdict")],
        caption="Pass when the figure's 95% interval is within the limit, fail when it is "
        "beyond, inconclusive in between (not a failure).",
        checks=(BUDGET.check,),
    )
    for base in index.bases:
        for name in index.variants(BUDGET.check):
            record = index.get(base, BUDGET.check, name)
            if record is not None:
                table.rows.append(row(base, name, text(record.details.get(BUDGET.sentence))))
    return table


def latency_stats(r: Record | None) -> dict[str, dict[str, float]]:
    """min/median/p95/max per series, from the figures or else the raw samples."""
    stats: dict[str, dict[str, float]] = {}
    for series in LATENCY_SERIES:
        values: dict[str, float] = {}
        if r is not None:
            for stat in SAMPLE_STATS:
                number = as_float(r.value(stat_figure(series, stat)))
                if number is not None:
                    values[stat] = number
            samples = [s for s in r.samples.get(series, []) if as_float(s) is not None]
            if not values and samples:
                values = summarize(samples)
        stats[series] = values
    return stats


def provenance_size(index: Index, base: str) -> Any:
    for record in index.records:
        if record.base == base and "size_bytes" in record.provenance:
            return record.provenance["size_bytes"]
    return None


def service_image_size(index: Index, base: str) -> Any:
    return _get(index.get(base, START_MATRIX.check, STATIC), START_MATRIX.image_size)
