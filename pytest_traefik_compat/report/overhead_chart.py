"""The gateway-overhead chart: per base, one row per mode x concurrency, the latency
added through Traefik (median, ms) as a bar with its 95% interval as a whisker; the
percentiles of both sides are in each row's tooltip. Escaped SVG, nothing fetched."""

from __future__ import annotations

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import GATEWAY_OVERHEAD
from pytest_traefik_compat.report.cells import Index, cut, fmt_cost
from pytest_traefik_compat.report.charts import (
    _GLYPH,
    _axis,
    _Frame,
    _no_data,
    _row_label,
    _Scale,
    _svg,
    escape,
    fitted,
    label_width,
)
from pytest_traefik_compat.report.tables_gateway import (
    OVERHEAD_VARIANTS,
    added_cost,
    overhead_variants,
    percentiles,
    variant_title,
)

# Kept for callers that read the variants from here.
VARIANTS = OVERHEAD_VARIANTS
_FRAME = _Frame(860, 150, 215)
_ROW, _TOP = 18.0, 8.0
_LEFT_MAX = 280.0  # longer base names are cut (the full name is in the tooltip)

_e = escape


def overhead_chart(index: Index) -> str:
    """SVG, or a no-data text when no base has a gateway-overhead record."""
    rows = [
        (base, variant, record)
        for base in index.bases
        for variant in overhead_variants(index)
        if (record := index.get(base, GATEWAY_OVERHEAD.check, variant)) is not None
    ]
    title = "Added latency through Traefik per base (median, 95% CI)"
    if not rows:
        return _no_data("chart-overhead", _FRAME, title, "no gateway-overhead records")
    names = [f"{base} {variant_title(variant)}" for base, variant, _ in rows]
    left = min(_LEFT_MAX, 10.0 + max(len(n) for n in names) * _GLYPH)
    labels = [_label(record) for _, _, record in rows]
    frame = fitted(
        _Frame(_FRAME.width, max(_FRAME.left, left), _FRAME.right),
        (label_width(*x) for x in labels),
    )
    costs = [added_cost(record) for _, _, record in rows]
    top = max(
        (v for c in costs for v in (c.value, c.ci_high) if v is not None and v > 0), default=1.0
    )
    scale = _Scale(frame, top * 1.05)
    bottom = _TOP + _ROW * len(rows) + 4
    out = [_axis(scale, _TOP, bottom, "ms")]
    for i, ((base, variant, record), name, label, cost) in enumerate(
        zip(rows, names, labels, costs, strict=True)
    ):
        cy = _TOP + 2 + _ROW * i + _ROW / 2
        tip = f"{name}: {fmt_cost(cost, sign='+')}; {percentiles(record)}"
        shown = cut(name, int((frame.left - 10) / _GLYPH))
        out.append(f'<g class="series-base" data-base="{_e(base)}" data-variant="{_e(variant)}">')
        out.append(f"<title>{_e(tip)}</title>")
        out.append(
            f'<text x="{frame.left - 8:.0f}" y="{cy:.1f}" text-anchor="end" '
            f'dominant-baseline="middle">{_e(shown)}</text>'
        )
        if cost.value is not None:
            width = max(scale.x(cost.value) - frame.left, 1.0)
            out.append(
                f'<rect class="bar bar-overhead" x="{frame.left:.1f}" y="{cy - 6:.1f}" '
                f'width="{width:.1f}" height="12" rx="2"/>'
            )
        if cost.ci_low is not None and cost.ci_high is not None:
            out.append(
                f'<line class="marker" x1="{scale.x(cost.ci_low):.1f}" '
                f'x2="{scale.x(cost.ci_high):.1f}" y1="{cy:.1f}" y2="{cy:.1f}"/>'
            )
        out.append(_row_label(scale, cy, *label))
        out.append("</g>")
    return _svg("chart-overhead", frame, bottom + 26, title, "".join(out))


def _label(record: Record) -> tuple[str, str]:
    noisy = record.value(GATEWAY_OVERHEAD.noisy) is True
    return fmt_cost(added_cost(record), sign="+"), "noisy" if noisy else ""
