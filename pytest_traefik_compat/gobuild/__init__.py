"""Owns: building Go modules in three linkages into a cache, and reading the binaries' ELF facts.
Must not import: pytest, docker/engine, gateway, report (nor startcheck, which sits above it).

The compatibility suite needs the same Go service as a static binary, as a
glibc-linked binary and as a musl-linked binary. By concern:

- :mod:`.toolchain` finds the host ``go`` and refuses, in one line, one too old;
- :mod:`.gomod` reads go.mod and package clauses without running ``go``;
- :mod:`.request` is one ``go build`` as a value, with its cache key;
- :mod:`.elf` reads what the kernel and the loader need from a binary (pyelftools);
- :mod:`.builder` runs ``go build`` into a cache that is safe under pytest-xdist.

Whether a binary starts on an image is :mod:`pytest_traefik_compat.bases.startcheck`'s.
"""

from pytest_traefik_compat.gobuild.builder import DEFAULT_BUILD_TIMEOUT, BuiltBinary, GoBuilder
from pytest_traefik_compat.gobuild.elf import ElfFacts, GoBuildInfo, LibcKind, inspect_elf
from pytest_traefik_compat.gobuild.gomod import (
    GoModInfo,
    check_command_package,
    check_module_go,
    read_go_mod,
)
from pytest_traefik_compat.gobuild.request import (
    BUILDMODES,
    CACHE_SCHEMA,
    LINKAGES,
    BuildMode,
    BuildRequest,
    Linkage,
    cache_key,
    linkage_env,
    parse_linkages,
)
from pytest_traefik_compat.gobuild.toolchain import (
    GO_ENV,
    MIN_GO,
    GoToolchain,
    find_go,
    parse_go_version,
    require_go,
)

__all__ = [
    "BUILDMODES",
    "CACHE_SCHEMA",
    "DEFAULT_BUILD_TIMEOUT",
    "GO_ENV",
    "LINKAGES",
    "MIN_GO",
    "BuildMode",
    "BuildRequest",
    "BuiltBinary",
    "ElfFacts",
    "GoBuildInfo",
    "GoBuilder",
    "GoModInfo",
    "GoToolchain",
    "LibcKind",
    "Linkage",
    "cache_key",
    "check_command_package",
    "check_module_go",
    "find_go",
    "inspect_elf",
    "linkage_env",
    "parse_go_version",
    "parse_linkages",
    "read_go_mod",
    "require_go",
]
