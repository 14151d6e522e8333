"""The end-of-run summary in the terminal: one screen for a default run.

A line saying what ran, then the report's tables fitted to 100 columns, with what only a
reader of the full report needs left to report.md and report.html: columns marked
``terminal=False``, tables marked so, the rows a table folds (``terminal_rows``), and
the rows of a table that are the same on every base, shown once.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.report.cells import FAILED_OUTCOMES, Cell, Index, Table, cut
from pytest_traefik_compat.report.summary import provenance_notes, request_selection, run_profile
from pytest_traefik_compat.report.tables import build_tables, table_has_data

TERMINAL_WIDTH = 100


def terminal_tables(
    records: Iterable[Record],
    *,
    bases: Sequence[str] | None = None,
    width: int = TERMINAL_WIDTH,
    meta: Mapping[str, Any] | None = None,
    report_files: Sequence[Path] = (),
) -> list[str]:
    """The end-of-run summary: what ran, one table per section, lines <= ``width``.

    Args:
        meta: the report's meta (its request names the profile and the selection).
        report_files: the written report files; the last line points to them.
    """
    index = Index(list(records), bases)
    if not index.records:
        return ["pytest-traefik-compat: no records"]
    lines = [cut(_run_line(index, meta or {}), width)]
    for table in build_tables(index):
        if table.terminal and table_has_data(index, table):
            lines += ["", *_section(table, width)]
    lines += [""] + [cut(line, width) for line in _footer_lines(index, width)]
    if report_files:
        lines.append(cut(_files_line(report_files), width))
    return lines


def _run_line(index: Index, meta: Mapping[str, Any]) -> str:
    profile, stated = run_profile(meta, index.records)
    counts: dict[str, int] = {}
    for record in index.records:
        counts[record.outcome] = counts.get(record.outcome, 0) + 1
    # passed first: the line is cut at the terminal's width
    ordered = sorted(counts.items(), key=lambda item: (item[0] != "passed", item[0]))
    parts = [
        f"profile {profile}" + ("" if stated else " (from the checks run)"),
        f"bases {', '.join(index.bases)}",
        ", ".join(f"{n} {outcome}" for outcome, n in ordered),
    ]
    selection = request_selection(meta)
    if selection:
        parts.insert(1, f"selection {selection}")
    return " · ".join(parts)


def _section(table: Table, width: int) -> list[str]:
    rows = table.rows if table.terminal_rows is None else table.terminal_rows
    rows = _same_on_every_base(table, rows)
    if not rows:
        # Nothing to tabulate: the note says what the table holds.
        return [f"{table.title}: {table.terminal_note}" if table.terminal_note else table.title]
    lines = [table.title, *_fit_table(table, rows, width)]
    if table.terminal_note:
        lines.append(table.terminal_note)
    return lines


def _same_on_every_base(table: Table, rows: list[list[Cell]]) -> list[list[Cell]]:
    """One row for the bases when every base's row says the same."""
    if len(rows) < 2 or table.columns[0].title != "base":
        return rows
    if any([c.text for c in r[1:]] != [c.text for c in rows[0][1:]] for r in rows[1:]):
        return rows
    return [[Cell(f"all {len(rows)} bases"), *rows[0][1:]]]


def _fit_table(table: Table, rows: Sequence[Sequence[Cell]], width: int) -> list[str]:
    keep = [i for i, c in enumerate(table.columns) if c.terminal]
    headers = [table.columns[i].title for i in keep]
    texts = [[r[i].text for i in keep] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in texts)) for i, h in enumerate(headers)]
    minimum = [min(w, 6) for w in widths]
    gap = 2
    while sum(widths) + gap * (len(widths) - 1) > width:
        shrinkable = [i for i, w in enumerate(widths) if w > minimum[i]]
        if not shrinkable:
            return _one_column(headers, texts, width)
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    numeric = [table.columns[i].numeric for i in keep]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for text, size, right in zip(cells, widths, numeric, strict=True):
            text = cut(text, size)
            parts.append(text.rjust(size) if right else text.ljust(size))
        return (" " * gap).join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in texts)]


def _one_column(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """Too many columns for a table (a user's check with dozens of figures): the table
    turned on its side, one line per figure and a column per row, as many as fit."""
    size = max(len(h) for h in headers)
    per_row = max(8, min(24, (width - size) // max(len(rows), 1) - 2))
    shown = rows[: max(1, (width - size) // (per_row + 2))]
    lines = []
    for position, header in enumerate(headers):
        cells = "  ".join(cut(r[position], per_row).rjust(per_row) for r in shown)
        lines.append(f"{header.ljust(size)}  {cells}".rstrip())
    lines.insert(1, "-" * min(width, size + (per_row + 2) * len(shown)))
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


def _files_line(files: Sequence[Path]) -> str:
    by_suffix = {Path(f).suffix: str(f) for f in files}
    shown = by_suffix.get(".html") or str(files[0])
    others = ", ".join(Path(f).name for f in files if str(f) != shown)
    return f"every column, interval, chart and comparison: {shown}" + (
        f" (also {others})" if others else ""
    )
