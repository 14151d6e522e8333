"""Reports: the terminal summary, report.json / report.md / report.html, and shard merging.

Pure Python, no pytest: the session calls :func:`terminal_tables` and
:func:`write_reports`; ``python -m pytest_traefik_compat merge`` calls
:func:`merge_command`. Every table is built once (:func:`_tables`) and rendered three
ways, so the terminal, the Markdown and the HTML always agree.

report.json (schema ``data/report.schema.json``, JSON Schema draft 2020-12)
---------------------------------------------------------------------------

=================  ==========================================================
``schema_version``  integer, bumped on any incompatible change; ``merge``
                    refuses shards whose version differs from its own
``generated_at``    UTC time the document was written (ISO 8601)
``meta``            the run: ``run_id``, ``versions`` (plugin/go/traefik),
                    ``bases``, ``command_line``, ``shard``, ``merged_from``...
``bases``           base names, in the order of the run's ``--traefik-images``
``records``         one per (base, check, variant), sorted in that order
=================  ==========================================================

A record: ``base``, ``check`` (``image-facts``, ``start-matrix``... or a user's own),
``variant`` (the linkage for ``start-matrix``, else ``""``), ``figures``
(``{name: {value, unit}}``, units ``bytes``/``ms``/``s``/``count``/``ratio``/``""``),
``samples`` (raw measurements, ``{name: [number]}``) with ``sample_units``,
``details`` (free-form evidence: log lines, refusals, findings), ``provenance`` (the
base image: ``source`` local/registry/custom, ``reference``, ``image_id``,
``size_bytes``, ``libc``, ``note``), ``versions``, ``outcome``
(passed/failed/error/skipped/recorded), ``test_id``, ``worker`` and ``seconds``.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
import re
import tempfile
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.records import SCHEMA_VERSION, Record, summarize

__all__ = [
    "SCHEMA_FILE",
    "TERMINAL_WIDTH",
    "ReportPaths",
    "build_report",
    "load_report",
    "load_schema",
    "merge_command",
    "merge_reports",
    "render_html",
    "render_markdown",
    "terminal_tables",
    "write_document",
    "write_reports",
]

TERMINAL_WIDTH = 100
SCHEMA_FILE = "report.schema.json"

# The suite's order (a reader's order: what the image is, whether it starts, how fast...);
# users' own checks follow alphabetically.
CHECK_ORDER: tuple[str, ...] = (
    "image-facts",
    "start-matrix",
    "startup-latency",
    "memory",
    "tls",
    "mtls",
    "grpc",
    "health-metrics",
    "healthcheck",
    "alignment",
    "runtime-facts",
)
# gobuild.LINKAGES, spelled out so that merging reports never imports the Go builder.
LINKAGE_ORDER: tuple[str, ...] = ("static", "glibc", "musl")
SNI_PROBES = {"no-sni": "no-SNI", "unknown-sni": "unknown-SNI"}
HEALTHCHECK_STYLES: tuple[str, ...] = ("curl", "wget", "shell", "self-probe")
MISSING = "-"


class ReportPaths(NamedTuple):
    json: Path
    markdown: Path
    html: Path


# --------------------------------------------------------------------------- #
# The document
# --------------------------------------------------------------------------- #


def build_report(
    records: Iterable[Record],
    *,
    meta: Mapping[str, Any],
    generated_at: str | None = None,
) -> dict[str, Any]:
    """The versioned report document (see the module docstring and the JSON schema).

    ``meta["bases"]``, when given, fixes the base order (the configured order, so a
    ``-n 3`` run, whose records arrive in any order, reports like a serial one); bases
    seen only in records follow in first-seen order.
    """
    records = list(records)
    bases = _base_order(records, meta.get("bases") or ())
    meta_out: dict[str, Any] = _jsonable(dict(meta))
    meta_out["bases"] = bases
    if not meta_out.get("versions"):
        versions: dict[str, str] = {}
        for record in records:
            for name, version in record.versions.items():
                versions.setdefault(name, version)
        meta_out["versions"] = versions
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": generated_at or _utc_now(),
        "meta": meta_out,
        "bases": bases,
        "records": [_jsonable(r.to_json()) for r in sort_records(records, bases)],
    }


def sort_records(records: Iterable[Record], bases: Sequence[str]) -> list[Record]:
    """Stable sort by (base order, check order, variant order).

    Bases missing from ``bases`` follow in first-seen order, each kept together.
    """
    records = list(records)
    base_rank = {name: index for index, name in enumerate(_base_order(records, bases))}

    def key(record: Record) -> tuple[int, int, str, int, str]:
        return (
            base_rank[record.base],
            *_rank(record.check, CHECK_ORDER),
            *_rank(record.variant, LINKAGE_ORDER),
        )

    return sorted(records, key=key)


def _rank(name: str, order: Sequence[str]) -> tuple[int, str]:
    return (order.index(name), "") if name in order else (len(order), name)


def _base_order(records: Sequence[Record], configured: Iterable[str]) -> list[str]:
    bases = [str(name) for name in configured]
    for record in records:
        if record.base not in bases:
            bases.append(record.base)
    return list(dict.fromkeys(bases))


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    """Plain JSON: NaN/inf become null (strict parsers reject them), odd types strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return str(value)


