"""Reports: the terminal summary, report.json / report.md / report.html, and shard merging.
Must not import gobuild, engine, gateway, bases, docker or pytest: ``merge`` runs anywhere,
no engine.

Pure Python: the session calls :func:`terminal_tables` and :func:`write_reports`;
``python -m pytest_traefik_compat merge`` calls :func:`merge_command`. Every table is
built once (:mod:`.tables`, from the names in :mod:`pytest_traefik_compat.records.checks`) and
rendered three ways (:mod:`.terminal`, :mod:`.markdown`, :mod:`.html` with
:mod:`.charts`), so the terminal, the Markdown and the HTML always agree. report.json
itself is described in :mod:`.document`; :mod:`.merge` joins CI shards.
"""

from __future__ import annotations

# Explicit re-exports, not in __all__: callers read these names from the package.
from pytest_traefik_compat.records.checks import CHECK_ORDER as CHECK_ORDER
from pytest_traefik_compat.records.checks import HEALTHCHECK_STYLES as HEALTHCHECK_STYLES
from pytest_traefik_compat.records.checks import LINKAGE_ORDER as LINKAGE_ORDER
from pytest_traefik_compat.records.checks import MISSING as MISSING
from pytest_traefik_compat.report.cells import Cell as Cell
from pytest_traefik_compat.report.cells import Column as Column
from pytest_traefik_compat.report.cells import Table as Table
from pytest_traefik_compat.report.document import (
    SCHEMA_FILE,
    ReportPaths,
    build_report,
    load_report,
    load_schema,
    write_document,
    write_reports,
)
from pytest_traefik_compat.report.html import render_html
from pytest_traefik_compat.report.markdown import render_markdown
from pytest_traefik_compat.report.merge import merge_command, merge_reports
from pytest_traefik_compat.report.order import sort_records as sort_records
from pytest_traefik_compat.report.tables_tls import SNI_PROBES as SNI_PROBES
from pytest_traefik_compat.report.terminal import TERMINAL_WIDTH, terminal_tables

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
