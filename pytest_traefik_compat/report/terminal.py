"""The end-of-run summary in the terminal: the report's tables fitted to 100 columns."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.report.cells import FAILED_OUTCOMES, Index, Table, cut
from pytest_traefik_compat.report.summary import provenance_notes
from pytest_traefik_compat.report.tables import build_tables, table_has_data

TERMINAL_WIDTH = 100


def terminal_tables(
    records: Iterable[Record], *, bases: Sequence[str] | None = None, width: int = TERMINAL_WIDTH
) -> list[str]:
    """The end-of-run summary: one row per base in each table, lines <= ``width``."""
    index = Index(list(records), bases)
    if not index.records:
        return ["pytest-traefik-compat: no records"]
    lines: list[str] = []
    for table in build_tables(index):
        if not table_has_data(index, table):
            continue
        lines += ["", table.title, *_fit_table(table, width)]
    lines += [""] + [cut(line, width) for line in _footer_lines(index, width)]
    return lines[1:] if lines and lines[0] == "" else lines


def _fit_table(table: Table, width: int) -> list[str]:
    keep = [i for i, c in enumerate(table.columns) if c.terminal]
    headers = [table.columns[i].title for i in keep]
    rows = [[row[i].text for i in keep] for row in table.rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    minimum = [min(w, 6) for w in widths]
    gap = 2
    while sum(widths) + gap * (len(widths) - 1) > width:
        shrinkable = [i for i, w in enumerate(widths) if w > minimum[i]]
        if not shrinkable:
            return _lines_per_base(table, width)
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    numeric = [table.columns[i].numeric for i in keep]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for text, size, right in zip(cells, widths, numeric, strict=True):
            text = cut(text, size)
            parts.append(text.rjust(size) if right else text.ljust(size))
        return (" " * gap).join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _lines_per_base(table: Table, width: int) -> list[str]:
    """Too many columns for a table: ``base: name value, ...`` wrapped per row."""
    lines = []
    for row in table.rows:
        pairs = [
            f"{c.title} {cell.text}" for c, cell in zip(table.columns[1:], row[1:], strict=True)
        ]
        lines += textwrap.wrap(
            f"{row[0].text}: " + ", ".join(pairs), width, subsequent_indent="    "
        )
    return lines


def _footer_lines(index: Index, width: int) -> list[str]:
    lines = [f"provenance: {note}" for note in provenance_notes(index)]
    problems = [
        f"{r.base} {r.check}{f' [{r.variant}]' if r.variant else ''} ({r.outcome})"
        for r in index.records
        if r.outcome in FAILED_OUTCOMES
    ]
    if problems:
        lines += textwrap.wrap(
            "not passed: " + ", ".join(problems), width, subsequent_indent="    "
        )
    return lines
