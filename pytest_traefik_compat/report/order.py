"""The order of a report: bases as configured, then checks and linkages as the suite runs them.

Shared by the document (records in report.json) and the tables (rows and variants).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import CHECK_ORDER, LINKAGE_ORDER


def sort_records(records: Iterable[Record], bases: Sequence[str]) -> list[Record]:
    """Stable sort by (base order, check order, variant order).

    Bases missing from ``bases`` follow in first-seen order, each kept together.
    """
    records = list(records)
    base_rank = {name: index for index, name in enumerate(base_order(records, bases))}

    def key(record: Record) -> tuple[int, int, str, int, str]:
        return (
            base_rank[record.base],
            *rank(record.check, CHECK_ORDER),
            *rank(record.variant, LINKAGE_ORDER),
        )

    return sorted(records, key=key)


def rank(name: str, order: Sequence[str]) -> tuple[int, str]:
    """Known names in ``order``'s order, then the others alphabetically."""
    return (order.index(name), "") if name in order else (len(order), name)


def base_order(records: Sequence[Record], configured: Iterable[str]) -> list[str]:
    """The configured bases, then those seen only in records, in first-seen order."""
    bases = [str(name) for name in configured]
    for record in records:
        if record.base not in bases:
            bases.append(record.base)
    return list(dict.fromkeys(bases))
