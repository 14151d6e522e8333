"""Nothing leaks: killed runs, interrupted runs, and stacks kept on purpose.

Resources are found by the plugin's labels only; a live run's resources and anything
without the labels are never touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.plugin.session import sample_apps_dir

# Any run on the machine sweeps a dead run's leftovers at its start: the leftovers
# these tests assert on would vanish under a concurrent run.
pytestmark = pytest.mark.serial

USER_TEST = """
import time, pytest

@pytest.fixture(scope="session")
def gateway(traefik_base, traefik_build, traefik_gateway):
    build = traefik_build({service!r}, traefik_base, ports=(8080, 8081, 9090))
    return traefik_gateway(traefik_base, [build], grpc_port=9090)

def test_user(gateway):
    print("STACK-UP", flush=True)
    {action}
"""
RUN_TIMEOUT_S = 300


def _write_test(directory: Path, action: str) -> Path:
    path = directory / "test_user_stack.py"
    service = str(sample_apps_dir() / "service")
    path.write_text(USER_TEST.format(service=service, action=action))
    return path


def _owned_by(pid: int) -> list[str]:
    filters = {"label": [f"{engine.LABEL_PID}={pid}"]}
    client = engine.client()
    return [c.name for c in client.containers.list(all=True, filters=filters)] + [
        n.name for n in client.networks.list(filters=filters)
    ]


def _pytest(directory: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-s",
            "-q",
            "--traefik-images=distroless",
            *args,
        ],
        cwd=directory,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _cleanup(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest_traefik_compat cleanup ARGS``; fails the test if it fails."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_traefik_compat", "cleanup", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _wait_for_line(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"{marker!r} not seen; output:\n{''.join(seen)[-3000:]}")


@pytest.fixture
def live_network(run_identity: engine.RunIdentity) -> Iterator[str]:
    """A resource of a live run (this process) and one without labels: both must stay."""
    client = engine.client()
    live = client.networks.create(
        f"ptc-live-{run_identity.run_id}", labels=run_identity.labels("network")
    )
    foreign = client.networks.create(f"not-ours-{run_identity.run_id}")
    yield live.name
    for network in (live, foreign):
        network.remove()


def test_killed_run_is_cleaned_by_the_cleanup_command(
    tmp_path: Path, live_network: str, run_identity: engine.RunIdentity
) -> None:
    _write_test(tmp_path, "time.sleep(120)")
    proc = _pytest(tmp_path)
    try:
        _wait_for_line(proc, "STACK-UP", RUN_TIMEOUT_S)
        assert _owned_by(proc.pid), "the run's stack should exist before the kill"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _owned_by(proc.pid), "SIGKILL leaves the stack behind"
    done = _cleanup()
    assert "removed" in done.stdout
    assert _owned_by(proc.pid) == []
    names = [n.name for n in engine.client().networks.list()]
    assert live_network in names, "a live run's network must survive"
    assert f"not-ours-{run_identity.run_id}" in names, "unlabelled resources are not ours"


def test_killed_run_is_cleaned_by_the_next_run(tmp_path: Path) -> None:
    _write_test(tmp_path, "time.sleep(120)")
    proc = _pytest(tmp_path)
    try:
        _wait_for_line(proc, "STACK-UP", RUN_TIMEOUT_S)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _owned_by(proc.pid)
    (tmp_path / "test_user_stack.py").write_text("def test_nothing(traefik_base): pass\n")
    nxt = _pytest(tmp_path)
    output, _ = nxt.communicate(timeout=RUN_TIMEOUT_S)
    assert nxt.returncode == 0, output
    assert "removed leftovers of killed runs" in output
    assert _owned_by(proc.pid) == []


def test_keyboard_interrupt_leaves_nothing(tmp_path: Path) -> None:
    _write_test(tmp_path, "raise KeyboardInterrupt")
    proc = _pytest(tmp_path)
    output, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "STACK-UP" in output
    assert _owned_by(proc.pid) == []


def test_keep_keeps_failed_stacks_until_cleanup_run(tmp_path: Path) -> None:
    _write_test(tmp_path, "assert False, 'keep me'")
    proc = _pytest(tmp_path, "--traefik-keep")
    output, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "--traefik-keep: kept 1 stack(s)" in output
    run_id = output.split("cleanup --run ")[1].split("`")[0]
    kept = _owned_by(proc.pid)
    assert kept, "the failed test's stack is kept"
    # A later run's dead-run cleanup leaves kept runs alone.
    (tmp_path / "test_user_stack.py").write_text("def test_nothing(traefik_base): pass\n")
    nxt = _pytest(tmp_path)
    nxt.communicate(timeout=RUN_TIMEOUT_S)
    assert _owned_by(proc.pid) == kept
    _cleanup("--run", run_id)
    assert _owned_by(proc.pid) == []


def test_stale_cached_images_are_pruned_current_ones_kept(tmp_path: Path) -> None:
    from pytest_traefik_compat.bases.images import prune_stale_images
    from pytest_traefik_compat.engine import build_image

    (tmp_path / "Dockerfile").write_text("FROM scratch\nLABEL purpose=stale-test\n")
    tag = f"pytest-traefik-compat/svc-gone-base:{time.monotonic_ns()}"
    build_image(
        tmp_path,
        tag,
        {
            engine.LABEL_MANAGED: "true",
            engine.LABEL_CACHED: "true",
            engine.LABEL_KIND: "svc",
            f"{engine.LABEL_PREFIX}.base-image": "sha256:" + "0" * 64,
        },
    )
    current = {
        t
        for image in engine.client().images.list(filters={"label": [engine.LABEL_CACHED]})
        for t in image.tags
        if "base-" in t
    }
    removed = prune_stale_images()
    assert tag in removed
    assert not engine.image_exists(tag)
    remaining = {
        t
        for image in engine.client().images.list(filters={"label": [engine.LABEL_CACHED]})
        for t in image.tags
        if "base-" in t
    }
    from pytest_traefik_compat.bases.catalogue import VARIANTS

    assert {v.local_tag for v in VARIANTS.values()} & current <= remaining


CLOSING_TEST = """
import pytest

