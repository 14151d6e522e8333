"""The README's profile table, generated from :mod:`pytest_traefik_compat.records.profiles`.

``python -m tests.helpers.profiles_docs --write`` replaces the README block between
its markers; ``--check`` exits 1 when the block is stale. ``tests/unit/test_profiles_docs.py``
runs the check on every unit run.
"""

from __future__ import annotations

import sys

from pytest_traefik_compat.records.profiles import DEFAULT_CHECKS, STUDY_CHECKS
from tests.helpers.readme_blocks import README as README
from tests.helpers.readme_blocks import ReadmeBlock


def render_profiles_table() -> str:
    """One row per check: the profile that runs it and why."""
    rows = ["| check | profile | why |", "| --- | --- | --- |"]
    for check, (variant, why) in DEFAULT_CHECKS.items():
        name = f"`{check}` (`{variant}`)" if variant else f"`{check}`"
        rows.append(f"| {name} | default | {why} |")
    for check, why in STUDY_CHECKS.items():
        name = f"`{check}` (other variants)" if check in DEFAULT_CHECKS else f"`{check}`"
        rows.append(f"| {name} | full | {why} |")
    return "\n".join(rows) + "\n"


BLOCK = ReadmeBlock("profiles-table", "tests.helpers.profiles_docs")


def main(argv: list[str] | None = None) -> int:
    return BLOCK.main(render_profiles_table, argv)


if __name__ == "__main__":
    sys.exit(main())
