"""The figures of the report: medians with their intervals, the start decomposed,
in-process start per mode, Traefik's own figures, budgets, and one sentence per figure
comparing bases ("alpine vs distroless: no measurable difference (p=0.41, n=8 each)").

Pure over records (the tables and charts modules render what this returns); the
comparisons come from pytest_traefik_compat.measure.stats.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def _samples(record: Record | None, series: str) -> list[float]:
    if record is None:
        return []
    return [float(v) for v in record.samples.get(series, []) if isinstance(v, (int, float))]


def base_sentences(records_by_base: dict[str, Record | None], series: str, what: str) -> list[str]:
    """Pairwise Mann-Whitney between bases for one series, one sentence per pair."""
    sentences = []
    for a, b in combinations(records_by_base, 2):
        x, y = _samples(records_by_base[a], series), _samples(records_by_base[b], series)
        if x and y:
            sentence = stats.compare(x, y, labels=(a, b)).sentence()
            sentences.append(f"{what}: {sentence}")
    return sentences


def common_control(startup: dict[str, Record | None]) -> bool:
    """Every base with a startup record has the same drift control image (a report
    may have none: a run whose control could not be built, or a plugin version without
    one)."""
    images = {r.value(STARTUP_LATENCY.control_image) for r in startup.values() if r is not None}
    return len(images) == 1 and None not in images


def sentences(index: Any, bases: Sequence[str]) -> list[str]:
    """Every between-base sentence the report prints under the figures."""
    out: list[str] = []
    startup = {b: index.get(b, STARTUP_LATENCY.check) for b in bases}
    if common_control(startup):
        # Bases are measured one after another: compared on service - control per
        # round, the machine's drift between their series cancels; the control itself
        # says how far the machine drifted.
        out += base_sentences(
            startup, STARTUP_LATENCY.direct_vs_control, "start, service - drift control"
        )
        out += base_sentences(
            startup, STARTUP_LATENCY.control, "drift control (one image, in each base's series)"
        )
    else:
        out += base_sentences(startup, STARTUP_LATENCY.direct, "start, direct")
        out += base_sentences(startup, STARTUP_LATENCY.floor, "start, floor")
    out += base_sentences(
        {b: index.get(b, INPROCESS_START.check, "static") for b in bases},
        mode_series("mixed", INPROCESS_START.init_ready),
        "in-process start (static, mixed, init->ready)",
    )
    out += base_sentences(
        {b: index.get(b, TRAEFIK_FIGURES.check) for b in bases},
        TRAEFIK_FIGURES.start,
        "Traefik start",
    )
    return out


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
