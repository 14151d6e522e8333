"""report.html: one self-contained page (inline CSS and SVG, nothing fetched, every value escaped).

The style is package data, ``data/report.css``; the charts are :mod:`.charts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from pytest_traefik_compat.records.checks import (
    GATEWAY_OVERHEAD,
    HEALTH_METRICS,
    MISSING,
    MTLS,
    REFUSAL,
    START_MATRIX,
)
from pytest_traefik_compat.report.cells import Cell, Column, Index, Table, one_line, row, text
from pytest_traefik_compat.report.charts import (
    escape,
    latency_chart,
    latency_legend,
    memory_legend,
    rss_chart,
    size_chart,
)
from pytest_traefik_compat.report.overhead_chart import overhead_chart
from pytest_traefik_compat.report.summary import (
    NOT_ALPINE,
    document_index,
    provenance,
    provenance_notes,
    run_summary,
)
from pytest_traefik_compat.report.tables import build_tables, table_has_data
from pytest_traefik_compat.report.tables_image import findings
from pytest_traefik_compat.report.tables_tls import refused

CSS_FILE = "report.css"
# The page may not load anything, even if a value slipped through unescaped.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_e = escape


@cache
def _css() -> str:
    data = resources.files("pytest_traefik_compat").joinpath("data")
    return data.joinpath(CSS_FILE).read_text(encoding="utf-8")


def render_html(document: Mapping[str, Any]) -> str:
    """One self-contained page: inline CSS and SVG, nothing fetched, every value escaped."""
    index = document_index(document)
    tables = {t.key: t for t in build_tables(index)}
    parts = [*_head(), *_run_card(document, index), *_chart_cards(index)]
    parts.append(_matrix_card(tables[START_MATRIX.check]))
    for key, table in tables.items():
        # The start matrix is always there (and first): it has its own card above.
        if key != START_MATRIX.check and table_has_data(index, table):
            parts.append(_table_card(table))
    parts.append(_findings_card(index))
    parts.append(_provenance_card(index))
    parts.append(
        "<footer>pytest-traefik-compat report, schema version "
        f"{_e(document.get('schema_version'))}. Raw samples, units and provenance are in "
        "report.json next to this file.</footer>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _head() -> list[str]:
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Traefik compatibility report</title>",
        f"<style>\n{_css()}</style></head><body><main>",
        "<h1>Traefik compatibility report</h1>",
    ]


def _run_card(document: Mapping[str, Any], index: Index) -> list[str]:
    bases = f"{len(index.bases)} base{'s' if len(index.bases) != 1 else ''}"
    parts = [
        f'<p class="sub">{bases} · {len(index.records)} records · '
        f"{_e(_outcome_summary(index))}</p>",
        '<section class="card" id="run"><ul class="meta">',
    ]
    for name, value in run_summary(document):
        parts.append(f"<li><b>{_e(name)}</b><code>{_e(value)}</code></li>")
    parts.append("</ul>")
    for note in (document.get("meta") or {}).get("notes") or ():
        parts.append(f'<p class="note">{_e(note)}</p>')
    for note in provenance_notes(index):
        # Only the misleading name earns a warning; other provenance is a plain fact.
        css = "note" if NOT_ALPINE in note else "fact"
        parts.append(f'<p class="{css} provenance">{_e(note)}</p>')
    parts.append("</section>")
    return parts


def _outcome_summary(index: Index) -> str:
    counts: dict[str, int] = {}
    for record in index.records:
        counts[record.outcome] = counts.get(record.outcome, 0) + 1
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "no records"


def _chart_cards(index: Index) -> list[str]:
    latency = _card(
        "Startup latency",
        latency_chart(index),
        "wide",
        "Container create call to the first 200 on /healthz on the published port, polled "
        "every 20 ms. First row: the floor (a net/http-only static server run exactly like "
        "the service: same base, network, ports, HEALTHCHECK, polling) plus the service's "
        "own cost, whiskers the 95% interval of each median where n allows one. Second "
        "row: the same start decomposed (median of each part). Third row, apart: the route "
        "becoming ready in Traefik after the service's first 200 (it waits on the "
        "health-check interval).",
        legend=latency_legend(),
    )
    memory = _card(
        "Memory",
        rss_chart(index),
        "half",
        "The static service per base: kernel VmRSS after warm-up, peak (VmHWM) after a "
        "bounded load, the container's cgroup memory without page cache, the Go heap in "
        "use; the black tick is what its own /metrics reports (a sanity check).",
        legend=memory_legend(),
    )
    size = _card(
        "Image size",
        size_chart(index),
        "half",
        "The base image alone; in brackets the service image built on it (static).",
    )
    cards = [latency, memory, size]
    if index.has(GATEWAY_OVERHEAD.check):
        cards.append(
            _card(
                "Gateway overhead",
                overhead_chart(index),
                "wide",
                "Median latency added by Traefik (HTTPS with mTLS) over a direct plain-HTTP "
                'GET of /healthz, per mode and concurrency, with its 95% interval; "no '
                'measurable cost" where the interval holds zero; noisy: measured on a busy '
                "machine. The percentiles of both sides are in each row's tooltip.",
            )
        )
    return ['<section class="charts">', *cards, "</section>"]


def _card(title: str, body: str, width: str, caption: str = "", *, legend: str = "") -> str:
    caption_html = f'<p class="caption">{_e(caption)}</p>' if caption else ""
    return f'<div class="card {width}"><h2>{_e(title)}</h2>{caption_html}{legend}{body}</div>'


def _table_card(table: Table) -> str:
    return (
        f'<section class="card"><h2>{_e(table.title)}</h2>'
        + (f'<p class="caption">{_e(table.caption)}</p>' if table.caption else "")
        + '<div class="scroll">'
        + _html_table(table, f"table-{table.key}", "report-table")
        + "</div></section>"
    )


def _html_table(table: Table, element_id: str, css: str) -> str:
    out = [f'<table id="{_e(element_id)}" class="{_e(css)}"><thead><tr>']
    for column in table.columns:
        num = ' class="num"' if column.numeric else ""
        out.append(f'<th scope="col"{num}>{_e(column.title)}</th>')
    out.append("</tr></thead><tbody>")
    for cells in table.rows:
        out.append("<tr>")
        for position, (column, cell) in enumerate(zip(table.columns, cells, strict=True)):
            wrap = "wrap" if len(cell.text) > 40 else ""
            names = ("base" if position == 0 else "", "num" if column.numeric else "", wrap)
            classes = " ".join(c for c in (*names, cell.css) if c)
            attrs = f' class="{_e(classes)}"' if classes else ""
            if cell.tip and cell.tip != cell.text:
                attrs += f' title="{_e(cell.tip)}"'
            badge = '<span class="badge">failed</span>' if "failed" in classes.split() else ""
            out.append(f"<td{attrs}>{_e(cell.text)}{badge}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _matrix_card(table: Table) -> str:
    out = [
        f'<section class="card"><h2>{_e(table.title)}</h2>',
        f'<p class="caption">{_e(table.caption)}</p>' if table.caption else "",
        '<div class="scroll"><table id="start-matrix" class="matrix"><thead><tr><th>base</th>',
    ]
    out += [f'<th scope="col">{_e(c.title)}</th>' for c in table.columns[1:]]
    out.append("</tr></thead><tbody>")
    for cells in table.rows:
        base = cells[0]
        badge = '<span class="badge">failed</span>' if base.css == "failed" else ""
        tip = f' title="{_e(base.tip)}"' if base.tip else ""
        out.append(f'<tr><td class="base"{tip}>{_e(base.text)}{badge}</td>')
        out += [_matrix_cell(cell) for cell in cells[1:]]
        out.append("</tr>")
    out.append("</tbody></table></div></section>")
    return "".join(out)


def _matrix_cell(cell: Cell) -> str:
    verdict, _, why = cell.text.partition(": ")
    tip = f' title="{_e(cell.tip)}"' if cell.tip else ""
    css = f"cell {cell.css}".strip()
    why_html = f'<span class="why">{_e(why)}</span>' if why else ""
    return f'<td class="{_e(css)}"{tip}><span class="verdict">{_e(verdict)}</span>{why_html}</td>'


def _findings_card(index: Index) -> str:
    items = []
    for base in index.bases:
        found = findings(index.get(base, HEALTH_METRICS.check))
        if found:
            items.append(_evidence(f"{base}: {len(found)} findings", map(_e, found)))
        mtls = index.get(base, MTLS.check)
        refusals = mtls.details.get(MTLS.refusals) if mtls else None
        if isinstance(refusals, Mapping) and refusals:
            lines = (_refusal_item(kind, v) for kind, v in refusals.items())
            items.append(_evidence(f"{base}: bad mTLS clients", lines))
    if not items:
        return ""
    return '<section class="card" id="evidence"><h2>Evidence</h2>' + "".join(items) + "</section>"


def _evidence(summary: str, items_html: Iterable[str]) -> str:
    lis = "".join(f"<li>{item}</li>" for item in items_html)
    return f'<details><summary>{_e(summary)}</summary><ul class="findings">{lis}</ul></details>'


def _refusal_item(kind: str, probe: Any) -> str:
    verdict = "refused" if refused(probe) else "<b>let in</b>"
    error = probe.get(REFUSAL.error) if isinstance(probe, Mapping) else None
    why = f" ({_e(one_line(str(error), 160))})" if error else ""
    return f"{_e(kind)}: {verdict}{why}"


def _provenance_card(index: Index) -> str:
    table = Table(
        "provenance",
        "Provenance",
        [
            Column("base"),
            Column("source"),
            Column("reference"),
            Column("image id"),
            Column("libc"),
            Column("note"),
        ],
    )
    for base in index.bases:
        p = provenance(index, base)
        image_id = text(p.get("image_id"))
        short_id = image_id.removeprefix("sha256:")[:12] if image_id != MISSING else MISSING
        table.rows.append(
            row(
                base,
                text(p.get("source")),
                text(p.get("reference")),
                Cell(short_id, image_id),
                text(p.get("libc")),
                text(p.get("note")),
            )
        )
    return _table_card(table)