@pytest.fixture
def gateway(traefik_base, traefik_build, traefik_gateway):
    build = traefik_build({service!r}, traefik_base, ports=(8080, 8081, 9090))
    gateway = traefik_gateway(traefik_base, [build], grpc_port=9090)
    yield gateway
    gateway.close()  # as the README teaches

def test_fails(gateway):
    print("FAILING-PREFIX", gateway.prefix, flush=True)
    assert False, "keep me"

def test_passes(gateway):
    print("PASSING-PREFIX", gateway.prefix, flush=True)

def test_closes_inside(gateway):
    print("INSIDE-PREFIX", gateway.prefix, flush=True)
    gateway.close()  # its outcome is not known yet: decided at teardown
    assert False, "failed after closing"
"""


def _prefix(output: str, marker: str) -> str:
    return output.split(f"{marker} ")[1].split()[0]


def test_gateway_close_under_keep_keeps_failed_tests_gateways(tmp_path: Path) -> None:
    """gateway.close() (not only the plugin's own teardown) obeys --traefik-keep."""
    service = str(sample_apps_dir() / "service")
    (tmp_path / "test_user_close.py").write_text(CLOSING_TEST.format(service=service))
    proc = _pytest(tmp_path, "--traefik-keep")
    output, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, output
    run_id = output.split("cleanup --run ")[1].split("`")[0]
    client = engine.client()

    def containers_of(prefix: str) -> list[str]:
        filters = {"label": [f"{engine.LABEL_STACK}={prefix}"]}
        return [c.name for c in client.containers.list(all=True, filters=filters)]

    try:
        assert "--traefik-keep: kept 2 stack(s)" in output, output
        assert containers_of(_prefix(output, "FAILING-PREFIX")), "failed test's gateway kept"
        assert containers_of(_prefix(output, "INSIDE-PREFIX")), "closed inside, then failed: kept"
        assert containers_of(_prefix(output, "PASSING-PREFIX")) == [], "passing test's removed"
    finally:
        _cleanup("--run", run_id)
    assert _owned_by(proc.pid) == []
