"""report.md: GitHub Markdown with the terminal's tables (and the columns it has no room for)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_traefik_compat.report.summary import document_index, provenance_notes, run_summary
from pytest_traefik_compat.report.tables import Table, build_tables, table_has_data

NOT_PASSED = ("failed", "error", "skipped")


def render_markdown(document: Mapping[str, Any]) -> str:
    """GitHub Markdown with the same tables as the terminal (and a few more columns)."""
    index = document_index(document)
    out = ["# Traefik compatibility report", ""]
    out.append(" · ".join(f"**{name}** {_md(value)}" for name, value in run_summary(document)))
    for note in (document.get("meta") or {}).get("notes") or ():
        out += ["", f"> **Note:** {_md(str(note))}"]
    for table in build_tables(index):
        if table_has_data(index, table):
            out += _table(table)
    notes = provenance_notes(index)
    if notes:
        out += ["", "## Provenance", ""] + [f"- {_md(note)}" for note in notes]
    problems = [r for r in index.records if r.outcome in NOT_PASSED]
    if problems:
        out += ["", "## Checks that did not pass", ""]
        out += [
            f"- `{_md_code(r.test_id or r.check)}`: {_md(r.outcome)} ({_md(r.base)})"
            for r in problems
        ]
    return "\n".join(out) + "\n"


def _table(table: Table) -> list[str]:
    out = ["", f"## {_md(table.title)}", ""]
    if table.caption:
        out += [_md(table.caption), ""]
    out.append("| " + " | ".join(_md(c.title) for c in table.columns) + " |")
    out.append("|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|")
    out += ["| " + " | ".join(_md(cell.text) for cell in row) + " |" for row in table.rows]
    return out


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
