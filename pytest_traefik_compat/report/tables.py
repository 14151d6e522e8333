"""The tables of a report: one model, rendered by terminal.py, markdown.py and html.py.

One builder per check of the suite (names from :mod:`pytest_traefik_compat.records.checks`), a
generic table for any other check, and the value formatting they share: missing data is
always ``-``. The primitives and the formatting live in :mod:`.cells`, the builders in
:mod:`.tables_image`, :mod:`.tables_figures` and :mod:`.tables_tls`; this module puts
them together in the report's order (and keeps every name it always offered).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import CHECK_ORDER, MISSING
from pytest_traefik_compat.report.cells import (
    FAILED_OUTCOMES,
    Cell,
    Column,
    Index,
    Table,
    _figure,
    as_float,
    cut,
    fmt_bytes,
    fmt_ms,
    fmt_seconds,
    one_line,
    row,
    text,
)
from pytest_traefik_compat.report.order import sort_records
from pytest_traefik_compat.report.tables_figures import (
    LATENCY_SERIES,
    _budgets,
    _inprocess,
    _latency,
    _traefik_figures,
    latency_stats,
    provenance_size,
    service_image_size,
)
from pytest_traefik_compat.report.tables_image import (
    _alignment,
    _findings,
    _healthchecks,
    _image_facts,
    _runtime,
    _start_matrix,
    findings,
)
from pytest_traefik_compat.report.tables_tls import (
    SNI_PROBES,
    _tls,
    _tls_alerts,
    _tls_handshakes,
    refused,
)

__all__ = [
    "FAILED_OUTCOMES",
    "LATENCY_SERIES",
    "SNI_PROBES",
    "Cell",
    "Column",
    "Index",
    "Table",
    "as_float",
    "build_tables",
    "cut",
    "findings",
    "fmt_bytes",
    "fmt_ms",
    "fmt_seconds",
    "latency_stats",
    "one_line",
    "provenance_size",
    "refused",
    "row",
    "service_image_size",
    "table_has_data",
    "text",
]


def build_tables(index: Index) -> list[Table]:
    """Every table, in the report's order; users' checks follow alphabetically."""
    tables = [
        _image_facts(index),
        _start_matrix(index),
        _latency(index),
        _inprocess(index),
        _traefik_figures(index),
        _tls(index),
        _tls_alerts(index),
        _tls_handshakes(index),
        _findings(index),
        _healthchecks(index),
        _alignment(index),
        _runtime(index),
        _budgets(index),
    ]
    extra = sorted({r.check for r in index.records} - set(CHECK_ORDER))
    tables += [_generic(index, check) for check in extra]
    for table in tables:
        _flag_failures(index, table)
    return tables


def table_has_data(index: Index, table: Table) -> bool:
    # A run with -k or custom checks need not print nine tables of dashes.
    return table.generic or any(index.has(check) for check in table.checks)


def _flag_failures(index: Index, table: Table) -> None:
    for table_row in table.rows:
        base = table_row[0].text
        failed = [
            r
            for r in index.records
            if r.base == base and r.check in table.checks and r.outcome in FAILED_OUTCOMES
        ]
        if failed:
            tip = "; ".join(f"{r.test_id or r.check}: {r.outcome}" for r in failed)
            table_row[0] = Cell(base, tip, "failed")


def _generic(index: Index, check: str) -> Table:
    """A user's own check: every figure a column, one row per (base, variant)."""
    records = [r for r in index.records if r.check == check]
    names = list(dict.fromkeys(name for r in records for name in r.figures))
    with_variant = any(r.variant for r in records)
    columns = [Column("base")]
    if with_variant:
        columns.append(Column("variant"))
    columns += [_generic_column(records, name) for name in names]
    table = Table(f"check-{_slug(check)}", check, columns, checks=(check,), generic=True)
    for base in index.bases:
        mine = [r for r in records if r.base == base]
        rows: list[Record | None] = [*sort_records(mine, [base])] or [None]
        for r in rows:  # a base without this check still gets its row of "-"
            cells = [Cell(base)]
            if with_variant:
                cells.append(Cell(r.variant or MISSING if r else MISSING))
            for name in names:
                figure = r.figures.get(name) if r else None
                cells.append(Cell(_figure(figure.value, figure.unit) if figure else MISSING))
            table.rows.append(cells)
    return table


def _generic_column(records: Sequence[Record], name: str) -> Column:
    units = {r.figures[name].unit for r in records if name in r.figures}
    values = [r.figures[name].value for r in records if name in r.figures]
    numeric = all(as_float(v) is not None or v is None for v in values)
    unit = next(iter(units)) if len(units) == 1 else ""
    title = f"{name} ({unit})" if unit and unit not in ("bytes", "ms", "s") else name
    return Column(title, numeric=numeric)


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "check"
