"""The dns cases as data: names, resolv.conf files, predictions and their comparison."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.measure import dns
from pytest_traefik_compat.plugin.session import sample_apps_dir
from pytest_traefik_compat.records import checks

CASE = {case.name: case for case in dns.CASES}
ADDRESSES: dict[dns.Server, str] = {"real": "172.30.0.2", "silent": "172.30.0.3"}


def _result(
    case: str,
    resolver: dns.Resolver = "glibc",
    *,
    addrs: tuple[str, ...] = (),
    error: str = "",
    code: str = "",
    ms: float = 1.0,
    queries: tuple[dns.SeenQuery, ...] = (),
) -> dns.CaseResult:
    return dns.CaseResult(CASE[case], resolver, addrs, error, code, ms, queries)


def _q(name: str, qtype: str = "A", transport: str = "udp") -> dns.SeenQuery:
    return dns.SeenQuery("real", name, qtype, transport)


def test_case_names_are_the_figures() -> None:
    assert dns.CASE_NAMES == (
        "large-answer",
        "silent-first-nameserver",
        "search-ndots",
        "aaaa-only",
        "options-timeout",
    )
    assert [c.name for c in dns.CASES if not c.answerable] == ["options-timeout"]


def test_the_zone_in_go_serves_what_the_cases_ask() -> None:
    """The server's zone and the cases are written twice (Go and Python): they agree."""
    source = (sample_apps_dir() / "dnsserver" / "main.go").read_text()
    count = re.search(r"largeCount\s*=\s*(\d+)", source)
    assert count is not None and int(count.group(1)) == dns.LARGE_COUNT
    for label in ("ok", "large", "aaaa-only", "svc.ns"):
        assert f'"{label}.%s' in source, label
    assert "IN AAAA" in source.split('"aaaa-only.%s')[1].splitlines()[0]
    assert CASE["search-ndots"].query + "." + dns.ZONE == "svc.ns.compat.test"


def test_large_answer_is_over_512_and_under_edns_1232() -> None:
    header, question = 12, len("large.compat.test") + 2 + 4
    answer = question + dns.LARGE_COUNT * 16  # compressed owner, type, class, ttl, rdata
    assert 512 < header + answer < 1232
    assert (512 - header - question) // 16 == dns.LARGE_UDP_512
    assert dns.LARGE_COUNT <= 48  # musl returns at most 48 addresses


def test_resolv_conf_lists_servers_in_order_with_search_and_options() -> None:
    assert dns.render_resolv_conf(CASE["silent-first-nameserver"], ADDRESSES) == (
        "nameserver 172.30.0.3\nnameserver 172.30.0.2\n"
    )
    assert dns.render_resolv_conf(CASE["search-ndots"], ADDRESSES) == (
        "nameserver 172.30.0.2\nsearch compat.test\noptions ndots:1\n"
    )
    assert dns.render_resolv_conf(CASE["options-timeout"], ADDRESSES) == (
        "nameserver 172.30.0.3\noptions timeout:1 attempts:2\n"
    )


def test_case_options_default_to_the_resolvers_defaults() -> None:
    assert CASE["options-timeout"].option("timeout", 5) == 1
    assert CASE["options-timeout"].option("attempts", 2) == 2
    assert CASE["large-answer"].option("timeout", 5) == 5


@pytest.mark.parametrize(
    ("version", "answered", "tcp"),
    [("1.2.3", False, False), ("1.2.4", True, True), ("1.2.5", True, True), (None, True, True)],
)
def test_musl_tcp_fallback_from_124(version: str | None, answered: bool, tcp: bool) -> None:
    prediction = dns.predict("musl", CASE["large-answer"], libc_version=version)
    assert (prediction.answered, prediction.tcp) == (answered, tcp)
    if not answered:
        assert prediction.count == dns.LARGE_UDP_512
        assert "no TCP fallback" in prediction.reason


