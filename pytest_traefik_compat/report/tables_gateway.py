"""The tables of what Traefik adds: latency over a direct request, the client identity it
forwards to the backend, and its local (Yaegi) plugin running on the base."""

from __future__ import annotations

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    CLIENT_IDENTITY,
    GATEWAY_OVERHEAD,
    MISSING,
    PLUGIN_VALUE,
    TRAEFIK_PLUGIN,
)
from pytest_traefik_compat.report.cells import (
    Cell,
    Column,
    Cost,
    Index,
    Table,
    _get,
    _number,
    _yes_no,
    as_float,
    fmt_cost,
    fmt_ms,
    row,
    text,
)
from pytest_traefik_compat.report.order import rank

# The overhead's variants, "<mode>-c<concurrency>", in the table's (and the chart's) order.
OVERHEAD_MODES = ("keepalive", "new-connection")
OVERHEAD_CONCURRENCIES = (1, 8)
OVERHEAD_VARIANTS = tuple(f"{m}-c{c}" for m in OVERHEAD_MODES for c in OVERHEAD_CONCURRENCIES)
_MODE_TITLES = {"keepalive": "keep-alive", "new-connection": "new conn."}


def overhead_variants(index: Index) -> list[str]:
    found = {r.variant for r in index.records if r.check == GATEWAY_OVERHEAD.check}
    return sorted(found, key=lambda v: rank(v, OVERHEAD_VARIANTS))


def variant_title(variant: str) -> str:
    """ "keepalive-c8" -> "keep-alive c=8"."""
    mode, _, concurrency = variant.rpartition("-c")
    if not mode or not concurrency.isdigit():
        return variant
    return f"{_MODE_TITLES.get(mode, mode)} c={concurrency}"


def added_cost(record: Record | None) -> Cost:
    """The latency Traefik added (median of through-Traefik - direct) with its interval."""
    return Cost(
        as_float(_get(record, GATEWAY_OVERHEAD.added_median)),
        as_float(_get(record, GATEWAY_OVERHEAD.added_ci_low)),
        as_float(_get(record, GATEWAY_OVERHEAD.added_ci_high)),
    )


def overhead_table(index: Index) -> Table:
    """One row per base, one column per mode and concurrency: the added latency."""
    variants = overhead_variants(index) or list(OVERHEAD_VARIANTS)
    table = Table(
        GATEWAY_OVERHEAD.check,
        "Gateway overhead: latency Traefik adds",
        [Column("base"), *(Column(variant_title(v), numeric=True) for v in variants)],
        caption="Median latency added by Traefik (HTTPS with mTLS) over a direct plain-HTTP "
        "GET of /healthz, with its 95% interval, per connection mode and concurrency; "
        '"no measurable cost" where the interval holds zero; * marks a series measured on '
        "a busy machine. Percentiles of both sides are in the next table and report.json.",
        checks=(GATEWAY_OVERHEAD.check,),
    )
    for base in index.bases:
        cells = [_added_cell(index.get(base, GATEWAY_OVERHEAD.check, v)) for v in variants]
        table.rows.append(row(base, *cells))
    return table


def _added_cell(record: Record | None) -> Cell:
    if record is None:
        return Cell(MISSING)
    shown = fmt_cost(added_cost(record), sign="+")
    noisy = " *" if _get(record, GATEWAY_OVERHEAD.noisy) is True else ""
    return Cell(shown + noisy, percentiles(record))


def percentiles(record: Record) -> str:
    """p50/p95/p99 of both sides, one line."""

    def three(side: str) -> str:
        values = (_get(record, f"{side}_{p}") for p in ("p50", "p95", "p99"))
        return "/".join(fmt_ms(v).removesuffix(" ms") for v in values) + " ms"

    return f"p50/p95/p99 direct {three('direct')}, through Traefik {three('traefik')}"


def overhead_percentiles_table(index: Index) -> Table:
    """Both sides' percentiles per base and variant (report.md and report.html only)."""
    table = Table(
        f"{GATEWAY_OVERHEAD.check}-percentiles",
        "Gateway overhead: percentiles of both sides",
        [
            Column("base"),
            Column("variant"),
            Column("added [95% CI]", numeric=True),
            *(
                Column(f"{side} {p}", numeric=True)
                for side in ("direct", "Traefik")
                for p in ("p50", "p95", "p99")
            ),
            Column("busy machine"),
        ],
        caption="Per request, ms; p99 needs 100 requests per side.",
        checks=(GATEWAY_OVERHEAD.check,),
        terminal=False,
    )
    for base in index.bases:
        for variant in overhead_variants(index):
            r = index.get(base, GATEWAY_OVERHEAD.check, variant)
            if r is None:
                continue
            table.rows.append(
                row(
                    base,
                    variant_title(variant),
                    fmt_cost(added_cost(r), sign="+"),
                    *(
                        fmt_ms(_get(r, f"{side}_{p}"))
                        for side in ("direct", "traefik")
                        for p in ("p50", "p95", "p99")
                    ),
                    _yes_no(_get(r, GATEWAY_OVERHEAD.noisy)),
                )
            )
    return table


def client_identity_table(index: Index) -> Table:
    table = Table(
        CLIENT_IDENTITY.check,
        "Client identity forwarded to the backend",
        [Column("base"), Column("client subject"), Column("PEM forwarded")],
        caption="What passTLSClientCert put in X-Forwarded-Tls-Client-Cert-Info (the "
        "client certificate's subject, here its CN) and whether the PEM header arrived.",
        checks=(CLIENT_IDENTITY.check,),
    )
    for base in index.bases:
        r = index.get(base, CLIENT_IDENTITY.check)
        info = text(_get(r, CLIENT_IDENTITY.forwarded_info))
        table.rows.append(
            row(
                base,
                Cell(_common_name(info), info),
                _yes_no(_get(r, CLIENT_IDENTITY.forwarded_pem)),
            )
        )
    return table


def _common_name(info: str) -> str:
    """'Subject="O=x,CN=client 1";Issuer=...' -> "CN=client 1"; else the value."""
    subject = info.split(";", 1)[0].removeprefix("Subject=").strip('"')
    for part in subject.split(","):
        if part.strip().startswith("CN="):
            return part.strip()
    return info


def traefik_plugin_table(index: Index) -> Table:
    table = Table(
        TRAEFIK_PLUGIN.check,
        "Traefik's local plugin (Yaegi) on the base",
        [Column("base"), Column("plugin ran"), Column("status", numeric=True)],
        caption=f"A local plugin that sets a header ({PLUGIN_VALUE}); it ran when the "
        "backend saw that header.",
        checks=(TRAEFIK_PLUGIN.check,),
    )
    for base in index.bases:
        r = index.get(base, TRAEFIK_PLUGIN.check)
        header = _get(r, TRAEFIK_PLUGIN.header)
        ran = MISSING if r is None else ("yes" if header == PLUGIN_VALUE else "no")
        table.rows.append(
            row(base, Cell(ran, text(header)), _number(_get(r, TRAEFIK_PLUGIN.status)))
        )
    return table
