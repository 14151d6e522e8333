"""Will a binary start on an image, and why did it not: ELF facts x image facts.

Predicts from the binary's loader and libraries and the image's file list, and
classifies what a container runtime said, in one shared vocabulary. Must not import
pytest, docker or the Go builder; it reads ELF facts from gobuild.elf.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

from pytest_traefik_compat.gobuild.elf import ElfFacts

__all__ = [
    "GLIBC_LOADER",
    "MUSL_LOADER",
    "ExecDiagnosis",
    "ImageFileView",
    "LibcFacts",
    "Prediction",
    "StartCategory",
    "describe_exec_failure",
    "diagnose_exec_failure",
    "glibc_version_of",
    "predict_start",
]

# The ELF interpreters (PT_INTERP) of x86_64 glibc and musl programs: the files the
# kernel runs first, and what an image must have for a dynamic binary to start.
GLIBC_LOADER = "/lib64/ld-linux-x86-64.so.2"
MUSL_LOADER = "/lib/ld-musl-x86_64.so.1"


@runtime_checkable
class ImageFileView(Protocol):
    """Which paths exist in an image; resolving symlinks is the view's job."""

    def exists(self, path: str) -> bool: ...


class StartCategory(str, enum.Enum):
    """Shared vocabulary of predictions and observed runtime failures, so they compare."""

    STARTS = "starts"
    MISSING_LOADER = "missing loader"
    MISSING_LIBRARY = "missing library"
    MISSING_EXECUTABLE = "missing executable"
    LIBC_TOO_OLD = "libc too old"
    MISSING_SYMBOL = "missing symbol"
    WRONG_FORMAT = "exec format error"
    PERMISSION_DENIED = "permission denied"
    NOT_A_PROGRAM = "not a program"
    CRASHED = "crashed"
    EXITED = "exited"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Prediction:
    starts: bool
    reason: str
    category: StartCategory = StartCategory.STARTS
    missing: tuple[str, ...] = ()


_TRIPLETS = {
    "EM_X86_64": "x86_64-linux-gnu",
    "EM_AARCH64": "aarch64-linux-gnu",
    "EM_386": "i386-linux-gnu",
}
_MUSL_DIRS = ("/lib", "/usr/local/lib", "/usr/lib")
# musl's loader *is* libc: it answers requests for these names itself without
# opening a file (ldso/dynlink.c, "reserved" names), which is why a musl-gcc binary
# needing plain `libc.so` runs on Alpine, where no file of that name exists.
_MUSL_BUILTIN_PREFIXES = (
    "libc.",
    "libpthread.",
    "librt.",
    "libm.",
    "libdl.",
    "libutil.",
    "libxnet.",
)


def _library_dirs(elf: ElfFacts) -> tuple[str, ...]:
    runpath = tuple(p for p in elf.runpath if "$" not in p)  # $ORIGIN needs the install path
    if elf.libc_kind == "musl":
        return runpath + _MUSL_DIRS
    triplet = _TRIPLETS.get(elf.machine)
    multiarch = (f"/lib/{triplet}", f"/usr/lib/{triplet}") if triplet else ()
    return runpath + multiarch + ("/lib64", "/usr/lib64", "/lib", "/usr/lib")


def _missing_libraries(elf: ElfFacts, image: ImageFileView, dirs: Sequence[str]) -> list[str]:
    missing: list[str] = []
    for lib in elf.needed:
        if elf.libc_kind == "musl" and lib.startswith(_MUSL_BUILTIN_PREFIXES):
            continue
        if "/" in lib:
            if not image.exists(lib):
                missing.append(lib)
        elif not any(image.exists(f"{d}/{lib}") for d in dirs):
            missing.append(lib)
    return missing


def predict_start(
    elf: ElfFacts, image: ImageFileView, *, image_glibc: tuple[int, int] | None = None
) -> Prediction:
    """Whether the kernel and loader can start ``elf`` in ``image``, and why.

    ``image_glibc`` (the image's glibc version, when known: see :func:`glibc_version_of`)
    additionally checks the binary's GLIBC_x.y symbol versions, which file existence
    alone cannot.
    """
    if elf.static:
        return Prediction(True, "statically linked: needs no loader")
    if elf.interpreter is None:
        return Prediction(
            False,
            "no ELF interpreter but needs shared libraries: a shared object, not a program",
            StartCategory.NOT_A_PROGRAM,
        )
    if not image.exists(elf.interpreter):
        # The kernel reports the missing loader as ENOENT for the binary itself:
        # `exec /app: no such file or directory`.
        return Prediction(
            False,
            f"interpreter {elf.interpreter} not in image",
            StartCategory.MISSING_LOADER,
            (elf.interpreter,),
        )
    dirs = _library_dirs(elf)
    missing = _missing_libraries(elf, image, dirs)
    if missing:
        return Prediction(
            False,
            f"needed {'library' if len(missing) == 1 else 'libraries'} {', '.join(missing)} "
            f"not found in image (searched {', '.join(dirs)})",
            StartCategory.MISSING_LIBRARY,
            tuple(missing),
        )
    needs = elf.min_glibc
    if (
        image_glibc is not None
        and needs is not None
        and elf.libc_kind == "glibc"
        and image_glibc < needs
    ):
        have = f"{image_glibc[0]}.{image_glibc[1]}"
        return Prediction(
            False,
            f"needs GLIBC_{needs[0]}.{needs[1]} but the image has glibc {have}",
            StartCategory.LIBC_TOO_OLD,
            # Every version the loader will name ("version `GLIBC_2.32' not found").
            _glibc_versions_above(elf, image_glibc),
        )
    n = len(elf.needed)
    return Prediction(True, f"loader and {n} needed {'library' if n == 1 else 'libraries'} present")


