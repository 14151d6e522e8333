"""The tables of a report: one model, rendered by terminal.py, markdown.py and html.py.

:data:`REGISTRY` lists the tables in the report's order, one line each: a builder
``(Index) -> Table`` named "module:function" within this package (names from
:mod:`pytest_traefik_compat.records.checks`). A check that no table covers (its
``checks``) gets a generic table after them. The primitives and the formatting live in
:mod:`.cells`; this module puts the tables together (and keeps every name it always
offered).

To add a table for a new check: write its builder in a module of this package and add
its line to :data:`REGISTRY` where it belongs in the order.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Final

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import MISSING
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
    latency_stats,
    provenance_size,
    service_image_size,
)
from pytest_traefik_compat.report.tables_image import findings
from pytest_traefik_compat.report.tables_tls import SNI_PROBES, refused

Builder = Callable[[Index], Table]

# The report's tables in order: "module:function" of a builder in this package.
REGISTRY: Final[tuple[str, ...]] = (
    "tables_image:image_facts_table",
    "tables_image:start_matrix_table",
    "tables_figures:latency_table",
    "tables_compare:comparison_table",
    "tables_figures:inprocess_table",
    "tables_figures:traefik_figures_table",
    "tables_tls:tls_table",
    "tables_tls:tls_cases_table",
    "tables_tls:tls_handshakes_table",
    "tables_gateway:overhead_table",
    "tables_gateway:overhead_percentiles_table",
    "tables_gateway:client_identity_table",
    "tables_image:findings_table",
    "tables_posture:posture_table",
    "tables_image:healthcheck_table",
    "tables_image:alignment_table",
    "tables_image:runtime_table",
    "tables_dns:dns_table",
    "tables_image:go_plugin_table",
    "tables_gateway:traefik_plugin_table",
    "tables_figures:budget_table",
)

__all__ = [
    "FAILED_OUTCOMES",
    "LATENCY_SERIES",
    "REGISTRY",
    "SNI_PROBES",
    "Cell",
    "Column",
    "Index",
    "Table",
    "as_float",
    "build_tables",
    "builder",
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


@cache
def builder(entry: str) -> Builder:
    """The builder a :data:`REGISTRY` line names."""
    module, _, name = entry.partition(":")
    found: Builder = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    return found


def build_tables(index: Index) -> list[Table]:
    """Every table, in the report's order; checks no table covers follow alphabetically,
    each in a generic table."""
    tables = [builder(entry)(index) for entry in REGISTRY]
    covered = {check for table in tables for check in table.checks}
    extra = sorted({r.check for r in index.records} - covered)
    tables += [_generic(index, check) for check in extra]
    for table in tables:
        _flag_failures(index, table)
    return tables


def table_has_data(index: Index, table: Table) -> bool:
    # A run with -k, a profile or custom checks need not print tables of dashes.
    if table.generic:
        return True
    if not any(index.has(check) for check in table.checks):
        return False
    return any(cell.text != MISSING for cells in table.rows for cell in cells[1:])


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
