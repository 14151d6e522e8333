"""The tables of a report: one model, rendered by terminal.py, markdown.py and html.py.

One builder per check of the suite (names from :mod:`pytest_traefik_compat.checks`), a
generic table for any other check, and the value formatting they share: missing data is
always ``-``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pytest_traefik_compat.checks import (
    ALIGNMENT,
    BUDGET,
    BUILD_FAILED,
    CASE_OUTCOME,
    CHECK_ORDER,
    FAILS,
    GRPC,
    HEALTH_METRICS,
    HEALTHCHECK,
    HEALTHCHECK_STYLES,
    IMAGE_FACTS,
    INPROCESS_START,
    LINKAGE_ORDER,
    MEMORY,
    MISSING,
    MTLS,
    NO_SNI,
    RECORDED,
    REFUSAL,
    RUNTIME_FACTS,
    SAMPLE_STATS,
    SERVICE_MODES,
    START_MATRIX,
    STARTS,
    STARTUP_LATENCY,
    STAT_MEDIAN,
    STATIC,
    STYLE_RESULT,
    TLS,
    TLS_CASE_VARIANTS,
    TLS_EVIDENCE,
    TLS_FORWARDED,
    TLS_HANDSHAKES,
    TLS_REFUSALS,
    TRAEFIK_FIGURES,
    UNKNOWN_SNI,
    stat_figure,
)
from pytest_traefik_compat.records import Record, summarize
from pytest_traefik_compat.report import figures
from pytest_traefik_compat.report.order import base_order, rank, sort_records

# The mTLS probes without a client certificate, as the table names them.
SNI_PROBES = {NO_SNI: "no-SNI", UNKNOWN_SNI: "unknown-SNI"}
# The startup-latency series, in the table's (and the chart's) order.
LATENCY_SERIES = (STARTUP_LATENCY.direct, STARTUP_LATENCY.traefik, STARTUP_LATENCY.floor)
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


def build_tables(index: Index) -> list[Table]:
    """Every table, in the report's order; users' checks follow alphabetically."""
    tables = [
        _image_facts(index),
        _start_matrix(index),
        _latency(index),
        _inprocess(index),
        _traefik_figures(index),
        _tls(index),
        _tls_alerts(index),
        _tls_handshakes(index),
        _findings(index),
        _healthchecks(index),
        _alignment(index),
        _runtime(index),
        _budgets(index),
    ]
    extra = sorted({r.check for r in index.records} - set(CHECK_ORDER))
    tables += [_generic(index, check) for check in extra]
    for table in tables:
        _flag_failures(index, table)
    return tables


def table_has_data(index: Index, table: Table) -> bool:
    # A run with -k or custom checks need not print nine tables of dashes.
    return table.generic or any(index.has(check) for check in table.checks)


def _flag_failures(index: Index, table: Table) -> None:
    for row in table.rows:
        base = row[0].text
        failed = [
            r
            for r in index.records
            if r.base == base and r.check in table.checks and r.outcome in FAILED_OUTCOMES
        ]
        if failed:
            tip = "; ".join(f"{r.test_id or r.check}: {r.outcome}" for r in failed)
            row[0] = Cell(base, tip, "failed")


def row(base: str, *cells: Cell | str) -> list[Cell]:
    return [Cell(base), *(c if isinstance(c, Cell) else Cell(c) for c in cells)]


def _get(record: Record | None, name: str) -> Any:
    """A figure's value, None where the record or the figure is missing."""
    return record.value(name) if record else None


# ---- one builder per check


def _image_facts(index: Index) -> Table:
    table = Table(
        IMAGE_FACTS.check,
        "Image facts",
        [
            Column("base"),
            Column("size", numeric=True),
            Column("layers", numeric=True),
            Column("libc"),
            Column("shell"),
            Column("tools"),
            Column("CA certs"),
            Column("user"),
            Column("tzdata"),
            Column("files", numeric=True, terminal=False),
            Column("OS", terminal=False),
        ],
        caption="The base image alone, before the service is added.",
        checks=(IMAGE_FACTS.check,),
    )
    for base in index.bases:
        r = index.get(base, IMAGE_FACTS.check)
        if r is None:
            table.rows.append(row(base, *[MISSING] * (len(table.columns) - 1)))
            continue
        table.rows.append(row(base, *_image_facts_cells(r)))
    return table


