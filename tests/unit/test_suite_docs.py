"""The built-in suite says what each check asserts and records, and the README agrees."""

from __future__ import annotations

import pytest

from pytest_traefik_compat.records import checks
from tests.helpers import suite_docs

TESTS = suite_docs.suite_tests()
# Suite tests that record no check of the vocabulary, with the reason. None today:
# every suite test records the check it is named after.
NOT_A_CHECK: dict[str, str] = {}


def test_the_suite_is_read() -> None:
    assert len(TESTS) >= 20, [t.name for t in TESTS]


@pytest.mark.parametrize("test", TESTS, ids=lambda t: t.name)
def test_every_suite_test_says_what_it_asserts_and_records(test: suite_docs.SuiteTest) -> None:
    summary = test.docstring.split("\n\n")[0]
    assert summary and not summary.startswith((suite_docs.ASSERTS, suite_docs.RECORDS)), test
    assert test.asserts, f"{test.file}::{test.name}: no 'Asserts:' paragraph"
    assert test.records, f"{test.file}::{test.name}: no 'Records:' paragraph"


@pytest.mark.parametrize("test", TESTS, ids=lambda t: t.name)
def test_every_suite_test_is_named_after_the_check_it_records(
    test: suite_docs.SuiteTest,
) -> None:
    if test.name in NOT_A_CHECK:
        return
    names = {c.check for c in checks.SUITE_CHECKS}
    assert test.recorded, f"{test.name} calls traefik_record with no check of the vocabulary"
    assert all(check in names for check, _ in test.recorded), test.recorded
    assert test.check() is not None, (
        f"{test.name} is named after none of the checks it records {test.recorded}: "
        "call it test_<check> (or test_<check>_<variant>), '-' as '_'"
    )


def test_every_suite_check_is_recorded_by_a_test() -> None:
    recorded = {check for test in TESTS for check, _ in test.recorded}
    assert {c.check for c in checks.SUITE_CHECKS} <= recorded


def test_the_run_order_names_every_suite_test_once() -> None:
    order = suite_docs.run_order()
    assert len(order) == len(set(order)), order
    assert set(order) == {t.name for t in TESTS}


def test_docstring_fields_join_their_lines() -> None:
    doc = "Summary.\n\nAsserts: one\ntwo.\nRecords: three;\nfour.\n\nMore text."
    assert suite_docs.docstring_field(doc, suite_docs.ASSERTS) == "one two."
    assert suite_docs.docstring_field(doc, suite_docs.RECORDS) == "three; four."
    assert suite_docs.docstring_field("Summary.", suite_docs.ASSERTS) == ""


def test_readme_suite_table_is_generated_from_the_docstrings() -> None:
    block = suite_docs.readme_block(suite_docs.README.read_text())
    if block is None:
        pytest.skip(f"README has no {suite_docs.BEGIN} ... {suite_docs.END} block yet")
    assert block == suite_docs.render_suite_table(), (
        "README suite table is stale: run python -m tests.helpers.suite_docs --write"
    )
