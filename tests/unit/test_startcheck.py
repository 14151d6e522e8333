"""Unit tests for startcheck: start prediction (ELF facts x image files) and the
diagnosis of what a runtime said. Pure: no Go, no Docker."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_traefik_compat.bases.startcheck import (
    GLIBC_LOADER,
    MUSL_LOADER,
    StartCategory,
    describe_exec_failure,
    diagnose_exec_failure,
    glibc_version_of,
    predict_start,
)
from pytest_traefik_compat.gobuild.elf import ElfFacts
from tests.helpers.start_images import ELF_BY_LINKAGE, EXPECTED, IMAGES, FileSet


class FakeFacts:
    def __init__(self, libc_kind: str, libc_version: str | None) -> None:
        self.libc_kind = libc_kind
        self.libc_version = libc_version


# --------------------------------------------------------------------------- #
# Start prediction: the 3 x 3 physics
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("linkage", "image"), sorted(EXPECTED))
def test_start_physics(linkage: str, image: str) -> None:
    prediction = predict_start(ELF_BY_LINKAGE[linkage], IMAGES[image])
    assert prediction.starts is EXPECTED[(linkage, image)], prediction.reason
    if linkage == "static":
        assert prediction.reason == "statically linked: needs no loader"
    elif prediction.starts:
        assert prediction.reason == "loader and 1 needed library present"
        assert prediction.category == StartCategory.STARTS
    else:
        interp = ELF_BY_LINKAGE[linkage].interpreter
        assert prediction.reason == f"interpreter {interp} not in image"
        assert prediction.category == StartCategory.MISSING_LOADER
        assert prediction.missing == (interp,)


def test_missing_needed_library() -> None:
    loader_only = FileSet([GLIBC_LOADER])
    prediction = predict_start(ELF_BY_LINKAGE["glibc"], loader_only)
    assert not prediction.starts and prediction.category == StartCategory.MISSING_LIBRARY
    assert prediction.reason == (
        "needed library libc.so.6 not found in image (searched /lib/x86_64-linux-gnu, "
        "/usr/lib/x86_64-linux-gnu, /lib64, /usr/lib64, /lib, /usr/lib)"
    )
    assert prediction.missing == ("libc.so.6",)


def test_musl_libraries_beyond_libc_are_searched() -> None:
    elf = ElfFacts(False, MUSL_LOADER, ("libc.so", "libz.so.1"), "EM_X86_64", "ET_EXEC", False, 1)
    prediction = predict_start(elf, IMAGES["alpine"])
    assert not prediction.starts
    assert "libz.so.1 not found in image (searched /lib, /usr/local/lib, /usr/lib)" in (
        prediction.reason
    )
    with_zlib = FileSet([*IMAGES["alpine"].paths, "/usr/lib/libz.so.1"])
    assert predict_start(elf, with_zlib).reason == "loader and 2 needed libraries present"


def test_old_glibc_is_predicted_when_version_known() -> None:
    debian = IMAGES["debian-slim"]
    glibc = ELF_BY_LINKAGE["glibc"]
    assert predict_start(glibc, debian, image_glibc=(2, 36)).starts
    old = predict_start(glibc, debian, image_glibc=(2, 31))
    assert not old.starts and old.category == StartCategory.LIBC_TOO_OLD
    assert old.reason == "needs GLIBC_2.34 but the image has glibc 2.31"
    # Each version the loader will name, oldest first (the fixture needs 2.2.5 and 2.34).
    assert old.missing == ("GLIBC_2.34",)
    newer = dataclasses.replace(
        glibc, version_needs=(("libc.so.6", ("GLIBC_2.2.5", "GLIBC_2.34", "GLIBC_2.32")),)
    )
    assert predict_start(newer, debian, image_glibc=(2, 31)).missing == (
        "GLIBC_2.32",
        "GLIBC_2.34",
    )


@pytest.mark.parametrize(
    ("kind", "version", "expected"),
    [
        ("glibc", "2.36", (2, 36)),
        ("glibc+musl", "2.31", (2, 31)),
        ("glibc", "2.41.9000", None),
        ("glibc", None, None),
        ("musl", "1.2.5", None),
        ("none", None, None),
    ],
)
def test_glibc_version_of(kind: str, version: str | None, expected: tuple[int, int] | None) -> None:
    assert glibc_version_of(FakeFacts(kind, version)) == expected


# --------------------------------------------------------------------------- #
# Runtime diagnosis, in the same vocabulary
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("returncode", "log", "category", "described"),
    [
        (
            255,
            "exec /app: no such file or directory",
            StartCategory.MISSING_LOADER,
            "missing loader (exec /app: no such file or directory)",
        ),
        (
            127,
            'OCI runtime create failed: exec: "/app": stat /app: no such file or directory',
            StartCategory.MISSING_EXECUTABLE,
            None,
        ),
        (
            127,
            "/app: error while loading shared libraries: libfoo.so.1: cannot open shared "
            "object file: No such file or directory",
            StartCategory.MISSING_LIBRARY,
            None,
        ),
        (
            127,
            "Error loading shared library libz.so.1: No such file or directory (needed by /app)",
            StartCategory.MISSING_LIBRARY,
            None,
        ),
        (
            1,
            "/app: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found",
            StartCategory.LIBC_TOO_OLD,
            None,
        ),
        (
            1,
            "Error relocating /app: __res_search: symbol not found",
            StartCategory.MISSING_SYMBOL,
            None,
        ),
        (1, "exec /app: exec format error", StartCategory.WRONG_FORMAT, None),
        (126, "exec /app: permission denied", StartCategory.PERMISSION_DENIED, None),
        (139, "", StartCategory.CRASHED, "crashed (exit status 139)"),
        (None, "listening on :8080", StartCategory.STARTS, "starts"),
        (
            1,
            "open /etc/app.conf: no such file or directory\n"
            "/app: error while loading shared libraries: libz.so.1: cannot open shared object",
            StartCategory.MISSING_LIBRARY,
            None,
        ),
        (
            1,
            "standard_init_linux.go:228: exec user process caused: no such file or directory",
            StartCategory.MISSING_LOADER,
            None,
        ),
        (
            127,
            "bash: ./app: cannot execute: required file not found",
            StartCategory.MISSING_LOADER,
            None,
        ),
        (255, "no such file or directory", StartCategory.MISSING_LOADER, None),
        (None, "panic: something after start", StartCategory.STARTS, "starts"),
        (0, "done", StartCategory.EXITED, "exited (exit status 0)"),
        (3, "something odd\n", StartCategory.UNKNOWN, "unknown (something odd)"),
    ],
)
def test_exec_failure_diagnosis(
    returncode: int | None, log: str, category: StartCategory, described: str | None
) -> None:
    assert diagnose_exec_failure(returncode, log).category == category
    text = describe_exec_failure(returncode, log)
    assert text.startswith(category.value) and "\n" not in text
    if described is not None:
        assert text == described


def test_prediction_and_diagnosis_share_vocabulary() -> None:
    predicted = predict_start(ELF_BY_LINKAGE["glibc"], IMAGES["alpine"])
    observed = diagnose_exec_failure(255, "exec /app: no such file or directory")
    assert predicted.category == observed.category == StartCategory.MISSING_LOADER