def _image_facts_cells(r: Record) -> list[Cell | str]:
    shell = text(r.value(IMAGE_FACTS.shell))
    tool_names = (IMAGE_FACTS.curl, IMAGE_FACTS.wget)
    tools = [name for name in tool_names if _present(r.value(name))]
    known_tools = any(name in r.figures for name in tool_names)
    bundle = r.value(IMAGE_FACTS.ca_bundle)
    return [
        fmt_bytes(r.value(IMAGE_FACTS.size)),
        _number(r.value(IMAGE_FACTS.layers)),
        text(r.value(IMAGE_FACTS.libc)),
        Cell(shell.rsplit("/", 1)[-1] if shell != MISSING else MISSING, shell),
        Cell(", ".join(tools) or "none") if known_tools else Cell(MISSING),
        Cell(
            _yes_no(_present(bundle)) if IMAGE_FACTS.ca_bundle in r.figures else MISSING,
            text(bundle),
        ),
        text(r.value(IMAGE_FACTS.default_user)),
        _yes_no(r.value(IMAGE_FACTS.zoneinfo)),
        _number(r.value(IMAGE_FACTS.files)),
        text(r.value(IMAGE_FACTS.os_name)),
    ]


def _start_matrix(index: Index) -> Table:
    variants = index.variants(START_MATRIX.check) or list(LINKAGE_ORDER)
    table = Table(
        START_MATRIX.check,
        "Start matrix",
        [Column("base"), *(Column(v) for v in variants)],
        caption="The sample service built each way and started on each base; a failure "
        "names what is missing. The prediction from the ELF headers and the runtime's own "
        "message are in report.json (and in the HTML tooltips).",
        checks=(START_MATRIX.check,),
    )
    for base in index.bases:
        cells = (_start_cell(index.get(base, START_MATRIX.check, v)) for v in variants)
        table.rows.append([Cell(base), *cells])
    return table


_SHORT_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^interpreter (\S+) not in image"), r"no \1"),
    (re.compile(r"^needed librar(?:y|ies) (.+?) not found in image"), r"no \1"),
    (re.compile(r"^needs (GLIBC_[\d.]+) but the image has glibc ([\d.]+)"), r"needs \1, has \2"),
)


def _short_reason(reason: str) -> str:
    for pattern, replacement in _SHORT_REASONS:
        match = pattern.search(reason)
        if match:
            return match.expand(replacement)
    return reason


def _start_cell(r: Record | None) -> Cell:
    if r is None:
        return Cell(MISSING, "no record", "missing")
    predicted = r.value(START_MATRIX.predicted)
    predicted_reason = text(r.value(START_MATRIX.prediction_reason), "")
    observed = r.value(START_MATRIX.observed)
    observed_reason = text(r.value(START_MATRIX.observed_reason), "")
    exit_code = r.value(START_MATRIX.exit_code)
    tip_parts = []
    if predicted is not None:
        tip_parts.append(f"predicted {predicted}: {predicted_reason}".rstrip(": "))
    if observed is not None:
        tip_parts.append(f"observed {observed}: {observed_reason}".rstrip(": "))
    if exit_code not in (None, MISSING):
        tip_parts.append(f"exit code {exit_code}")
    if r.value(START_MATRIX.outcome) == BUILD_FAILED:
        error = text(r.details.get(START_MATRIX.build_error), "")
        return Cell("build failed", one_line(error, 300), "fails")
    tip = "; ".join(tip_parts)
    if observed == STARTS:
        if predicted == FAILS:
            return Cell("starts (predicted fails)", tip, "starts mismatch")
        return Cell("starts", tip, "starts")
    if observed == FAILS:
        if predicted == FAILS and predicted_reason:
            return Cell(f"fails: {_short_reason(predicted_reason)}", tip, "fails")
        reason = one_line(observed_reason or "no reason recorded", 60)
        mismatch = " mismatch" if predicted == STARTS else ""
        return Cell(f"fails: {reason}", tip, "fails" + mismatch)
    return Cell(f"not run (predicted {predicted})" if predicted else MISSING, tip, "missing")


