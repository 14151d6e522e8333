"""The figures compared between bases, one row per pair and figure: the difference of
the medians with its 95% interval, the test's p and its verdict."""

from __future__ import annotations

import re

from pytest_traefik_compat.measure import stats
from pytest_traefik_compat.records.checks import (
    INPROCESS_START,
    MISSING,
    STARTUP_LATENCY,
    TRAEFIK_FIGURES,
)
from pytest_traefik_compat.report.cells import Cell, Column, Index, Table
from pytest_traefik_compat.report.figures import BaseComparison, comparisons

KEY = "comparisons"


def comparison_table(index: Index) -> Table:
    """Every pair of bases on every figure they are compared on; the terminal keeps the
    pairs that differ and counts the others."""
    table = Table(
        KEY,
        "Between bases",
        [
            Column("pair"),
            Column("figure"),
            Column("difference [CI]", numeric=True),
            Column("p", numeric=True),
            Column("verdict"),
            Column("n", numeric=True, terminal=False),
        ],
        caption="difference: median(first) - median(second), [CI] its 95% interval "
        "where the sample counts allow one (how it was obtained: in the tooltip); p: "
        "two-sided Mann-Whitney U. A pair is judged only where its sample counts can reach "
        'p < 0.05 at all, else "not judged". start - drift control compares service - '
        "control per round, so the machine's drift between the bases' series cancels; "
        "drift control says how far the machine drifted; in-process start is the static "
        "build's init to ready with -mode mixed.",
        checks=(STARTUP_LATENCY.check, INPROCESS_START.check, TRAEFIK_FIGURES.check),
    )
    found = comparisons(index, index.bases)
    table.rows = [_row(c) for c in found]
    table.terminal_rows = [_row(c) for c in found if c.differs]
    quiet = [c for c in found if not c.differs]
    if quiet:
        judged = sum(c.comparison.judged for c in quiet)
        parts = [f"{judged} no measurable difference"] if judged else []
        if len(quiet) > judged:
            parts.append(f"{len(quiet) - judged} not judged (too few samples)")
        others = "other comparisons" if table.terminal_rows else "comparisons"
        table.terminal_note = f"{len(quiet)} {others}: {', '.join(parts)}"
    return table


# "... (p=0.004, n=6 vs 6)": the table has p and n columns of their own.
_P_AND_N = re.compile(r" \(p=[^)]*\)$")


def _row(c: BaseComparison) -> list[Cell]:
    comparison = c.comparison
    p_value = comparison.p_value
    tip = f"{c.pair}, {c.figure}: {comparison.verdict}; {comparison.test}"
    if comparison.ci_method:
        tip += f"; interval: {comparison.ci_method}"
    counts = (
        f"{comparison.n_a} pairs" if comparison.paired else f"{comparison.n_a} vs {comparison.n_b}"
    )
    return [
        Cell(c.pair),
        Cell(c.figure),
        Cell(_difference(comparison), tip),
        Cell(MISSING if p_value is None else f"{p_value:.2g}"),
        Cell(_P_AND_N.sub("", comparison.verdict), tip, "differs" if c.differs else ""),
        Cell(counts),
    ]


def _difference(c: stats.Comparison) -> str:
    if c.difference is None:
        return MISSING
    shown = f"{_num(c.difference, signed=True)} ms"
    if c.ci_low is None or c.ci_high is None:
        return shown
    return f"{shown} [{_num(c.ci_low)}, {_num(c.ci_high)}]"


def _num(value: float, *, signed: bool = False) -> str:
    sign = "+" if signed else ""
    return f"{value:{sign}.2g}" if abs(value) < 10 else f"{value:{sign}.0f}"
