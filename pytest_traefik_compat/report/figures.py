"""The figures of the report: medians with their intervals, the start decomposed,
in-process start per mode, Traefik's own figures, budgets, and the figures compared
between bases, pair by pair (the comparison table).

Pure over records (the tables and charts modules render what this returns); the
comparisons come from pytest_traefik_compat.measure.stats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from typing import Any

from pytest_traefik_compat.measure import stats
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    INPROCESS_START,
    MEMORY,
    SERVICE_MODES,
    START_PARTS,
    STARTUP_LATENCY,
    STAT_CI_HIGH,
    STAT_CI_LOW,
    STAT_MAX,
    STAT_MEDIAN,
    STAT_N,
    STAT_P95,
    TRAEFIK_FIGURES,
    mode_series,
    part_series,
    stat_figure,
)
from pytest_traefik_compat.report.cells import Cost, as_float


def median_ci(record: Record | None, series: str) -> dict[str, float | None]:
    """median, ci_low, ci_high, p95 (None where n does not support it), max, n."""
    out: dict[str, float | None] = {}
    for stat in (STAT_MEDIAN, STAT_CI_LOW, STAT_CI_HIGH, STAT_P95, STAT_MAX, STAT_N):
        value = record.value(stat_figure(series, stat)) if record is not None else None
        out[stat] = float(value) if isinstance(value, (int, float)) else None
    return out


def fmt_median_ci(values: dict[str, float | None], digits: int = 0) -> str:
    """``312 [298-330] ms``; just the median when there is no interval."""
    median = values.get(STAT_MEDIAN)
    if median is None:
        return "-"
    low, high = values.get(STAT_CI_LOW), values.get(STAT_CI_HIGH)
    if low is None or high is None:
        return f"{median:.{digits}f} ms"
    dash = " to " if low < 0 or high < 0 else "-"  # "[-30 to -5]", not "[-30--5]"
    return f"{median:.{digits}f} [{low:.{digits}f}{dash}{high:.{digits}f}] ms"


def fmt_ci(values: dict[str, float | None]) -> str:
    low, high = values.get(STAT_CI_LOW), values.get(STAT_CI_HIGH)
    return "-" if low is None or high is None else f"[{low:.0f}-{high:.0f}] ms"


def fmt_tail(values: dict[str, float | None]) -> str:
    """p95 where n supports it, else "max X" (with 8 samples p95 would be the max)."""
    if values.get(STAT_P95) is not None:
        return f"p95 {values[STAT_P95]:.0f} ms"
    if values.get(STAT_MAX) is not None:
        return f"max {values[STAT_MAX]:.0f} ms"
    return "-"


def decomposition(record: Record | None, series: str) -> dict[str, float]:
    """Median of each part of a start series (the stacked bar's segments)."""
    parts: dict[str, float] = {}
    for part in START_PARTS:
        value = median_ci(record, part_series(series, part)).get(STAT_MEDIAN)
        if value is not None:
            parts[part] = value
    return parts


def _samples(record: Record | None, series: str) -> tuple[float, ...]:
    if record is None:
        return ()
    return tuple(float(v) for v in record.samples.get(series, []) if isinstance(v, (int, float)))


@dataclass(frozen=True)
class BaseComparison:
    """One figure of two bases compared (the comparison and its verdict: stats)."""

    figure: str
    comparison: stats.Comparison

    @property
    def pair(self) -> str:
        return f"{self.comparison.label_a} vs {self.comparison.label_b}"

    @property
    def differs(self) -> bool:
        return self.comparison.significant


@cache
def _compare(
    figure: str, a: str, b: str, x: tuple[float, ...], y: tuple[float, ...]
) -> BaseComparison:
    # Cached: the terminal, the Markdown and the HTML build the same tables.
    return BaseComparison(figure, stats.compare(x, y, labels=(a, b)))


def compare_bases(
    records_by_base: dict[str, Record | None], series: str, what: str
) -> list[BaseComparison]:
    """Every pair of bases with samples of ``series``, compared (Mann-Whitney, stats)."""
    found = []
    for a, b in combinations(records_by_base, 2):
        x, y = _samples(records_by_base[a], series), _samples(records_by_base[b], series)
        if x and y:
            found.append(_compare(what, a, b, x, y))
    return found


def common_control(startup: dict[str, Record | None]) -> bool:
    """Every base with a startup record has the same drift control image (a report
    may have none: a run whose control could not be built, or a plugin version without
    one)."""
    images = {r.value(STARTUP_LATENCY.control_image) for r in startup.values() if r is not None}
    return len(images) == 1 and None not in images


def comparisons(index: Any, bases: Sequence[str]) -> list[BaseComparison]:
    """Every between-base comparison of the report, figure by figure."""
    out: list[BaseComparison] = []
    startup = {b: index.get(b, STARTUP_LATENCY.check) for b in bases}
    if common_control(startup):
        # Bases are measured one after another: compared on service - control per
        # round, the machine's drift between their series cancels; the control itself
        # says how far the machine drifted.
        out += compare_bases(startup, STARTUP_LATENCY.direct_vs_control, "start - drift control")
        out += compare_bases(startup, STARTUP_LATENCY.control, "drift control")
    else:
        out += compare_bases(startup, STARTUP_LATENCY.direct, "start, direct")
        out += compare_bases(startup, STARTUP_LATENCY.floor, "start, floor")
    out += compare_bases(
        {b: index.get(b, INPROCESS_START.check, "static") for b in bases},
        mode_series("mixed", INPROCESS_START.init_ready),
        "in-process start",
    )
    out += compare_bases(
        {b: index.get(b, TRAEFIK_FIGURES.check) for b in bases},
        TRAEFIK_FIGURES.start,
        "Traefik start",
    )
    return out


def own_cost(record: Record | None) -> Cost:
    """The service's own cost over its floor, with its interval where n allows one.

    Service and floor start in the same rounds, so the cost is the paired comparison's
    median per-round difference where the rounds match; without samples it is the
    record's median(direct) - median(floor).
    """
    figure = record.value(STARTUP_LATENCY.service_cost) if record is not None else None
    value = as_float(figure)
    direct = _samples(record, STARTUP_LATENCY.direct)
    floor = _samples(record, STARTUP_LATENCY.floor)
    if not direct or not floor:
        return Cost(value)
    c = _paired(direct, floor)
    difference = c.difference if c.difference is not None else value
    return Cost(difference, c.ci_low, c.ci_high, c.significant if c.judged else None)


@cache
def _paired(x: tuple[float, ...], y: tuple[float, ...]) -> stats.Comparison:
    return stats.compare(x, y, labels=("service", "floor"), paired=len(x) == len(y))


def noisy_bases(index: Any, bases: Sequence[str]) -> list[str]:
    return [
        b
        for b in bases
        if (r := index.get(b, STARTUP_LATENCY.check)) is not None
        and r.value(STARTUP_LATENCY.noisy) is True
    ]


def inprocess_cells(record: Record | None) -> list[str]:
    return [
        fmt_median_ci(median_ci(record, mode_series(mode, INPROCESS_START.init_ready)), 1)
        for mode in SERVICE_MODES
    ]


def memory_values(record: Record | None) -> list[Any]:
    if record is None:
        return [None] * 4
    return [
        record.value(MEMORY.rss_kernel),
        record.value(MEMORY.rss_peak),
        record.value(MEMORY.cgroup_memory),
        record.value(MEMORY.go_heap_inuse),
    ]