def _latency(index: Index) -> Table:
    table = Table(
        "latency",
        "Startup latency, memory and size",
        [
            Column("base"),
            Column("direct med", numeric=True),
            Column("direct tail", numeric=True),
            Column("floor med", numeric=True),
            Column("own cost", numeric=True),
            Column("route ready", numeric=True),
            Column("RSS", numeric=True),
            Column("peak RSS", numeric=True),
            Column("base image", numeric=True),
            Column("direct 95% CI", numeric=True, terminal=False),
            Column("floor 95% CI", numeric=True, terminal=False),
            Column("cgroup mem", numeric=True, terminal=False),
            Column("Go heap", numeric=True, terminal=False),
            Column("RSS /metrics", numeric=True, terminal=False),
            Column("service image", numeric=True, terminal=False),
        ],
        caption="Container create call to the first 200 on /healthz (polled every 20 ms), "
        "median with its bootstrap 95% interval; the floor is a net/http-only server run "
        "exactly the same way, own cost = direct - floor. Route ready (service's first 200 "
        "to routed by Traefik) depends on the health-check interval and is not part of the "
        "start. RSS is VmRSS after warm-up, peak is VmHWM after a bounded load; cgroup "
        "memory excludes page cache. (noisy) marks a series measured on a busy machine.",
        checks=(STARTUP_LATENCY.check, MEMORY.check),
    )
    for base in index.bases:
        record = index.get(base, STARTUP_LATENCY.check)
        direct = figures.median_ci(record, STARTUP_LATENCY.direct)
        floor = figures.median_ci(record, STARTUP_LATENCY.floor)
        route = figures.median_ci(record, STARTUP_LATENCY.route_ready)
        memory = index.get(base, MEMORY.check)
        facts = index.get(base, IMAGE_FACTS.check)
        flag = " (noisy)" if _get(record, STARTUP_LATENCY.noisy) is True else ""
        heap, cgroup = _get(memory, MEMORY.go_heap_inuse), _get(memory, MEMORY.cgroup_memory)
        table.rows.append(
            row(
                base,
                fmt_ms(direct.get(STAT_MEDIAN)) + flag,
                figures.fmt_tail(direct),
                fmt_ms(floor.get(STAT_MEDIAN)),
                fmt_ms(_get(record, STARTUP_LATENCY.service_cost)),
                fmt_ms(route.get(STAT_MEDIAN)),
                fmt_bytes(_get(memory, MEMORY.rss_kernel)),
                fmt_bytes(_get(memory, MEMORY.rss_peak)),
                fmt_bytes(facts.value(IMAGE_FACTS.size) if facts else provenance_size(index, base)),
                figures.fmt_ci(direct),
                figures.fmt_ci(floor),
                fmt_bytes(cgroup),
                fmt_bytes(heap),
                fmt_bytes(_get(memory, MEMORY.rss_metrics)),
                fmt_bytes(service_image_size(index, base)),
            )
        )
    told = figures.sentences(index, index.bases)
    busy = figures.noisy_bases(index, index.bases)
    if busy:
        told.append(f"measured on a busy machine (noisy): {', '.join(busy)}")
    if told:
        table.caption += " " + "; ".join(told) + "."
    return table


def _inprocess(index: Index) -> Table:
    table = Table(
        INPROCESS_START.check,
        "In-process start per mode (Go init to listeners ready)",
        [Column("base"), Column("linkage")]
        + [Column(f"{mode} [95% CI]", numeric=True) for mode in SERVICE_MODES]
        + [Column("RSS", numeric=True), Column("peak RSS", numeric=True)],
        caption="The service's own start, as it reports it: init to ready (sub-ms; exec to "
        "ready at 10 ms resolution is in report.json), per -mode, on each linkage that "
        "starts on the base; memory of that linkage's service after warm-up and load.",
        checks=(INPROCESS_START.check,),
    )
    for base in index.bases:
        for linkage in index.variants(INPROCESS_START.check):
            record = index.get(base, INPROCESS_START.check, linkage)
            if record is None:
                continue
            rss, peak, _cgroup, _heap = figures.memory_values(
                index.get(base, MEMORY.check, linkage)
            )
            cells = figures.inprocess_cells(record)
            table.rows.append(row(base, linkage, *cells, fmt_bytes(rss), fmt_bytes(peak)))
    return table


