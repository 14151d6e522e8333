"""Image file sets and the start physics the prediction must reproduce (shared by
the pure prediction tests and the real-build tests)."""

from __future__ import annotations

from collections.abc import Iterable

from pytest_traefik_compat.bases.startcheck import GLIBC_LOADER, MUSL_LOADER
from pytest_traefik_compat.gobuild.elf import ElfFacts


class FileSet:
    """A dict-free fake of the lead's image view: a set of absolute paths."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = frozenset(paths)

    def exists(self, path: str) -> bool:
        return path in self.paths


COMMON = ["/etc/passwd", "/etc/ssl/certs/ca-certificates.crt", "/usr/share/zoneinfo/UTC"]
IMAGES: dict[str, FileSet] = {
    # Alpine-like: musl loader (which is libc), BusyBox, no glibc loader.
    "alpine": FileSet([*COMMON, MUSL_LOADER, "/lib/libc.musl-x86_64.so.1", "/bin/busybox"]),
    "debian-slim": FileSet(
        [
            *COMMON,
            GLIBC_LOADER,
            "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/bin/bash",
        ]
    ),
    "distroless": FileSet(COMMON),
}
ELF_BY_LINKAGE: dict[str, ElfFacts] = {
    "static": ElfFacts(True, None, (), "EM_X86_64", "ET_EXEC", False, 1),
    "glibc": ElfFacts(
        False,
        GLIBC_LOADER,
        ("libc.so.6",),
        "EM_X86_64",
        "ET_EXEC",
        False,
        1,
        version_needs=(("libc.so.6", ("GLIBC_2.2.5", "GLIBC_2.34")),),
    ),
    "musl": ElfFacts(False, MUSL_LOADER, ("libc.so",), "EM_X86_64", "ET_EXEC", False, 1),
}
EXPECTED = {
    ("static", "alpine"): True,
    ("static", "debian-slim"): True,
    ("static", "distroless"): True,
    ("glibc", "alpine"): False,
    ("glibc", "debian-slim"): True,
    ("glibc", "distroless"): False,
    ("musl", "alpine"): True,
    ("musl", "debian-slim"): False,
    ("musl", "distroless"): False,
}
