"""The run's session object: identity, caches, records, progress and cleanup.

Registered as a plugin by :mod:`plugin` so its hooks see the run's state without
module globals (the pytest-xdist ``DSession`` pattern). The fixtures stay thin by
calling the methods here, which in turn call the domain modules.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Generator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from pytest_traefik_compat import __version__, engine, gobuild, images, report, traefik
from pytest_traefik_compat.bases import BaseFacts, BaseImage, BaseImages
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.settings import ImageSpec, Settings

SESSION_PLUGIN_NAME = "traefik-compat-session"
settings_key = pytest.StashKey[Settings]()
RUN_ID_INPUT = "traefik_compat_run"
RECORDS_OUTPUT = "traefik_compat_records"
KEPT_OUTPUT = "traefik_compat_kept"
RELAY_INTERVAL_S = 0.5


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def sample_apps_dir() -> Path:
    """The Go samples: next to the package in a checkout, or where the env says."""
    override = os.environ.get("PYTEST_TRAEFIK_SAMPLE_APPS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "sample_apps"


class CompatSession:
    """State of one pytest run (one per process; workers get the controller's run id)."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.started = time.monotonic()
        self.records: list[Record] = []
        self._bases: dict[str, BaseImage] = {}
        self._current_test = ""
        self.failed_bases: set[str] = set()
        self._relay: threading.Thread | None = None
        self._relay_stop = threading.Event()
        self.kept_stacks: list[str] = []
        self.report_paths: report.ReportPaths | None = None
        self.report_error = ""
        self.report_seconds = 0.0
        worker_input: dict[str, Any] | None = getattr(config, "workerinput", None)
        if worker_input and RUN_ID_INPUT in worker_input:
            run = worker_input[RUN_ID_INPUT]
            self.identity = engine.RunIdentity(run["id"], run["pid"], run["host"])
        else:
            self.identity = engine.RunIdentity.create()
        self.worker_id = str((worker_input or {}).get("workerid", "main"))

    # ---- progress on long work
    def progress(self, message: str) -> None:
        """Announce long work (builds, stack starts) with who does it and since when.

        Workers' output never reaches the terminal, so under xdist they append to a
        per-run file that the controller relays (see :meth:`start_progress_relay`).
        """
        elapsed = time.monotonic() - self.started
        line = f"[traefik-compat {self.worker_id} +{elapsed:5.1f}s] {message}"
        if is_xdist_worker(self.config):
            with contextlib.suppress(OSError), self.progress_file.open("a") as handle:
                handle.write(line + "\n")
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()  # not in the middle of a row of dots
            reporter.write_line(line)
        else:
            sys.stderr.write(line + "\n")

    @property
    def progress_file(self) -> Path:
        return self.cache_dir / "progress" / f"{self.identity.run_id}.log"

    def start_progress_relay(self) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        self.progress_file.parent.mkdir(parents=True, exist_ok=True)
        self.progress_file.touch()
        self._relay_stop = threading.Event()

        def relay() -> None:
            offset = 0
            while True:
                stopping = self._relay_stop.wait(RELAY_INTERVAL_S)
                with contextlib.suppress(OSError), self.progress_file.open() as handle:
                    handle.seek(offset)
                    chunk = handle.read()
                    # Only whole lines: a worker may be mid-write.
                    complete = chunk[: chunk.rfind("\n") + 1]
                    offset += len(complete)
                    for line in complete.splitlines():
                        reporter.ensure_newline()
                        reporter.write_line(line)
                if stopping:
                    return

        self._relay = threading.Thread(target=relay, name="traefik-compat-progress", daemon=True)
        self._relay.start()

    def stop_progress_relay(self) -> None:
        if self._relay is None:
            return
        self._relay_stop.set()
        self._relay.join(timeout=5)
        self._relay = None
        self.progress_file.unlink(missing_ok=True)

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
            self.start_progress_relay()

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Apply ``@pytest.mark.traefik_bases(...)``: skip where the test does not apply."""
        marker = item.get_closest_marker("traefik_bases")
        params = getattr(getattr(item, "callspec", None), "params", {})
        base = params.get("traefik_base")
        if marker is None or not base:
            return
        reason = applicability(
            str(base),
            names=[str(name) for name in marker.args],
            linkages=marker.kwargs.get("linkages"),
            linkage=params.get("linkage"),
            requires=marker.kwargs.get("requires"),
            facts=lambda: self.base(str(base)).facts,
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
            return (yield)
        finally:
            self._current_test = ""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.failed:
            params = getattr(getattr(item, "callspec", None), "params", {})
            if params.get("traefik_base"):
                self.failed_bases.add(str(params["traefik_base"]))
        if report.when == "call" or (report.when == "setup" and not report.passed):
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
        self.stop_progress_relay()
        # Safety net: anything of this run still around goes now (a fixture that never
        # reached its teardown, an interrupted run), except stacks kept for debugging.
        with contextlib.suppress(CompatError):
            engine.remove_resources(run_id=self.identity.run_id, keep_stacks=self.kept_stacks)
        if self.kept_stacks:
            engine.KeptRuns(self.cache_dir).add(self.identity.run_id)
        self.write_report()

    # ---- stacks kept for debugging (--traefik-keep)
    def release_stack(self, stack: Any, base: str) -> None:
        """Close a stack, unless --traefik-keep asks to keep a failed base's stack."""
        if getattr(stack, "network", None) is None:
            return  # already closed by its user
        if self.settings.keep and base in self.failed_bases:
            self.kept_stacks.append(stack.prefix)
            self.progress(f"kept stack {stack.prefix} of failed base {base} (--traefik-keep)")
            return
        stack.close()

    # ---- report
    @property
    def base_names(self) -> list[str]:
        return [spec.name for spec in self.settings.images]

    def write_report(self) -> None:
        if not self.records:
            return
        meta = {
            "run_id": self.identity.run_id,
            "bases": self.base_names,
            "command_line": list(self.config.invocation_params.args),
            "versions": self.versions,
        }
        started = time.monotonic()
        try:
            self.report_paths = report.write_reports(
                self.records, self.settings.report_dir, meta=meta
            )
        except CompatError as error:
            self.report_error = str(error)
            return
        self.report_seconds = time.monotonic() - started

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.settings.enabled or is_xdist_worker(self.config):
            return
        if self.records:
            terminalreporter.section("traefik-compat")
            for line in report.terminal_tables(self.records, bases=self.base_names):
                terminalreporter.write_line(line)
        if self.report_paths is not None:
            terminalreporter.write_line(
                f"report: {self.report_paths.html} (also report.json, report.md; "
                f"written in {self.report_seconds * 1000:.0f} ms)"
            )
        if self.report_error:
            terminalreporter.write_line(f"report not written: {self.report_error}", red=True)
        if self.kept_stacks:
            terminalreporter.write_line(
                f"--traefik-keep: kept {len(self.kept_stacks)} stack(s) of failed tests "
                f"({', '.join(self.kept_stacks)}); inspect with `docker ps -a --filter "
                f"label={engine.LABEL_RUN}={self.identity.run_id}`, remove with "
                f"`python -m pytest_traefik_compat cleanup --run {self.identity.run_id}`"
            )

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
            }
        self.records.append(record)
        return record

    @cached_property
    def versions(self) -> dict[str, str]:
        versions = {"plugin": __version__}
        with contextlib.suppress(CompatError):
            versions["go"] = self.go.toolchain.version
        with contextlib.suppress(CompatError):
            versions["traefik"] = self.traefik_version
        return versions

    # ---- bases
    @cached_property
    def base_images(self) -> BaseImages:
        return BaseImages(
            self.cache_dir, self.identity, source=self.settings.source, progress=self.progress
        )

    @property
    def cache_dir(self) -> Path:
        path = self.settings.cache_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    def spec(self, name: str) -> ImageSpec:
        return next(spec for spec in self.settings.images if spec.name == name)

    def base(self, name: str) -> BaseImage:
        if name not in self._bases:
            self._bases[name] = self.base_images.get(self.spec(name))
        return self._bases[name]

    # ---- Go builds and images
    @cached_property
    def go(self) -> gobuild.GoBuilder:
        return gobuild.GoBuilder(self.cache_dir / "go")

    def build_go(self, request: gobuild.BuildRequest) -> gobuild.BuiltBinary:
        label = f"{request.module_dir.name}/{request.package} ({request.linkage})"
        started = time.monotonic()
        built = self.go.build(request)
        if not built.cached:
            self.progress(f"go build {label} in {time.monotonic() - started:.1f} s")
        return built

    def service_image(
        self,
        base: BaseImage,
        binary: gobuild.BuiltBinary,
        *,
        name: str,
        ports: Sequence[int] = (8080, 8081, 9090),
        healthcheck: images.HealthCheck | None = None,
    ) -> images.BuiltImage:
        request = images.service_request(
            base,
            binary.path,
            binary.key,
            name=name,
            ports=ports,
            healthcheck=healthcheck,
            labels={"linkage": binary.linkage},
        )
        built = images.ensure_image(request, self.cache_dir / "locks")
        if built.built_now:
            self.progress(f"built image {built.tag}")
        return built

    @cached_property
    def traefik_binary(self) -> Path:
        return traefik.traefik_binary_path()

    @cached_property
    def traefik_version(self) -> str:
        return traefik.traefik_version(self.traefik_binary)

    def traefik_image(self, base: BaseImage) -> images.BuiltImage:
        request = images.traefik_request(base, self.traefik_binary, self.traefik_version)
        built = images.ensure_image(request, self.cache_dir / "locks")
        if built.built_now:
            self.progress(f"built Traefik image {built.tag}")
        return built


