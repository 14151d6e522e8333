"""The run's report files and its terminal summary, next to the session that gathers the
records (as pytest-xdist keeps ``TerminalDistReporter`` next to ``DSession``).

The controller writes and prints; workers send their records to it instead.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat import engine, report
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.plugin.markers import item_profiles
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records import Record

__all__ = ["RunReport", "engine_meta", "run_request"]


def engine_meta() -> dict[str, Any]:
    """The engine this run used (kind, version, address, how ports were reached)."""
    info: dict[str, Any] = dict(engine.engine_info())
    differences = engine.engine_differences()
    if differences:
        info["differences"] = differences
    return info


def run_request(config: pytest.Config, settings: Settings) -> dict[str, Any]:
    """What the run asked for (report.json ``meta.request``): the baseline diff tells an
    absence this explains (another profile, other images, a -k/-m selection) from a
    lost check.

    ``tests_run`` lists every test that reported (on the xdist controller too);
    ``deselected`` counts the items left out by the profile and by -k/-m/--deselect,
    or is None where this process did not collect (the xdist controller).
    """
    option = config.option
    selection = {
        name: value
        for name, value in (
            ("keyword", getattr(option, "keyword", "") or ""),
            ("markexpr", getattr(option, "markexpr", "") or ""),
            ("deselect", [str(d) for d in getattr(option, "deselect", None) or []]),
        )
        if value
    }
    workers = getattr(option, "numprocesses", None)
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    stats: Mapping[str, Sequence[Any]] | None = getattr(terminal, "stats", None)
    request: dict[str, Any] = {
        "profile": settings.profile,
        "images": [spec.name for spec in settings.images],
        "selection": selection,
        "deselected": None,
        "tests_run": None,
    }
    if stats is not None:
        ran = {
            report.nodeid
            for reports in stats.values()
            for report in reports
            if isinstance(report, pytest.TestReport)
        }
        request["tests_run"] = sorted(ran)
        if not workers:
            counts = {"profile": 0, "keyword": 0}
            for item in stats.get("deselected", ()):
                profiles = item_profiles(item) if isinstance(item, pytest.Item) else None
                left_by_profile = profiles is not None and settings.profile not in profiles
                counts["profile" if left_by_profile else "keyword"] += 1
            request["deselected"] = counts
    if workers:
        request["xdist"] = {"workers": workers, "dist": getattr(option, "dist", None)}
    shard = _shard(option)
    if shard:
        request["shard"] = shard
    return request


def _shard(option: Any) -> dict[str, Any] | None:
    """The CI shard of a run split by pytest-split or pytest-shard, if any."""
    for index_name, count_name in (("group", "splits"), ("shard_id", "num_shards")):
        index, count = getattr(option, index_name, None), getattr(option, count_name, None)
        if isinstance(index, int) and isinstance(count, int) and count > 1:
            return {"index": index, "count": count, "by": index_name}
    return None


class RunReport:
    """Writes report.json/md/html at the end of a run and prints the summary.

    Args:
        report_dir: where the report goes (``--traefik-report-dir``).
        run_id: the run's id (the report's and the clean-up command's).
        bases: the bases under test, in their order.
    """

    def __init__(self, report_dir: Path, run_id: str, bases: Sequence[str]) -> None:
        self.report_dir = report_dir
        self.run_id = run_id
        self.bases = list(bases)
        self.paths: report.ReportPaths | None = None
        self.meta: dict[str, Any] = {}  # what write() put in report.json's meta
        self.error = ""
        self.seconds = 0.0

    @staticmethod
    def request(config: pytest.Config, settings: Settings) -> dict[str, Any]:
        """The run's request for ``meta.request`` (:func:`run_request`)."""
        return run_request(config, settings)

    def write(
        self,
        records: Sequence[Record],
        *,
        command_line: Sequence[str],
        versions: Mapping[str, str],
        request: Mapping[str, Any] | None = None,
    ) -> None:
        """Write the report of ``records`` (nothing without records); a failure is kept
        in :attr:`error` for the summary instead of raised.

        Args:
            request: what the run asked for (:func:`run_request`).
        """
        if not records:
            return
        meta: dict[str, Any] = {
            "run_id": self.run_id,
            "bases": self.bases,
            "command_line": list(command_line),
            "versions": versions,
        }
        if request is not None:
            meta["request"] = dict(request)
        self.meta = meta
        with contextlib.suppress(CompatError):
            meta["engine"] = engine_meta()
        started = time.monotonic()
        try:
            self.paths = report.write_reports(records, self.report_dir, meta=meta)
        except CompatError as error:
            self.error = str(error)
            return
        self.seconds = time.monotonic() - started

    def terminal_summary(
        self,
        terminalreporter: Any,
        records: Sequence[Record],
        *,
        notes: Sequence[str] = (),
        kept_stacks: Sequence[str] = (),
    ) -> None:
        """The engine, the result tables, where the report went, base notes and the
        stacks kept for debugging.

        Args:
            notes: registry mode's notes (tags moved since the lock).
            kept_stacks: stacks ``--traefik-keep`` kept.
        """
        with contextlib.suppress(CompatError):
            if records:
                info = engine.engine_info()
                terminalreporter.write_line(
                    f"engine: {info['kind']} {info['version']} at {info['address']} "
                    f"(ports published on {info['publish_address']}, reached at {info['host']})"
                )
        if records:
            terminalreporter.section("traefik-compat")
            for line in report.terminal_tables(records, bases=self.bases, meta=self.meta):
                terminalreporter.write_line(line)
        if self.paths is not None:
            terminalreporter.write_line(
                f"report: {self.paths.html} (every column, chart and comparison; also "
                f"report.md, report.json; written in {self.seconds * 1000:.0f} ms)"
            )
        if self.error:
            terminalreporter.write_line(f"report not written: {self.error}", red=True)
        for note in notes:
            terminalreporter.write_line(note, yellow=True)
        if kept_stacks:
            terminalreporter.write_line(
                f"--traefik-keep: kept {len(kept_stacks)} stack(s) of failed tests "
                f"({', '.join(kept_stacks)}); inspect with `docker ps -a --filter "
                f"label={engine.LABEL_RUN}={self.run_id}`, remove with "
                f"`python -m pytest_traefik_compat cleanup --run {self.run_id}`"
            )
