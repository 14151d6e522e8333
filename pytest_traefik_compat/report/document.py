"""The report document: building, writing and loading report.json (and its .md/.html).

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
The built-in suite's check, figure, sample and detail names are in
:mod:`pytest_traefik_compat.records.checks`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.records.record import SCHEMA_VERSION, Record
from pytest_traefik_compat.report.cells import one_line
from pytest_traefik_compat.report.html import render_html
from pytest_traefik_compat.report.markdown import render_markdown
from pytest_traefik_compat.report.order import base_order, sort_records

SCHEMA_FILE = "report.schema.json"


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
    bases = base_order(records, meta.get("bases") or ())
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
# Loading
# --------------------------------------------------------------------------- #


def load_report(path: Path | str) -> tuple[dict[str, Any], list[Record]]:
    """Read a report.json: the document and its records; CompatError if it is not one."""
    return load_document(Path(path), "file")


def load_document(path: Path, role: str) -> tuple[dict[str, Any], list[Record]]:
    """:func:`load_report`, naming the file as ``role`` (``file``, ``shard``) on refusal."""

    def refuse(reason: str) -> CompatError:
        return CompatError(f"{role} {path} is not a report: {one_line(reason)}")

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
