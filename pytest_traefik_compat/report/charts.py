"""The HTML page's SVG charts: horizontal, one band per base, so long base names fit on the left.

Every value is escaped (:func:`escape`); nothing is fetched.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_traefik_compat.records.checks import (
    IMAGE_FACTS,
    MEMORY,
    STARTUP_LATENCY,
    STAT_CI_HIGH,
    STAT_CI_LOW,
    STAT_MEDIAN,
)
from pytest_traefik_compat.report.cells import (
    NO_COST,
    Index,
    as_float,
    cut,
    fmt_bytes,
    fmt_cost,
    fmt_ms,
)
from pytest_traefik_compat.report.figures import decomposition, fmt_tail, median_ci, own_cost
from pytest_traefik_compat.report.tables_figures import provenance_size, service_image_size


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


_e = escape


@dataclass(frozen=True)
class _Frame:
    """Chart geometry in viewBox units: base names | plot | value labels."""

    width: float
    left: float
    right: float

    @property
    def plot(self) -> float:
        return self.width - self.left - self.right


_WIDE = _Frame(860, 120, 215)
_HALF = _Frame(460, 92, 185)

# Glyph advance in viewBox units, generous for the sans-serif fonts a browser picks at
# 12 (value labels) and 11 (muted) units: label room is sized from it, so the figures
# on the right stay inside the viewBox (tests/browser measures them).
_GLYPH, _GLYPH_MUTED, _GAP = 7.8, 7.2, 6.0
_LABEL_PAD = 12.0  # plot to label


def label_width(main: str, muted: str = "") -> float:
    """Room a value label takes: ``main`` at 12 units, then ``muted`` at 11."""
    return len(main) * _GLYPH + (_GAP + len(muted) * _GLYPH_MUTED if muted else 0.0)


def fitted(frame: _Frame, widths: Iterable[float]) -> _Frame:
    """``frame`` with its right margin wide enough for the widest label (the plot
    narrows, the chart keeps its width)."""
    need = _LABEL_PAD + max(widths, default=0.0) + 8.0
    return _Frame(frame.width, frame.left, max(frame.right, need))


class _Scale:
    def __init__(self, frame: _Frame, top: float, divisor: float = 1.0) -> None:
        self.frame = frame
        self.divisor = divisor
        self.ticks = _nice_ticks(top / divisor)
        self.top = self.ticks[-1] * divisor

    def x(self, value: float) -> float:
        share = max(value, 0.0) / self.top if self.top else 0.0
        return self.frame.left + self.frame.plot * min(share, 1.0)


def _nice_ticks(top: float, count: int = 5) -> list[float]:
    top = top if top > 0 else 1.0
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _axis(scale: _Scale, top: float, bottom: float, unit: str) -> str:
    out = ['<g class="axis">']
    for tick in scale.ticks:
        x = scale.x(tick * scale.divisor)
        out.append(
            f'<line class="gridline" x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" '
            f'y2="{bottom:.1f}"/><text x="{x:.1f}" y="{bottom + 14:.1f}" '
            f'text-anchor="middle">{_e(f"{tick:g}")}</text>'
        )
    end = scale.frame.left + scale.frame.plot
    out.append(f'<text x="{end + 24:.1f}" y="{bottom + 14:.1f}">{_e(unit)}</text></g>')
    return "".join(out)


def _svg(element_id: str, frame: _Frame, height: float, title: str, body: str) -> str:
    return (
        f'<svg id="{_e(element_id)}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {frame.width:.0f} {height:.0f}" aria-label="{_e(title)}">'
        f"<title>{_e(title)}</title>{body}</svg>"
    )


def _no_data(element_id: str, frame: _Frame, title: str, text: str) -> str:
    body = f'<text class="nodata" x="10" y="30">{_e(text)}</text>'
    return _svg(element_id, frame, 48, f"{title}: no data", body)


def _base_label(frame: _Frame, base: str, y: float) -> str:
    shown = cut(base, int((frame.left - 12) / 6.5))  # ~6.5 units per glyph at 12px
    return (
        f'<text x="{frame.left - 10:.1f}" y="{y:.1f}" text-anchor="end" '
        f'dominant-baseline="middle"><title>{_e(base)}</title>{_e(shown)}</text>'
    )


# Segment colours of the decomposed start, in order (checks.START_PARTS).
PART_LABELS = {
    "create": "create",
    "start": "engine start",
    "handoff": "hand-off",
    "init_ready": "init to ready",
    "first_answer": "ready to first 200",
}


def latency_legend() -> str:
    parts = "".join(
        f'<span><i class="key k-part-{_e(part)}"></i>{_e(label)}</span>'
        for part, label in PART_LABELS.items()
    )
    return (
        '<div class="legend"><span><i class="key k-floor"></i>floor (median)</span>'
        '<span><i class="key k-own"></i>service\'s own cost (median - floor)</span>'
        '<span><i class="key k-route"></i>route ready in Traefik (separate)</span>'
        f"{parts}"
        '<span><i class="key whisk"></i>95% CI of the median</span>'
        '<span><i class="key sample-key"></i>each start</span></div>'
    )


_ROW = 22.0  # one row of the startup chart


def latency_chart(index: Index) -> str:
    """Per base three rows: the start as floor + the service's own cost (whiskers: the
    CI of each median), the same start decomposed (median of each part), and the route
    becoming ready in Traefik, apart (it waits on the health-check interval)."""
    frame, band, top = _WIDE, 3 * _ROW + 22, 8.0
    per_base: dict[str, dict[str, Any]] = {}
    values: list[float] = []
    for base in index.bases:
        record = index.get(base, STARTUP_LATENCY.check)
        direct = median_ci(record, STARTUP_LATENCY.direct)
        floor = median_ci(record, STARTUP_LATENCY.floor)
        route = median_ci(record, STARTUP_LATENCY.route_ready)
        parts = decomposition(record, STARTUP_LATENCY.direct)
        samples = [
            n
            for n in (
                as_float(v)
                for v in (record.samples if record else {}).get(STARTUP_LATENCY.direct, [])
            )
            if n is not None
        ]
        per_base[base] = {
            "direct": direct,
            "floor": floor,
            "route": route,
            "parts": parts,
            "samples": samples,
            "cost": fmt_cost(own_cost(record)),
        }
        for stats in (direct, floor, route):
            values += [v for k, v in stats.items() if k in (STAT_MEDIAN, STAT_CI_HIGH) and v]
        values.append(sum(parts.values()))
        values += samples
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return _no_data("chart-latency", frame, "Startup latency", "no startup-latency records")
    frame = fitted(
        frame,
        (label_width(*label) for data in per_base.values() for label in _latency_labels(data)),
    )
    scale = _Scale(frame, max(values) * 1.05)
    bottom = top + band * len(index.bases)
    out = [_axis(scale, top, bottom, "ms")]
    for position, base in enumerate(index.bases):
        y0 = top + band * position
        data = per_base[base]
        out.append(f'<g class="series-base" data-base="{_e(base)}">')
        out.append(_base_label(frame, base, y0 + band / 2 - 6))
        out.append(_start_row(scale, data, y0 + 6 + _ROW / 2))
        out.append(_parts_row(scale, data["parts"], y0 + 6 + _ROW * 1.5))
        out.append(_route_row(scale, data["route"], y0 + 6 + _ROW * 2.5))
        out.append("</g>")
    return _svg("chart-latency", frame, bottom + 26, "Startup latency per base", "".join(out))


def _latency_labels(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The value labels of one base's three rows: (main, muted)."""
    direct, route, parts = data["direct"], data["route"], data["parts"]
    labels = []
    if direct.get(STAT_MEDIAN) is not None:
        cost = data["cost"]
        labels.append(
            (
                f"start {fmt_ms(direct[STAT_MEDIAN])}",
                cost if cost == NO_COST else f"own cost {cost}",
            )
        )
    if parts:
        labels.append(
            ("", f"parts: medians, sum {fmt_ms(sum(max(v, 0.0) for v in parts.values()))}")
        )
    if route.get(STAT_MEDIAN) is not None:
        labels.append((f"route ready {fmt_ms(route[STAT_MEDIAN])}", fmt_tail(dict(route))))
    return labels