def test_predictions_per_resolver() -> None:
    def p(resolver: dns.Resolver, case: str, **kw: object) -> dns.Prediction:
        return dns.predict(resolver, CASE[case], libc_version=None, **kw)  # type: ignore[arg-type]

    assert p("glibc", "large-answer").tcp is True
    assert p("go", "large-answer").tcp is None  # EDNS0: over UDP, whole
    assert p("musl", "silent-first-nameserver").window_ms == (0.0, dns.FAST_MS)
    assert p("glibc", "silent-first-nameserver").window_ms == (4500.0, 6500.0)
    assert p("go", "silent-first-nameserver").window_ms == (4500.0, 6500.0)
    assert not p("musl", "search-ndots").answered
    assert p("glibc", "search-ndots").answered and p("go", "search-ndots").answered
    assert not p("glibc", "aaaa-only").answered
    assert p("glibc", "aaaa-only").aaaa_asked is False
    assert p("glibc", "aaaa-only", ipv6=True).answered
    assert p("musl", "aaaa-only").answered and p("go", "aaaa-only").answered
    # timeout per try x attempts (glibc, Go) against timeout for the whole lookup (musl)
    assert p("glibc", "options-timeout").window_ms == (1800.0, 3500.0)
    assert p("go", "options-timeout").window_ms == (1800.0, 3500.0)
    assert p("musl", "options-timeout").window_ms == (900.0, 2500.0)
    assert not any(p(r, "options-timeout").answered for r in dns.RESOLVERS)


def test_go_is_predicted_to_answer_every_answerable_case() -> None:
    for case in dns.CASES:
        assert dns.predict("go", case).answered == case.answerable


def test_outcome_counts_addresses_or_names_the_error() -> None:
    full = _result("large-answer", addrs=tuple(f"198.51.100.{i}" for i in range(1, 41)))
    assert full.outcome == "40/40" and full.answered
    part = _result("large-answer", "musl", addrs=("198.51.100.1",) * 29)
    assert part.outcome == "29/40" and not part.answered
    failed = _result(
        "search-ndots", "musl", error="getaddrinfo: Name does not resolve", code="EAI_NONAME"
    )
    assert failed.outcome == "EAI_NONAME: getaddrinfo: Name does not resolve"
    assert not failed.answered
    # Nothing answers options-timeout: it never counts as answered.
    assert not _result("options-timeout", addrs=("192.0.2.10",)).answered


def test_compare_names_each_mismatch() -> None:
    large = dns.predict("glibc", CASE["large-answer"])
    over_tcp = _result(
        "large-answer",
        addrs=tuple(str(i) for i in range(40)),
        queries=(_q("large.compat.test."), _q("large.compat.test.", transport="tcp")),
    )
    assert dns.compare(over_tcp, large).matches
    udp_only = _result("large-answer", addrs=("1",) * 29, queries=(_q("large.compat.test."),))
    comparison = dns.compare(udp_only, large)
    assert not comparison.matches
    assert comparison.mismatches == ("failed: 29/40", "no TCP query seen")
    slow = _result("silent-first-nameserver", "musl", addrs=("192.0.2.10",), ms=5004.0)
    mismatch = dns.compare(slow, dns.predict("musl", CASE["silent-first-nameserver"]))
    assert mismatch.mismatches == ("5004 ms, outside 0-1000 ms",)


def test_server_log_lines_become_queries() -> None:
    lines = [
        json.dumps({"event": "ready", "addr": ":53"}),
        "not json",
        json.dumps(
            {
                "event": "query",
                "name": "large.compat.test.",
                "type": "A",
                "transport": "udp",
                "edns": 0,
                "answers": 29,
                "truncated": True,
            }
        ),
        json.dumps(
            {
                "event": "query",
                "name": "ok.compat.test.",
                "type": "AAAA",
                "transport": "tcp",
                "edns": 1232,
            }
        ),
    ]
    queries = dns.parse_queries("real", lines)
    assert [str(q) for q in queries] == [
        "real udp A large.compat.test.",
        "real tcp edns1232 AAAA ok.compat.test.",
    ]
    assert queries[0].truncated and queries[0].answers == 29


