"""Registry mode's pure parts: reference parsing, mirror rewriting, error classes, lock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_traefik_compat.bases.registry import (
    LockFile,
    classify_pull_error,
    is_loopback_mirror,
    mirror_reference,
    parse_reference,
    pull_error,
)
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.plugin.settings import parse_mirror


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("alpine:3.21", "docker.io", "library/alpine", "3.21", None),
        ("debian", "docker.io", "library/debian", "latest", None),
        ("acme/base:1", "docker.io", "acme/base", "1", None),
        (
            "gcr.io/distroless/static-debian12:nonroot",
            "gcr.io",
            "distroless/static-debian12",
            "nonroot",
            None,
        ),
        (
            "127.0.0.1:5000/library/alpine@sha256:" + "a" * 64,
            "127.0.0.1:5000",
            "library/alpine",
            None,
            "sha256:" + "a" * 64,
        ),
        ("localhost/x/y:2", "localhost", "x/y", "2", None),
    ],
)
def test_parse_reference(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alpine:3.21", "M:5000/library/alpine:3.21"),
        ("docker.io/library/debian:12-slim", "M:5000/library/debian:12-slim"),
        ("gcr.io/distroless/static-debian12:nonroot", "M:5000/distroless/static-debian12:nonroot"),
        ("acme/base:1", "M:5000/acme/base:1"),
        ("quay.io/team/base:1", "quay.io/team/base:1"),  # not an upstream the mirror caches
    ],
)
def test_mirror_rewrites_like_a_pull_through_cache(text: str, expected: str) -> None:
    assert mirror_reference(text, "M:5000") == expected
    assert mirror_reference(text, None) == text


def test_engine_names_drop_docker_hubs_library_prefix() -> None:
    assert parse_reference("alpine:3.21").name == "alpine"
    assert str(parse_reference("alpine:3.21").with_digest("sha256:1")) == "alpine@sha256:1"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("manifest for 127.0.0.1:5000/library/nope:1 not found: manifest unknown", "not found"),
        (
            'Get "http://127.0.0.1:9/v2/": dial tcp 127.0.0.1:9: connect: connection refused',
            "unreachable",
        ),
        (
            'Get "http://127.0.0.1:34049/v2/": dial tcp 127.0.0.1:34049: connect: connection '
            "refused",
            "unreachable",
        ),
        ("404 Client Error: Not Found", "not found"),
        ('Head "https://r/v2/x/manifests/1": no basic auth credentials', "auth required"),
        ("unauthorized: authentication required", "auth required"),
        ('Get "https://r:5000/v2/": http: server gave HTTP response to HTTPS client', "TLS error"),
        ('Get "https://r/v2/": x509: certificate signed by unknown authority', "TLS error"),
    ],
)
def test_each_engine_message_has_its_class(message: str, kind: str) -> None:
    assert classify_pull_error(message) == kind
    line = str(pull_error("r/x:1", "r:5000", message))
    assert line.startswith(f"cannot pull r/x:1 (mirror r:5000): {kind}: ")
    assert "\n" not in line


def test_mirror_option_and_loopback() -> None:
    assert parse_mirror("http://127.0.0.1:5000/") == "127.0.0.1:5000"
    assert is_loopback_mirror("127.0.0.1:5000") and not is_loopback_mirror("mirror.corp:5000")
    with pytest.raises(Exception, match="HOST"):
        parse_mirror("127.0.0.1:5000/path")


def test_lock_file_round_trip_and_refusal(tmp_path: Path) -> None:
    path = tmp_path / "lock.json"
    lock = LockFile.load(path)
    assert not lock.existed and not lock.entries
    lock.record("alpine", "alpine:3.21", "sha256:" + "1" * 64)
    again = LockFile.load(path)
    assert again.existed and again.entries["alpine"].digest == "sha256:" + "1" * 64
    path.write_text(json.dumps({"version": 9, "images": {}}))
    with pytest.raises(CompatError, match="is not a pytest-traefik-compat lock"):
        LockFile.load(path)
