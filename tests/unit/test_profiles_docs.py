"""The README's profile table is the one records/profiles.py declares."""

from __future__ import annotations

from tests.helpers import profiles_docs


def test_readme_profile_table_is_generated() -> None:
    block = profiles_docs.BLOCK.read(profiles_docs.README.read_text())
    assert block is not None, "README.md lost its profiles-table markers"
    assert block == profiles_docs.render_profiles_table(), (
        "README profile table is stale: run python -m tests.helpers.profiles_docs --write"
    )


def test_every_check_has_one_profile_row_with_a_reason() -> None:
    rows = profiles_docs.render_profiles_table().splitlines()[2:]
    assert rows and all(row.count("|") == 4 and not row.endswith("|  |") for row in rows)