def test_a_run_gives_figures_per_case() -> None:
    # Every case answered in full but large-answer, which got one address of 40.
    results = tuple(
        _result(c.name, "go", addrs=("x",) * (1 if c.name == "large-answer" else c.expected))
        for c in dns.CASES
    )
    comparisons = tuple(dns.compare(r, dns.predict("go", r.case)) for r in results)
    run = dns.ResolverRun("alpine", "go", None, results, comparisons, 1.0)
    figures = {name: value for name, value, _ in run.figures()}
    assert figures["large-answer"] == "1/40"
    assert figures["search-ndots"] == "1/1"
    assert figures["search-ndots_answered"] is True
    assert "large-answer_predicted" in figures and "aaaa-only_as_predicted" in figures
    assert run.unanswered == ["large-answer"]
    assert run.details()["mismatches"]["large-answer"] == ["failed: 1/40"]


def test_the_vocabulary_names_the_cases_resolvers_and_figures() -> None:
    assert checks.DNS_CASES == dns.CASE_NAMES
    assert checks.DNS_RESOLVERS == dns.RESOLVERS
    results = tuple(_result(c.name, "musl") for c in dns.CASES)
    comparisons = tuple(dns.compare(r, dns.predict("musl", r.case)) for r in results)
    run = dns.ResolverRun("alpine", "musl", "1.2.3", results, comparisons, 1.0)
    assert [name for name, _, _ in run.figures()] == [
        name
        for case in checks.DNS_CASES
        for name in (case, *(checks.dns_figure(case, s) for s in checks.DNS_SUFFIXES))
    ]


def _log(server_from: str, name: str, at_ns: int) -> str:
    return json.dumps(
        {
            "event": "query",
            "name": name,
            "type": "A",
            "transport": "udp",
            "from": server_from,
            "ts": at_ns,
        }
    )


def test_queries_go_to_the_probe_that_sent_them_and_the_case_whose_window_holds_them() -> None:
    lab = dns.DnsLab("server", {})
    cases = (CASE["large-answer"], CASE["aaaa-only"])
    output = [
        json.dumps({"event": "start", "addrs": ["10.0.0.5"]}),
        json.dumps(
            {
                "case": "large-answer",
                "addrs": ["198.51.100.1"],
                "elapsed_ms": 1.5,
                "started_ns": 1_000,
                "ended_ns": 2_000,
            }
        ),
        json.dumps(
            {
                "case": "aaaa-only",
                "addrs": [],
                "error": "no",
                "error_code": "EAI_NODATA",
                "elapsed_ms": 0.8,
                "started_ns": 200_000_000,
                "ended_ns": 200_001_000,
            }
        ),
    ]
    queries = dns.parse_queries(
        "real",
        [
            _log("10.0.0.5:4000", "large.compat.test.", 1_500),
            _log("10.0.0.5:4001", "large.compat.test.", 2_000 + dns.STRAY_NS // 2),  # late
            _log("10.0.0.6:4002", "large.compat.test.", 1_600),  # another probe
            _log("10.0.0.5:4003", "aaaa-only.compat.test.", 200_000_500),
        ],
    )
    running = dns._Running(
        dns.Probe("glibc", "probe", "2.36"), None, Path("x"), code=0, output=output
    )
    run = lab._resolver_run(running, cases, queries, "debian-slim")
    large, aaaa = run.results
    assert [q.client for q in large.queries] == ["10.0.0.5:4000", "10.0.0.5:4001"]
    assert [q.name for q in aaaa.queries] == ["aaaa-only.compat.test."]
    assert large.addresses == ("198.51.100.1",) and aaaa.error_code == "EAI_NODATA"
    assert run.libc_version == "2.36"
    # The resolver's wall time is its cases' own span, whatever the other probes took.
    assert run.wall_s == pytest.approx(0.2)


def test_a_probe_without_every_case_says_which_are_missing() -> None:
    lab = dns.DnsLab("server", {})
    output = [json.dumps({"event": "start", "addrs": []}), "exec format error"]
    running = dns._Running(dns.Probe("musl", "probe"), None, Path("x"), code=1, output=output)
    with pytest.raises(CompatError, match="without the result of large-answer"):
        lab._resolver_run(running, (CASE["large-answer"],), (), "debian-slim")
