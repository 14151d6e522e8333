"""The primitives of the report's tables and the value formatting they share.

A table is columns and rows of :class:`Cell`; :class:`Index` finds the records by
(base, check, variant). Missing data is always ``-``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import LINKAGE_ORDER, MISSING
from pytest_traefik_compat.report.order import base_order, rank

FAILED_OUTCOMES = ("failed", "error")


class Cell(NamedTuple):
    text: str
    tip: str = ""  # full detail for the HTML title attribute
    css: str = ""


@dataclass(frozen=True)
class Column:
    title: str
    numeric: bool = False
    terminal: bool = True  # False: Markdown/HTML only, the terminal has 100 columns


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str = ""
    # The checks that feed it: a failed test marks its base's row; without records of
    # any of them the table is left out (a generic table always has its records).
    checks: tuple[str, ...] = ()
    generic: bool = False
    # The terminal summary: False leaves the table to report.md and report.html;
    # terminal_rows (when set) replace the rows there, e.g. only the cases that differ,
    # and terminal_note is one line under them.
    terminal: bool = True
    terminal_rows: list[list[Cell]] | None = None
    terminal_note: str = ""


class Index:
    """Records by (base, check, variant): the first one wins, like the terminal shows."""

    def __init__(self, records: Sequence[Record], bases: Sequence[str] | None = None) -> None:
        self.records = list(records)
        self.bases = base_order(self.records, bases or ())
        self._by: dict[tuple[str, str, str], Record] = {}
        for record in self.records:
            self._by.setdefault(record.key, record)

    def get(self, base: str, check: str, variant: str = "") -> Record | None:
        return self._by.get((base, check, variant))

    def has(self, check: str) -> bool:
        return any(r.check == check for r in self.records)

    def variants(self, check: str) -> list[str]:
        found = {r.variant for r in self.records if r.check == check}
        return sorted(found, key=lambda v: rank(v, LINKAGE_ORDER))


def row(base: str, *cells: Cell | str) -> list[Cell]:
    return [Cell(base), *(c if isinstance(c, Cell) else Cell(c) for c in cells)]


def _get(record: Record | None, name: str) -> Any:
    """A figure's value, None where the record or the figure is missing."""
    return record.value(name) if record else None


# ---- value formatting: missing data is always "-"


def one_line(value: str, limit: int = 240) -> str:
    # Values come from container logs: no escape sequences may reach a terminal.
    line = "".join(ch if ch.isprintable() else "?" for ch in " ".join(value.split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def cut(value: str, size: int) -> str:
    return value if len(value) <= size else value[: max(size - 1, 0)] + "…"


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def text(value: Any, missing: str = MISSING) -> str:
    if value is None or value == "":
        return missing
    return one_line(str(value), 400)


def _present(value: Any) -> bool:
    return value not in (None, "", MISSING, False)


def _yes_no(value: Any, yes: str = "yes", no: str = "no") -> str:
    if value is None or value == MISSING:
        return MISSING
    return yes if value else no


def _number(value: Any) -> str:
    number = as_float(value)
    if number is None:
        return text(value)
    return str(int(number)) if number.is_integer() else f"{number:.4g}"


def fmt_bytes(value: Any) -> str:
    # Decimal units, as `docker images` prints them.
    number = as_float(value)
    if number is None:
        return MISSING
    for unit in ("B", "kB", "MB", "GB"):
        if abs(number) < 1000 or unit == "GB":
            return f"{number:.0f} {unit}" if unit == "B" else f"{number:.1f} {unit}"
        number /= 1000
    raise AssertionError("unreachable")


def fmt_ms(value: Any) -> str:
    number = as_float(value)
    if number is None:
        return MISSING
    if number.is_integer() or abs(number) >= 10:
        return f"{number:.0f} ms"
    return f"{number:.1f} ms"


NO_COST = "no measurable cost"


class Cost(NamedTuple):
    """A cost in ms over a reference, with its 95% interval where n allows one."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    # A test's verdict where one was made (False: judged and no difference), else None.
    measurable: bool | None = None


def fmt_cost(cost: Cost, *, sign: str = "") -> str:
    """ "+3.5 ms [3.3-3.7]"; "no measurable cost" when a test found none or the interval
    is not wholly above zero (without an interval: when the cost is not above zero).

    Args:
        sign: put before a positive cost ("+" for latency added on top of another).
    """
    value, low, high = as_float(cost.value), as_float(cost.ci_low), as_float(cost.ci_high)
    if value is None:
        return MISSING
    if cost.measurable is False:
        return NO_COST
    if low is None or high is None:
        return NO_COST if value <= 0.0 else sign + fmt_ms(value)
    if low <= 0.0:
        return NO_COST
    return f"{sign}{fmt_ms(value)} [{_short_ms(low)}-{_short_ms(high)}]"


def _short_ms(value: float) -> str:
    return fmt_ms(value).removesuffix(" ms")


def fmt_seconds(value: Any) -> str:
    number = as_float(value)
    if number is None:
        return MISSING
    return fmt_ms(number * 1000) if number < 1 else f"{number:.2f} s"


def _figure(value: Any, unit: str) -> str:
    if isinstance(value, bool):
        return _yes_no(value)
    if unit == "bytes":
        return fmt_bytes(value)
    if unit == "ms":
        return fmt_ms(value)
    if unit == "s":
        return fmt_seconds(value)
    return _number(value)