def _glibc_versions_above(elf: ElfFacts, have: tuple[int, int]) -> tuple[str, ...]:
    found: set[tuple[int, int]] = set()
    for _lib, versions in elf.version_needs:
        for version in versions:
            match = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?", version)
            if match and (int(match.group(1)), int(match.group(2))) > have:
                found.add((int(match.group(1)), int(match.group(2))))
    return tuple(f"GLIBC_{major}.{minor}" for major, minor in sorted(found))


class LibcFacts(Protocol):
    """The libc an image has, as its facts say (bases.BaseFacts is one)."""

    @property
    def libc_kind(self) -> str: ...  # "glibc", "musl", "glibc+musl" or "none"

    @property
    def libc_version(self) -> str | None: ...  # e.g. "2.36"


def glibc_version_of(facts: LibcFacts) -> tuple[int, int] | None:
    """The image's glibc as (major, minor) for :func:`predict_start`, or None if unknown."""
    version = facts.libc_version
    if "glibc" not in facts.libc_kind or not version:
        return None
    major, _, minor = version.partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


class ExecDiagnosis(NamedTuple):
    category: StartCategory
    evidence: str  # the line of output that decided it ("" if none)


# By priority, most specific first; the first *pattern* that matches any line wins
# (an application's own "open x: no such file or directory" must not outrank the
# loader's message, whatever the line order).
_EXEC_PATTERNS: tuple[tuple[re.Pattern[str], StartCategory], ...] = tuple(
    (re.compile(p, re.IGNORECASE), c)
    for p, c in (
        # glibc: "error while loading shared libraries: libfoo.so.1: cannot open ..."
        (r"error while loading shared libraries: \S+?:", StartCategory.MISSING_LIBRARY),
        # musl: "Error loading shared library libfoo.so: No such file or directory"
        (r"error loading shared library \S+?:", StartCategory.MISSING_LIBRARY),
        (r"version `GLIBC_[\d.]+' not found", StartCategory.LIBC_TOO_OLD),
        (r"error relocating .*symbol not found|undefined symbol", StartCategory.MISSING_SYMBOL),
        # runc when the file itself is absent: exec: "/app": stat /app: no such file ...
        (
            r"stat \S+: no such file or directory|executable file not found",
            StartCategory.MISSING_EXECUTABLE,
        ),
        # The binary exists but its ELF interpreter does not: the kernel says ENOENT
        # for the exec. runc/Docker >= 23: "exec /app: no such file or directory";
        # older: "exec user process caused: no such file or directory"; bash >= 5.1:
        # "cannot execute: required file not found".
        (
            r"exec\b.*no such file or directory|required file not found",
            StartCategory.MISSING_LOADER,
        ),
        (r"exec format error", StartCategory.WRONG_FORMAT),
        (r"permission denied", StartCategory.PERMISSION_DENIED),
        (r"segmentation fault|SIGSEGV|SIGILL|SIGBUS|^panic:|fatal error:", StartCategory.CRASHED),
    )
)
# Only when nothing specific matched and the process did fail: a bare ENOENT from
# a start attempt is, in this suite, almost always the missing loader.
_BARE_ENOENT = re.compile(r"no such file or directory", re.IGNORECASE)


def diagnose_exec_failure(returncode: int | None, log_text: str) -> ExecDiagnosis:
    """Classify what a container or process reported when it (maybe) failed to start.

    ``returncode`` None means still running, which means it started. Recognises the
    glibc and musl loaders' messages, the runtime's exec errors and common crashes.
    """
    if returncode is None:
        return ExecDiagnosis(StartCategory.STARTS, "")
    lines = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
    for pattern, category in _EXEC_PATTERNS:
        for line in lines:
            if pattern.search(line):
                return ExecDiagnosis(category, line)
    if returncode in (-11, 139, -4, 132, -7, 135):  # SIGSEGV, SIGILL, SIGBUS
        return ExecDiagnosis(StartCategory.CRASHED, f"exit status {returncode}")
    if returncode == 0:
        return ExecDiagnosis(StartCategory.EXITED, "exit status 0")
    for line in lines:
        if _BARE_ENOENT.search(line):
            return ExecDiagnosis(StartCategory.MISSING_LOADER, line)
    return ExecDiagnosis(StartCategory.UNKNOWN, lines[-1] if lines else f"exit status {returncode}")


def describe_exec_failure(returncode: int | None, log_text: str) -> str:
    """One line for the report, e.g. ``missing loader (exec /app: no such file or directory)``."""
    diagnosis = diagnose_exec_failure(returncode, log_text)
    if diagnosis.evidence:
        return f"{diagnosis.category.value} ({diagnosis.evidence[:200]})"
    return diagnosis.category.value
