"""The README's options table, generated from the options table in the plugin.

``python -m tests.helpers.options_docs --write`` replaces the README block between
the markers below with :func:`~pytest_traefik_compat.plugin.options.render_options_table`;
``--check`` exits 1 when the block is stale. ``tests/unit/test_options.py`` runs the
check on every unit run.
"""

from __future__ import annotations

import sys

from pytest_traefik_compat.plugin.options import render_options_table
from tests.helpers.readme_blocks import README as README
from tests.helpers.readme_blocks import ReadmeBlock

BLOCK = ReadmeBlock("options-table", "tests.helpers.options_docs")
BEGIN, END = BLOCK.begin, BLOCK.end
readme_block = BLOCK.read
with_table = BLOCK.replace


def main(argv: list[str] | None = None) -> int:
    return BLOCK.main(render_options_table, argv)


if __name__ == "__main__":
    sys.exit(main())
