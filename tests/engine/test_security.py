"""Security posture, asserted on a real run of the built-in suite and on a live stack.

One subprocess run of the suite (``-k "test_tls[ or test_mtls["`` on the three default
bases) carries a probe plugin (``-p ptc_probe``) that records, while the run goes on:
every container as the engine started it (inspect data, and the process's uid and
capabilities from /proc), every file holding a private key under the run's
temporary directories with its mode, and the session CA's public keys (to look for
its key material later). The tests below judge those records, the report, the
run's temporary directories after the end, and the image layers the run used.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.gateway.services import ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.pki import SessionPKI
from pytest_traefik_compat.plugin.settings import default_cache_dir
from tests.helpers.bad_input_helpers import RUN_ID_CONFTEST, labelled_resources
from tests.helpers.secret_scan import Scanner, covering_images, point_of, stream_of
from tests.helpers.stack_images import service_tag, traefik_tag

BASES = ("alpine", "debian-slim", "distroless")
RUN_TIMEOUT_S = 600
HANDSHAKES = 20
# Every bad client of the PKI plus a connection without SNI and one with an unknown SNI.
BAD_CLIENTS = 8

PROBE_PLUGIN = '''
"""Records what the security tests judge; changes nothing the run does."""
import json
import os
from pathlib import Path

import docker.models.containers as containers
import pytest

OUT = Path(os.environ["PTC_PROBE_DIR"])
KEY_MARK = b"PRIVATE KEY-----"
_start = containers.Container.start


def _append(name, record):
    with open(OUT / name, "a") as stream:
        stream.write(json.dumps(record) + "\\n")


def _proc_status(pid):
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("Uid", "CapEff", "CapPrm", "NoNewPrivs"):
                fields[key] = value.split()
    except OSError:
        pass  # the process already ended (an exec failure on this base)
    return fields


def start(self, **kwargs):
    result = _start(self, **kwargs)
    try:
        _record(self)
    except Exception as error:  # never break the run; the test reports it instead
        _append("containers.jsonl", {"name": self.name, "error": repr(error)})
    return result


def _record(container):
    container.reload()
    attrs = container.attrs
    _append(
        "containers.jsonl",
        {
            "name": attrs["Name"],
            "image": attrs["Image"],
            "labels": attrs["Config"].get("Labels") or {},
            "user": attrs["Config"].get("User", ""),
            "host_config": {
                k: attrs["HostConfig"].get(k)
                for k in ("CapDrop", "CapAdd", "Privileged", "ReadonlyRootfs", "SecurityOpt",
                          "Binds", "PortBindings", "NetworkMode", "PidMode", "IpcMode")
            },
            "mounts": attrs.get("Mounts") or [],
            "ports": attrs["NetworkSettings"].get("Ports") or {},
            "proc": _proc_status(attrs["State"].get("Pid") or 0),
        },
    )


containers.Container.start = start


def _key_files(roots):
    for root in roots:
        for path in Path(root).rglob("*"):
            try:
                small = path.is_file() and path.stat().st_size < 1 << 20
                if small and KEY_MARK in path.read_bytes():
                    yield path
            except OSError:
                continue


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    # Fixtures are set up: the session PKI and the stack's config dir exist now.
    roots = [item.config.option.basetemp, os.environ["TMPDIR"]]
    for path in _key_files(roots):
        info = path.stat()
        _append("keys.jsonl", {"path": str(path), "mode": info.st_mode & 0o7777,
                               "uid": info.st_uid, "test": item.nodeid})
    pki = item.funcargs.get("traefik_pki")
    if pki is not None:
        certs = {"root": pki.root.cert_pem.bytes().decode(),
                 "intermediate": pki.intermediate.cert_pem.bytes().decode()}
        (OUT / "ca.json").write_text(json.dumps(certs))
    return (yield)
'''


@dataclass
class SuiteRun:
    project: Path
    basetemp: Path
    tmpdir: Path
    report: dict[str, Any]
    containers: list[dict[str, Any]]
    keys: list[dict[str, Any]]
    ca_points: list[bytes]
    run_id: str
    started: float
    seconds: float
    stdout: str


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


@pytest.fixture(scope="module")
def suite_run(tmp_path_factory: pytest.TempPathFactory, docker_engine: None) -> SuiteRun:
    project = tmp_path_factory.mktemp("security-run")
    basetemp, tmpdir, probe = project / "basetemp", project / "tmp", project / "probe"
    tmpdir.mkdir()
    probe.mkdir()
    (project / "ptc_probe.py").write_text(PROBE_PLUGIN)
    (project / "conftest.py").write_text(RUN_ID_CONFTEST)
    env = {
        **os.environ,
        "PTC_PROBE_DIR": str(probe),
        # The PKI stages keys for ssl in the system temp dir: give the run its own.
        "TMPDIR": str(tmpdir),
        "PYTEST_TRAEFIK_CACHE_DIR": str(default_cache_dir()),
    }
    started = time.time()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "pytest_traefik_compat.suite",
            "-p",
            "ptc_probe",
            "-p",
            "no:cacheprovider",
            f"--traefik-images={','.join(BASES)}",
            "-k",
            "test_tls[ or test_mtls[",
            f"--traefik-handshakes={HANDSHAKES}",
            f"--traefik-report-dir={project / 'report'}",
            f"--basetemp={basetemp}",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    seconds = time.time() - started
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert f"{2 * len(BASES)} passed" in done.stdout
    ca = json.loads((probe / "ca.json").read_text())
    points = [
        point_of(x509.load_pem_x509_certificate(pem.encode()).public_key()) for pem in ca.values()
    ]
    return SuiteRun(
        project=project,
        basetemp=basetemp,
        tmpdir=tmpdir,
        report=json.loads((project / "report" / "report.json").read_text()),
        containers=_jsonl(probe / "containers.jsonl"),
        keys=_jsonl(probe / "keys.jsonl"),
        ca_points=points,
        run_id=(project / ".ptc-run-id").read_text().strip(),
        started=started,
        seconds=seconds,
        stdout=done.stdout,
    )


# ----------------------------------------------------------------- private keys


def test_private_keys_are_0600_while_used_and_removed_after(suite_run: SuiteRun) -> None:
    seen = {Path(k["path"]).name: k for k in suite_run.keys}
    # The PKI's leaf keys and the gateway's server key, at least.
    assert {"client-key.pem", "server-key.pem", "server.key"} <= set(seen), sorted(seen)
    assert any(name.startswith("bad-") for name in seen)
    loose = {k["path"]: oct(k["mode"]) for k in suite_run.keys if k["mode"] != 0o600}
    assert loose == {}, f"private keys readable by others: {loose}"
    paths = {k["path"] for k in suite_run.keys}
    print(f"key files seen during the run: {len(paths)} ({len(seen)} names), all 0600")

    left = [
        str(path)
        for root in (suite_run.basetemp, suite_run.tmpdir)
        for path in root.rglob("*")
        if path.is_file() and b"PRIVATE KEY-----" in path.read_bytes()
    ]
    assert left == [], f"private keys left after the run: {left}"


def test_no_ca_private_key_in_any_image_the_run_used_or_built(suite_run: SuiteRun) -> None:
    client = engine.client()
    used = {c["image"] for c in suite_run.containers}
    managed = client.images.list(filters={"label": [f"{engine.LABEL_MANAGED}=true"]})
    # Built while the run went on (a cold cache builds bases, services and Traefik).
    window = (suite_run.started - 1, suite_run.started + suite_run.seconds + 1)
    built = {i.id for i in managed if window[0] <= _created(i.attrs["Created"]) <= window[1]}
    chosen = [client.images.get(ident) for ident in sorted(used | built)]
    assert len(chosen) >= 2 * len(BASES), "a service and a Traefik image per base"
    scanner = Scanner(suite_run.ca_points)
    started = time.monotonic()
    covering = covering_images(chosen)
    for image in covering:
        scanner.scan_image(image)
    result = scanner.result
    print(
        f"scanned {len(chosen)} images ({len(covering)} saved), {result.files} files, "
        f"{result.bytes / 1e6:.0f} MB in {time.monotonic() - started:.1f} s; "
        f"PEM keys inside ELF objects (library self-test vectors): "
        f"{sorted({f.where.rsplit('/', 1)[-1] for f in result.self_test_vectors})}"
    )
    assert result.files > 100
    assert result.ca_material == [], result.ca_material
    assert [f for f in result.pem_keys if f.ours] == []
    assert result.key_files == [], f"private key files in images: {result.key_files}"


def _created(text: str) -> float:
    """An engine timestamp (nanoseconds, "Z") as seconds since the epoch."""
    trimmed = re.sub(r"(\.\d{6})\d*", r"\1", text).replace("Z", "+00:00")
    return datetime.fromisoformat(trimmed).timestamp()


# ----------------------------------------------------------------- containers


def test_every_container_is_non_root_without_capabilities_or_socket(suite_run: SuiteRun) -> None:
    records = suite_run.containers
    assert len(records) > 0, "the probe saw no container: it checked nothing"
    assert [r for r in records if "error" in r] == [], "containers the probe could not inspect"
    kinds = sorted(r["labels"].get(engine.LABEL_KIND, "?") for r in records)
    assert kinds.count("traefik") >= len(BASES) and kinds.count("app") >= len(BASES), kinds
    # As root the run hands Traefik's key to uid 65532; without root Traefik runs as
    # the caller (docs/security.md, "Containers are locked down"), which this test cannot be.
    allowed_users = {"65532:65532"} if os.geteuid() == 0 else {f"{os.geteuid()}:{os.getegid()}"}
    problems: list[str] = []
    for record in records:
        name, host = record["name"], record["host_config"]
        if record["labels"].get(engine.LABEL_RUN) != suite_run.run_id:
            problems.append(f"{name}: not labelled with the run id")
        if host["CapDrop"] != ["ALL"] or host["CapAdd"] or host["Privileged"]:
            problems.append(f"{name}: capabilities {host['CapDrop']}/{host['CapAdd']}")
        if record["user"] not in allowed_users:
            problems.append(f"{name}: user {record['user']!r}")
        if "no-new-privileges" not in (host["SecurityOpt"] or []):
            problems.append(f"{name}: no no-new-privileges")
        if host["ReadonlyRootfs"] is not True:
            problems.append(f"{name}: writable root file system")
        sources = [m.get("Source", "") for m in record["mounts"]] + list(host["Binds"] or [])
        if any("docker.sock" in s for s in sources):
            problems.append(f"{name}: Docker socket mounted")
        for port, bindings in {**record["ports"], **(host["PortBindings"] or {})}.items():
            for binding in bindings or []:
                if binding.get("HostIp") != "127.0.0.1":
                    problems.append(f"{name}: {port} published on {binding.get('HostIp')!r}")
        proc = record["proc"]
        if proc:  # the kernel's view of the running process
            if proc["Uid"][1] == "0":
                problems.append(f"{name}: process runs as root")
            elif os.geteuid() == 0 and proc["Uid"][1] != "65532":
                problems.append(f"{name}: process runs as uid {proc['Uid'][1]}, not 65532")
            if int(proc["CapEff"][0], 16) != 0:
                problems.append(f"{name}: effective capabilities {proc['CapEff'][0]}")
            if proc.get("NoNewPrivs") != ["1"]:
                problems.append(f"{name}: NoNewPrivs {proc.get('NoNewPrivs')}")
    assert problems == []
    print(
        f"containers started: {len(records)}, all uid 65532, CapDrop ALL, no-new-privileges, "
        "read-only root, loopback ports"
    )


def test_nothing_of_the_run_is_left(suite_run: SuiteRun) -> None:
    left = [r for r in labelled_resources() if r.run == suite_run.run_id]
    assert left == []


# ----------------------------------------------------------------- mTLS


def test_negative_mtls_matrix_refused_on_every_base(suite_run: SuiteRun) -> None:
    records = {(r["base"], r["check"]): r for r in suite_run.report["records"]}
    tried = let_in = 0
    for base in BASES:
        mtls = records[(base, "mtls")]
        figures = {name: figure["value"] for name, figure in mtls["figures"].items()}
        assert figures["bad_tried"] == BAD_CLIENTS, figures
        assert figures["bad_let_in"] == 0, mtls["details"]["refusals"]
        assert all(r["refused"] for r in mtls["details"]["refusals"].values())
        assert figures["handshakes"] == HANDSHAKES and figures["success_rate"] == 1.0
        tls = records[(base, "tls")]["figures"]
        assert tls["tls12_refused"]["value"] is True, f"{base}: a TLS 1.2 client got in"
        tried += figures["bad_tried"] + 1  # + the TLS 1.2 client
        let_in += figures["bad_let_in"]
    print(f"bad clients tried: {tried} over {len(BASES)} bases, let in: {let_in}")
    assert let_in == 0


# ----------------------------------------------------------------- a live stack


@pytest.fixture
def live_stack(
    run_identity: engine.RunIdentity, cache_dir: Path, distroless: BaseImage, tmp_path: Path
) -> Iterator[tuple[Gateway, SessionPKI]]:
    traefik_image = traefik_tag(distroless, cache_dir)
    service = service_tag(distroless, cache_dir)
    with (
        SessionPKI(tmp_path / "pki") as pki,
        Gateway(
            identity=run_identity,
            label=f"sec{time.monotonic_ns() % 10**6}",
            workdir=tmp_path / "stack",
            pki=pki,
            traefik_image=traefik_image,
            services=[ServiceSpec(service)],
        ) as stack,
    ):
        yield stack, pki


def test_no_ca_key_in_running_containers_or_their_mounts(
    live_stack: tuple[Gateway, SessionPKI],
) -> None:
    stack, pki = live_stack
    points = [
        point_of(x509.load_pem_x509_certificate(ca.cert_pem.bytes()).public_key())
        for ca in (pki.root, pki.intermediate)
    ]
    scanner = Scanner(points)
    for container in (stack.traefik, stack.services["app"].container):
        scanner.scan_tar(container.name, stream_of(container.export(chunk_size=4 * 1024 * 1024)))
    exported = scanner.result
    assert exported.files > 50
    assert exported.ca_material == [] and exported.pem_keys == []

    # What Traefik sees under /etc/traefik is a bind mount (not in the export):
    # certificates, and the server leaf's key only, 0600.
    mount = Scanner(points)
    config_dir = stack.workdir / "traefik"
    for path in sorted(p for p in config_dir.rglob("*") if p.is_file()):
        with path.open("rb") as stream:
            mount.scan_stream(str(path.relative_to(config_dir)), stream)
    keys = [(f.where, f.ours) for f in mount.result.pem_keys]
    assert keys == [("certs/server.key", False)], keys
    assert (config_dir / "certs" / "server.key").stat().st_mode & 0o777 == 0o600
    # The CA *certificates* are there on purpose: the root for caFiles, the
    # intermediate in the server's chain. Public material, in those two files only.
    holders = {hit.split(":", 1)[0] for hit in mount.result.ca_material}
    assert holders <= {"certs/root-ca.crt", "certs/server.crt"}, mount.result.ca_material
    print(
        f"container exports: {exported.files} files, {exported.bytes / 1e6:.0f} MB, "
        "no private key; mount: server.key only"
    )
