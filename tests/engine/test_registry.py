"""Registry mode against a real registry (Debian's docker-registry on 127.0.0.1): the
local bases pushed under their official names, pulled through --traefik-registry-mirror
with progress, RepoDigests in the provenance, the lock written and honoured, a moved
tag reported (and fatal with strict), each error class one bounded line, nothing left."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImages
from pytest_traefik_compat.bases.catalogue import VARIANTS, ImageSpec
from pytest_traefik_compat.bases.registry import mirror_reference, parse_reference, pull
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.report import load_report
from tests.helpers.loopback import free_port
from tests.helpers.registry_server import RegistryServer, auth_required_registry

BASES = ("alpine", "debian-slim", "distroless")
ERROR_BOUND_S = 60.0


@pytest.fixture(scope="module")
def registry(
    tmp_path_factory: pytest.TempPathFactory, base_images: BaseImages
) -> Iterator[tuple[RegistryServer, dict[str, str]]]:
    """The registry with the three local bases under their official repository names."""
    server = RegistryServer(tmp_path_factory.mktemp("registry"))
    try:
        digests = {}
        for name in BASES:
            local = base_images.get(ImageSpec(name))
            official = parse_reference(VARIANTS[name].registry_ref)
            digests[name] = server.push(local.reference, official.repository, official.tag or "")
        yield server, digests
    finally:
        server.close()
    assert not server.engine_references(), "pulled references left behind"
    assert server.process.poll() is not None, "registry still running"


def _registry_bases(
    base_images: BaseImages, mirror: str, lock: Path | None = None, strict: bool = False
) -> tuple[BaseImages, list[str]]:
    lines: list[str] = []
    bases = BaseImages(
        base_images.cache_dir,
        base_images.identity,
        source="registry",
        progress=lines.append,
        mirror=mirror,
        lock=lock,
        lock_strict=strict,
    )
    return bases, lines


def test_pull_through_the_mirror_records_digests_and_writes_the_lock(
    registry: tuple[RegistryServer, dict[str, str]], base_images: BaseImages, tmp_path: Path
) -> None:
    server, digests = registry
    server.forget_pulls()
    lock = tmp_path / "bases.lock.json"
    bases, lines = _registry_bases(base_images, server.address, lock)
    for name in BASES:
        started = time.monotonic()
        image = bases.get(ImageSpec(name))
        seconds = time.monotonic() - started
        expected = mirror_reference(VARIANTS[name].registry_ref, server.address)
        assert image.reference == expected
        assert image.source == "registry"
        assert image.facts.provenance.startswith(f"registry: {VARIANTS[name].registry_ref} via")
        assert image.pinned["digest"] == digests[name]
        assert image.pinned["repo_digest"].endswith("@" + digests[name])
        # The same image the local recipe built, so the facts are the local ones.
        assert image.facts.image_id == base_images.get(ImageSpec(name)).facts.image_id
        print(f"{name}: {seconds:.2f} s, {image.facts.size_bytes} bytes, {digests[name]}")
    assert any(line.startswith("pulling 127.0.0.1") for line in lines), lines
    pulled = [line for line in lines if line.startswith("pulled ")]
    assert len(pulled) == 3 and all(" in " in line and "sha256:" in line for line in pulled)
    data = json.loads(lock.read_text())
    assert data["version"] == 1
    assert {name: entry["digest"] for name, entry in data["images"].items()} == digests
    assert data["images"]["alpine"]["reference"] == "alpine:3.21"


def test_the_lock_pins_digests_and_reports_a_moved_tag(
    registry: tuple[RegistryServer, dict[str, str]], base_images: BaseImages, tmp_path: Path
) -> None:
    server, digests = registry
    lock = tmp_path / "lock.json"
    lock.write_text(
        json.dumps(
            {
                "version": 1,
                "images": {"alpine": {"reference": "alpine:3.21", "digest": digests["alpine"]}},
            }
        )
    )
    # Someone pushes another image under the same tag.
    other = base_images.get(ImageSpec("distroless")).reference
    moved_to = server.push(other, "library/alpine", "3.21")
    assert moved_to != digests["alpine"]
    try:
        server.forget_pulls()
        bases, lines = _registry_bases(base_images, server.address, lock)
        image = bases.get(ImageSpec("alpine"))
        assert image.reference == f"{server.address}/library/alpine@{digests['alpine']}"
        assert image.facts.libc_kind == "musl", "the locked image, not the moved tag"
        [note] = bases.notes
        assert note.startswith("tag alpine:3.21 moved since the lock")
        assert image.pinned["lock"] == note
        assert note in lines
        server.forget_pulls()
        strict, _ = _registry_bases(base_images, server.address, lock, strict=True)
        with pytest.raises(CompatError) as caught:
            strict.get(ImageSpec("alpine"))
        message = str(caught.value)
        assert "moved since the lock" in message and "--traefik-lock-strict" in message
        assert "\n" not in message
    finally:
        server.push(base_images.get(ImageSpec("alpine")).reference, "library/alpine", "3.21")
        server.forget_pulls()


def _one_line_error(reference: str, mirror: str) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(CompatError) as caught:
        pull(reference, mirror=mirror, timeout=ERROR_BOUND_S)
    seconds = time.monotonic() - started
    message = str(caught.value)
    assert "\n" not in message and reference in message and mirror in message, message
    assert seconds < ERROR_BOUND_S
    return message, seconds


def test_each_error_class_is_one_bounded_line(
    registry: tuple[RegistryServer, dict[str, str]],
) -> None:
    server, _ = registry
    before = set(engine_refs())
    missing = f"{server.address}/library/nope:1"
    message, _ = _one_line_error(missing, server.address)
    assert ": not found: " in message
    closed = f"127.0.0.1:{free_port()}"
    message, _ = _one_line_error(f"{closed}/library/alpine:3.21", closed)
    assert ": unreachable: " in message
    with auth_required_registry() as address:
        message, _ = _one_line_error(f"{address}/library/alpine:3.21", address)
    assert ": auth required: " in message
    assert set(engine_refs()) == before, "a failed pull left something behind"


def engine_refs() -> list[str]:
    refs: list[str] = []
    for image in engine.client().images.list(all=True):
        refs += image.attrs.get("RepoTags") or []
    return refs


SUITE_CHECKS = "image_facts or start_matrix or test_tls[ or startup_latency"
COMPARED = {
    "image-facts": None,  # every figure
    "start-matrix": (
        "predicted",
        "prediction_reason",
        "observed",
        "observed_reason",
        "exit_code",
        "binary_size",
        "image_size",
    ),
    "tls": ("version", "cipher", "tls12_refused", "alpn_offered_h2"),
}


def _suite(pytester: pytest.Pytester, report: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--pyargs",
        "pytest_traefik_compat.suite",
        "-p",
        "no:randomly",
        "-k",
        SUITE_CHECKS,
        "--traefik-images=distroless",
        "--traefik-samples=5",
        f"--traefik-report-dir={report}",
        *args,
        timeout=900,
    )


def _passed(result: pytest.RunResult) -> None:
    outcomes = result.parseoutcomes()
    assert not outcomes.get("failed") and not outcomes.get("errors"), outcomes
    assert outcomes.get("passed", 0) >= 6, outcomes


def _managed_tags() -> set[str]:
    tags: set[str] = set()
    for image in engine.client().images.list(filters={"label": f"{engine.LABEL_MANAGED}=true"}):
        tags.update(image.tags)
    return tags


@pytest.mark.slow
def test_the_suite_in_registry_mode_equals_the_local_run_but_provenance(
    registry: tuple[RegistryServer, dict[str, str]],
    pytester: pytest.Pytester,
    tmp_path: Path,
) -> None:
    """Local run, then registry mode through the mirror with a lock and the local run as
    --traefik-baseline: same records except provenance, the digest recorded, no regression."""
    server, digests = registry
    server.forget_pulls()
    before = _managed_tags()
    local_dir, registry_dir, lock = tmp_path / "local", tmp_path / "registry", tmp_path / "lock"
    try:
        _passed(_suite(pytester, local_dir))
        result = _suite(
            pytester,
            registry_dir,
            "--traefik-source=registry",
            f"--traefik-registry-mirror={server.address}",
            f"--traefik-lock={lock}",
            f"--traefik-baseline={local_dir / 'report.json'}",
        )
        _passed(result)
        result.stdout.fnmatch_lines(["*against *report.json: 0 regressions*"])
    finally:
        # The images built on the mirrored reference are this test's own (its base's
        # only: other tests may build on other bases meanwhile).
        for tag in {t for t in _managed_tags() - before if "-distroless-" in t}:
            with contextlib.suppress(docker.errors.APIError):
                engine.client().images.remove(tag)
        server.forget_pulls()
    _, local = load_report(local_dir / "report.json")
    _, pulled = load_report(registry_dir / "report.json")
    assert {r.key for r in local} == {r.key for r in pulled}
    by_key = {r.key: r for r in local}
    for record in pulled:
        assert record.provenance["source"] == "registry"
        assert record.provenance["digest"] == digests["distroless"]
        assert record.provenance["reference"].startswith(f"{server.address}/distroless/")
        names = COMPARED.get(record.check, ())
        names = tuple(record.figures) if names is None else names
        for name in names:
            assert record.value(name) == by_key[record.key].value(name), (record.key, name)
    assert json.loads(lock.read_text())["images"]["distroless"]["digest"] == digests["distroless"]
    diff = json.loads((registry_dir / "diff.json").read_text())
    assert diff["counts"]["regression"] == 0, diff["changes"]
    print((registry_dir / "diff.md").read_text())
