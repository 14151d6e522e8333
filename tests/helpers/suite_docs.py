"""The README's suite table, generated from the docstrings of the built-in suite.

Each test of ``pytest_traefik_compat/suite`` is named after the check it records
(``test_<check>``, or ``test_<check>_<variant>`` where a check has one test per
variant) and its docstring says what it asserts and what it records, in an
``Asserts:`` and a ``Records:`` paragraph. The suite is read with :mod:`ast`: nothing of
it (nor pytest) is imported. ``python -m tests.helpers.suite_docs --write`` replaces the
README block between the markers below; ``--check`` exits 1 when the block is stale.
``tests/unit/test_suite_docs.py`` keeps the names, the docstrings and the block honest.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

from pytest_traefik_compat.records import checks
from tests.helpers.readme_blocks import README as README
from tests.helpers.readme_blocks import ReadmeBlock

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "pytest_traefik_compat" / "suite"
ASSERTS = "Asserts:"
RECORDS = "Records:"
RECORD_FACTORY = "traefik_record"


@dataclass(frozen=True)
class SuiteTest:
    """One test function of the suite, as its source says.

    Args:
        name: the function's name.
        file: the topic file it is in.
        docstring: its docstring, dedented ("" when it has none).
        recorded: (check, variant) of every ``traefik_record(...)`` call in its body;
            the variant is None where it is only known at run time (a parameter).
    """

    name: str
    file: str
    docstring: str
    recorded: tuple[tuple[str, str | None], ...]

    @property
    def asserts(self) -> str:
        return docstring_field(self.docstring, ASSERTS)

    @property
    def records(self) -> str:
        return docstring_field(self.docstring, RECORDS)

    def check(self) -> tuple[str, str] | None:
        """(check, variant) this test is named after, among those it records; the
        variant is "" for ``test_<check>``. None when the name matches none of them."""
        for check, variant in self.recorded:
            stem = f"test_{check.replace('-', '_')}"
            if self.name == stem:
                return check, ""
            if variant and self.name == f"{stem}_{variant.replace('-', '_')}":
                return check, variant
        return None


def docstring_field(docstring: str, label: str) -> str:
    """The paragraph of ``docstring`` that starts with ``label`` (without it), its lines
    joined; it ends at a blank line or at the next field. "" when there is none."""
    found: list[str] = []
    inside = False
    for line in docstring.splitlines():
        stripped = line.strip()
        if stripped.startswith(label):
            inside = True
            stripped = stripped[len(label) :].strip()
        elif inside and (not stripped or stripped.startswith((ASSERTS, RECORDS))):
            break
        if inside and stripped:
            found.append(stripped)
    return " ".join(found)


def run_order() -> tuple[str, ...]:
    """``RUN_ORDER`` of the suite's conftest: the test names in the order they run."""
    tree = ast.parse((SUITE / "conftest.py").read_text())
    for node in tree.body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        else:
            continue
        if value is not None and any(
            isinstance(target, ast.Name) and target.id == "RUN_ORDER" for target in targets
        ):
            return tuple(ast.literal_eval(value))
    raise LookupError(f"no RUN_ORDER in {SUITE / 'conftest.py'}")


def _vocabulary_name(node: ast.expr) -> str | None:
    """The value of ``NAME.check`` or ``NAME`` in the vocabulary, None for anything else."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        value = getattr(getattr(checks, node.value.id, None), node.attr, None)
    elif isinstance(node, ast.Name):
        value = getattr(checks, node.id, None)
    else:
        return None
    return value if isinstance(value, str) else None


def _recorded(function: ast.FunctionDef) -> tuple[tuple[str, str | None], ...]:
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(function):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == RECORD_FACTORY
            and node.args
        ):
            continue
        check = _vocabulary_name(node.args[0])
        if check is None:
            continue
        variant: str | None = ""
        for keyword in node.keywords:
            if keyword.arg == "variant":
                variant = _vocabulary_name(keyword.value)
        found.append((check, variant))
    return tuple(found)


def suite_tests() -> list[SuiteTest]:
    """Every test function of the suite, file by file in name order."""
    tests: list[SuiteTest] = []
    for path in sorted(SUITE.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                tests.append(
                    SuiteTest(node.name, path.name, ast.get_docstring(node) or "", _recorded(node))
                )
    return tests


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or "-"


def render_suite_table() -> str:
    """The markdown table: one row per test, in the order the tests run."""
    order = {name: index for index, name in enumerate(run_order())}
    rows = [
        "| check | file | asserts (must hold on every base) | records |",
        "| --- | --- | --- | --- |",
    ]
    for test in sorted(suite_tests(), key=lambda t: order.get(t.name, len(order))):
        check, variant = test.check() or (test.name, "")
        name = f"`{check}` (`{variant}`)" if variant else f"`{check}`"
        rows.append(f"| {name} | `{test.file}` | {_cell(test.asserts)} | {_cell(test.records)} |")
    return "\n".join(rows) + "\n"


BLOCK = ReadmeBlock("suite-table", "tests.helpers.suite_docs")
BEGIN, END = BLOCK.begin, BLOCK.end
readme_block = BLOCK.read
with_table = BLOCK.replace


def main(argv: list[str] | None = None) -> int:
    return BLOCK.main(render_suite_table, argv)


if __name__ == "__main__":
    sys.exit(main())
