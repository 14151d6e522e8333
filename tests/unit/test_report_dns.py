"""The name-resolution table: a row per base and resolver, a cell per case."""

from __future__ import annotations

from pytest_traefik_compat.measure import dns
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import DNS, DNS_CASES, MISSING
from pytest_traefik_compat.report import tables
from pytest_traefik_compat.report.cells import Index
from pytest_traefik_compat.report.tables_dns import dns_table


def _record(base: str, resolver: dns.Resolver, version: str | None, **outcomes: str) -> Record:
    """A dns record as the suite writes it; ``outcomes`` replace a case's addresses by
    an error (the case's prediction then decides as_predicted)."""
    results = []
    for case in dns.CASES:
        error = outcomes.get(case.name.replace("-", "_"), "")
        code, _, message = error.partition(": ")
        addrs = () if error else ("192.0.2.10",) * case.expected
        results.append(dns.CaseResult(case, resolver, addrs, message, code, 1.25, ()))
    comparisons = tuple(
        dns.compare(r, dns.predict(resolver, r.case, libc_version=version)) for r in results
    )
    run = dns.ResolverRun(base, resolver, version, tuple(results), comparisons, 3.0)
    record = Record(base=base, check=DNS.check, variant=resolver)
    for name, value, unit in run.figures():
        record.figure(name, value, unit)
    record.figure(DNS.libc_version, version or MISSING)
    return record


def test_a_row_per_base_and_resolver_and_a_cell_per_case() -> None:
    records = [
        _record("debian-slim", "glibc", "2.36", search_ndots="EAI_NONAME: Name does not resolve"),
        _record("debian-slim", "go", None),
        _record("alpine", "go", None),
    ]
    table = dns_table(Index(records, ["alpine", "debian-slim", "distroless"]))
    assert [c.title for c in table.columns] == ["base", "resolver", *DNS_CASES]
    assert [[c.text for c in row[:2]] for row in table.rows] == [
        ["alpine", "go"],
        ["debian-slim", "go"],
        ["debian-slim", "glibc 2.36"],
        ["distroless", MISSING],
    ]
    glibc = table.rows[2]
    search = glibc[2 + DNS_CASES.index("search-ndots")]
    # glibc was predicted to find svc.ns through the search list: the cell says it did not.
    assert search.text == "EAI_NONAME 1.2 ms (not as predicted)"
    assert search.css == "mismatch" and "predicted: answers" in search.tip
    large = glibc[2 + DNS_CASES.index("large-answer")]
    assert large.text.startswith("40/40 ")
    assert table.terminal_rows is not None
    terminal = table.terminal_rows[2][2 + DNS_CASES.index("search-ndots")]
    assert terminal.text == "NONAME 1.2*"


def test_the_table_is_in_the_report() -> None:
    built = tables.build_tables(Index([_record("alpine", "go", None)]))
    assert DNS.check in {check for table in built for check in table.checks}
