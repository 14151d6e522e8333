"""The run's session object: identity, caches, records, progress and cleanup.

Registered as a plugin by :mod:`plugin` so its hooks see the run's state without
module globals (the pytest-xdist ``DSession`` pattern). The fixtures stay thin by
calling the methods here, which in turn call the domain modules. Report writing and
the terminal summary are :mod:`.reporting`'s, the builds :mod:`.builds`'.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Generator
from contextlib import AbstractContextManager
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat import __version__, engine
from pytest_traefik_compat.bases import BaseImage, BaseImages
from pytest_traefik_compat.bases.catalogue import ImageSpec
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.gateway.stack import Gateway, KeepPolicy
from pytest_traefik_compat.measure import quiet
from pytest_traefik_compat.plugin.builds import Builds
from pytest_traefik_compat.plugin.markers import applicability, marker_problem
from pytest_traefik_compat.plugin.progress import ProgressLines, is_xdist_worker
from pytest_traefik_compat.plugin.reporting import RunReport
from pytest_traefik_compat.plugin.settings import Settings
from pytest_traefik_compat.records import Record

SESSION_PLUGIN_NAME = "traefik-compat-session"
settings_key = pytest.StashKey[Settings]()
RUN_ID_INPUT = "traefik_compat_run"
RECORDS_OUTPUT = "traefik_compat_records"
KEPT_OUTPUT = "traefik_compat_kept"
# A test using any of these works the engine (builds, containers) and so holds the
# machine lock shared while it runs (quiet.busy).
ENGINE_FIXTURES = frozenset({"traefik_base", "traefik_build", "traefik_gateway"})


def sample_apps_dir() -> Path:
    """The Go samples: where the env says, inside the installed package (a wheel ships
    them, see setup.py), or next to the package in a checkout."""
    override = os.environ.get("PYTEST_TRAEFIK_SAMPLE_APPS")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parents[1]  # the package directory
    shipped = here / "sample_apps"
    if (shipped / "service" / "go.mod").is_file():
        return shipped
    return here.parent / "sample_apps"


class CompatSession:
    """State of one pytest run (one per process; workers get the controller's run id)."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        # --traefik-engine-host reaches the engine module before its first client.
        engine.set_host_override(settings.engine_host)
        self.started = time.monotonic()
        self.records: list[Record] = []
        self._bases: dict[str, BaseImage] = {}
        self._current_test = ""
        self.failed_bases: set[str] = set()
        self.failed_tests: set[str] = set()
        self.finished_tests: set[str] = set()
        self.kept_stacks: list[str] = []
        worker_input: dict[str, Any] | None = getattr(config, "workerinput", None)
        if worker_input and RUN_ID_INPUT in worker_input:
            run = worker_input[RUN_ID_INPUT]
            self.identity = engine.RunIdentity(run["id"], run["pid"], run["host"])
        else:
            self.identity = engine.RunIdentity.create()
        self.worker_id = str((worker_input or {}).get("workerid", "main"))
        # Report files and the terminal summary (the controller's).
        self.reporting = RunReport(
            settings.report_dir, self.identity.run_id, [spec.name for spec in settings.images]
        )
        self.progress_lines = ProgressLines(
            config,
            self.worker_id,
            self.started,
            lambda: self.cache_dir / "progress" / f"{self.identity.run_id}.log",
        )

    # ---- progress on long work
    def progress(self, message: str) -> None:
        """Announce long work (builds, stack starts) with who does it and since when."""
        self.progress_lines.emit(message)

    # ---- lifecycle
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.settings.enabled or is_xdist_worker(self.config):
            return
        try:
            engine.client()
            leftovers = engine.remove_resources(
                dead_only=True, keep_runs=engine.KeptRuns(self.cache_dir).load()
            )
        except CompatError as error:
            pytest.exit(f"pytest-traefik-compat: {error}", returncode=pytest.ExitCode.USAGE_ERROR)
        if leftovers.total:
            self.progress(f"removed leftovers of killed runs: {leftovers}")
        if getattr(self.config.option, "numprocesses", None):
            self.progress_lines.start_relay()

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Apply ``@pytest.mark.traefik_bases(...)``: skip where the test does not apply."""
        marker = item.get_closest_marker("traefik_bases")
        base = base_param(item)
        if marker is None or base is None:
            return
        params = getattr(getattr(item, "callspec", None), "params", {})
        reason = applicability(
            base.name,
            names=[str(name) for name in marker.args],
            linkages=marker.kwargs.get("linkages"),
            linkage=params.get("linkage"),
            requires=marker.kwargs.get("requires"),
            facts=lambda: self.base(base).facts,
        )
        if reason:
            # The test's location in -rs output, not this line of the plugin.
            raise pytest.skip.Exception(reason, _use_item_location=True)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """A typo in a traefik_bases marker ends the run before anything starts,
        as one usage error, instead of failing each of its tests at setup."""
        for item in items:
            marker = item.get_closest_marker("traefik_bases")
            problem = marker_problem(marker) if marker is not None else None
            if problem:
                raise pytest.UsageError(f"{item.nodeid}: {problem}")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        self._current_test = item.nodeid
        try:
            if self.settings.enabled and ENGINE_FIXTURES & set(getattr(item, "fixturenames", ())):
                # Builds, gateways and checks hold the machine lock shared, so a timing
                # series on another worker or run waits for them and they wait for it.
                with quiet.busy(self.lock_dir):
                    return (yield)
            return (yield)
        finally:
            self._current_test = ""

    def timing_series(
        self, gateway: Gateway, what: str
    ) -> AbstractContextManager[quiet.Conditions]:
        """A timing series on ``gateway``'s engine: alone on the machine (quiet.quiet),
        with the conditions it was measured under."""
        return quiet.quiet(
            self.lock_dir,
            owner=f"{self.worker_id}:{os.getpid()}:{gateway.label}:{what}",
            others=lambda: quiet.other_running_containers(gateway.prefix),
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.failed:
            self.failed_tests.add(item.nodeid)
            base = base_param(item)
            if base is not None:
                self.failed_bases.add(base.name)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.finished_tests.add(item.nodeid)
            outcome = "error" if report.when == "setup" and report.failed else report.outcome
            for record in self.records:
                if record.test_id == item.nodeid:
                    record.outcome = outcome
                    # Figures also go to JUnit XML as properties.
                    for name, figure in record.figures.items():
                        if isinstance(figure.value, (int, float)) and not isinstance(
                            figure.value, bool
                        ):
                            unit = f" {figure.unit}" if figure.unit else ""
                            prop = (f"{record.check}.{name}", f"{figure.value}{unit}")
                            report.user_properties.append(prop)
                            # JUnit XML takes properties from the teardown report,
                            # which pytest builds from item.user_properties.
                            item.user_properties.append(prop)
        return report

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.settings.enabled:
            return
        if is_xdist_worker(self.config):
            # Records travel to the controller in workeroutput (see XdistHooks).
            self.config.workeroutput[RECORDS_OUTPUT] = json.dumps(  # type: ignore[attr-defined]
                [r.to_json() for r in self.records]
            )
            self.config.workeroutput[KEPT_OUTPUT] = json.dumps(self.kept_stacks)  # type: ignore[attr-defined]
            return
        self.progress_lines.stop_relay()
        # Safety net: anything of this run still around goes now (a fixture that never
        # reached its teardown, an interrupted run), except stacks kept for debugging.
        with contextlib.suppress(CompatError):
            engine.remove_resources(run_id=self.identity.run_id, keep_stacks=self.kept_stacks)
        if self.kept_stacks:
            engine.KeptRuns(self.cache_dir).add(self.identity.run_id)
        if self.records:  # versions would run `go version`: only for a report
            self.reporting.write(
                self.records,
                command_line=self.config.invocation_params.args,
                versions=self.versions,
                request=self.reporting.request(self.config, self.settings),
            )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.settings.enabled or is_xdist_worker(self.config):
            return
        # Registry mode's notes (tags moved since the lock), when bases were resolved.
        notes = self.base_images.notes if "base_images" in self.__dict__ else []
        self.reporting.terminal_summary(
            terminalreporter, self.records, notes=notes, kept_stacks=self.kept_stacks
        )

    # ---- gateways kept for debugging (--traefik-keep)
    def keep_policy(self, base: str) -> KeepPolicy:
        """What a gateway created now asks on close(): keep it (--traefik-keep) when the
        test that made it failed, or, for a gateway shared beyond that test, when its
        base failed. Before that test has an outcome the answer waits: a close() from
        inside the test is decided again at the fixture's teardown."""
        owner_test = self._current_test

        def keep(gateway: Gateway) -> bool:
            if not self.settings.keep:
                return False
            if owner_test and owner_test not in self.finished_tests:
                return True  # no outcome yet
            shared = self._current_test != owner_test
            if owner_test in self.failed_tests or (shared and base in self.failed_bases):
                gateway.kept = True
                self.kept_stacks.append(gateway.prefix)
                self.progress(f"kept stack {gateway.prefix} of failed base {base} (--traefik-keep)")
                return True
            return False

        return keep

    # ---- records
    def new_record(self, base: str, check: str, *, variant: str = "") -> Record:
        record = Record(
            base=base,
            check=check,
            variant=variant,
            test_id=self._current_test,
            worker=self.worker_id,
            versions=self.versions,
        )
        facts = self._bases.get(base)
        if facts is not None:
            record.provenance = {
                "variant": facts.facts.name,
                "source": facts.facts.source,
                "reference": facts.facts.reference,
                "image_id": facts.facts.image_id,
                "size_bytes": facts.facts.size_bytes,
                "libc": f"{facts.facts.libc_kind} {facts.facts.libc_version or ''}".strip(),
                "note": facts.facts.provenance,
                # Registry digest (RepoDigests), pull figures, a tag moved since the lock.
                **facts.pinned,
            }
        self.records.append(record)
        return record

    @cached_property
    def versions(self) -> dict[str, str]:
        versions = {"plugin": __version__}
        with contextlib.suppress(CompatError):
            versions["go"] = self.builds.go.toolchain.version
        with contextlib.suppress(CompatError):
            versions["traefik"] = self.builds.traefik_version
        return versions

    # ---- bases
    @cached_property
    def base_images(self) -> BaseImages:
        return BaseImages(
            self.cache_dir,
            self.identity,
            source=self.settings.source,
            progress=self.progress,
            mirror=self.settings.registry_mirror,
            lock=self.settings.lock,
            lock_strict=self.settings.lock_strict,
        )

    @property
    def lock_dir(self) -> Path:
        """Build locks and the machine lock of timing series (shared by every run)."""
        return self.cache_dir / "locks"

    @property
    def cache_dir(self) -> Path:
        path = self.settings.cache_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    def base(self, spec: ImageSpec) -> BaseImage:
        if spec.name not in self._bases:
            self._bases[spec.name] = self.base_images.get(spec)
        return self._bases[spec.name]

    # ---- Go builds and images
    @cached_property
    def builds(self) -> Builds:
        """The run's builds (Go binaries, service images, Traefik's image)."""
        return Builds(self.cache_dir, self.lock_dir, self.progress)


def base_param(item: pytest.Item) -> ImageSpec | None:
    """The base a test item is parametrized with (None outside the matrix)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    spec = params.get("traefik_base")
    return spec if isinstance(spec, ImageSpec) else None


def get_session(config: pytest.Config) -> CompatSession:
    plugin = config.pluginmanager.get_plugin(SESSION_PLUGIN_NAME)
    assert isinstance(plugin, CompatSession), "pytest-traefik-compat is not configured"
    return plugin
