"""checks.py, the names the suite writes and the report reads: defined once, and only there.

The report is rendered from the recorded sample with every read of a figure, sample
or detail noted: each name read must be one checks.py defines, of the right kind.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat import gobuild, report
from pytest_traefik_compat.records import Record, checks
from pytest_traefik_compat.report import tables
from tests.helpers.report_samples import META, sample_records

REPORT_DIR = Path(report.__file__).parent


def _names(kind: str | None) -> set[str]:
    """The names of one kind (None: figures) over the suite's checks."""
    return {
        getattr(group, f.name)
        for group in checks.SUITE_CHECKS
        for f in fields(group)
        if f.name != "check" and f.metadata.get(checks.KIND) == kind
    }


# Series named from a start series and a part, or from a mode (checks.part_series,
# checks.mode_series), are the vocabulary's too.
DERIVED_SAMPLES = {
    checks.part_series(series, part)
    for series in (
        checks.STARTUP_LATENCY.direct,
        checks.STARTUP_LATENCY.floor,
        checks.TRAEFIK_FIGURES.start,
    )
    for part in checks.START_PARTS
} | {
    checks.mode_series(mode, series)
    for mode in checks.SERVICE_MODES
    for series in (checks.INPROCESS_START.exec_ready, checks.INPROCESS_START.init_ready)
}
SAMPLES = _names(checks.SAMPLES) | DERIVED_SAMPLES
DETAILS = _names(checks.DETAILS)
FIGURES = _names(None) | {
    checks.stat_figure(series, stat)
    for series in SAMPLES
    for stat in (*checks.SAMPLE_STATS, *checks.PERCENTILE_STATS)
}


class _Reads(dict[str, Any]):
    """A record's figures, samples or details, noting every key looked up."""

    seen: set[str]

    def __init__(self, *args: Any, seen: set[str] | None = None) -> None:
        super().__init__(*args)
        self.seen = set() if seen is None else seen

    def __contains__(self, key: object) -> bool:
        self.seen.add(str(key))
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        self.seen.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return super().get(key, default)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """Every record the report gets through Record.from_json notes what is read of it."""
    seen: dict[str, set[str]] = {"figures": set(), "samples": set(), "details": set()}
    plain_value = Record.value
    plain_from_json = Record.from_json

    def value(self: Record, name: str, default: Any = None) -> Any:
        seen["figures"].add(name)
        return plain_value(self, name, default)

    def from_json(cls: type[Record], data: Any) -> Record:
        record = plain_from_json(data)
        for part, found in seen.items():
            setattr(record, part, _Reads(getattr(record, part), seen=found))
        return record

    monkeypatch.setattr(Record, "value", value)
    monkeypatch.setattr(Record, "from_json", classmethod(from_json))
    return seen


def test_the_report_reads_only_names_from_checks(reads: dict[str, set[str]]) -> None:
    records = sample_records()
    # JSON documents become records again through Record.from_json, which now notes reads.
    document = report.build_report(records, meta=META)
    report.render_markdown(document)
    report.render_html(document)
    report.terminal_tables([Record.from_json(r.to_json()) for r in records])

    assert reads["figures"] <= FIGURES, reads["figures"] - FIGURES
    assert reads["samples"] <= SAMPLES, reads["samples"] - SAMPLES
    assert reads["details"] <= DETAILS, reads["details"] - DETAILS
    # Not vacuous: the tables did read figures, samples and details of the suite.
    assert {checks.MEMORY.rss_kernel, checks.START_MATRIX.predicted} <= reads["figures"]
    assert checks.STARTUP_LATENCY.direct in reads["samples"]
    assert {checks.MTLS.refusals, checks.HEALTHCHECK.styles} <= reads["details"]


