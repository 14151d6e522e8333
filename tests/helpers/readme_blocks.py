"""Blocks of README.md generated from code, between ``<!-- BEGIN name -->`` and
``<!-- END name -->`` lines: read one, replace one, and the ``--write``/``--check``
command line that each generator module runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass(frozen=True)
class ReadmeBlock:
    """One generated block, named by its markers."""

    name: str  # e.g. "options-table"
    generator: str  # the module that writes it, for the stale-block message

    @property
    def begin(self) -> str:
        return f"<!-- BEGIN {self.name} -->"

    @property
    def end(self) -> str:
        return f"<!-- END {self.name} -->"

    def read(self, text: str) -> str | None:
        """The text between the markers (without them), or None when they are absent."""
        start = text.find(self.begin)
        end = text.find(self.end, start + len(self.begin)) if start >= 0 else -1
        if start < 0 or end < 0:
            return None
        return text[start + len(self.begin) : end].strip("\n") + "\n"

    def replace(self, text: str, table: str) -> str:
        """``text`` with the block between the markers replaced by ``table``."""
        if self.read(text) is None:
            raise ValueError(f"README has no {self.begin} ... {self.end} block")
        start = text.index(self.begin) + len(self.begin)
        end = text.index(self.end, start)
        return f"{text[:start]}\n{table.rstrip(chr(10))}\n{text[end:]}"

    def main(self, render: Callable[[], str], argv: list[str] | None = None) -> int:
        """``--write`` rewrites the block from ``render()``; ``--check`` exits 1 when stale."""
        parser = argparse.ArgumentParser(description=f"Generate the README's {self.name}.")
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--write", action="store_true", help="rewrite the README block")
        mode.add_argument("--check", action="store_true", help="exit 1 when the block is stale")
        args = parser.parse_args(argv)
        text = README.read_text()
        try:
            updated = self.replace(text, render())
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
        if args.check:
            if updated != text:
                print(
                    f"README {self.name} is stale: run python -m {self.generator} --write",
                    file=sys.stderr,
                )
                return 1
            return 0
        if updated != text:
            README.write_text(updated)
            print(f"rewrote the {self.name} in {README}")
        return 0
