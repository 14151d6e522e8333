"""Bad inputs met on a real engine: one clear line each, and nothing left behind.

Each case is a pytester run in a subprocess, as a user would start it (the cases that
share the run's arguments and environment share one run). A conftest in
the project records the plugin's run id; after the run no labelled container,
network, volume or temporary image of that run may remain. Docker events tell how
many containers the run created, so "nothing left" is not trivially true.
Only cached images (distroless base, the sample's static service, Traefik) are used.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import time
from pathlib import Path

import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.plugin.session import sample_apps_dir
from tests.helpers.bad_input_helpers import (
    RUN_ID_CONFTEST,
    Resource,
    assert_one_clear_line,
    labelled_resources,
    left_behind,
    output_of,
    run_id_of,
)

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")

RUN_TIMEOUT_S = 300
BASE = "distroless"
SAMPLE_SERVICE = sample_apps_dir() / "service"
# The suite's own arguments for the sample, so the cached images are reused.
SAMPLE_BUILD = f"traefik_build({str(SAMPLE_SERVICE)!r}, traefik_base, ports=(8080, 8081, 9090))"


class Scenario:
    """One pytester run with its resource accounting."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        pytester.makeconftest(RUN_ID_CONFTEST)
        self.before: set[Resource] = labelled_resources()
        self.seconds = 0.0
        self.started = dt.datetime.now(dt.timezone.utc)

    def run(self, *args: str, images: str = BASE) -> pytest.RunResult:
        started = time.monotonic()
        result = self.pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--traefik-images={images}", *args, timeout=RUN_TIMEOUT_S
        )
        self.seconds = time.monotonic() - started
        return result

    def containers_created(self) -> int:
        """Containers the run created, from the engine's event log (bounded by `until`)."""
        run_id = run_id_of(self.pytester.path)
        if not run_id:
            return 0
        events = engine.client().events(
            since=self.started,
            until=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1),
            decode=True,
            filters={
                "type": "container",
                "event": "create",
                "label": f"{engine.LABEL_RUN}={run_id}",
            },
        )
        return sum(1 for _ in events)

    def assert_nothing_left(self) -> None:
        leftovers = left_behind(self.before, self.pytester.path)
        assert leftovers == [], f"left behind: {leftovers}"
        print(f"containers created: {self.containers_created()}, left: 0, {self.seconds:.1f} s")


@pytest.fixture
def scenario(pytester: pytest.Pytester, docker_engine: None) -> Scenario:
    return Scenario(pytester)


def _go_module(root: Path, name: str, main_body: str) -> Path:
    """A one-file Go module ``example.com/<name>`` in ``root/<name>``."""
    module = root / name
    module.mkdir()
    (module / "go.mod").write_text(f"module example.com/{name}\n\ngo 1.22\n")
    (module / "main.go").write_text(f"package main\n\nfunc main() {{{main_body}}}\n")
    return module


def _broken_module(root: Path) -> Path:
    return _go_module(root, "broken", "\n\tundefinedThing()\n")


def _tiny_module(root: Path) -> Path:
    return _go_module(root, "tiny", "")


BUILD_TEST = """
def test_build(traefik_base, traefik_build):
    traefik_build("tiny", traefik_base)
"""


def _tiny_build_fails_with(scenario: Scenario, line: str) -> None:
    """Builds the tiny module in a run: its one test fails with ``line`` as the one clear
    line of the output, and the run leaves nothing behind."""
    _tiny_module(scenario.pytester.path)
    scenario.pytester.makepyfile(BUILD_TEST)
    result = scenario.run()
    result.assert_outcomes(failed=1)
    print(assert_one_clear_line(output_of(result), line))
    scenario.assert_nothing_left()


# ----------------------------------------------------------------- bases


def test_reference_not_present_locally(scenario: Scenario) -> None:
    scenario.pytester.makepyfile("def test_x(traefik_base): pass")
    result = scenario.run(images="mine=compat-test/absent:1")
    result.assert_outcomes(errors=1)
    print(
        assert_one_clear_line(
            output_of(result),
            "base mine: image 'compat-test/absent:1' for 'mine' is not present locally: "
            "build or load it first (docker build/load), nothing is pulled in local mode",
        )
    )
    scenario.assert_nothing_left()


def test_registry_mode_without_a_reachable_registry_is_bounded(scenario: Scenario) -> None:
    # Port 9 (discard) on loopback is closed: the engine's pull fails at once. Only
    # 127.0.0.1 is ever named, so nothing can reach a real registry.
    scenario.pytester.makepyfile("def test_x(traefik_base): pass")
    result = scenario.run("--traefik-source=registry", images="mine=127.0.0.1:9/none/img:1")
    result.assert_outcomes(errors=1)
    line = assert_one_clear_line(
        output_of(result),
        "base mine: cannot pull 127.0.0.1:9/none/img:1 for 'mine': registry unreachable or "
        "image unknown; use --traefik-source=local with a local image",
    )
    assert "127.0.0.1:9" in line and "connection refused" in line
    print(line)
    assert scenario.seconds < 60, f"registry mode took {scenario.seconds:.0f} s: not bounded"
    scenario.assert_nothing_left()


# ----------------------------------------------------------------- Go


def _path_without_go() -> str:
    keep = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "go").exists()]
    return os.pathsep.join(keep)


