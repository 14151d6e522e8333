"""The plugin against engines other than the local dockerd, each started by the test itself
and removed after: a second dockerd in a network namespace of its own (a remote host,
reached over tcp on the namespace's address) and Podman's Docker-compatible API service.

Against each: the suite on one base (distroless) passes (against the namespaced dockerd
in shuffled order, ``--random-order``: each check establishes its own preconditions,
whatever ran before it), the report names the engine,
image facts are exported from it, cleanup by label works there (a killed run of this
host is removed, another host's run is left alone), and nothing is left on either engine.
Images reach the engine with ``docker save | docker load`` from the local engine (the
base only: service and Traefik images are built there, streaming their contexts); nothing
is pulled. Heavy: one base, one suite run per engine.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.report import load_report
from tests.helpers.netns_engine import NamespaceSshd, NetnsDockerd, PodmanService, save_load

SUITE_TIMEOUT_S = 900
SUITE = [
    "--pyargs",
    "pytest_traefik_compat.suite",
    "-p",
    "no:cacheprovider",
    "--traefik-images=distroless",
    # Every check (the healthcheck study included): an engine difference can be anywhere.
    "--traefik-profile=full",
    "--traefik-samples=3",
    "--traefik-handshakes=20",
    "--traefik-overhead-requests=80",
]
ENGINES = ("netns-dockerd", "podman")
# The zero-flakes proof of a shuffled order rides on one engine's suite run.
SHUFFLED = {"netns-dockerd": ("--random-order",), "podman": ()}
# Over ssh:// the transport is what changes: builds were proven over tcp already, so
# the checks that start containers, exec in them and reach their ports run again.
SSH_SUBSET = "image_facts or start_matrix or test_tls[ or grpc or healthcheck"


class RemoteEngine:
    """A started engine: its DOCKER_HOST, a client, and what the test expects of it."""

    def __init__(self, kind: str, url: str, address: str, handle: Any) -> None:
        self.kind, self.url, self.address, self.handle = kind, url, address, handle
        self.client = docker.DockerClient(base_url=url, timeout=60)
        self.moved_seconds = 0.0

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env.update(DOCKER_HOST=self.url, **extra)
        return env

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest_traefik_compat", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def managed(self) -> dict[str, list[str]]:
        """The plugin's resources left on this engine (cached images excepted)."""
        label = {"label": [engine.LABEL_MANAGED]}
        return {
            "containers": [c.name for c in self.client.containers.list(all=True, filters=label)],
            "networks": [n.name for n in self.client.networks.list(filters=label)],
            "volumes": [v.name for v in self.client.volumes.list(filters=label)],
        }


@pytest.fixture(scope="module", params=ENGINES)
def remote(request: pytest.FixtureRequest, distroless: BaseImage) -> Iterator[RemoteEngine]:
    if os.geteuid() != 0:
        pytest.skip("starting a second engine needs root (network namespace, dockerd, podman)")
    # A short directory of its own: the engines' unix sockets live below it, and a
    # socket path may not exceed 107 bytes (under xdist, tmp_path_factory's paths do).
    workdir = Path(tempfile.mkdtemp(prefix=f"ptc-{request.param}-"))
    handle: NetnsDockerd | PodmanService
    if request.param == "netns-dockerd":
        handle = NetnsDockerd(workdir)
        address = "ns"
    else:
        handle = PodmanService(workdir)
        address = "127.0.0.1"
    try:
        handle.start()
        if isinstance(handle, NetnsDockerd):
            address = handle.address
        remote = RemoteEngine(request.param, handle.url, address, handle)
        remote.moved_seconds = save_load([distroless.reference], handle.url)
        yield remote
        remote.client.close()
    finally:
        problems = handle.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        assert not problems, problems


@pytest.fixture(scope="module")
def suite_run(remote: RemoteEngine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp(f"suite-{remote.kind}")
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *SUITE,
            *SHUFFLED[remote.kind],
            f"--traefik-report-dir={workdir / 'report'}",
        ],
        cwd=workdir,
        env=remote.env(),
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT_S,
        check=False,
    )
    seconds = time.monotonic() - started
    (workdir / "suite.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        # the failures' own lines, not the tables that end the output
        evidence = [
            line for line in done.stdout.splitlines() if line.startswith(("E ", "FAILED", "ERROR"))
        ]
        pytest.fail(
            f"suite against {remote.kind} exited {done.returncode} "
            f"(log: {workdir / 'suite.log'}):\n" + "\n".join(evidence[-60:]),
            pytrace=False,
        )
    document, _ = load_report(workdir / "report" / "report.json")
    document["_stdout"], document["_seconds"] = done.stdout, seconds
    print(f"suite on distroless against {remote.kind}: {seconds:.1f} s")
    return document


def test_suite_passes_and_the_report_names_the_engine(
    remote: RemoteEngine, suite_run: dict[str, Any]
) -> None:
    summary = suite_run["_stdout"].strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary) and "failed" not in summary, summary
    assert all(r["outcome"] == "passed" for r in suite_run["records"])
    meta = suite_run["meta"]["engine"]
    assert meta["address"] == remote.url
    assert meta["source"] == "DOCKER_HOST"
    assert meta["host"] == remote.address
    if remote.kind == "podman":
        assert meta["kind"] == "podman" and meta["version"].startswith("4.")
        assert set(meta["differences"]) == {
            "ulimits",
            "healthcheck",
            "image-names",
            "exec-exit-code",
            "inspect",
            "network-stall",
            "export",
        }
    else:
        assert meta["kind"] == "docker" and "differences" not in meta
        # published on the namespace's address, never on 0.0.0.0
        assert meta["publish_address"] == remote.address
    assert f"engine: {meta['kind']}" in suite_run["_stdout"]
    if SHUFFLED[remote.kind]:
        assert "Using --random-order-bucket=module" in suite_run["_stdout"]
    latency = next(r for r in suite_run["records"] if r["check"] == "startup-latency")
    medians = {
        name: round(figure["value"], 1)
        for name, figure in latency["figures"].items()
        if "median" in name and isinstance(figure["value"], (int, float))
    }
    print(f"{remote.kind}: start latency medians (ms, 3 samples): {medians}")


