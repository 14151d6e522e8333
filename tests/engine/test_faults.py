"""Faults during a run: a dead service, a dead gateway, a Go build cut off half-way.

Each answer must be fast and clear: Traefik says 503 instead of hanging, the stack
names the dead container with its last log lines, and the Go build cache never holds
an entry a killed build half wrote.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pytest_traefik_compat import engine, gobuild
from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.errors import BuildError, StackError
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.services import ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.gateway.tlsprobe import probe_tls
from pytest_traefik_compat.pki import SessionPKI
from tests.helpers.stack_images import service_tag, traefik_tag

REQUEST_TIMEOUT_S = 3.0
FAULT_DEADLINE_S = 15.0  # health-check interval is 1 s: 503 comes long before this
POLL_S = 0.1


@pytest.fixture
def stack(
    run_identity: engine.RunIdentity, cache_dir: Path, distroless: BaseImage, tmp_path: Path
) -> Iterator[Gateway]:
    with (
        SessionPKI(tmp_path / "pki") as pki,
        Gateway(
            identity=run_identity,
            label=f"fault{time.monotonic_ns() % 10**6}",
            workdir=tmp_path / "stack",
            pki=pki,
            traefik_image=traefik_tag(distroless, cache_dir),
            services=[ServiceSpec(service_tag(distroless, cache_dir))],
        ) as running,
    ):
        yield running
    leftovers = engine.client().containers.list(
        all=True, filters={"label": [f"{engine.LABEL_PREFIX}.stack={running.prefix}"]}
    )
    assert leftovers == [], "the stack must remove its containers, killed or not"


def _statuses_until(
    stack: Gateway, wanted: int, deadline_s: float
) -> tuple[list[int | str], float]:
    """GET /healthz through Traefik until ``wanted`` (bounded); statuses seen, slowest call."""
    seen: list[int | str] = []
    slowest = 0.0
    deadline = time.monotonic() + deadline_s
    with stack.https_client() as client:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                status: int | str = client.get("/healthz", timeout=REQUEST_TIMEOUT_S).status_code
            except requests.RequestException as error:
                status = type(error).__name__
            slowest = max(slowest, time.monotonic() - started)
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == wanted:
                break
            time.sleep(POLL_S)
    return seen, slowest


def test_killed_service_gets_503_then_recovers_on_restart(stack: Gateway) -> None:
    service = stack.services["app"]
    seen, _ = _statuses_until(stack, 200, 5)
    assert seen[-1] == 200

    killed = time.monotonic()
    service.container.kill()  # SIGKILL: no graceful shutdown, as in an OOM kill
    seen, slowest = _statuses_until(stack, 503, FAULT_DEADLINE_S)
    to_503 = time.monotonic() - killed
    print(
        f"after the kill Traefik answered {seen} ({to_503:.1f} s to 503, slowest {slowest:.2f} s)"
    )
    assert seen[-1] == 503, f"Traefik answered {seen}, never 503"
    assert slowest < REQUEST_TIMEOUT_S, "a request through Traefik hung"
    # Nothing in between but a 502 (the dial failing before the health check noticed).
    assert set(seen[:-1]) <= {200, 502}, seen

    with pytest.raises(StackError) as error:
        stack.check_alive()
    assert str(error.value).startswith(f"service {service.name} of stack {stack.prefix} exited")
    assert "exited with code 137" in error.value.message

    restarted = time.monotonic()
    stack.start_service(service.spec, timeout=30)
    seen, _ = _statuses_until(stack, 200, FAULT_DEADLINE_S)
    print(f"after the restart: {seen} ({time.monotonic() - restarted:.1f} s to 200)")
    assert seen[-1] == 200, f"the stack did not recover: {seen}"
    stack.check_alive()  # everything running again


def test_killed_traefik_is_reported_with_its_last_log_lines(stack: Gateway) -> None:
    port = stack.https_port
    stack.traefik.kill()
    started = time.monotonic()
    with pytest.raises(StackError) as error:
        stack.check_alive()
    assert time.monotonic() - started < 5, "check_alive must not wait for anything"
    line = str(error.value).splitlines()[0]
    print(line)
    assert line == f"Traefik of stack {stack.prefix} exited with code 137"
    detail = error.value.detail
    assert detail.startswith("--- traefik (last lines)\n")
    traefik_tail = detail.split("--- ", 2)[1]
    # Traefik's own JSON log lines, not an empty tail.
    assert '"level":"info"' in traefik_tail or '"level":"INF"' in traefik_tail, traefik_tail
    assert traefik_tail.count("\n") >= 3

    # A client is refused at once, it does not hang on the dead gateway's port.
    probe = probe_tls(port, stack.pki.client_context(), sni=traefik.APP_HOST, timeout=3)
    assert not probe.accepted and probe.stage in ("connect", "handshake", "read"), probe
    assert probe.seconds < 3


# ----------------------------------------------------------------- Go builds

# A -toolexec wrapper that holds the link step while a flag file exists: the build is
# then reliably "half-way" (packages compiled, binary not yet written) for as long as
# the test needs, without burning CPU.
SLOW_LINK = """#!/bin/sh
case "$*" in
  *-V=full*) ;;
  */link\\ *) if [ -e "{flag}" ]; then touch "{marker}"; sleep 30; fi ;;
