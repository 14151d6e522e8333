"""A team's own base end to end: ``corp=acme/base:1`` built here from the cached
debian-slim base plus a team CA as its whole trust bundle and a TZ, and ``bare``: a
base with no /etc/passwd at all (FROM scratch), whose user is root. Both go through the
whole suite and into the report with provenance ``custom`` and their digest."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImages
from pytest_traefik_compat.bases.catalogue import ImageSpec
from pytest_traefik_compat.pki import CertificateAuthority
from pytest_traefik_compat.report import load_report

CORP = "acme/base:1"
BARE = "acme/bare:1"
TIMING_EXCLUDED = (
    "not startup_latency and not inprocess_start and not traefik_figures "
    "and not gateway_overhead and not tls_evidence_handshakes"
)
TEST_LABEL = {engine.LABEL_PREFIX + ".test": "custom-base"}


def _build(context: Path, tag: str, dockerfile: str) -> str:
    (context / "Dockerfile").write_text(dockerfile)
    image, _ = engine.client().images.build(
        path=str(context), tag=tag, labels=TEST_LABEL, pull=False, rm=True, forcerm=True
    )
    return str(image.id)


@pytest.fixture(scope="module")
def team_bases(
    tmp_path_factory: pytest.TempPathFactory, base_images: BaseImages
) -> Iterator[dict[str, str]]:
    slim = base_images.get(ImageSpec("debian-slim"))
    corp = tmp_path_factory.mktemp("corp")
    CertificateAuthority.root("ACME Team Root CA", organization="ACME").cert_pem.write_to(
        corp / "ca.crt"
    )
    bare = tmp_path_factory.mktemp("bare")
    (bare / "hello").write_text("a base with nothing but this file\n")
    ids = {
        CORP: _build(
            corp,
            CORP,
            f"FROM {slim.reference}\n"
            "COPY ca.crt /etc/ssl/certs/ca-certificates.crt\n"
            "ENV TZ=Europe/Berlin\n",
        ),
        BARE: _build(bare, BARE, "FROM scratch\nCOPY hello /etc/hello\n"),
    }
    try:
        yield ids
    finally:
        client = engine.client()
        built_on = client.images.list(
            all=True, filters={"label": f"{engine.LABEL_PREFIX}.base-image"}
        )
        for image in built_on:
            if (image.labels or {}).get(f"{engine.LABEL_PREFIX}.base-image") in ids.values():
                with contextlib.suppress(docker.errors.APIError):
                    client.images.remove(image.id, force=True)
        for tag in ids:
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(tag, force=True)


def test_facts_of_a_base_without_passwd_and_root_user(
    team_bases: dict[str, str], base_images: BaseImages
) -> None:
    bare = base_images.get(ImageSpec("bare", BARE))
    assert bare.source == "custom"
    assert bare.facts.default_user == "root" and bare.facts.default_uid == 0
    assert bare.facts.libc_kind == "none" and bare.facts.shell is None
    assert bare.pinned["digest"] == team_bases[BARE]
    corp = base_images.get(ImageSpec("corp", CORP))
    assert corp.facts.ca_bundle == "/etc/ssl/certs/ca-certificates.crt"
    assert corp.facts.libc_kind == "glibc" and corp.facts.default_user == "root (0)"


@pytest.mark.slow
def test_the_whole_suite_on_team_bases(
    team_bases: dict[str, str], pytester: pytest.Pytester, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    result = pytester.runpytest_subprocess(
        "--pyargs",
        "pytest_traefik_compat.suite",
        "-p",
        "no:randomly",
        f"--traefik-images=corp={CORP},bare={BARE}",
        # Every behaviour check, the study's too; the timing series (run on the
        # catalogue bases by test_suite_run) stay out to keep `make test` short.
        "--traefik-profile=full",
        "-k",
        TIMING_EXCLUDED,
        "--traefik-samples=3",
        "--traefik-handshakes=20",
        f"--traefik-report-dir={report}",
        timeout=900,
    )
    outcomes = result.parseoutcomes()
    assert not outcomes.get("failed") and not outcomes.get("errors"), outcomes
    assert outcomes.get("passed", 0) >= 30, outcomes  # every behaviour check, two bases
    _, records = load_report(report / "report.json")
    for record in records:
        assert record.provenance["source"] == "custom"
        name = CORP if record.base == "corp" else BARE
        assert record.provenance["reference"] == name
        assert record.provenance["digest"] == team_bases[name]
    by_key = {r.key: r for r in records}
    # The team CA is the whole trust store of corp: Go's pool holds exactly it.
    assert by_key[("corp", "runtime-facts", "")].value("cert_pool_size") == 1
    assert by_key[("bare", "runtime-facts", "")].value("cert_pool_size") == 0
    assert by_key[("bare", "image-facts", "")].value("default_user") == "root"
    assert by_key[("corp", "start-matrix", "glibc")].value("observed") == "starts"
    assert by_key[("bare", "start-matrix", "glibc")].value("observed") == "fails"
    markdown = (report / "report.md").read_text()
    assert "corp" in markdown and "bare" in markdown