def load_schema() -> dict[str, Any]:
    text = (
        resources.files("pytest_traefik_compat").joinpath("data").joinpath(SCHEMA_FILE).read_text()
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


# --------------------------------------------------------------------------- #
# Writing
# --------------------------------------------------------------------------- #


def write_reports(
    records: Iterable[Record], directory: Path | str, *, meta: Mapping[str, Any]
) -> ReportPaths:
    """Write report.json, report.md and report.html into ``directory`` (created)."""
    return write_document(build_report(records, meta=meta), directory)


def write_document(
    document: Mapping[str, Any],
    directory: Path | str,
    *,
    option: str = "--traefik-report-dir",
) -> ReportPaths:
    """Write the three files of one document; ``option`` is the flag named on failure."""
    directory = Path(directory)
    paths = ReportPaths(
        directory / "report.json", directory / "report.md", directory / "report.html"
    )
    texts = (
        json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        render_markdown(document),
        render_html(document),
    )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, text in zip(paths, texts, strict=True):
            _write_atomic(path, text)
    except OSError as error:
        reason = error.strerror or str(error)
        raise CompatError(
            f"cannot write the report to {directory}: {reason}; "
            f"choose a writable directory with {option}"
        ) from None
    return paths


def _write_atomic(path: Path, text: str) -> None:
    # A reader (a CI artifact upload, a browser) never sees half a file.
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.chmod(temp, 0o644)  # mkstemp makes 0600; reports are for everyone
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


# --------------------------------------------------------------------------- #
# Loading and merging
# --------------------------------------------------------------------------- #


def load_report(path: Path | str) -> tuple[dict[str, Any], list[Record]]:
    """Read a report.json: the document and its records; CompatError if it is not one."""
    return _load(Path(path), "file")


def _load(path: Path, role: str) -> tuple[dict[str, Any], list[Record]]:
    def refuse(reason: str) -> CompatError:
        return CompatError(f"{role} {path} is not a report: {_one_line(reason)}")

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise refuse(error.strerror or str(error)) from None
    except UnicodeDecodeError:
        raise refuse("not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise refuse(f"invalid JSON ({error})") from None
    if not isinstance(document, dict) or "schema_version" not in document:
        raise refuse("no schema_version (is it a pytest-traefik-compat report.json?)")
    version = document["schema_version"]
    if version != SCHEMA_VERSION:
        raise CompatError(
            f"{role} {path} has report schema version {version!r}, this "
            f"pytest-traefik-compat reads version {SCHEMA_VERSION}: merge shards written "
            "by the same plugin version"
        )
    problem = _schema_problem(document)
    if problem:
        raise refuse(problem)
    try:
        records = [Record.from_json(item) for item in document["records"]]
    except (TypeError, KeyError, AttributeError) as error:
        raise refuse(f"bad record ({error})") from None
    return document, records


def _schema_problem(document: Any) -> str:
    """The first schema violation, or "" (also "" when jsonschema is not installed)."""
    try:
        import jsonschema
    except ImportError:  # a test extra: without it the version check must do
        return ""
    validator = jsonschema.Draft202012Validator(load_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return ""
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"{where}: {error.message}"


def _one_line(text: str, limit: int = 240) -> str:
    # Values come from container logs: no escape sequences may reach a terminal.
    line = "".join(ch if ch.isprintable() else "?" for ch in " ".join(text.split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def merge_reports(paths: Sequence[Path | str]) -> dict[str, Any]:
    """Join shard reports (one per CI matrix job) into one document.

    Refuses, with one line naming the file: unreadable or corrupt shards, other schema
    versions, and a base that appears in two shards (it would be counted twice).
    """
    if not paths:
        raise CompatError("merge needs at least one shard report.json")
    owner: dict[str, Path] = {}
    records: list[Record] = []
    bases: list[str] = []
    shards: list[dict[str, Any]] = []
    for raw in paths:
        path = Path(raw)
        document, shard_records = _load(path, "shard")
        shard_bases = _base_order(shard_records, document.get("bases") or ())
        for base in shard_bases:
            if base in owner:
                raise CompatError(
                    f"base {base} appears in shard {owner[base]} and {path}: "
                    "give each matrix job its own --traefik-images"
                )
            owner[base] = path
        bases += shard_bases
        records += shard_records
        shards.append({"file": str(path), "meta": document.get("meta") or {}})
    return build_report(records, meta=_merged_meta(shards, bases))


def _merged_meta(shards: Sequence[Mapping[str, Any]], bases: list[str]) -> dict[str, Any]:
    metas = [shard["meta"] for shard in shards]
    meta: dict[str, Any] = {"bases": bases}
    notes: list[str] = []
    # A run-level value survives only if every shard agrees; disagreement is a note.
    for key in ("versions",):
        values = [m.get(key) or {} for m in metas]
        merged: dict[str, Any] = {}
        for name in dict.fromkeys(n for v in values for n in v):
            seen = sorted({str(v[name]) for v in values if name in v})
            merged[name] = ", ".join(seen)
            if len(seen) > 1:
                notes.append(f"shards ran different {name} versions: {', '.join(seen)}")
        meta[key] = merged
    meta["merged_from"] = [
        {
            "file": shard["file"],
            "run_id": shard["meta"].get("run_id"),
            "bases": shard["meta"].get("bases"),
            "shard": shard["meta"].get("shard"),
        }
        for shard in shards
    ]
    if notes:
        meta["notes"] = notes
    return meta


def merge_command(paths: Sequence[Path], out_dir: Path) -> ReportPaths:
    """``python -m pytest_traefik_compat merge SHARD.json... -o DIR``."""
    return write_document(merge_reports(paths), out_dir, option="-o")


# --------------------------------------------------------------------------- #
# Tables: one model, three renderings
# --------------------------------------------------------------------------- #


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


class _Index:
    """Records by (base, check, variant): the first one wins, like the terminal shows."""

    def __init__(self, records: Sequence[Record], bases: Sequence[str] | None = None) -> None:
        self.records = list(records)
        self.bases = _base_order(self.records, bases or ())
        self._by: dict[tuple[str, str, str], Record] = {}
        for record in self.records:
            self._by.setdefault(record.key, record)

    def get(self, base: str, check: str, variant: str = "") -> Record | None:
        return self._by.get((base, check, variant))

    def has(self, check: str) -> bool:
        return any(r.check == check for r in self.records)

    def variants(self, check: str) -> list[str]:
        found = {r.variant for r in self.records if r.check == check}
        return sorted(found, key=lambda v: _rank(v, LINKAGE_ORDER))


def _tables(index: _Index) -> list[Table]:
    tables = [
        _image_facts(index),
        _start_matrix(index),
        _latency(index),
        _tls(index),
        _findings(index),
        _healthchecks(index),
        _alignment(index),
        _runtime(index),
    ]
    known = set(CHECK_ORDER)
    extra = sorted({r.check for r in index.records} - known)
    tables += [_generic(index, check) for check in extra]
    for table in tables:
        _flag_failures(index, table)
    return tables


# Which checks feed each table: a failed test marks its base's row.
_TABLE_CHECKS: dict[str, tuple[str, ...]] = {
    "latency": ("startup-latency", "memory"),
    "tls": ("tls", "mtls", "grpc"),
}


def _flag_failures(index: _Index, table: Table) -> None:
    generic = table.key.startswith("check-")  # a user's check: the title is its name
    checks = (table.title,) if generic else _TABLE_CHECKS.get(table.key, (table.key,))
    for row in table.rows:
        base = row[0].text
        failed = [
            r
            for r in index.records
            if r.base == base and r.check in checks and r.outcome in ("failed", "error")
        ]
        if failed:
            tip = "; ".join(f"{r.test_id or r.check}: {r.outcome}" for r in failed)
            row[0] = Cell(base, tip, "failed")


def _row(base: str, *cells: Cell | str) -> list[Cell]:
    return [Cell(base), *(c if isinstance(c, Cell) else Cell(c) for c in cells)]


def _image_facts(index: _Index) -> Table:
    table = Table(
        "image-facts",
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
    )
    for base in index.bases:
        r = index.get(base, "image-facts")
        if r is None:
            table.rows.append(_row(base, *[MISSING] * (len(table.columns) - 1)))
            continue
        shell = _text(r.value("shell"))
        tools = [name for name in ("curl", "wget") if _present(r.value(name))]
        known_tools = "curl" in r.figures or "wget" in r.figures
        bundle = r.value("ca_bundle")
        table.rows.append(
            _row(
                base,
                _bytes(r.value("size")),
                _number(r.value("layers")),
                _text(r.value("libc")),
                Cell(shell.rsplit("/", 1)[-1] if shell != MISSING else MISSING, shell),
                Cell(", ".join(tools) or "none") if known_tools else Cell(MISSING),
                Cell(
                    _yes_no(_present(bundle)) if "ca_bundle" in r.figures else MISSING,
                    _text(bundle),
                ),
                _text(r.value("default_user")),
                _yes_no(r.value("zoneinfo")),
                _number(r.value("files")),
                _text(r.value("os_name")),
            )
        )
    return table


def _start_matrix(index: _Index) -> Table:
    variants = index.variants("start-matrix") or list(LINKAGE_ORDER)
    table = Table(
        "start-matrix",
        "Start matrix",
        [Column("base"), *(Column(v) for v in variants)],
        caption="The sample service built each way and started on each base; a failure "
        "names what is missing. The prediction from the ELF headers and the runtime's own "
        "message are in report.json (and in the HTML tooltips).",
    )
    for base in index.bases:
        table.rows.append(
            [Cell(base), *(_start_cell(index.get(base, "start-matrix", v)) for v in variants)]
        )
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
    predicted = r.value("predicted")
    predicted_reason = _text(r.value("prediction_reason"), "")
    observed = r.value("observed")
    observed_reason = _text(r.value("observed_reason"), "")
    exit_code = r.value("exit_code")
    tip_parts = []
    if predicted is not None:
        tip_parts.append(f"predicted {predicted}: {predicted_reason}".rstrip(": "))
    if observed is not None:
        tip_parts.append(f"observed {observed}: {observed_reason}".rstrip(": "))
    if exit_code not in (None, MISSING):
        tip_parts.append(f"exit code {exit_code}")
    if r.value("outcome") == "build failed":
        error = _text(r.details.get("build_error"), "")
        return Cell("build failed", _one_line(error, 300), "fails")
    tip = "; ".join(tip_parts)
    if observed == "starts":
        if predicted == "fails":
            return Cell("starts (predicted fails)", tip, "starts mismatch")
        return Cell("starts", tip, "starts")
    if observed == "fails":
        if predicted == "fails" and predicted_reason:
            return Cell(f"fails: {_short_reason(predicted_reason)}", tip, "fails")
        reason = _one_line(observed_reason or "no reason recorded", 60)
        mismatch = " mismatch" if predicted == "starts" else ""
        return Cell(f"fails: {reason}", tip, "fails" + mismatch)
    return Cell(f"not run (predicted {predicted})" if predicted else MISSING, tip, "missing")


def _latency(index: _Index) -> Table:
    table = Table(
        "latency",
        "Startup latency, memory and size",
        [
            Column("base"),
            Column("direct med", numeric=True),
            Column("direct p95", numeric=True),
            Column("traefik med", numeric=True),
            Column("traefik p95", numeric=True),
            Column("floor med", numeric=True),
            Column("RSS", numeric=True),
            Column("base image", numeric=True),
            Column("RSS /metrics", numeric=True, terminal=False),
            Column("service image", numeric=True, terminal=False),
        ],
        caption="Container create+start to the first 200 on /healthz, directly and "
        "through Traefik; the floor is a trivial static program's create+start+exit. "
        "RSS is the kernel's VmRSS after warm-up.",
    )
    for base in index.bases:
        stats = _latency_stats(index.get(base, "startup-latency"))
        memory = index.get(base, "memory")
        facts = index.get(base, "image-facts")
        table.rows.append(
            _row(
                base,
                _ms(stats["direct"].get("median")),
                _ms(stats["direct"].get("p95")),
                _ms(stats["traefik"].get("median")),
                _ms(stats["traefik"].get("p95")),
                _ms(stats["floor"].get("median")),
                _bytes(memory.value("rss_kernel") if memory else None),
                _bytes(facts.value("size") if facts else _provenance_size(index, base)),
                _bytes(memory.value("rss_metrics") if memory else None),
                _bytes(_service_image_size(index, base)),
            )
        )
    return table


def _latency_stats(r: Record | None) -> dict[str, dict[str, float]]:
    """min/median/p95/max per series, from the figures or else the raw samples."""
    stats: dict[str, dict[str, float]] = {}
    for series in ("direct", "traefik", "floor"):
        values: dict[str, float] = {}
        if r is not None:
            for stat in ("min", "median", "p95", "max"):
                number = _as_float(r.value(f"{series}_{stat}"))
                if number is not None:
                    values[stat] = number
            samples = [s for s in r.samples.get(series, []) if _as_float(s) is not None]
            if not values and samples:
                values = summarize(samples)
        stats[series] = values
    return stats


def _provenance_size(index: _Index, base: str) -> Any:
    for record in index.records:
        if record.base == base and "size_bytes" in record.provenance:
            return record.provenance["size_bytes"]
    return None


def _service_image_size(index: _Index, base: str) -> Any:
    r = index.get(base, "start-matrix", "static")
    return r.value("image_size") if r else None


def _tls(index: _Index) -> Table:
    table = Table(
        "tls",
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
    )
    for base in index.bases:
        tls = index.get(base, "tls")
        mtls = index.get(base, "mtls")
        grpc = index.get(base, "grpc")
        refused = tls.value("tls12_refused") if tls else None
        table.rows.append(
            _row(
                base,
                _text(tls.value("version") if tls else None),
                MISSING if refused is None else ("refused" if refused else "ACCEPTED"),
                _text(tls.value("alpn_offered_h2") if tls else None),
                _success(mtls),
                _ms(mtls.value("handshake_median") if mtls else None),
                _bad_clients(mtls),
                _text(grpc.value("health") if grpc else None),
                _text(tls.value("cipher") if tls else None),
                _ms(grpc.value("echo_median") if grpc else None),
            )
        )
    return table


def _success(r: Record | None) -> str:
    if r is None:
        return MISSING
    rate = _as_float(r.value("success_rate"))
    count = _as_float(r.value("handshakes"))
    if rate is None:
        return MISSING
    if count is None:
        return f"{rate:.0%}"
    return f"{round(rate * count)}/{int(count)}"


def _bad_clients(r: Record | None) -> Cell:
    if r is None:
        return Cell(MISSING)
    refusals = r.details.get("refusals")
    if isinstance(refusals, Mapping) and refusals:
        certs = {k: v for k, v in refusals.items() if k not in SNI_PROBES}
        let_in = [k for k, v in refusals.items() if not _refused(v)]
        text = f"{sum(_refused(v) for v in certs.values())}/{len(certs)}"
        sni = [label for key, label in SNI_PROBES.items() if _refused(refusals.get(key))]
        if sni:
            text += " + " + "/".join(sni)
        if let_in:
            text += " (let in: " + ", ".join(let_in) + ")"
        tip = "; ".join(
            f"{kind}: {'refused' if _refused(v) else 'LET IN'}" for kind, v in refusals.items()
        )
        return Cell(text, tip, "" if not let_in else "bad")
    tried = _as_float(r.value("bad_tried"))
    let_in_count = _as_float(r.value("bad_let_in"))
    if tried is None or let_in_count is None:
        return Cell(MISSING)
    return Cell(f"{int(tried - let_in_count)}/{int(tried)}")


def _refused(probe: Any) -> bool:
    return isinstance(probe, Mapping) and bool(probe.get("refused"))


def _findings(index: _Index) -> Table:
    table = Table(
        "health-metrics",
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
    )
    for base in index.bases:
        r = index.get(base, "health-metrics")
        found = r.details.get("findings") if r else None
        findings = [str(f) for f in found] if isinstance(found, list) else []
        table.rows.append(
            _row(
                base,
                _number(r.value("findings") if r else None),
                _number(r.value("service_metric_families") if r else None),
                _number(r.value("traefik_metric_families") if r else None),
                Cell(findings[0] if findings else MISSING, "\n".join(findings)),
            )
        )
    return table


def _healthchecks(index: _Index) -> Table:
    table = Table(
        "healthcheck",
        "HEALTHCHECK styles",
        [
            Column("base"),
            *(Column(style) for style in HEALTHCHECK_STYLES),
            Column("status"),
            Column("healthy after", numeric=True),
        ],
        caption="Which Dockerfile HEALTHCHECK commands can run inside the image; status "
        "is Docker's verdict with the self-probe (/app -healthcheck).",
    )
    for base in index.bases:
        r = index.get(base, "healthcheck")
        styles = r.details.get("styles") if r else None
        cells = []
        for style in HEALTHCHECK_STYLES:
            text = _text(r.value(style) if r else None)
            result = styles.get(style) if isinstance(styles, Mapping) else None
            tip = _text(result.get("error"), "") if isinstance(result, Mapping) else ""
            cells.append(Cell(text, tip))
        table.rows.append(
            _row(
                base,
                *cells,
                _text(r.value("self_probe_status") if r else None),
                _seconds(r.value("healthy_after") if r else None),
            )
        )
    return table


def _alignment(index: _Index) -> Table:
    table = Table(
        "alignment",
        "Health alignment with Traefik",
        [
            Column("base"),
            Column("health interval"),
            Column("removed after", numeric=True),
            Column("restored after", numeric=True),
        ],
        caption="How long Traefik kept routing to a service that turned unhealthy, and "
        "how long it took to route to it again once healthy.",
    )
    for base in index.bases:
        r = index.get(base, "alignment")
        table.rows.append(
            _row(
                base,
                _text(r.value("health_interval") if r else None),
                _ms(r.value("removed_after") if r else None),
                _ms(r.value("restored_after") if r else None),
            )
        )
    return table


def _runtime(index: _Index) -> Table:
    table = Table(
        "runtime-facts",
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
    )
    for base in index.bases:
        r = index.get(base, "runtime-facts")
        cgo = _text(r.value("cgo_resolver") if r else None)
        cgo_short = "unavailable" if "unavailable" in cgo else cgo
        table.rows.append(
            _row(
                base,
                _number(r.value("uid") if r else None),
                _yes_no(r.value("timezones") if r else None, "ok", "fail"),
                _yes_no(r.value("timezones_embedded_tzdata") if r else None, "ok", "fail"),
                _number(r.value("cert_pool_size") if r else None),
                _yes_no(r.value("go_resolver") if r else None, "ok", "fail"),
                Cell(_one_line(cgo_short, 40), cgo),
                _text(r.value("cert_bundle") if r else None),
            )
        )
    return table


def _generic(index: _Index, check: str) -> Table:
    """A user's own check: every figure a column, one row per (base, variant)."""
    records = [r for r in index.records if r.check == check]
    names = list(dict.fromkeys(name for r in records for name in r.figures))
    with_variant = any(r.variant for r in records)
    columns = [Column("base")]
    if with_variant:
        columns.append(Column("variant"))
    for name in names:
        units = {r.figures[name].unit for r in records if name in r.figures}
        values = [r.figures[name].value for r in records if name in r.figures]
        numeric = all(_as_float(v) is not None or v is None for v in values)
        unit = next(iter(units)) if len(units) == 1 else ""
        title = f"{name} ({unit})" if unit and unit not in ("bytes", "ms", "s") else name
        columns.append(Column(title, numeric=numeric))
    table = Table(f"check-{_slug(check)}", check, columns)
    for base in index.bases:
        mine = [r for r in records if r.base == base]
        rows: list[Record | None] = [*sort_records(mine, [base])] or [None]
        for r in rows:  # a base without this check still gets its row of "-"
            row = [Cell(base)]
            if with_variant:
                row.append(Cell(r.variant or MISSING if r else MISSING))
            for name in names:
                figure = r.figures.get(name) if r else None
                row.append(Cell(_figure(figure.value, figure.unit) if figure else MISSING))
            table.rows.append(row)
    return table


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "check"


# ---- value formatting: missing data is always "-"


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any, missing: str = MISSING) -> str:
    if value is None or value == "":
        return missing
    return _one_line(str(value), 400)


def _present(value: Any) -> bool:
    return value not in (None, "", MISSING, False)


def _yes_no(value: Any, yes: str = "yes", no: str = "no") -> str:
    if value is None or value == MISSING:
        return MISSING
    return yes if value else no


def _number(value: Any) -> str:
    number = _as_float(value)
    if number is None:
        return _text(value)
    return str(int(number)) if number.is_integer() else f"{number:.4g}"


def _bytes(value: Any) -> str:
    # Decimal units, as `docker images` prints them.
    number = _as_float(value)
    if number is None:
        return MISSING
    for unit in ("B", "kB", "MB", "GB"):
        if abs(number) < 1000 or unit == "GB":
            return f"{number:.0f} {unit}" if unit == "B" else f"{number:.1f} {unit}"
        number /= 1000
    raise AssertionError("unreachable")


def _ms(value: Any) -> str:
    number = _as_float(value)
    if number is None:
        return MISSING
    if number.is_integer() or abs(number) >= 10:
        return f"{number:.0f} ms"
    return f"{number:.1f} ms"


def _seconds(value: Any) -> str:
    number = _as_float(value)
    if number is None:
        return MISSING
    return _ms(number * 1000) if number < 1 else f"{number:.2f} s"


def _figure(value: Any, unit: str) -> str:
    if isinstance(value, bool):
        return _yes_no(value)
    if unit == "bytes":
        return _bytes(value)
    if unit == "ms":
        return _ms(value)
    if unit == "s":
        return _seconds(value)
    return _number(value)


# --------------------------------------------------------------------------- #
# Terminal
# --------------------------------------------------------------------------- #


def terminal_tables(
    records: Iterable[Record], *, bases: Sequence[str] | None = None, width: int = TERMINAL_WIDTH
) -> list[str]:
    """The end-of-run summary: one row per base in each table, lines <= ``width``."""
    index = _Index(list(records), bases)
    if not index.records:
        return ["pytest-traefik-compat: no records"]
    lines: list[str] = []
    for table in _tables(index):
        if not _table_has_data(index, table):
            continue
        lines += ["", table.title, *_fit_table(table, width)]
    lines += [""] + [_cut(line, width) for line in _footer_lines(index, width)]
    return lines[1:] if lines and lines[0] == "" else lines


def _table_has_data(index: _Index, table: Table) -> bool:
    # A run with -k or custom checks need not print nine tables of dashes.
    key = table.key[len("check-") :] if table.key.startswith("check-") else table.key
    if key == "latency":
        return any(index.has(c) for c in ("startup-latency", "memory"))
    if key == "tls":
        return any(index.has(c) for c in ("tls", "mtls", "grpc"))
    return table.key.startswith("check-") or index.has(key)


def _fit_table(table: Table, width: int) -> list[str]:
    keep = [i for i, c in enumerate(table.columns) if c.terminal]
    headers = [table.columns[i].title for i in keep]
    rows = [[row[i].text for i in keep] for row in table.rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    minimum = [min(w, 6) for w in widths]
    gap = 2
    while sum(widths) + gap * (len(widths) - 1) > width:
        shrinkable = [i for i, w in enumerate(widths) if w > minimum[i]]
        if not shrinkable:
            return _lines_per_base(table, width)
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    numeric = [table.columns[i].numeric for i in keep]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for text, size, right in zip(cells, widths, numeric, strict=True):
            text = _cut(text, size)
            parts.append(text.rjust(size) if right else text.ljust(size))
        return (" " * gap).join(parts).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _lines_per_base(table: Table, width: int) -> list[str]:
    """Too many columns for a table: ``base: name value, ...`` wrapped per row."""
    lines = []
    for row in table.rows:
        pairs = [
            f"{c.title} {cell.text}" for c, cell in zip(table.columns[1:], row[1:], strict=True)
        ]
        lines += textwrap.wrap(
            f"{row[0].text}: " + ", ".join(pairs), width, subsequent_indent="    "
        )
    return lines


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: max(size - 1, 0)] + "…"


def _footer_lines(index: _Index, width: int) -> list[str]:
    lines = [f"provenance: {note}" for note in _provenance_notes(index)]
    problems = [
        f"{r.base} {r.check}{f' [{r.variant}]' if r.variant else ''} ({r.outcome})"
        for r in index.records
        if r.outcome in ("failed", "error")
    ]
    if problems:
        lines += textwrap.wrap(
            "not passed: " + ", ".join(problems), width, subsequent_indent="    "
        )
    return lines


def _provenance_notes(index: _Index) -> list[str]:
    """What each base image really is; above all that local alpine is not Alpine Linux."""
    notes = []
    for base in index.bases:
        provenance = next(
            (r.provenance for r in index.records if r.base == base and r.provenance), None
        )
        if not provenance:
            continue
        source = str(provenance.get("source") or "")
        note = str(provenance.get("note") or "")
        if "not alpine linux" in note.lower():
            notes.append(
                f"{base} ({source or 'local'}) is musl+BusyBox from Debian packages, "
                "not Alpine Linux"
            )
        elif note:
            detail = note.split(": ", 1)[1] if note.startswith(f"{source}: ") else note
            notes.append(f"{base} ({source}): {detail}" if source else f"{base}: {detail}")
    return notes


# --------------------------------------------------------------------------- #
# Markdown
# --------------------------------------------------------------------------- #


def _document_index(document: Mapping[str, Any]) -> _Index:
    records = [Record.from_json(item) for item in document.get("records") or ()]
    return _Index(records, _base_order(records, document.get("bases") or ()))


def _run_summary(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    meta: Mapping[str, Any] = document.get("meta") or {}
    versions: Mapping[str, Any] = meta.get("versions") or {}
    items = [("generated", str(document.get("generated_at") or MISSING))]
    if meta.get("run_id"):
        items.append(("run", str(meta["run_id"])))
    for name in ("plugin", "go", "traefik"):
        if versions.get(name):
            items.append((name, str(versions[name])))
    items.append(("bases", ", ".join(str(b) for b in document.get("bases") or ()) or MISSING))
    shard = meta.get("shard")
    if shard:
        items.append(("shard", _shard_text(shard)))
    merged = meta.get("merged_from")
    if merged:
        items.append(("merged from", ", ".join(str(m.get("file")) for m in merged)))
    command = meta.get("command_line")
    if command:
        items.append(("command", command if isinstance(command, str) else " ".join(command)))
    return items


def _shard_text(shard: Any) -> str:
    if isinstance(shard, Mapping) and "index" in shard and "count" in shard:
        return f"{shard['index']} of {shard['count']}"
    return json.dumps(shard) if not isinstance(shard, str) else shard


def render_markdown(document: Mapping[str, Any]) -> str:
    """GitHub Markdown with the same tables as the terminal (and a few more columns)."""
    index = _document_index(document)
    out = ["# Traefik compatibility report", ""]
    out.append(" · ".join(f"**{name}** {_md(value)}" for name, value in _run_summary(document)))
    for note in (document.get("meta") or {}).get("notes") or ():
        out += ["", f"> **Note:** {_md(str(note))}"]
    for table in _tables(index):
        if not _table_has_data(index, table):
            continue
        out += ["", f"## {_md(table.title)}", ""]
        if table.caption:
            out += [_md(table.caption), ""]
        out.append("| " + " | ".join(_md(c.title) for c in table.columns) + " |")
        out.append("|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|")
        out += ["| " + " | ".join(_md(cell.text) for cell in row) + " |" for row in table.rows]
    notes = _provenance_notes(index)
    if notes:
        out += ["", "## Provenance", ""] + [f"- {_md(note)}" for note in notes]
    problems = [r for r in index.records if r.outcome in ("failed", "error", "skipped")]
    if problems:
        out += ["", "## Checks that did not pass", ""]
        out += [
            f"- `{_md_code(r.test_id or r.check)}`: {_md(r.outcome)} ({_md(r.base)})"
            for r in problems
        ]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    # Cells come from container logs: no table breaks, no raw HTML.
    return (
        " ".join(text.split())
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _md_code(text: str) -> str:
    return " ".join(text.split()).replace("`", "'")


# --------------------------------------------------------------------------- #
# HTML
# --------------------------------------------------------------------------- #


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


_CSS = """
:root{--bg:#f5f6f8;--card:#fff;--text:#1f2937;--muted:#6b7280;--line:#e5e7eb;
--grid:#eef0f3;--direct:#2563eb;--traefik:#8b5cf6;--floor:#ea580c;--rss:#0d9488;
--size:#4f46e5;--ok-bg:#dcfce7;--ok:#166534;--bad-bg:#fee2e2;--bad:#991b1b;
--warn:#d97706}
@media (prefers-color-scheme:dark){:root{--bg:#111827;--card:#1f2937;--text:#e5e7eb;
--muted:#9ca3af;--line:#374151;--grid:#2b3544;--ok-bg:#14532d;--ok:#bbf7d0;
--bad-bg:#7f1d1d;--bad:#fecaca}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:0 0 4px}
.sub{color:var(--muted);margin:0 0 18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:18px 20px;margin:0 0 18px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.caption{color:var(--muted);margin:0 0 12px;font-size:13px}
.meta{display:flex;flex-wrap:wrap;gap:8px 22px;margin:0;padding:0;list-style:none}
.meta li{min-width:0}.meta b{display:block;font-size:11px;color:var(--muted);
text-transform:uppercase;letter-spacing:.04em;font-weight:600}
.meta code{font-size:13px;word-break:break-all}
.note{border-left:4px solid var(--warn);padding:6px 12px;margin:8px 0 0;
background:rgba(217,119,6,.08);border-radius:4px}
.fact{color:var(--muted);margin:6px 0 0;font-size:13px}
.charts{display:grid;grid-template-columns:1fr;gap:18px;margin:0 0 18px}
@media (min-width:1000px){.charts .half{grid-column:span 1}.charts{grid-template-columns:1fr 1fr}
.charts .wide{grid-column:1 / -1}}
.charts .card{margin:0}
svg{display:block;width:100%;height:auto}
svg text{fill:var(--text);font-size:12px}
svg .axis text,svg text.muted{fill:var(--muted);font-size:11px}
svg .gridline{stroke:var(--grid);stroke-width:1}
svg .baseline{stroke:var(--line);stroke-width:1}
svg .bar-direct{fill:var(--direct);opacity:.85}
svg .bar-traefik{fill:var(--traefik);opacity:.85}
svg .whisker{stroke:var(--text);stroke-width:1.5}
svg .sample{fill:var(--text);opacity:.45}
svg .floor{stroke:var(--floor);stroke-width:2;stroke-dasharray:4 3}
svg .floor-label{fill:var(--floor);font-size:11px}
svg .bar-rss{fill:var(--rss)}
svg .marker{stroke:var(--text);stroke-width:2}
svg .bar-size{fill:var(--size)}
svg .nodata{fill:var(--muted);font-style:italic}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted);margin:0 0 8px}
.key{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-2px;
margin-right:5px}
.key.line{height:0;border-top:2px dashed var(--floor);border-radius:0;vertical-align:3px}
.k-direct{background:var(--direct)}.k-traefik{background:var(--traefik)}
.sample-key{width:6px;height:6px;border-radius:50%;background:var(--text);opacity:.5;vertical-align:1px}
.key.whisk{height:0;border-top:2px solid var(--text);border-radius:0;vertical-align:3px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
td{white-space:nowrap}td.wrap{white-space:normal;min-width:220px}
th{font-size:12px;color:var(--muted);font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.base{font-weight:600;white-space:nowrap}
tbody tr:hover td{background:rgba(127,127,127,.06)}
table.matrix{border-collapse:separate;border-spacing:6px;margin:-6px}
table.matrix td,table.matrix th{border:0}
table.matrix td.cell{border-radius:8px;padding:10px 12px;min-width:150px}
td.starts{background:var(--ok-bg);color:var(--ok)}
td.fails{background:var(--bad-bg);color:var(--bad)}
td.missing{background:var(--grid);color:var(--muted)}
td.mismatch{outline:2px solid var(--warn)}
.verdict{font-weight:700;font-size:14px;display:block}
.why{font-size:12px;display:block;word-break:break-word}
td.bad{color:var(--bad);font-weight:600}
.badge{display:inline-block;margin-left:6px;padding:0 6px;border-radius:9px;font-size:11px;
font-weight:600;background:var(--bad-bg);color:var(--bad);vertical-align:1px}
footer{color:var(--muted);font-size:12px;margin-top:24px}
details summary{cursor:pointer;font-weight:600}
ul.findings{margin:6px 0 0;padding-left:20px}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_html(document: Mapping[str, Any]) -> str:
    """One self-contained page: inline CSS and SVG, nothing fetched, every value escaped."""
    index = _document_index(document)
    tables = {t.key: t for t in _tables(index)}
    parts: list[str] = []
    add = parts.append
    add("<!DOCTYPE html>")
    add('<html lang="en"><head><meta charset="utf-8">')
    # The page may not load anything, even if a value slipped through unescaped.
    add(f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add("<title>Traefik compatibility report</title>")
    add(f"<style>{_CSS}</style></head><body><main>")
    add("<h1>Traefik compatibility report</h1>")
    add(
        f'<p class="sub">{len(index.bases)} base{"s" if len(index.bases) != 1 else ""} · '
        f"{len(index.records)} records · {_e(_outcome_summary(index))}</p>"
    )
    add('<section class="card" id="run"><ul class="meta">')
    for name, value in _run_summary(document):
        add(f"<li><b>{_e(name)}</b><code>{_e(value)}</code></li>")
    add("</ul>")
    for note in (document.get("meta") or {}).get("notes") or ():
        add(f'<p class="note">{_e(note)}</p>')
    for note in _provenance_notes(index):
        # Only the misleading name earns a warning; other provenance is a plain fact.
        css = "note" if "not Alpine Linux" in note else "fact"
        add(f'<p class="{css} provenance">{_e(note)}</p>')
    add("</section>")

    add('<section class="charts">')
    add(
        _card(
            "Startup latency",
            _latency_chart(index),
            "wide",
            "Container create+start to the first 200 on /healthz, on the published port "
            "(direct) and through Traefik; the floor is a trivial static program's "
            "create+start+exit on the same engine.",
            legend=_latency_legend(),
        )
    )
    add(
        _card(
            "Memory (RSS after warm-up)",
            _rss_chart(index),
            "half",
            "Kernel VmRSS of the service; the black tick is what its own /metrics reports.",
        )
    )
    add(
        _card(
            "Image size",
            _size_chart(index),
            "half",
            "The base image alone; in brackets the service image built on it (static).",
        )
    )
    add("</section>")

    add(_matrix_card(tables["start-matrix"]))
    for key, table in tables.items():
        # The start matrix is always there (and first): it has its own card above.
        if key != "start-matrix" and _table_has_data(index, table):
            add(_table_card(table))
    add(_findings_card(index))
    add(_provenance_card(index))
    add(
        "<footer>pytest-traefik-compat report, schema version "
        f"{_e(document.get('schema_version'))}. Raw samples, units and provenance are in "
        "report.json next to this file.</footer>"
    )
    add("</main></body></html>")
    return "\n".join(parts) + "\n"


def _outcome_summary(index: _Index) -> str:
    counts: dict[str, int] = {}
    for record in index.records:
        counts[record.outcome] = counts.get(record.outcome, 0) + 1
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "no records"


def _card(title: str, body: str, width: str, caption: str = "", *, legend: str = "") -> str:
    caption_html = f'<p class="caption">{_e(caption)}</p>' if caption else ""
    return f'<div class="card {width}"><h2>{_e(title)}</h2>{caption_html}{legend}{body}</div>'


def _table_card(table: Table) -> str:
    return (
        f'<section class="card"><h2>{_e(table.title)}</h2>'
        + (f'<p class="caption">{_e(table.caption)}</p>' if table.caption else "")
        + '<div class="scroll">'
        + _html_table(table, f"table-{table.key}", "report-table")
        + "</div></section>"
    )


def _html_table(table: Table, element_id: str, css: str) -> str:
    out = [f'<table id="{_e(element_id)}" class="{_e(css)}"><thead><tr>']
    for column in table.columns:
        num = ' class="num"' if column.numeric else ""
        out.append(f'<th scope="col"{num}>{_e(column.title)}</th>')
    out.append("</tr></thead><tbody>")
    for row in table.rows:
        out.append("<tr>")
        for position, (column, cell) in enumerate(zip(table.columns, row, strict=True)):
            wrap = "wrap" if len(cell.text) > 40 else ""
            names = ("base" if position == 0 else "", "num" if column.numeric else "", wrap)
            classes = " ".join(c for c in (*names, cell.css) if c)
            attrs = f' class="{_e(classes)}"' if classes else ""
            if cell.tip and cell.tip != cell.text:
                attrs += f' title="{_e(cell.tip)}"'
            badge = '<span class="badge">failed</span>' if "failed" in classes.split() else ""
            out.append(f"<td{attrs}>{_e(cell.text)}{badge}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _matrix_card(table: Table) -> str:
    out = [
        f'<section class="card"><h2>{_e(table.title)}</h2>',
        f'<p class="caption">{_e(table.caption)}</p>' if table.caption else "",
        '<div class="scroll"><table id="start-matrix" class="matrix"><thead><tr><th>base</th>',
    ]
    out += [f'<th scope="col">{_e(c.title)}</th>' for c in table.columns[1:]]
    out.append("</tr></thead><tbody>")
    for row in table.rows:
        base = row[0]
        badge = '<span class="badge">failed</span>' if base.css == "failed" else ""
        tip = f' title="{_e(base.tip)}"' if base.tip else ""
        out.append(f'<tr><td class="base"{tip}>{_e(base.text)}{badge}</td>')
        for cell in row[1:]:
            verdict, _, why = cell.text.partition(": ")
            tip = f' title="{_e(cell.tip)}"' if cell.tip else ""
            css = f"cell {cell.css}".strip()
            why_html = f'<span class="why">{_e(why)}</span>' if why else ""
            out.append(
                f'<td class="{_e(css)}"{tip}><span class="verdict">{_e(verdict)}</span>'
                f"{why_html}</td>"
            )
        out.append("</tr>")
    out.append("</tbody></table></div></section>")
    return "".join(out)


def _findings_card(index: _Index) -> str:
    items = []
    for base in index.bases:
        r = index.get(base, "health-metrics")
        found = r.details.get("findings") if r else None
        if isinstance(found, list) and found:
            lis = "".join(f"<li>{_e(f)}</li>" for f in found)
            items.append(
                f"<details><summary>{_e(base)}: {len(found)} findings</summary>"
                f'<ul class="findings">{lis}</ul></details>'
            )
        mtls = index.get(base, "mtls")
        refusals = mtls.details.get("refusals") if mtls else None
        if isinstance(refusals, Mapping) and refusals:
            lis = "".join(_refusal_item(kind, v) for kind, v in refusals.items())
            items.append(
                f"<details><summary>{_e(base)}: bad mTLS clients</summary>"
                f'<ul class="findings">{lis}</ul></details>'
            )
    if not items:
        return ""
    return '<section class="card" id="evidence"><h2>Evidence</h2>' + "".join(items) + "</section>"


def _refusal_item(kind: str, probe: Any) -> str:
    verdict = "refused" if _refused(probe) else "<b>let in</b>"
    error = probe.get("error") if isinstance(probe, Mapping) else None
    why = f" ({_e(_one_line(str(error), 160))})" if error else ""
    return f"<li>{_e(kind)}: {verdict}{why}</li>"


def _provenance_card(index: _Index) -> str:
    table = Table(
        "provenance",
        "Provenance",
        [
            Column("base"),
            Column("source"),
            Column("reference"),
            Column("image id"),
            Column("libc"),
            Column("note"),
        ],
    )
    for base in index.bases:
        p = next((r.provenance for r in index.records if r.base == base and r.provenance), {})
        image_id = _text(p.get("image_id"))
        table.rows.append(
            _row(
                base,
                _text(p.get("source")),
                _text(p.get("reference")),
                Cell(
                    image_id.removeprefix("sha256:")[:12] if image_id != MISSING else MISSING,
                    image_id,
                ),
                _text(p.get("libc")),
                _text(p.get("note")),
            )
        )
    return _table_card(table)


# ---- SVG charts: horizontal, one band per base, so long base names fit on the left


@dataclass(frozen=True)
class _Frame:
    """Chart geometry in viewBox units: base names | plot | value labels."""

    width: float
    left: float
    right: float

    @property
    def plot(self) -> float:
        return self.width - self.left - self.right


_WIDE = _Frame(860, 120, 215)
_HALF = _Frame(460, 92, 185)


class _Scale:
    def __init__(self, frame: _Frame, top: float, divisor: float = 1.0) -> None:
        self.frame = frame
        self.divisor = divisor
        self.ticks = _nice_ticks(top / divisor)
        self.top = self.ticks[-1] * divisor

    def x(self, value: float) -> float:
        share = max(value, 0.0) / self.top if self.top else 0.0
        return self.frame.left + self.frame.plot * min(share, 1.0)


def _nice_ticks(top: float, count: int = 5) -> list[float]:
    top = top if top > 0 else 1.0
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _axis(scale: _Scale, top: float, bottom: float, unit: str) -> str:
    out = ['<g class="axis">']
    for tick in scale.ticks:
        x = scale.x(tick * scale.divisor)
        out.append(
            f'<line class="gridline" x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" '
            f'y2="{bottom:.1f}"/><text x="{x:.1f}" y="{bottom + 14:.1f}" '
            f'text-anchor="middle">{_e(f"{tick:g}")}</text>'
        )
    end = scale.frame.left + scale.frame.plot
    out.append(f'<text x="{end + 24:.1f}" y="{bottom + 14:.1f}">{_e(unit)}</text></g>')
    return "".join(out)


def _svg(element_id: str, frame: _Frame, height: float, title: str, body: str) -> str:
    return (
        f'<svg id="{_e(element_id)}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {frame.width:.0f} {height:.0f}" aria-label="{_e(title)}">'
        f"<title>{_e(title)}</title>{body}</svg>"
    )


def _no_data(element_id: str, frame: _Frame, title: str, text: str) -> str:
    body = f'<text class="nodata" x="10" y="30">{_e(text)}</text>'
    return _svg(element_id, frame, 48, f"{title}: no data", body)


def _base_label(frame: _Frame, base: str, y: float) -> str:
    shown = _cut(base, int((frame.left - 12) / 6.5))  # ~6.5 units per glyph at 12px
    return (
        f'<text x="{frame.left - 10:.1f}" y="{y:.1f}" text-anchor="end" '
        f'dominant-baseline="middle"><title>{_e(base)}</title>{_e(shown)}</text>'
    )


def _latency_legend() -> str:
    return (
        '<div class="legend"><span><i class="key k-direct"></i>direct (median)</span>'
        '<span><i class="key k-traefik"></i>through Traefik (median)</span>'
        '<span><i class="key whisk"></i>min to p95</span>'
        '<span><i class="key sample-key"></i>each sample</span>'
        '<span><i class="key line"></i>floor (median)</span></div>'
    )


def _latency_chart(index: _Index) -> str:
    frame, band, top = _WIDE, 74.0, 8.0
    stats: dict[str, dict[str, dict[str, float]]] = {}
    samples: dict[str, dict[str, list[float]]] = {}
    for base in index.bases:
        record = index.get(base, "startup-latency")
        stats[base] = _latency_stats(record)
        samples[base] = record.samples if record else {}
    values = [
        number
        for per_base in stats.values()
        for series in per_base.values()
        for stat, number in series.items()
        if stat in ("median", "p95")
    ]
    if not values:
        return _no_data("chart-latency", frame, "Startup latency", "no startup-latency records")
    scale = _Scale(frame, max(values) * 1.05)
    bottom = top + band * len(index.bases)
    out = [_axis(scale, top, bottom, "ms")]
    for position, base in enumerate(index.bases):
        y0 = top + band * position
        out.append(f'<g class="series-base" data-base="{_e(base)}">')
        out.append(_base_label(frame, base, y0 + band / 2 - 6))
        for row, series in enumerate(("direct", "traefik")):
            out.append(
                _latency_row(scale, series, stats[base][series], samples[base], y0 + 20 + row * 26)
            )
        floor = stats[base]["floor"].get("median")
        if floor is not None:
            x = scale.x(floor)
            out.append(
                f'<line class="floor" x1="{x:.1f}" x2="{x:.1f}" y1="{y0 + 6:.1f}" '
                f'y2="{y0 + band - 12:.1f}"><title>floor median {_e(_ms(floor))}</title></line>'
                f'<text class="floor-label" x="{x + 4:.1f}" y="{y0 + band - 6:.1f}">'
                f"floor {_e(_ms(floor))}</text>"
            )
        out.append("</g>")
    return _svg("chart-latency", frame, bottom + 26, "Startup latency per base", "".join(out))


def _latency_row(
    scale: _Scale,
    series: str,
    stats: Mapping[str, float],
    samples: Mapping[str, list[float]],
    cy: float,
) -> str:
    frame = scale.frame
    if "median" not in stats:
        return (
            f'<text class="nodata" x="{frame.left + 8:.1f}" y="{cy:.1f}" '
            f'dominant-baseline="middle">{_e(series)}: no data</text>'
        )
    tip = f"{series}: " + ", ".join(f"{k} {_ms(v)}" for k, v in stats.items())
    x_median = scale.x(stats["median"])
    x_lo = scale.x(stats.get("min", stats["median"]))
    x_hi = scale.x(stats.get("p95", stats["median"]))
    out = [
        f'<rect class="bar bar-{_e(series)}" x="{frame.left:.1f}" y="{cy - 8:.1f}" '
        f'width="{max(x_median - frame.left, 1):.1f}" height="16" rx="3">'
        f"<title>{_e(tip)}</title></rect>",
        f'<line class="whisker" x1="{x_lo:.1f}" x2="{x_hi:.1f}" y1="{cy:.1f}" y2="{cy:.1f}"/>',
    ]
    for x in (x_lo, x_hi):
        out.append(
            f'<line class="whisker" x1="{x:.1f}" x2="{x:.1f}" y1="{cy - 5:.1f}" y2="{cy + 5:.1f}"/>'
        )
    for sample in samples.get(series, []):
        number = _as_float(sample)
        if number is not None:
            out.append(f'<circle class="sample" cx="{scale.x(number):.1f}" cy="{cy:.1f}" r="2.2"/>')
    out.append(
        f'<text x="{frame.left + frame.plot + 12:.1f}" y="{cy:.1f}" dominant-baseline="middle">'
        f"{_e(series)} {_e(_ms(stats['median']))}"
        f'<tspan class="muted" dx="6">p95 {_e(_ms(stats.get("p95")))}</tspan></text>'
    )
    return "".join(out)


def _bar_chart(
    element_id: str,
    title: str,
    index: _Index,
    rows: Mapping[str, tuple[float | None, float | None, str]],
    *,
    bar_class: str,
    marker: bool = False,
) -> str:
    """Horizontal bars in MB; per base (value, second value, label): with ``marker`` the
    second value is drawn as a tick (e.g. what /metrics claims next to the kernel's)."""
    frame, band, top = _HALF, 34.0, 8.0
    values = [v for first, second, _ in rows.values() for v in (first, second) if v is not None]
    if not values:
        return _no_data(element_id, frame, title, f"no data for {title.lower()}")
    scale = _Scale(frame, max(values) * 1.05, 1e6)
    bottom = top + band * len(index.bases)
    out = [_axis(scale, top, bottom, "MB")]
    for position, base in enumerate(index.bases):
        cy = top + band * position + band / 2
        value, second, label = rows.get(base, (None, None, ""))
        out.append(f'<g class="series-base" data-base="{_e(base)}">')
        out.append(_base_label(frame, base, cy))
        if value is None:
            out.append(
                f'<text class="nodata" x="{frame.left + 8:.1f}" y="{cy:.1f}" '
                'dominant-baseline="middle">no data</text></g>'
            )
            continue
        out.append(
            f'<rect class="bar {bar_class}" x="{frame.left:.1f}" y="{cy - 10:.1f}" '
            f'width="{max(scale.x(value) - frame.left, 1):.1f}" height="20" rx="3">'
            f"<title>{_e(base)}: {_e(label)}</title></rect>"
        )
        if marker and second is not None:
            x = scale.x(second)
            out.append(
                f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{cy - 13:.1f}" '
                f'y2="{cy + 13:.1f}"><title>{_e(_bytes(second))}</title></line>'
            )
        out.append(
            f'<text x="{frame.left + frame.plot + 12:.1f}" y="{cy:.1f}" '
            f'dominant-baseline="middle">{_e(label)}</text></g>'
        )
    return _svg(element_id, frame, bottom + 26, title, "".join(out))


def _rss_chart(index: _Index) -> str:
    rows: dict[str, tuple[float | None, float | None, str]] = {}
    for base in index.bases:
        r = index.get(base, "memory")
        kernel = _as_float(r.value("rss_kernel")) if r else None
        reported = _as_float(r.value("rss_metrics")) if r else None
        rows[base] = (kernel, reported, _bytes(kernel))
    return _bar_chart("chart-rss", "RSS per base", index, rows, bar_class="bar-rss", marker=True)


def _size_chart(index: _Index) -> str:
    rows: dict[str, tuple[float | None, float | None, str]] = {}
    for base in index.bases:
        facts = index.get(base, "image-facts")
        size = _as_float(facts.value("size") if facts else _provenance_size(index, base))
        service = _as_float(_service_image_size(index, base))
        rows[base] = (size, None, _bytes(size))
        if service is not None:
            rows[base] = (size, None, f"{_bytes(size)} (service {_bytes(service)})")
    return _bar_chart("chart-size", "Image size per base", index, rows, bar_class="bar-size")