def _rect(scale: _Scale, css: str, start: float, end: float, cy: float, tip: str) -> str:
    x0, x1 = scale.x(start), scale.x(end)
    return (
        f'<rect class="{_e(css)}" x="{x0:.1f}" y="{cy - 7:.1f}" width="{max(x1 - x0, 1):.1f}" '
        f'height="14"><title>{_e(tip)}</title></rect>'
    )


def _whisker(scale: _Scale, stats: Mapping[str, float | None], cy: float, css: str) -> str:
    low, high = stats.get(STAT_CI_LOW), stats.get(STAT_CI_HIGH)
    if low is None or high is None:
        return ""
    x_lo, x_hi = scale.x(low), scale.x(high)
    tip = f"95% CI of the median: {fmt_ms(low)} to {fmt_ms(high)}"
    return (
        f'<g class="whisker {_e(css)}"><title>{_e(tip)}</title>'
        f'<line class="whisker" x1="{x_lo:.1f}" x2="{x_hi:.1f}" y1="{cy:.1f}" y2="{cy:.1f}"/>'
        f'<line class="whisker" x1="{x_lo:.1f}" x2="{x_lo:.1f}" y1="{cy - 5:.1f}" '
        f'y2="{cy + 5:.1f}"/><line class="whisker" x1="{x_hi:.1f}" x2="{x_hi:.1f}" '
        f'y1="{cy - 5:.1f}" y2="{cy + 5:.1f}"/></g>'
    )


