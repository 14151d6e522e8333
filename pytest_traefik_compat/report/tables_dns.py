"""The name-resolution table: per base and resolver, each dns case's outcome and time."""

from __future__ import annotations

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    DNS,
    DNS_AS_PREDICTED,
    DNS_CASES,
    DNS_MS,
    DNS_PREDICTED,
    DNS_RESOLVERS,
    MISSING,
    dns_figure,
)
from pytest_traefik_compat.report.cells import Cell, Column, Index, Table, fmt_ms, text
from pytest_traefik_compat.report.order import rank


def dns_table(index: Index) -> Table:
    table = Table(
        DNS.check,
        "Name resolution per base and resolver",
        [Column("base"), Column("resolver"), *(Column(case) for case in DNS_CASES)],
        caption="Each case against the check's own name servers: the addresses returned "
        "out of those the zone serves, or the resolver's error, and the lookup's time. "
        "go is Go's own resolver (Traefik's, on every base); glibc and musl are getaddrinfo "
        "where that linkage starts. A marked cell differs from the prediction from the "
        "library and its version (in the tooltip and report.json); docs/dns.md explains "
        "each case.",
        checks=(DNS.check,),
    )
    variants = sorted(
        {r.variant for r in index.records if r.check == DNS.check},
        key=lambda v: rank(v, DNS_RESOLVERS),
    )
    # The terminal's 100 columns: "NONAME 0.6" for "EAI_NONAME 0.6 ms", "*" for a mismatch.
    table.terminal_rows = []
    table.terminal_note = (
        "each case: outcome and lookup time (ms), EAI_ left off getaddrinfo's errors; "
        "* not as predicted"
    )
    for base in index.bases:
        records = [r for v in variants if (r := index.get(base, DNS.check, v)) is not None]
        if not records:
            empty = [Cell(base), Cell(MISSING), *(Cell(MISSING) for _ in DNS_CASES)]
            table.rows.append(empty)
            table.terminal_rows.append(empty)
        for r in records:
            resolver = Cell(_resolver(r))
            table.rows.append([Cell(base), resolver, *(_case(r, c) for c in DNS_CASES)])
            short = [_case(r, c, terminal=True) for c in DNS_CASES]
            table.terminal_rows.append([Cell(base), resolver, *short])
    return table


def _resolver(r: Record) -> str:
    version = r.value(DNS.libc_version)
    return f"{r.variant} {version}" if version not in (None, "", MISSING) else r.variant


def _case(r: Record, case: str, *, terminal: bool = False) -> Cell:
    outcome = r.value(case)
    if outcome is None:
        return Cell(MISSING, "not run", "missing")
    full = text(outcome)
    # "EAI_NONAME: Name does not resolve" -> "EAI_NONAME"; "29/40" stays.
    short = full.split(":", 1)[0]
    elapsed = fmt_ms(r.value(dns_figure(case, DNS_MS)))
    predicted = text(r.value(dns_figure(case, DNS_PREDICTED)), "")
    held = r.value(dns_figure(case, DNS_AS_PREDICTED))
    tip = f"{full}; predicted: {predicted}" if predicted else full
    css = "mismatch" if held is False else ""
    if terminal:
        value = f"{short.removeprefix('EAI_')} {elapsed.removesuffix(' ms')}"
        return Cell(value + ("*" if held is False else ""), tip, css)
    if held is False:
        return Cell(f"{short} {elapsed} (not as predicted)", tip, css)
    return Cell(f"{short} {elapsed}", tip, css)