def test_missing_go(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", _path_without_go())
    # Without it the builder would fall back to /usr/local/go/bin/go and find Go.
    monkeypatch.setenv("PYTEST_TRAEFIK_GO", "go")
    monkeypatch.delenv("GOROOT", raising=False)
    _tiny_build_fails_with(
        scenario,
        "Go toolchain not found: PYTEST_TRAEFIK_GO=go is not an executable nor a command "
        "on PATH; install Go >= 1.22 (https://go.dev/dl) or fix PYTEST_TRAEFIK_GO",
    )


FAKE_OLD_GO = """#!/bin/sh
# A Go 1.20 toolchain as far as version queries go; it can build nothing.
case "$1" in
  env) printf 'go1.20.14\\nlinux\\namd64\\n' ;;
  version) echo "go version go1.20.14 linux/amd64" ;;
  *) echo "fake go 1.20 cannot $1" >&2; exit 2 ;;
esac
"""


def test_go_too_old(scenario: Scenario, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_dir = tmp_path / "old-go"
    fake_dir.mkdir()
    fake = fake_dir / "go"
    fake.write_text(FAKE_OLD_GO)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{fake_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("PYTEST_TRAEFIK_GO", raising=False)
    _tiny_build_fails_with(
        scenario,
        f"Go go1.20.14 at {fake} is too old: install Go >= 1.22 (https://go.dev/dl) "
        "or put a newer `go` on PATH",
    )


def _sections(output: str) -> dict[str, str]:
    """Each failure's section of the output (``___ test_x[params] ___`` to the next)."""
    parts = re.split(r"^_{3,} (\S+) _{3,}$", output, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


BROKEN_TLS = {
    "tls": {
        "certificates": [
            {
                "certFile": "/etc/traefik/certs/missing.crt",
                "keyFile": "/etc/traefik/certs/missing.key",
            }
        ]
    }
}


def test_builds_and_stacks_that_fail(scenario: Scenario) -> None:
    """In one run (each judged on its own failure section): a module that does not
    compile, a directory without go.mod, a service that never gets healthy, Traefik
    refusing its config."""
    module = _broken_module(scenario.pytester.path)
    (scenario.pytester.path / "not-a-module").mkdir()
    scenario.pytester.makepyfile(
        f"""
        def test_does_not_compile(traefik_base, traefik_build):
            traefik_build("broken", traefik_base)

        def test_without_go_mod(traefik_base, traefik_build):
            traefik_build("not-a-module", traefik_base)

        def test_never_healthy(traefik_base, traefik_build, traefik_gateway):
            build = {SAMPLE_BUILD}
            traefik_gateway(traefik_base, [build], health_path="/not-health", ready_timeout=4)

        def test_traefik_refuses(traefik_base, traefik_build, traefik_gateway):
            build = {SAMPLE_BUILD}
            traefik_gateway(traefik_base, [build], extra_dynamic={BROKEN_TLS!r})
        """
    )
    result = scenario.run()
    result.assert_outcomes(failed=4)
    output = output_of(result)
    sections = {name.split("[")[0]: text for name, text in _sections(result.stdout.str()).items()}
    assert sorted(sections) == [
        "test_does_not_compile",
        "test_never_healthy",
        "test_traefik_refuses",
        "test_without_go_mod",
    ], sorted(sections)
    # No traceback anywhere in the run's output; each phrase on one line of its section.
    assert_one_clear_line(output, "go build failed for")

    compile_failure = sections["test_does_not_compile"]
    print(assert_one_clear_line(compile_failure, f"go build failed for {module} (., static)"))
    assert "undefined: undefinedThing" in compile_failure, "the compiler's words follow the line"

    print(
        assert_one_clear_line(
            sections["test_without_go_mod"],
            f"no go.mod in {scenario.pytester.path / 'not-a-module'}: "
            "point the builder at a Go module directory",
        )
    )

    line = assert_one_clear_line(
        sections["test_never_healthy"], "never answered 200 on /not-health within 4 s"
    )
    assert "/not-health on service 'app' answers HTTP 404: check health_path=" in line
    print(line)

    refused = sections["test_traefik_refuses"]
    # Traefik elides the middle of long paths in its log ("/etc/tr[...]ing.crt").
    print(assert_one_clear_line(refused, "Traefik refused its config: Unable to parse certificate"))
    assert "--- traefik (last lines)" in refused, "Traefik's own log follows the line"

    assert scenario.seconds < 120, f"{scenario.seconds:.0f} s: a failure must not hang"
    scenario.assert_nothing_left()
    # a service for the unhealthy stack, a service and Traefik for the refused config
    assert scenario.containers_created() >= 3, "the stacks must have been tried for real"


# ----------------------------------------------------------------- reports


def test_report_directory_not_writable(scenario: Scenario) -> None:
    blocker = scenario.pytester.path / "a-file"
    blocker.write_text("a regular file where the report's parent directory should be")
    target = blocker / "report"
    scenario.pytester.makepyfile(
        f"""
        def test_record(traefik_record):
            traefik_record("custom", base={BASE!r}).figure("answer", 42, "count")
        """
    )
    result = scenario.run(f"--traefik-report-dir={target}")
    # Refused at the start, before any test spends time on results it cannot keep.
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    print(
        assert_one_clear_line(
            output_of(result),
            f"cannot write the report to {target}: Not a directory; "
            "choose a writable directory with --traefik-report-dir",
        )
    )
    assert "test_record" not in result.stdout.str(), "no test may run"
    assert blocker.is_file()
    scenario.assert_nothing_left()


def test_cache_directory_not_writable(scenario: Scenario) -> None:
    blocker = scenario.pytester.path / "a-file"
    blocker.write_text("a regular file where the cache's parent directory should be")
    scenario.pytester.makepyfile("def test_x(traefik_base): pass")
    result = scenario.run(f"--traefik-cache-dir={blocker / 'cache'}")
    assert "INTERNALERROR" not in output_of(result)
    print(assert_one_clear_line(output_of(result), str(blocker / "cache")))
    assert "choose a writable directory with --traefik-cache-dir" in output_of(result)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    scenario.assert_nothing_left()