def _traefik_figures(index: Index) -> Table:
    table = Table(
        TRAEFIK_FIGURES.check,
        "Traefik on each base",
        [
            Column("base"),
            Column("start to /ping [95% CI]", numeric=True),
            Column("RSS", numeric=True),
            Column("peak RSS", numeric=True),
        ],
        caption="A second Traefik started exactly like the gateway's, create call to the "
        "first 200 on /ping; RSS after the suite's traffic and its peak (VmHWM).",
        checks=(TRAEFIK_FIGURES.check,),
    )
    for base in index.bases:
        record = index.get(base, TRAEFIK_FIGURES.check)
        table.rows.append(
            row(
                base,
                figures.fmt_median_ci(figures.median_ci(record, TRAEFIK_FIGURES.start)),
                fmt_bytes(_get(record, TRAEFIK_FIGURES.rss)),
                fmt_bytes(_get(record, TRAEFIK_FIGURES.rss_peak)),
            )
        )
    return table


def _budgets(index: Index) -> Table:
    table = Table(
        BUDGET.check,
        "Budgets",
        [Column("base"), Column("budget"), Column("verdict")],
        caption="Pass when the figure's 95% interval is within the limit, fail when it is "
        "beyond, inconclusive in between (not a failure).",
        checks=(BUDGET.check,),
    )
    for base in index.bases:
        for name in index.variants(BUDGET.check):
            record = index.get(base, BUDGET.check, name)
            if record is not None:
                table.rows.append(row(base, name, text(record.details.get(BUDGET.sentence))))
    return table


def latency_stats(r: Record | None) -> dict[str, dict[str, float]]:
    """min/median/p95/max per series, from the figures or else the raw samples."""
    stats: dict[str, dict[str, float]] = {}
    for series in LATENCY_SERIES:
        values: dict[str, float] = {}
        if r is not None:
            for stat in SAMPLE_STATS:
                number = as_float(r.value(stat_figure(series, stat)))
                if number is not None:
                    values[stat] = number
            samples = [s for s in r.samples.get(series, []) if as_float(s) is not None]
            if not values and samples:
                values = summarize(samples)
        stats[series] = values
    return stats


def provenance_size(index: Index, base: str) -> Any:
    for record in index.records:
        if record.base == base and "size_bytes" in record.provenance:
            return record.provenance["size_bytes"]
    return None


def service_image_size(index: Index, base: str) -> Any:
    return _get(index.get(base, START_MATRIX.check, STATIC), START_MATRIX.image_size)


def _tls(index: Index) -> Table:
    table = Table(
        TLS.check,
        "TLS, mTLS and gRPC through Traefik",
        [
            Column("base"),
            Column("TLS"),
            Column("TLS 1.2"),
            Column("ALPN"),
            Column("mTLS ok", numeric=True),
            Column("handshake", numeric=True),
            Column("bad clients refused"),
            Column("gRPC"),
            Column("cipher", terminal=False),
            Column("gRPC echo", numeric=True, terminal=False),
        ],
        caption="mTLS ok: valid client chains accepted; handshake: median; bad clients: "
        "bad certificates refused, plus requests without or with an unknown SNI.",
        checks=(TLS.check, MTLS.check, GRPC.check),
    )
    for base in index.bases:
        tls = index.get(base, TLS.check)
        mtls = index.get(base, MTLS.check)
        grpc = index.get(base, GRPC.check)
        tls12_refused = _get(tls, TLS.tls12_refused)
        table.rows.append(
            row(
                base,
                text(_get(tls, TLS.version)),
                MISSING if tls12_refused is None else ("refused" if tls12_refused else "ACCEPTED"),
                text(_get(tls, TLS.alpn_offered_h2)),
                _success(mtls),
                fmt_ms(_get(mtls, stat_figure(MTLS.handshake, STAT_MEDIAN))),
                _bad_clients(mtls),
                text(_get(grpc, GRPC.health)),
                text(_get(tls, TLS.cipher)),
                fmt_ms(_get(grpc, stat_figure(GRPC.echo, STAT_MEDIAN))),
            )
        )
    return table