# Facts a test can require with @pytest.mark.traefik_bases(requires=...).
REQUIREMENTS: dict[str, Callable[[BaseFacts], bool]] = {
    "shell": lambda f: f.shell is not None,
    "bash": lambda f: f.bash,
    "curl": lambda f: f.curl is not None,
    "wget": lambda f: f.wget is not None,
    "ca_bundle": lambda f: f.ca_bundle is not None,
    "zoneinfo": lambda f: f.zoneinfo,
    "glibc": lambda f: "glibc" in f.libc_kind,
    "musl": lambda f: "musl" in f.libc_kind,
    "libc": lambda f: f.libc_kind != "none",
}


def _as_list(value: Sequence[str] | str | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def marker_problem(marker: pytest.Mark) -> str | None:
    """What is wrong with a ``traefik_bases`` marker's arguments (None: nothing)."""
    unknown = sorted(set(marker.kwargs) - {"linkages", "requires"})
    if unknown:
        return f"traefik_bases({unknown[0]}=...): unknown argument; valid: linkages, requires"
    for requirement in _as_list(marker.kwargs.get("requires")):
        if requirement not in REQUIREMENTS:
            return (
                f"traefik_bases(requires={requirement!r}): unknown requirement; "
                f"valid: {', '.join(REQUIREMENTS)}"
            )
    for linkage in _as_list(marker.kwargs.get("linkages")):
        if linkage not in gobuild.LINKAGES:
            return (
                f"traefik_bases(linkages={linkage!r}): unknown linkage; "
                f"valid: {', '.join(gobuild.LINKAGES)}"
            )
    return None


def applicability(
    base: str,
    *,
    names: Sequence[str],
    linkages: Sequence[str] | str | None,
    linkage: object,
    requires: Sequence[str] | str | None,
    facts: Callable[[], BaseFacts],
) -> str | None:
    """Why a marked test does not apply to this base (None: it applies)."""
    if names and base not in names:
        return f"only for bases {', '.join(names)} (this is {base})"
    if linkages is not None and linkage is not None:
        allowed = [linkages] if isinstance(linkages, str) else list(linkages)
        if linkage not in allowed:
            return f"only for linkages {', '.join(allowed)} (this is {linkage})"
    wanted = [requires] if isinstance(requires, str) else list(requires or [])
    for requirement in wanted:
        check = REQUIREMENTS.get(requirement)
        if check is None:
            raise pytest.UsageError(
                f"traefik_bases(requires={requirement!r}): unknown requirement; "
                f"valid: {', '.join(REQUIREMENTS)}"
            )
        if not check(facts()):
            return f"base {base} has no {requirement.replace('_', ' ')}"
    return None


class XdistHooks:
    """Registered only when pytest-xdist is active: its hooks do not exist otherwise."""

    def __init__(self, compat: CompatSession) -> None:
        self.compat = compat

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Keep each base's tests on one worker (default ``-n`` mode only)."""
        if not self.compat.settings.enabled or config.getvalue("dist") != "load":
            return None
        from pytest_traefik_compat.xdist_scheduling import BaseScopeScheduling

        names = [spec.name for spec in self.compat.settings.images]
        return BaseScopeScheduling(config, log, names)

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[RUN_ID_INPUT] = {
            "id": self.compat.identity.run_id,
            "pid": self.compat.identity.pid,
            "host": self.compat.identity.host,
        }

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", {})
        payload = output.get(RECORDS_OUTPUT)
        if payload:
            self.compat.records.extend(Record.from_json(item) for item in json.loads(payload))
        self.compat.kept_stacks.extend(json.loads(output.get(KEPT_OUTPUT) or "[]"))


def get_session(config: pytest.Config) -> CompatSession:
    plugin = config.pluginmanager.get_plugin(SESSION_PLUGIN_NAME)
    assert isinstance(plugin, CompatSession), "pytest-traefik-compat is not configured"
    return plugin