def _read_arguments(call: ast.Call) -> list[ast.expr]:
    """The name arguments of ``x.value(name)``, ``_get(r, name)``, ``x.details.get(name)``,
    ``x.samples.get(name)``, ``index.get(base, check)``, ``index.has(check)``..."""
    func, args = call.func, call.args
    if isinstance(func, ast.Name):
        return args[1:2] if func.id == "_get" else []
    if not isinstance(func, ast.Attribute):
        return []
    owner = ast.unparse(func.value).rsplit(".", 1)[-1]
    if func.attr == "value" or (func.attr == "get" and owner in ("details", "samples")):
        return args[:1]
    if owner == "index" and func.attr in ("get", "has", "variants"):
        return args[1:2] if func.attr == "get" else args[:1]
    return []


def _literal_reads(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for arg in _read_arguments(node):
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    yield f"line {node.lineno}: {ast.unparse(node)}"


@pytest.mark.parametrize("module", sorted(p.name for p in REPORT_DIR.glob("*.py")))
def test_the_report_spells_no_record_name_itself(module: str) -> None:
    tree = ast.parse((REPORT_DIR / module).read_text())
    assert list(_literal_reads(tree)) == []


def test_checks_is_pure_data() -> None:
    tree = ast.parse(Path(checks.__file__).read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported <= {"__future__", "dataclasses", "typing"}


def test_linkage_order_is_gobuild_linkages() -> None:
    assert checks.LINKAGE_ORDER == gobuild.LINKAGES


def test_every_ordered_check_has_a_table_builder() -> None:
    built = tables.build_tables(tables.Index([]))
    assert not any(table.generic for table in built)
    fed = {check for table in built for check in table.checks}
    assert set(checks.CHECK_ORDER) <= fed
    assert fed <= set(checks.CHECK_ORDER)


def test_names_are_one_per_thing() -> None:
    names = [group.check for group in checks.SUITE_CHECKS]
    assert len(set(names)) == len(names)
    assert set(checks.CHECK_ORDER) <= set(names)
    for group in checks.SUITE_CHECKS:
        for kind in (None, checks.SAMPLES, checks.DETAILS):
            values = [
                getattr(group, f.name)
                for f in fields(group)
                if f.name != "check" and f.metadata.get(checks.KIND) == kind
            ]
            assert len(set(values)) == len(values), (group.check, kind, values)
    assert set(checks.HEALTHCHECK_STYLES) <= {
        getattr(checks.HEALTHCHECK, f.name) for f in fields(checks.HEALTHCHECK)
    }


def test_stat_figures_are_the_ones_add_samples_writes() -> None:
    record = Record(base="b", check=checks.STARTUP_LATENCY.check)
    record.add_samples(checks.STARTUP_LATENCY.direct, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "ms")
    assert set(record.figures) == {
        checks.stat_figure(checks.STARTUP_LATENCY.direct, stat) for stat in checks.SAMPLE_STATS
    }


FORBIDDEN = ("pytest", "_pytest", "docker", "testcontainers")
ALLOWED_OWN = {
    f"pytest_traefik_compat{name}"
    for name in (
        "",
        ".errors",
        ".records",
        ".records.checks",
        ".records.profiles",
        ".records.record",
        ".measure",
        ".measure.stats",
    )
}


def test_the_report_imports_no_pytest_gobuild_or_engine() -> None:
    probe = (
        "import json, pkgutil, sys, importlib\n"
        "import pytest_traefik_compat.report as report\n"
        "for info in pkgutil.walk_packages(report.__path__, report.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    modules = set(json.loads(found))
    assert "pytest_traefik_compat.report.tables" in modules  # the probe did import them
    top = {name.split(".")[0] for name in modules}
    assert not top & set(FORBIDDEN), top & set(FORBIDDEN)
    own = {name for name in modules if name.split(".")[0] == "pytest_traefik_compat"}
    others = {name for name in own if not name.startswith("pytest_traefik_compat.report")}
    # Nothing of gobuild, engine, gateway/stack, bases...: only pure data modules.
    assert others <= ALLOWED_OWN, others - ALLOWED_OWN