def _success(r: Record | None) -> str:
    if r is None:
        return MISSING
    rate = as_float(r.value(MTLS.success_rate))
    count = as_float(r.value(MTLS.handshakes))
    if rate is None:
        return MISSING
    if count is None:
        return f"{rate:.0%}"
    return f"{round(rate * count)}/{int(count)}"


def _bad_clients(r: Record | None) -> Cell:
    if r is None:
        return Cell(MISSING)
    refusals = r.details.get(MTLS.refusals)
    if isinstance(refusals, Mapping) and refusals:
        certs = {k: v for k, v in refusals.items() if k not in SNI_PROBES}
        let_in = [k for k, v in refusals.items() if not refused(v)]
        shown = f"{sum(refused(v) for v in certs.values())}/{len(certs)}"
        sni = [label for key, label in SNI_PROBES.items() if refused(refusals.get(key))]
        if sni:
            shown += " + " + "/".join(sni)
        if let_in:
            shown += " (let in: " + ", ".join(let_in) + ")"
        tip = "; ".join(
            f"{kind}: {'refused' if refused(v) else 'LET IN'}{_refusal_class(v)}"
            for kind, v in refusals.items()
        )
        return Cell(shown, tip, "" if not let_in else "bad")
    tried = as_float(r.value(MTLS.bad_tried))
    let_in_count = as_float(r.value(MTLS.bad_let_in))
    if tried is None or let_in_count is None:
        return Cell(MISSING)
    return Cell(f"{int(tried - let_in_count)}/{int(tried)}")


def refused(probe: Any) -> bool:
    """Whether one entry of the mTLS record's refusals was refused (by a TLS alert)."""
    return isinstance(probe, Mapping) and bool(probe.get(REFUSAL.refused))


def _refusal_class(probe: Any) -> str:
    """The outcome class of a refusal entry, " (unknown_ca)", where recorded."""
    outcome = probe.get(REFUSAL.outcome) if isinstance(probe, Mapping) else None
    return f" ({_short_class(str(outcome))})" if outcome else ""


def _tls_alerts(index: Index) -> Table:
    """The gateway's answer per TLS case (rows) and base (columns): the alert it sent,
    or the HTTP status; a case off its expectation is marked "!"."""
    table = Table(
        f"{TLS_EVIDENCE.check}-cases",
        "TLS evidence: the gateway's answer per case",
        [Column("case"), Column("expected", terminal=False)]
        + [Column(base) for base in index.bases],
        caption="Refusals by the TLS alert the gateway sent (or the HTTP status it answered); "
        "sni-host: SNI x Host header, front-*: the SNI of one route with the Host of a route "
        "with another TLS option (421 or refused); chains: client chain variants. "
        "! marks an outcome off its expectation (timeouts, resets and client-side failures "
        "always are).",
        checks=(TLS_EVIDENCE.check,),
    )
    for variant in TLS_CASE_VARIANTS:
        cases: dict[str, str] = {}
        for base in index.bases:
            r = index.get(base, TLS_EVIDENCE.check, variant)
            expected = r.details.get(TLS_EVIDENCE.expected) if r else None
            outcomes = r.details.get(TLS_EVIDENCE.outcomes) if r else None
            for case in outcomes if isinstance(outcomes, Mapping) else ():
                want = expected.get(case) if isinstance(expected, Mapping) else None
                cases.setdefault(str(case), str(want or MISSING))
        for case, want in cases.items():
            label = case if variant == TLS_REFUSALS else f"{variant}/{case}"
            cells = [Cell(label), Cell(_short_class(want))]
            for base in index.bases:
                r = index.get(base, TLS_EVIDENCE.check, variant)
                outcomes = r.details.get(TLS_EVIDENCE.outcomes) if r else None
                entry = outcomes.get(case) if isinstance(outcomes, Mapping) else None
                cells.append(_case_cell(entry, want))
            table.rows.append(cells)
    return table


def _short_class(value: str) -> str:
    """An outcome class as a table shows it: "alert:unknown_ca" -> "unknown_ca",
    "http:421" -> "HTTP 421", "a|b" -> "a or b"."""
    parts = []
    for part in value.split("|"):
        kind, sep, rest = part.partition(":")
        if sep and kind == "alert":
            parts.append("any alert" if rest == "*" else rest)
        elif sep and kind == "http":
            parts.append(f"HTTP {rest}")
        else:
            parts.append(part)
    return " or ".join(parts)


