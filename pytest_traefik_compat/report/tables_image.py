"""The tables about the image and the service in it: image facts, the start matrix, the
health and metrics audit, HEALTHCHECK styles, health alignment, runtime facts and Go
plugins."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pytest_traefik_compat.records import Record
from pytest_traefik_compat.records.checks import (
    ALIGNMENT,
    BUILD_FAILED,
    FAILS,
    GLIBC,
    GO_PLUGIN,
    HEALTH_METRICS,
    HEALTHCHECK,
    HEALTHCHECK_STYLES,
    IMAGE_FACTS,
    LINKAGE_ORDER,
    LOADS,
    MISSING,
    MUSL,
    RUNTIME_FACTS,
    START_MATRIX,
    STARTS,
    STYLE_RESULT,
)
from pytest_traefik_compat.report.cells import (
    Cell,
    Column,
    Index,
    Table,
    _figure,
    _get,
    _number,
    _present,
    _yes_no,
    fmt_bytes,
    fmt_ms,
    one_line,
    row,
    text,
)


def image_facts_table(index: Index) -> Table:
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


def start_matrix_table(index: Index) -> Table:
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


def findings(r: Record | None) -> list[str]:
    """The health and metrics audit's findings, each a line."""
    found = r.details.get(HEALTH_METRICS.findings_list) if r else None
    return [str(f) for f in found] if isinstance(found, list) else []


def findings_table(index: Index) -> Table:
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


def healthcheck_table(index: Index) -> Table:
    table = Table(
        HEALTHCHECK.check,
        "HEALTHCHECK styles",
        [
            Column("base"),
            *(Column(style) for style in HEALTHCHECK_STYLES),
            Column("status"),
            Column("healthy after", numeric=True),
            Column("probe interval", numeric=True, terminal=False),
        ],
        caption="Which Dockerfile HEALTHCHECK commands can run inside the image; status "
        "is Docker's verdict with the self-probe (/app -healthcheck). Healthy after: a "
        "fresh container's State.StartedAt to the end of its first passing probe, from "
        "Docker's own health log; the first probe runs one interval after the start.",
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
                _healthy_after(r),
                fmt_ms(_get(r, HEALTHCHECK.health_interval)),
            )
        )
    return table


def _healthy_after(record: Record | None) -> str:
    """Formatted by the figure's own unit: a report may carry it in s or in ms."""
    figure = record.figures.get(HEALTHCHECK.healthy_after) if record else None
    return MISSING if figure is None else _figure(figure.value, figure.unit)


def alignment_table(index: Index) -> Table:
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


def runtime_table(index: Index) -> Table:
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


def go_plugin_table(index: Index) -> Table:
    """Per base and linkage: does a Go -buildmode=plugin load into its host."""
    variants = index.variants(GO_PLUGIN.check) or [GLIBC, MUSL]
    table = Table(
        GO_PLUGIN.check,
        "Go plugins (-buildmode=plugin) on the base",
        [Column("base"), *(Column(v) for v in variants)],
        caption="A host and a plugin built per linkage, the plugin loaded with plugin.Open; "
        "predicted from the ELF headers like the start matrix, the error in the tooltip.",
        checks=(GO_PLUGIN.check,),
    )
    for base in index.bases:
        cells = (_plugin_cell(index.get(base, GO_PLUGIN.check, v)) for v in variants)
        table.rows.append([Cell(base), *cells])
    return table


def _plugin_cell(r: Record | None) -> Cell:
    if r is None:
        return Cell(MISSING)
    if r.value(GO_PLUGIN.outcome) == BUILD_FAILED:
        return Cell("build failed", text(r.details.get(GO_PLUGIN.error), ""), "fails")
    predicted, observed = r.value(GO_PLUGIN.predicted), r.value(GO_PLUGIN.observed)
    if observed is None:
        return Cell(f"not run (predicted {predicted})" if predicted else MISSING)
    tip = "; ".join(
        text(value, "")
        for value in (r.details.get(GO_PLUGIN.reason), r.details.get(GO_PLUGIN.error))
        if value
    )
    shown = (
        str(observed) if predicted in (None, observed) else f"{observed} (predicted {predicted})"
    )
    return Cell(shown, tip, "starts" if observed == LOADS else "fails")