esac
exec "$@"
"""


def _module(root: Path) -> Path:
    module = root / "tiny"
    module.mkdir()
    (module / "go.mod").write_text("module example.com/tiny\n\ngo 1.22\n")
    (module / "main.go").write_text(
        'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("tiny ok") }\n'
    )
    return module


@pytest.fixture
def slow_build(tmp_path: Path) -> tuple[gobuild.BuildRequest, Path, Path]:
    """A request whose link step waits while ``flag`` exists; ``marker`` says it began."""
    flag, marker = tmp_path / "slow", tmp_path / "linking"
    wrapper = tmp_path / "slow-link.sh"
    wrapper.write_text(SLOW_LINK.format(flag=flag, marker=marker))
    wrapper.chmod(0o755)
    flag.touch()
    request = gobuild.BuildRequest(
        _module(tmp_path), flags=("-toolexec", str(wrapper)), linkage_var=None
    )
    return request, flag, marker


def _temps(cache: Path) -> list[Path]:
    return sorted(cache.glob(".tmp-*")) if cache.exists() else []


def _assert_valid_entry(builder: gobuild.GoBuilder, request: gobuild.BuildRequest) -> None:
    hit = builder.lookup(request)
    assert hit is not None and hit.cached
    ran = subprocess.run([str(hit.path)], capture_output=True, text=True, timeout=10, check=False)
    assert ran.returncode == 0 and ran.stdout == "tiny ok\n", ran


@pytest.mark.serial  # 2 s to reach the link step: a busy machine would not
def test_go_build_timing_out_leaves_no_cache_entry(
    tmp_path: Path, slow_build: tuple[gobuild.BuildRequest, Path, Path]
) -> None:
    request, flag, marker = slow_build
    cache = tmp_path / "go-cache"
    builder = gobuild.GoBuilder(cache, timeout=2.0)
    started = time.monotonic()
    with pytest.raises(BuildError) as error:
        builder.build(request)
    print(f"{error.value.message} ({time.monotonic() - started:.1f} s)")
    assert error.value.message.startswith("go build timed out after 2 s for ")
    assert marker.exists(), "the build must have been stopped half-way, in its link step"
    assert time.monotonic() - started < 20
    assert builder.lookup(request) is None
    assert not builder.entry_dir(builder.key(request)).exists()
    assert _temps(cache) == [], "the builder removes its own temporary directory"

    flag.unlink()  # the same request, now allowed to finish
    built = gobuild.GoBuilder(cache, timeout=120).build(request)
    assert not built.cached
    _assert_valid_entry(builder, request)
    assert _temps(cache) == []


BUILDER_SCRIPT = """
import sys
from pathlib import Path
from pytest_traefik_compat import gobuild

request = gobuild.BuildRequest(
    Path(sys.argv[2]), flags=("-toolexec", sys.argv[3]), linkage_var=None
)
gobuild.GoBuilder(Path(sys.argv[1]), timeout=120).build(request)
"""


def _go_pids_writing_into(tmp_dir: Path) -> list[int]:
    """`go build` processes whose -o points into ``tmp_dir`` (the killed builder's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"build" in argv and any(str(tmp_dir).encode() in arg for arg in argv):
            found.append(int(entry.name))
    return found


def test_go_build_killed_with_its_builder_leaves_no_cache_entry(
    tmp_path: Path, slow_build: tuple[gobuild.BuildRequest, Path, Path]
) -> None:
    """SIGKILL of the whole pytest process mid-build: no half entry, next run recovers."""
    request, flag, marker = slow_build
    cache = tmp_path / "go-cache"
    wrapper = request.flags[1]
    builder_process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            BUILDER_SCRIPT,
            str(cache),
            str(request.module_dir),
            wrapper,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    go_pids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            assert builder_process.poll() is None, builder_process.stderr.read()  # type: ignore[union-attr]
            time.sleep(0.05)
        assert marker.exists(), "the build never reached its link step"
        temps = _temps(cache)
        assert len(temps) == 1
        go_pids = _go_pids_writing_into(temps[0])
        assert go_pids, "the go process of the build was not found"
        builder_process.send_signal(signal.SIGKILL)
        builder_process.wait(timeout=10)
    finally:
        if builder_process.poll() is None:
            builder_process.kill()
            builder_process.wait(timeout=10)
        # go runs in its own session (the builder's choice, so a timeout can kill
        # compiler and linker with it): after the builder's death, end that group.
        # Looked up again if an assertion above cut the test short.
        go_pids = go_pids or [p for t in _temps(cache) for p in _go_pids_writing_into(t)]
        for pid in go_pids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        if builder_process.stderr is not None:
            builder_process.stderr.close()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in go_pids) and time.monotonic() < deadline:
        time.sleep(0.05)

    builder = gobuild.GoBuilder(cache, timeout=120)
    key = builder.key(request)
    assert builder.lookup(request) is None, "a killed build must never look like an entry"
    assert not builder.entry_dir(key).exists()
    left = _temps(cache)
    assert [t.name.startswith(f".tmp-{key}-") for t in left] == [True], left
    print(f"after SIGKILL: no entry for {key[:12]}, one temp dir left ({left[0].name})")

    flag.unlink()
    built = builder.build(request)  # the next run: cleans the leftover, builds whole
    assert not built.cached
    _assert_valid_entry(builder, request)
    assert _temps(cache) == [], "the leftover of the killed build is cleaned"