def test_healthcheck_reaches_healthy_on_the_engine(suite_run: dict[str, Any]) -> None:
    record = next(r for r in suite_run["records"] if r["check"] == "healthcheck")
    assert record["figures"]["self_probe_status"]["value"] == "healthy"


def test_nothing_left_on_either_engine(remote: RemoteEngine, suite_run: dict[str, Any]) -> None:
    assert remote.managed() == {"containers": [], "networks": [], "volumes": []}
    run = {"label": [f"{engine.LABEL_RUN}={suite_run['meta']['run_id']}"]}
    local = engine.client()
    assert local.containers.list(all=True, filters=run) == []
    assert local.networks.list(filters=run) == []


def test_image_facts_are_exported_from_the_engine(
    remote: RemoteEngine, distroless: BaseImage, tmp_path: Path
) -> None:
    """An empty facts cache: the facts must come from the engine's own copy of the base."""
    done = remote.cli("bases", "--traefik-images=distroless", "--json", f"--cache-dir={tmp_path}")
    assert done.returncode == 0, done.stderr[-2000:]
    facts = json.loads(done.stdout)[0]
    assert facts["image_id"] == distroless.facts.image_id
    for key in ("default_uid", "libc_kind", "ca_bundle", "zoneinfo", "packages"):
        assert facts[key] == getattr(distroless.facts, key), key
    # Docker's export adds its own mount points (/.dockerenv, /etc/hosts, ...); Podman's
    # has none of them: an engine difference, at most 8 files
    missing = distroless.facts.file_count - facts["file_count"]
    assert missing == 0 if remote.kind != "podman" else 0 <= missing <= 8, missing
    assert list((tmp_path / "facts").iterdir())
    assert remote.managed()["containers"] == []


def test_cleanup_by_label_on_the_engine(remote: RemoteEngine, distroless: BaseImage) -> None:
    """A killed run of this host is removed; a run from another host is never judged by pid."""
    gone = subprocess.Popen(["true"])
    gone.wait(timeout=10)
    identity = engine.RunIdentity.create()
    dead = engine.RunIdentity(identity.run_id, gone.pid, identity.host)
    other = engine.RunIdentity(engine.new_run_id(), gone.pid, "another-ci-runner")
    made = []
    for who in (dead, other):
        made.append(
            remote.client.containers.create(
                distroless.reference,
                command=["/nonexistent-never-started"],
                labels=who.labels("service"),
                name=f"ptc-{who.run_id}-cleanup",
            )
        )
    try:
        done = remote.cli("cleanup")
        assert done.returncode == 0, done.stderr
        left = remote.managed()["containers"]
        assert f"ptc-{dead.run_id}-cleanup" not in left
        assert f"ptc-{other.run_id}-cleanup" in left
        done = remote.cli("cleanup", "--run", other.run_id)
        assert done.returncode == 0, done.stderr
        assert remote.managed()["containers"] == []
    finally:
        for container in made:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)


def test_stale_image_pruning_keeps_the_current_base(
    remote: RemoteEngine, distroless: BaseImage
) -> None:
    """Podman names the loaded base localhost/NAME:TAG: still the current recipe's tag."""
    done = remote.cli("cleanup", "--stale-images")
    assert done.returncode == 0, done.stderr
    assert distroless.reference not in done.stdout
    kept = remote.client.images.get(distroless.reference).id
    assert kept.split(":")[-1] == distroless.facts.image_id.split(":")[-1]


def test_doctor_names_the_engine(remote: RemoteEngine) -> None:
    done = remote.cli("doctor")
    line = next(line for line in done.stdout.splitlines() if "docker engine" in line)
    assert line.startswith("ok")
    assert remote.url in line and f"reached at {remote.address}" in line
    assert ("podman 4." if remote.kind == "podman" else "docker 20.") in line


def test_the_same_over_ssh(remote: RemoteEngine, tmp_path: Path) -> None:
    """openssh-server in the namespace: DOCKER_HOST=ssh://root@NS_ADDR reaches the same
    dockerd through the system ssh client; ports are still published on NS_ADDR."""
    if not isinstance(remote.handle, NetnsDockerd):
        pytest.skip("ssh:// is served from the namespaced dockerd's own namespace")
    sshd = NamespaceSshd(remote.handle)
    try:
        sshd.start()
        env = {**remote.env(), **sshd.env()}
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                *SUITE,
                f"--traefik-report-dir={tmp_path / 'report'}",
                "-k",
                SSH_SUBSET,
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=SUITE_TIMEOUT_S,
            check=False,
        )
        seconds = time.monotonic() - started
        summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
        print(f"suite subset over ssh: {summary} in {seconds:.1f} s")
        document, _ = load_report(tmp_path / "report" / "report.json")
        meta = document["meta"]["engine"]
        assert meta["address"] == f"ssh://{remote.address}"  # no user name in the report
        assert (meta["host"], meta["publish_address"]) == (remote.address, remote.address)
        doctor = subprocess.run(
            [sys.executable, "-m", "pytest_traefik_compat", "doctor"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert f"at ssh://{remote.address}" in doctor.stdout, doctor.stdout
        assert remote.managed() == {"containers": [], "networks": [], "volumes": []}
    finally:
        sshd.stop()
