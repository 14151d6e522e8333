"""``--traefik-baseline=BASE.json``: compare the run with an earlier report (pytest glue).

The comparison itself is :mod:`pytest_traefik_compat.report.diff`; this plugin reads the
baseline at the start (a bad file is a usage error, not a surprise at the end), diffs
the run's records at the end with the run's request (its profile, images and -k/-m
selection explain what it did not run) and ``--traefik-regression``'s thresholds,
writes ``diff.md`` and ``diff.json`` next to the report, prints one line per
regression and turns a passing run into a failed one when there is a regression.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.plugin.reporting import run_request
from pytest_traefik_compat.plugin.session import settings_key
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.report.diff import Diff, diff_records, headline, render
from pytest_traefik_compat.report.document import load_report

BASELINE_PLUGIN_NAME = "traefik-compat-baseline"


class BaselineHooks:
    def __init__(self, path: Path, report_dir: Path, records: list[Record]) -> None:
        self.path = path
        self.report_dir = report_dir
        # The session's own list: filled while the run goes, complete at the end.
        self.records = records
        try:
            _, self.baseline = load_report(path)
        except CompatError as error:
            raise pytest.UsageError(f"--traefik-baseline: {error}") from None
        self.diff: Diff | None = None
        self.error = ""

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.records:
            return
        settings = session.config.stash[settings_key]
        self.diff = diff_records(
            self.baseline,
            self.records,
            baseline_name=str(self.path),
            current_name="this run",
            current_meta={"request": run_request(session.config, settings)},
            thresholds=settings.regression,
        )
        try:
            self.report_dir.mkdir(parents=True, exist_ok=True)
            (self.report_dir / "diff.md").write_text(render(self.diff, "md"), encoding="utf-8")
            (self.report_dir / "diff.json").write_text(
                json.dumps(self.diff.to_json(), indent=2, default=str), encoding="utf-8"
            )
        except OSError as error:
            self.error = f"diff not written to {self.report_dir}: {error.strerror or error}"
        if self.diff.regressions and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.diff is None:
            return
        diff = self.diff
        terminalreporter.section("traefik-compat baseline")
        terminalreporter.write_line(f"against {self.path}: {headline(diff)}")
        for change in diff.changes:
            terminalreporter.write_line(change.line, red=change.kind == "regression")
        for line in diff.skipped:
            terminalreporter.write_line(f"skipped: {line}", yellow=True)
        if self.error:
            terminalreporter.write_line(self.error, red=True)
        elif diff.changes or diff.notes or diff.skipped:
            terminalreporter.write_line(f"details: {self.report_dir / 'diff.md'}")
