"""Security posture, asserted on the reference run of the built-in suite and on a live stack.

The session's reference run (``tests/helpers/reference_run.py``: the whole suite with
``--traefik-profile=full`` on the three default bases) is watched two ways while it
goes on. A create watcher listens to the engine's container ``create`` and ``start``
events and inspects every container at once (and its process's uid, capabilities and
NoNewPrivs from /proc once started); the containers the run's process asked the
engine for must all be among them, so no container goes unseen, however briefly it
lived. A probe plugin in the run records every file holding a private key under the
run's temporary directories with its mode, and the session CA's public keys (to look
for its key material later). The tests below judge those records, the report, the
run's temporary directories after the end, and the image layers the run used.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import docker.errors
import pytest
from cryptography import x509

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImage
from pytest_traefik_compat.gateway.services import ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.pki import SessionPKI
from tests.helpers.bad_input_helpers import labelled_resources
from tests.helpers.reference_run import BASES, HANDSHAKES, ReferenceRun, labels_of
from tests.helpers.secret_scan import Scanner, covering_images, point_of, stream_of
from tests.helpers.stack_images import service_tag, traefik_tag

# Kinds of container a full run creates on a base (the stack's, the start matrix...).
MIN_CONTAINERS_PER_BASE = 15
# Every bad client of the PKI plus a connection without SNI and one with an unknown SNI.
BAD_CLIENTS = 8


@pytest.fixture(scope="module")
def suite_run(reference_run: ReferenceRun) -> ReferenceRun:
    return reference_run


# ----------------------------------------------------------------- private keys


def test_private_keys_are_0600_while_used_and_removed_after(suite_run: ReferenceRun) -> None:
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


def test_no_ca_private_key_in_any_image_the_run_used_or_built(suite_run: ReferenceRun) -> None:
    client = engine.client()
    used = {s.attrs["Image"] for s in suite_run.seen.values() if s.attrs is not None}
    managed = client.images.list(filters={"label": [f"{engine.LABEL_MANAGED}=true"]})
    # Built while the run went on (a cold cache builds bases, services and Traefik).
    window = (suite_run.started - 1, suite_run.started + suite_run.seconds + 1)
    built = {i.id for i in managed if window[0] <= _created(i.attrs["Created"]) <= window[1]}
    chosen = []
    for ident in sorted(used | built):
        try:
            chosen.append(client.images.get(ident))
        except docker.errors.ImageNotFound:
            # built meanwhile by another test on the engine, and removed by it since
            assert ident not in used, ident
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


def test_every_container_of_a_full_run_is_hardened_or_a_named_exception(
    suite_run: ReferenceRun,
) -> None:
    created = suite_run.created
    watched = {e["Actor"]["ID"] for e in created}
    assert suite_run.made, "the probe saw the run create no container"
    assert set(suite_run.made) <= watched, "containers the run made that the watcher missed"
    kinds = Counter(labels_of(e).get(engine.LABEL_KIND, "?") for e in created)
    assert len(created) >= MIN_CONTAINERS_PER_BASE * len(BASES), (
        f"the watcher saw {len(created)} creates: {kinds}"
    )
    assert kinds["traefik"] >= 2 and kinds["app"] >= len(BASES), kinds
    problems: list[str] = []
    hardened = excepted = 0
    for event in created:
        ident, name = event["Actor"]["ID"], labels_of(event).get("name", "?")
        seen = suite_run.seen.get(ident)
        if seen is None or seen.attrs is None:
            problems.append(f"{name}: removed before it could be inspected")
            continue
        posture = engine.read_posture(seen.attrs)
        if posture.unexcused:
            problems.append(posture.describe())
        elif posture.exception:
            excepted += 1
        else:
            hardened += 1
        problems += [f"{name}: {p}" for p in _exposure(seen.attrs)]
        proc = seen.proc
        if proc:  # the kernel's view of the running process
            if proc["Uid"][0] == "0" and "non_root" not in posture.excepted:
                problems.append(f"{name}: process runs as root")
            if int(proc["CapEff"][0], 16) != 0 and not posture.cap_add:
                problems.append(f"{name}: effective capabilities {proc['CapEff'][0]}")
            if proc.get("NoNewPrivs") != ["1"] and "no_new_privileges" not in posture.excepted:
                problems.append(f"{name}: NoNewPrivs {proc.get('NoNewPrivs')}")
    assert problems == []
    started = sum(1 for e in created if suite_run.seen[e["Actor"]["ID"]].proc)
    print(
        f"containers created in a full run on {', '.join(BASES)}: {len(created)}, "
        f"made by the run's process: {len(suite_run.made)}, inspected at create: "
        f"{hardened + excepted}, hardened: {hardened}, named exceptions: "
        f"{excepted}; processes read from /proc: {started}; by kind: {dict(kinds)}"
    )


def _exposure(attrs: dict[str, Any]) -> list[str]:
    """What a container shares beyond its posture: the engine's socket, a port off loopback."""
    host = attrs.get("HostConfig") or {}
    found: list[str] = []
    sources = [m.get("Source", "") for m in attrs.get("Mounts") or []] + list(
        host.get("Binds") or []
    )
    if any("docker.sock" in source for source in sources):
        found.append("Docker socket mounted")
    for port, bindings in (host.get("PortBindings") or {}).items():
        for binding in bindings or []:
            if binding.get("HostIp") != "127.0.0.1":
                found.append(f"{port} published on {binding.get('HostIp')!r}")
    return found


def test_nothing_of_the_run_is_left(suite_run: ReferenceRun) -> None:
    left = [r for r in labelled_resources() if r.run == suite_run.run_id]
    assert left == []


# ----------------------------------------------------------------- mTLS


def test_negative_mtls_matrix_refused_on_every_base(suite_run: ReferenceRun) -> None:
    records = {(r["base"], r["check"]): r for r in suite_run.document["records"]}
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
