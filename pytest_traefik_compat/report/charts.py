"""The HTML page's SVG charts: horizontal, one band per base, so long base names fit on the left.

Every value is escaped (:func:`escape`); nothing is fetched.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_traefik_compat.checks import (
    IMAGE_FACTS,
    MEMORY,
    STARTUP_LATENCY,
    STAT_MEDIAN,
    STAT_MIN,
    STAT_P95,
)
from pytest_traefik_compat.report.tables import (
    Index,
    as_float,
    cut,
    fmt_bytes,
    fmt_ms,
    latency_stats,
    provenance_size,
    service_image_size,
)

# The series drawn as bars; the floor is a line across both.
BAR_SERIES = (STARTUP_LATENCY.direct, STARTUP_LATENCY.traefik)


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


def latency_legend() -> str:
    return (
        '<div class="legend"><span><i class="key k-direct"></i>direct (median)</span>'
        '<span><i class="key k-traefik"></i>through Traefik (median)</span>'
        '<span><i class="key whisk"></i>min to p95</span>'
        '<span><i class="key sample-key"></i>each sample</span>'
        '<span><i class="key line"></i>floor (median)</span></div>'
    )


def latency_chart(index: Index) -> str:
    frame, band, top = _WIDE, 74.0, 8.0
    stats: dict[str, dict[str, dict[str, float]]] = {}
    samples: dict[str, dict[str, list[float]]] = {}
    for base in index.bases:
        record = index.get(base, STARTUP_LATENCY.check)
        stats[base] = latency_stats(record)
        samples[base] = record.samples if record else {}
    values = [
        number
        for per_base in stats.values()
        for series in per_base.values()
        for stat, number in series.items()
        if stat in (STAT_MEDIAN, STAT_P95)
    ]
    if not values:
        return _no_data("chart-latency", frame, "Startup latency", "no startup-latency records")
    scale = _Scale(frame, max(values) * 1.05)
    bottom = top + band * len(index.bases)
    out = [_axis(scale, top, bottom, "ms")]
    for position, base in enumerate(index.bases):
        y0 = top + band * position
        out.append(f'<g class="series-base" data-base="{_e(base)}">')
        out.append(_base_label(frame, base, y0 + band / 2 - 6))
        for row, series in enumerate(BAR_SERIES):
            out.append(
                _latency_row(scale, series, stats[base][series], samples[base], y0 + 20 + row * 26)
            )
        floor = stats[base][STARTUP_LATENCY.floor].get(STAT_MEDIAN)
        if floor is not None:
            out.append(_floor_line(scale, floor, y0, band))
        out.append("</g>")
    return _svg("chart-latency", frame, bottom + 26, "Startup latency per base", "".join(out))


def _floor_line(scale: _Scale, floor: float, y0: float, band: float) -> str:
    x = scale.x(floor)
    return (
        f'<line class="floor" x1="{x:.1f}" x2="{x:.1f}" y1="{y0 + 6:.1f}" '
        f'y2="{y0 + band - 12:.1f}"><title>floor median {_e(fmt_ms(floor))}</title></line>'
        f'<text class="floor-label" x="{x + 4:.1f}" y="{y0 + band - 6:.1f}">'
        f"floor {_e(fmt_ms(floor))}</text>"
    )


def _latency_row(
    scale: _Scale,
    series: str,
    stats: Mapping[str, float],
    samples: Mapping[str, list[float]],
    cy: float,
) -> str:
    frame = scale.frame
    if STAT_MEDIAN not in stats:
        return (
            f'<text class="nodata" x="{frame.left + 8:.1f}" y="{cy:.1f}" '
            f'dominant-baseline="middle">{_e(series)}: no data</text>'
        )
    median = stats[STAT_MEDIAN]
    tip = f"{series}: " + ", ".join(f"{k} {fmt_ms(v)}" for k, v in stats.items())
    x_median = scale.x(median)
    x_lo = scale.x(stats.get(STAT_MIN, median))
    x_hi = scale.x(stats.get(STAT_P95, median))
    out = [
        f'<rect class="bar bar-{_e(series)}" x="{frame.left:.1f}" y="{cy - 8:.1f}" '
        f'width="{max(x_median - frame.left, 1):.1f}" height="16" rx="3">'
        f"<title>{_e(tip)}</title></rect>",
        f'<line class="whisker" x1="{x_lo:.1f}" x2="{x_hi:.1f}" y1="{cy:.1f}" y2="{cy:.1f}"/>',
    ]
    for x in (x_lo, x_hi):
        out.append(
            f'<line class="whisker" x1="{x:.1f}" x2="{x:.1f}" y1="{cy - 5:.1f}" y2="{cy + 5:.1f}"/>'
        )
    for sample in samples.get(series, []):
        number = as_float(sample)
        if number is not None:
            out.append(f'<circle class="sample" cx="{scale.x(number):.1f}" cy="{cy:.1f}" r="2.2"/>')
    out.append(
        f'<text x="{frame.left + frame.plot + 12:.1f}" y="{cy:.1f}" dominant-baseline="middle">'
        f"{_e(series)} {_e(fmt_ms(median))}"
        f'<tspan class="muted" dx="6">p95 {_e(fmt_ms(stats.get(STAT_P95)))}</tspan></text>'
    )
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
        out.append(
            f'<text x="{frame.left + frame.plot + 12:.1f}" y="{cy:.1f}" '
            f'dominant-baseline="middle">{_e(label)}</text></g>'
        )
    return _svg(element_id, frame, bottom + 26, title, "".join(out))


def rss_chart(index: Index) -> str:
    rows: dict[str, tuple[float | None, float | None, str]] = {}
    for base in index.bases:
        r = index.get(base, MEMORY.check)
        kernel = as_float(r.value(MEMORY.rss_kernel)) if r else None
        reported = as_float(r.value(MEMORY.rss_metrics)) if r else None
        rows[base] = (kernel, reported, fmt_bytes(kernel))
    return _bar_chart("chart-rss", "RSS per base", index, rows, bar_class="bar-rss", marker=True)


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
