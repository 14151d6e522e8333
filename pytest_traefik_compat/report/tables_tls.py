"""The TLS tables: TLS, mTLS and gRPC through Traefik, the gateway's answer per TLS case,
and the handshake timed alone (full and resumed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    CASE_OUTCOME,
    GRPC,
    MISSING,
    MTLS,
    NO_SNI,
    RECORDED,
    REFUSAL,
    STAT_MEDIAN,
    TLS,
    TLS_CASE_VARIANTS,
    TLS_EVIDENCE,
    TLS_FORWARDED,
    TLS_HANDSHAKES,
    TLS_REFUSALS,
    UNKNOWN_SNI,
    stat_figure,
)
from pytest_traefik_compat.report.cells import (
    Cell,
    Column,
    Index,
    Table,
    _get,
    _number,
    as_float,
    fmt_ms,
    one_line,
    row,
    text,
)

# The mTLS probes without a client certificate, as the table names them.
SNI_PROBES = {NO_SNI: "no-SNI", UNKNOWN_SNI: "unknown-SNI"}


def tls_table(index: Index) -> Table:
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
            Column("request", numeric=True),
            Column("bad clients refused"),
            Column("gRPC"),
            Column("cipher", terminal=False),
            Column("gRPC echo", numeric=True, terminal=False),
        ],
        caption="mTLS ok: valid client chains accepted; handshake: the mTLS handshake alone, "
        "median; request: one request through Traefik (connect, handshake, GET, answer, "
        "close), median; bad clients: bad certificates refused, plus requests without or "
        "with an unknown SNI.",
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
                fmt_ms(_request_median(mtls)),
                _bad_clients(mtls),
                text(_get(grpc, GRPC.health)),
                text(_get(tls, TLS.cipher)),
                fmt_ms(_get(grpc, stat_figure(GRPC.echo, STAT_MEDIAN))),
            )
        )
    return table


def _request_median(r: Record | None) -> Any:
    """One request's time through Traefik; older reports named that series handshake."""
    for series in (MTLS.request, MTLS.legacy_handshake):
        value = _get(r, stat_figure(series, STAT_MEDIAN))
        if value is not None:
            return value
    return None


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


def tls_cases_table(index: Index) -> Table:
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
    # The terminal keeps the cases off their expectation or answered differently by
    # the bases; the others are one line.
    table.terminal_rows = [r for r in table.rows if not _as_expected_everywhere(r[2:])]
    quiet = len(table.rows) - len(table.terminal_rows)
    if quiet:
        which = "other cases" if table.terminal_rows else "cases"
        table.terminal_note = f"{quiet} {which}: the expected answer on every base"
    return table


def _as_expected_everywhere(cells: list[Cell]) -> bool:
    return (
        bool(cells)
        and len({c.text for c in cells}) == 1
        and all(c.css != "bad" and c.text != MISSING for c in cells)
    )


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


def tls_handshakes_table(index: Index) -> Table:
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