def _row_label(scale: _Scale, cy: float, main: str, muted: str = "") -> str:
    frame = scale.frame
    tail = f'<tspan class="muted" dx="{_GAP:.0f}">{_e(muted)}</tspan>' if muted else ""
    return (
        f'<text class="value" x="{frame.left + frame.plot + _LABEL_PAD:.1f}" y="{cy:.1f}" '
        f'dominant-baseline="middle">{_e(main)}{tail}</text>'
    )


def _nodata_row(scale: _Scale, cy: float, what: str) -> str:
    return (
        f'<text class="nodata" x="{scale.frame.left + 8:.1f}" y="{cy:.1f}" '
        f'dominant-baseline="middle">{_e(what)}: no data</text>'
    )


def _start_row(scale: _Scale, data: Mapping[str, Any], cy: float) -> str:
    direct, floor = data["direct"], data["floor"]
    median, floor_median = direct.get(STAT_MEDIAN), floor.get(STAT_MEDIAN)
    if median is None:
        return _nodata_row(scale, cy, "start")
    out = []
    own_from = 0.0
    if floor_median is not None:
        shown_floor = min(floor_median, median)
        out.append(
            _rect(scale, "bar seg-floor", 0.0, shown_floor, cy, f"floor {fmt_ms(floor_median)}")
        )
        own_from = shown_floor
    own_tip = f"service's own cost: {data['cost']} (median {fmt_ms(median)})"
    out.append(_rect(scale, "bar seg-own", own_from, median, cy, own_tip))
    out.append(_whisker(scale, floor, cy, "ci-floor"))
    out.append(_whisker(scale, direct, cy, "ci-direct"))
    for sample in data["samples"]:
        out.append(f'<circle class="sample" cx="{scale.x(sample):.1f}" cy="{cy:.1f}" r="2"/>')
    out.append(_row_label(scale, cy, *_latency_labels(data)[0]))
    return "".join(out)


def _parts_row(scale: _Scale, parts: Mapping[str, float], cy: float) -> str:
    if not parts:
        return _nodata_row(scale, cy, "parts")
    out, at = [], 0.0
    for part, value in parts.items():
        # handoff is signed (the engine stamps StartedAt around the exec): a negative
        # median is drawn as nothing and said in its title.
        end = at + max(value, 0.0)
        tip = f"{PART_LABELS.get(part, part)}: {fmt_ms(value)} (median)"
        out.append(_rect(scale, f"bar part part-{part}", at, end, cy, tip))
        at = end
    out.append(_row_label(scale, cy, "", f"parts: medians, sum {fmt_ms(at)}"))
    return "".join(out)


def _route_row(scale: _Scale, route: Mapping[str, float | None], cy: float) -> str:
    median = route.get(STAT_MEDIAN)
    if median is None:
        return _nodata_row(scale, cy, "route ready")
    out = [_rect(scale, "bar bar-route", 0.0, median, cy, f"route ready {fmt_ms(median)}")]
    out.append(_whisker(scale, route, cy, "ci-route"))
    out.append(_row_label(scale, cy, f"route ready {fmt_ms(median)}", fmt_tail(dict(route))))
    return "".join(out)


# Per base: (value, second value, label).
_Bars = Mapping[str, tuple[float | None, float | None, str]]


def _bar_chart(
    element_id: str,
    title: str,
    index: Index,
    rows: _Bars,
    *,
    bar_class: str,
    marker: bool = False,
) -> str:
    """Horizontal bars in MB; per base (value, second value, label): with ``marker`` the
    second value is drawn as a tick (e.g. what /metrics claims next to the kernel's)."""
    frame, band, top = _HALF, 34.0, 8.0
    frame = fitted(frame, (label_width(label) for _, _, label in rows.values()))
    values = [v for first, second, _ in rows.values() for v in (first, second) if v is not None]
    if not values:
        return _no_data(element_id, frame, title, f"no data for {title.lower()}")
    scale = _Scale(frame, max(values) * 1.05, 1e6)
    bottom = top + band * len(index.bases)
    out = [_axis(scale, top, bottom, "MB")]
    for position, base in enumerate(index.bases):
        cy = top + band * position + band / 2
        value, second, label = rows.get(base, (None, None, ""))
        out.append(f'<g class="series-base" data-base="{_e(base)}">')
        out.append(_base_label(frame, base, cy))
        if value is None:
            out.append(
                f'<text class="nodata" x="{frame.left + 8:.1f}" y="{cy:.1f}" '
                'dominant-baseline="middle">no data</text></g>'
            )
            continue
        out.append(
            f'<rect class="bar {bar_class}" x="{frame.left:.1f}" y="{cy - 10:.1f}" '
            f'width="{max(scale.x(value) - frame.left, 1):.1f}" height="20" rx="3">'
            f"<title>{_e(base)}: {_e(label)}</title></rect>"
        )
        if marker and second is not None:
            x = scale.x(second)
            out.append(
                f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{cy - 13:.1f}" '
                f'y2="{cy + 13:.1f}"><title>{_e(fmt_bytes(second))}</title></line>'
            )
        out.append(f"{_row_label(scale, cy, label)}</g>")
    return _svg(element_id, frame, bottom + 26, title, "".join(out))