def _meets(outcome: str, expected: str) -> bool:
    """Whether an outcome class meets its expectation (the suite's rule, on records)."""
    if not outcome.startswith(("alert:", "http:")):
        return False  # no evidence: a timeout, reset, EOF or client-side failure
    if expected in (RECORDED, MISSING, ""):
        return True
    return any(
        outcome == want or (want.endswith(":*") and outcome.startswith(want[:-1]))
        for want in expected.split("|")
    )


def _case_cell(entry: Any, expected: str) -> Cell:
    if not isinstance(entry, Mapping):
        return Cell(MISSING)
    outcome = str(entry.get(CASE_OUTCOME.outcome) or MISSING)
    ok = _meets(outcome, expected)
    tip = "; ".join(
        f"{key}: {entry.get(key)}"
        for key in (CASE_OUTCOME.stage, CASE_OUTCOME.status, CASE_OUTCOME.peer_subject)
        if entry.get(key) is not None
    )
    if entry.get(CASE_OUTCOME.error):
        tip += f"; {one_line(str(entry.get(CASE_OUTCOME.error)), 160)}"
    text_ = _short_class(outcome) + ("" if ok else " !")
    return Cell(text_, f"expected {_short_class(expected)}; {tip}", "" if ok else "bad")


def _tls_handshakes(index: Index) -> Table:
    table = Table(
        f"{TLS_EVIDENCE.check}-handshakes",
        "TLS handshake alone: full and resumed",
        [
            Column("base"),
            Column("full", numeric=True),
            Column("full 95% CI"),
            Column("full resumed", numeric=True),
            Column("resumed", numeric=True),
            Column("resumed hs", numeric=True),
            Column("resumed 95% CI"),
            Column("forwarded certs", numeric=True, terminal=False),
        ],
        caption="The TLS handshake timed alone (median, ms); full: no session offered "
        "(full resumed: how many of them the server resumed anyway, 0); resumed: TLS 1.3 "
        "tickets the gateway accepted of those offered; forwarded certs: what "
        "passTLSClientCert sent the backend (every certificate the client sent, leaf first).",
        checks=(TLS_EVIDENCE.check,),
    )
    for base in index.bases:
        r = index.get(base, TLS_EVIDENCE.check, TLS_HANDSHAKES)
        forwarded = index.get(base, TLS_EVIDENCE.check, TLS_FORWARDED)
        offered = _get(r, TLS_EVIDENCE.resumed_offered)
        accepted = _get(r, TLS_EVIDENCE.resumed)
        table.rows.append(
            row(
                base,
                fmt_ms(_get(r, stat_figure(TLS_EVIDENCE.full_handshake, STAT_MEDIAN))),
                _ci(_get(r, TLS_EVIDENCE.full_ci_low), _get(r, TLS_EVIDENCE.full_ci_high)),
                _number(_get(r, TLS_EVIDENCE.full_reused)),
                MISSING if accepted is None else f"{_number(accepted)}/{_number(offered)}",
                fmt_ms(_get(r, stat_figure(TLS_EVIDENCE.resumed_handshake, STAT_MEDIAN))),
                _ci(_get(r, TLS_EVIDENCE.resumed_ci_low), _get(r, TLS_EVIDENCE.resumed_ci_high)),
                _number(_get(forwarded, TLS_EVIDENCE.forwarded_entries)),
            )
        )
    return table


def _ci(low: Any, high: Any) -> str:
    if as_float(low) is None or as_float(high) is None:
        return MISSING
    return f"{fmt_ms(low)} - {fmt_ms(high)}"


def findings(r: Record | None) -> list[str]:
    """The health and metrics audit's findings, each a line."""
    found = r.details.get(HEALTH_METRICS.findings_list) if r else None
    return [str(f) for f in found] if isinstance(found, list) else []


