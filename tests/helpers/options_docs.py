"""The README's options table, generated from the options table in the plugin.

``python -m tests.helpers.options_docs --write`` replaces the README block between
the markers below with :func:`~pytest_traefik_compat.plugin.options.render_options_table`;
``--check`` exits 1 when the block is stale. ``tests/unit/test_options.py`` runs the
check on every unit run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_traefik_compat.plugin.options import render_options_table

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN = "<!-- BEGIN options-table -->"
END = "<!-- END options-table -->"


def readme_block(text: str) -> str | None:
    """The text between the markers (without them), or None when they are absent."""
    start = text.find(BEGIN)
    end = text.find(END, start + len(BEGIN)) if start >= 0 else -1
    if start < 0 or end < 0:
        return None
    return text[start + len(BEGIN) : end].strip("\n") + "\n"


def with_table(text: str, table: str) -> str:
    """``text`` with the block between the markers replaced by ``table``."""
    if readme_block(text) is None:
        raise ValueError(f"README has no {BEGIN} ... {END} block")
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END, start)
    return f"{text[:start]}\n{table.rstrip(chr(10))}\n{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the README's options table.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the README block")
    mode.add_argument("--check", action="store_true", help="exit 1 when the block is stale")
    args = parser.parse_args(argv)
    text = README.read_text()
    table = render_options_table()
    try:
        updated = with_table(text, table)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    if args.check:
        if updated != text:
            print(
                "README options table is stale: run python -m tests.helpers.options_docs --write",
                file=sys.stderr,
            )
            return 1
        return 0
    if updated != text:
        README.write_text(updated)
        print(f"rewrote the options table in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
