"""The gateway-overhead chart: per base, one row per mode x concurrency, the added
latency through Traefik (median, ms) as a bar with its 95% confidence interval as a
whisker, and the p50/p95/p99 of both sides in the label. Escaped SVG, nothing fetched."""

from __future__ import annotations

import html
from typing import Any

from pytest_traefik_compat.records.checks import GATEWAY_OVERHEAD
from pytest_traefik_compat.report.cells import Index, as_float

MODES = ("keepalive", "new-connection")
CONCURRENCIES = (1, 8)
VARIANTS = tuple(f"{m}-c{c}" for m in MODES for c in CONCURRENCIES)
_LEFT, _PLOT, _RIGHT, _ROW = 230.0, 330.0, 300.0, 18.0


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def overhead_chart(index: Index) -> str:
    """SVG, or a no-data text when no base has a gateway-overhead record."""
    rows: list[tuple[str, str, dict[str, float | None]]] = []
    for base in index.bases:
        for variant in VARIANTS:
            record = index.get(base, GATEWAY_OVERHEAD.check, variant)
            if record is None:
                continue
            names = (
                GATEWAY_OVERHEAD.added_median,
                GATEWAY_OVERHEAD.added_ci_low,
                GATEWAY_OVERHEAD.added_ci_high,
                GATEWAY_OVERHEAD.direct_p50,
                GATEWAY_OVERHEAD.direct_p95,
                GATEWAY_OVERHEAD.direct_p99,
                GATEWAY_OVERHEAD.traefik_p50,
                GATEWAY_OVERHEAD.traefik_p95,
                GATEWAY_OVERHEAD.traefik_p99,
            )
            rows.append((base, variant, {n: as_float(record.value(n)) for n in names}))
    width = _LEFT + _PLOT + _RIGHT
    if not rows:
        return (
            f'<svg id="chart-overhead" viewBox="0 0 {width:.0f} 40" role="img">'
            '<title>Gateway overhead</title><text x="10" y="24" class="nodata">'
            "no gateway-overhead records</text></svg>"
        )
    top = max(
        (v for _, _, f in rows for v in (f["added_median"], f["added_ci_high"]) if v is not None),
        default=1.0,
    )
    top = max(top, 0.001) * 1.05

    def x(value: float) -> float:
        return _LEFT + max(0.0, value) / top * _PLOT

    height = 20 + _ROW * len(rows)
    out = [
        f'<svg id="chart-overhead" viewBox="0 0 {width:.0f} {height:.0f}" role="img">',
        "<title>Added latency through Traefik per base (median, 95% CI)</title>",
    ]
    for i, (base, variant, f) in enumerate(rows):
        cy = 14 + _ROW * i
        out.append(f'<g class="series-base" data-base="{_e(base)}" data-variant="{_e(variant)}">')
        out.append(
            f'<text x="{_LEFT - 8:.0f}" y="{cy:.0f}" text-anchor="end" '
            f'dominant-baseline="middle">{_e(base)} {_e(variant)}</text>'
        )
        added = f["added_median"]
        if added is not None:
            out.append(
                f'<rect class="bar bar-overhead" x="{_LEFT:.0f}" y="{cy - 6:.0f}" '
                f'width="{max(x(added) - _LEFT, 1):.1f}" height="12" rx="2">'
                f"<title>{_e(base)} {_e(variant)}: +{_e(_ms(added))}</title></rect>"
            )
        low, high = f["added_ci_low"], f["added_ci_high"]
        if low is not None and high is not None:
            out.append(
                f'<line class="marker" x1="{x(low):.1f}" x2="{x(high):.1f}" '
                f'y1="{cy:.0f}" y2="{cy:.0f}"><title>95% CI {_e(_ms(low))} to '
                f"{_e(_ms(high))}</title></line>"
            )
        label = (
            f"+{_ms(added)}  direct p50/95/99 {_ms(f['direct_p50'])}/{_ms(f['direct_p95'])}/"
            f"{_ms(f['direct_p99'])}"
        )
        out.append(
            f'<text x="{_LEFT + _PLOT + 8:.0f}" y="{cy:.0f}" dominant-baseline="middle">'
            f"{_e(label)}<title>traefik p50/95/99 {_e(_ms(f['traefik_p50']))}/"
            f"{_e(_ms(f['traefik_p95']))}/{_e(_ms(f['traefik_p99']))}</title></text></g>"
        )
    out.append("</svg>")
    return "".join(out)