# The memory figures drawn side by side per base: (figure, css class, label).
MEMORY_BARS = (
    (MEMORY.rss_kernel, "mem-rss", "VmRSS after warm-up"),
    (MEMORY.rss_peak, "mem-peak", "peak (VmHWM) after load"),
    (MEMORY.cgroup_memory, "mem-cgroup", "cgroup without page cache"),
    (MEMORY.go_heap_inuse, "mem-heap", "Go heap in use"),
)


def memory_legend() -> str:
    keys = "".join(
        f'<span><i class="key k-{css}"></i>{_e(label)}</span>' for _, css, label in MEMORY_BARS
    )
    return (
        f'<div class="legend">{keys}<span><i class="key line-metrics"></i>/metrics RSS</span></div>'
    )


def rss_chart(index: Index) -> str:
    """Per base the four memory figures side by side (bars of one group), the tick on
    VmRSS is what the service's /metrics claims (the sanity check)."""
    frame, row, top = _HALF, 13.0, 8.0
    band = row * len(MEMORY_BARS) + 12
    values: dict[str, list[float | None]] = {}
    for base in index.bases:
        r = index.get(base, MEMORY.check)
        values[base] = [as_float(r.value(name)) if r else None for name, _, _ in MEMORY_BARS]
        values[base].append(as_float(r.value(MEMORY.rss_metrics)) if r else None)
    numbers = [v for per in values.values() for v in per if v is not None]
    frame = fitted(frame, (label_width("", fmt_bytes(v)) for v in numbers))
    if not numbers:
        return _no_data("chart-rss", frame, "Memory per base", "no data for memory per base")
    scale = _Scale(frame, max(numbers) * 1.05, 1e6)
    bottom = top + band * len(index.bases)
    out = [_axis(scale, top, bottom, "MB")]
    for position, base in enumerate(index.bases):
        y0 = top + band * position + 6
        out.append(f'<g class="series-base" data-base="{_e(base)}">')
        out.append(_base_label(frame, base, y0 + row * len(MEMORY_BARS) / 2))
        for slot, (_, css, label) in enumerate(MEMORY_BARS):
            value = values[base][slot]
            cy = y0 + row * slot + row / 2
            if value is None:
                continue
            out.append(
                f'<rect class="bar {css}" x="{frame.left:.1f}" y="{cy - 5:.1f}" '
                f'width="{max(scale.x(value) - frame.left, 1):.1f}" height="10" rx="2">'
                f"<title>{_e(base)}: {_e(label)} {_e(fmt_bytes(value))}</title></rect>"
            )
            out.append(_row_label(scale, cy, "", fmt_bytes(value)))
        reported = values[base][-1]
        if reported is not None and values[base][0] is not None:
            x = scale.x(reported)
            out.append(
                f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{y0 - 2:.1f}" '
                f'y2="{y0 + row + 2:.1f}"><title>/metrics {_e(fmt_bytes(reported))}</title></line>'
            )
        if all(v is None for v in values[base][:-1]):
            out.append(
                f'<text class="nodata" x="{frame.left + 8:.1f}" y="{y0 + row:.1f}" '
                'dominant-baseline="middle">no data</text>'
            )
        out.append("</g>")
    return _svg("chart-rss", frame, bottom + 26, "Memory per base", "".join(out))


def size_chart(index: Index) -> str:
    rows: dict[str, tuple[float | None, float | None, str]] = {}
    for base in index.bases:
        facts = index.get(base, IMAGE_FACTS.check)
        size = as_float(facts.value(IMAGE_FACTS.size) if facts else provenance_size(index, base))
        service = as_float(service_image_size(index, base))
        rows[base] = (size, None, fmt_bytes(size))
        if service is not None:
            rows[base] = (size, None, f"{fmt_bytes(size)} (service {fmt_bytes(service)})")
    return _bar_chart("chart-size", "Image size per base", index, rows, bar_class="bar-size")
