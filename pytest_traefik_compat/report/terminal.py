"""The end-of-run summary in the terminal: one screen for a default run.

A line saying what ran, then the report's tables fitted to 100 columns, with what only a
reader of the full report needs left to report.md and report.html: columns marked
``terminal=False``, tables marked so, the rows a table folds (``terminal_rows``), and
the rows of a table that are the same on every base, shown once.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.report.cells import FAILED_OUTCOMES, Cell, Index, Table, cut
from pytest_traefik_compat.report.summary import (
    NOT_ALPINE,
    provenance_notes,
    request_selection,
    run_profile,
)
from pytest_traefik_compat.report.tables import build_tables, table_has_data

TERMINAL_WIDTH = 100


def terminal_tables(
    records: Iterable[Record],
    *,
    bases: Sequence[str] | None = None,
    width: int = TERMINAL_WIDTH,
    meta: Mapping[str, Any] | None = None,
) -> list[str]:
    """The end-of-run summary: what ran, one table per section, lines <= ``width``.
    The session prints where the report went (every column, chart and comparison)
    right under it.

    Args:
        meta: the report's meta (its request names the profile and the selection).
    """
    index = Index(list(records), bases)
    if not index.records:
        return ["pytest-traefik-compat: no records"]
    lines = [cut(_run_line(index, meta or {}), width)]
    for table in build_tables(index):
        if table.terminal and table_has_data(index, table):
            lines += ["", *_section(table, width)]
    lines += [""] + [cut(line, width) for line in _footer_lines(index, width)]
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
    """Rows of a per-base table that say the same, once: "all 3 bases" or the bases."""
    if len(rows) < 2 or table.columns[0].title != "base":
        return rows
    groups: dict[tuple[str, ...], list[list[Cell]]] = {}
    for cells in rows:
        groups.setdefault(tuple(c.text for c in cells[1:]), []).append(cells)
    if len(groups) == len(rows):
        return rows
    bases = list(dict.fromkeys(cells[0].text for cells in rows))
    merged = []
    for same in groups.values():
        names = list(dict.fromkeys(cells[0].text for cells in same))
        label = f"all {len(bases)} bases" if names == bases else ", ".join(names)
        merged.append([Cell(label), *same[0][1:]])
    return merged


def _fit_table(table: Table, rows: Sequence[Sequence[Cell]], width: int) -> list[str]:
    keep = [i for i, c in enumerate(table.columns) if c.terminal]
    headers = [table.columns[i].title for i in keep]
    texts = [[r[i].text for i in keep] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in texts)) for i, h in enumerate(headers)]
    minimum = [min(w, 6) for w in widths]
    gap = 2
    while sum(widths) + gap * (len(widths) - 1) > width:
        shrinkable = [i for i, w in enumerate(widths) if w > minimum[i]]
        # The key column (the base) is cut last: a row is no use without it.
        shrinkable = [i for i in shrinkable if i] or shrinkable
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

    # A header and its rows, no rule under it (as docker ps and kubectl print them):
    # the line after a section's title is its header.
    return [line(headers), *(line(r) for r in texts)]


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
    return lines


def _footer_lines(index: Index, width: int) -> list[str]:
    # Only the warning: a base named like a distribution it is not; the rest of the
    # provenance is in the report.
    lines = [f"provenance: {n}" for n in provenance_notes(index) if NOT_ALPINE in n]
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