def _findings(index: Index) -> Table:
    table = Table(
        HEALTH_METRICS.check,
        "Health and metrics audit",
        [
            Column("base"),
            Column("findings", numeric=True),
            Column("service families", numeric=True),
            Column("traefik families", numeric=True),
            Column("first finding"),
        ],
        caption="/healthz, /metrics of the service and of Traefik, and /ping: "
        "anything off is a finding.",
        checks=(HEALTH_METRICS.check,),
    )
    for base in index.bases:
        r = index.get(base, HEALTH_METRICS.check)
        lines = findings(r)
        table.rows.append(
            row(
                base,
                _number(_get(r, HEALTH_METRICS.findings)),
                _number(_get(r, HEALTH_METRICS.service_metric_families)),
                _number(_get(r, HEALTH_METRICS.traefik_metric_families)),
                Cell(lines[0] if lines else MISSING, "\n".join(lines)),
            )
        )
    return table


def _healthchecks(index: Index) -> Table:
    table = Table(
        HEALTHCHECK.check,
        "HEALTHCHECK styles",
        [
            Column("base"),
            *(Column(style) for style in HEALTHCHECK_STYLES),
            Column("status"),
            Column("healthy after", numeric=True),
        ],
        caption="Which Dockerfile HEALTHCHECK commands can run inside the image; status "
        "is Docker's verdict with the self-probe (/app -healthcheck).",
        checks=(HEALTHCHECK.check,),
    )
    for base in index.bases:
        r = index.get(base, HEALTHCHECK.check)
        styles = r.details.get(HEALTHCHECK.styles) if r else None
        cells = []
        for style in HEALTHCHECK_STYLES:
            result = styles.get(style) if isinstance(styles, Mapping) else None
            error = result.get(STYLE_RESULT.error) if isinstance(result, Mapping) else None
            cells.append(Cell(text(_get(r, style)), text(error, "")))
        table.rows.append(
            row(
                base,
                *cells,
                text(_get(r, HEALTHCHECK.self_probe_status)),
                fmt_seconds(_get(r, HEALTHCHECK.healthy_after)),
            )
        )
    return table


def _alignment(index: Index) -> Table:
    table = Table(
        ALIGNMENT.check,
        "Health alignment with Traefik",
        [
            Column("base"),
            Column("health interval"),
            Column("removed after", numeric=True),
            Column("restored after", numeric=True),
        ],
        caption="How long Traefik kept routing to a service that turned unhealthy, and "
        "how long it took to route to it again once healthy.",
        checks=(ALIGNMENT.check,),
    )
    for base in index.bases:
        r = index.get(base, ALIGNMENT.check)
        table.rows.append(
            row(
                base,
                text(_get(r, ALIGNMENT.health_interval)),
                fmt_ms(_get(r, ALIGNMENT.removed_after)),
                fmt_ms(_get(r, ALIGNMENT.restored_after)),
            )
        )
    return table


def _runtime(index: Index) -> Table:
    table = Table(
        RUNTIME_FACTS.check,
        "Runtime facts (as the Go service sees them)",
        [
            Column("base"),
            Column("uid", numeric=True),
            Column("time zones"),
            Column("with tzdata tag"),
            Column("CA pool", numeric=True),
            Column("Go DNS"),
            Column("cgo DNS"),
            Column("CA bundle", terminal=False),
        ],
        caption="time.LoadLocation from the image, and with time/tzdata embedded; the "
        "system cert pool; the Go and cgo resolvers on the stack's host names.",
        checks=(RUNTIME_FACTS.check,),
    )
    for base in index.bases:
        r = index.get(base, RUNTIME_FACTS.check)
        cgo = text(_get(r, RUNTIME_FACTS.cgo_resolver))
        # The sample service's error for a static build: "cgo resolver unavailable: ...".
        cgo_short = "unavailable" if "unavailable" in cgo else cgo
        table.rows.append(
            row(
                base,
                _number(_get(r, RUNTIME_FACTS.uid)),
                _yes_no(_get(r, RUNTIME_FACTS.timezones), "ok", "fail"),
                _yes_no(_get(r, RUNTIME_FACTS.timezones_embedded_tzdata), "ok", "fail"),
                _number(_get(r, RUNTIME_FACTS.cert_pool_size)),
                _yes_no(_get(r, RUNTIME_FACTS.go_resolver), "ok", "fail"),
                Cell(one_line(cgo_short, 40), cgo),
                text(_get(r, RUNTIME_FACTS.cert_bundle)),
            )
        )
    return table


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
