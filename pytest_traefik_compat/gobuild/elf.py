"""What the kernel and the dynamic loader need from an ELF file, read with pyelftools.

Pure reading: ``PT_INTERP``, ``DT_NEEDED``, ``DT_RUNPATH``, glibc symbol versions
and Go's build info. Runs nothing and knows nothing of images.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from elftools.elf.segments import InterpSegment

from pytest_traefik_compat.errors import BuildError

__all__ = [
    "ElfFacts",
    "GoBuildInfo",
    "LibcKind",
    "inspect_elf",
]

LibcKind = Literal["static", "glibc", "musl", "unknown"]


@dataclass(frozen=True)
class GoBuildInfo:
    """What `go version -m` prints, read from the binary's .go.buildinfo section."""

    go_version: str
    path: str | None  # main package path
    settings: tuple[tuple[str, str], ...]  # `build KEY=VALUE` lines, in order

    def setting(self, key: str) -> str | None:
        for k, v in self.settings:
            if k == key:
                return v
        return None


@dataclass(frozen=True)
class ElfFacts:
    """What the kernel and the dynamic loader need to start a binary."""

    static: bool  # no interpreter and no needed libraries: runs on any Linux of its arch
    interpreter: str | None  # PT_INTERP, the loader the kernel runs first
    needed: tuple[str, ...]  # DT_NEEDED, in load order
    machine: str  # e_machine, e.g. "EM_X86_64"
    elf_type: str  # "ET_EXEC", "ET_DYN"
    is_pie: bool
    size_bytes: int
    runpath: tuple[str, ...] = ()  # DT_RUNPATH / DT_RPATH entries, searched first
    # Symbol versions required from each needed library, e.g. libc.so.6 -> GLIBC_2.34:
    # a glibc-linked binary needs a glibc at least that new.
    version_needs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    go_buildinfo: GoBuildInfo | None = None

    @property
    def libc_kind(self) -> LibcKind:
        interp = self.interpreter or ""
        if "ld-musl" in interp:
            return "musl"
        if "ld-linux" in interp:
            return "glibc"
        if interp:
            return "unknown"
        # No interpreter: a static program, or a shared object (a Go plugin) that
        # inherits the host's loader; its NEEDED names still say which libc.
        if not self.needed:
            return "static"
        if "libc.so.6" in self.needed:
            return "glibc"
        if any(n == "libc.so" or n.startswith("libc.musl-") for n in self.needed):
            return "musl"
        return "unknown"

    @property
    def min_glibc(self) -> tuple[int, int] | None:
        """The newest GLIBC_x.y symbol version the binary requires, if any."""
        best: tuple[int, int] | None = None
        for _lib, versions in self.version_needs:
            for v in versions:
                m = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?", v)
                if m:
                    cur = (int(m.group(1)), int(m.group(2)))
                    best = cur if best is None or cur > best else best
        return best


_BUILDINFO_MAGIC = b"\xff Go buildinf:"
_DF_1_PIE = 0x08000000


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ValueError("truncated varint")


def _parse_buildinfo(data: bytes) -> GoBuildInfo | None:
    # Go >= 1.18 stores the strings inline after a 32-byte header (flag bit 2);
    # older layouts point into the data segment and are not worth chasing here.
    if not data.startswith(_BUILDINFO_MAGIC) or len(data) < 32 or not data[15] & 0x2:
        return None
    try:
        vlen, pos = _read_varint(data, 32)
        version = data[pos : pos + vlen].decode("utf-8", "replace")
        mlen, pos = _read_varint(data, pos + vlen)
        modinfo = data[pos : pos + mlen]
    except ValueError:
        return None
    # modinfo is wrapped in 16-byte sentinels.
    if len(modinfo) >= 33 and modinfo[-17:-16] == b"\n":
        modinfo = modinfo[16:-16]
    path: str | None = None
    settings: list[tuple[str, str]] = []
    for line in modinfo.decode("utf-8", "replace").splitlines():
        kind, _, rest = line.partition("\t")
        if kind == "path":
            path = rest
        elif kind == "build" and "=" in rest:
            key, _, value = rest.partition("=")
            if value.startswith('"'):
                # Go quotes values with spaces via strconv.Quote; JSON reads those.
                with contextlib.suppress(ValueError):
                    value = str(json.loads(value))
            settings.append((key, value))
    return GoBuildInfo(go_version=version, path=path, settings=tuple(settings))


def _split_path(value: object) -> list[str]:
    return [p for p in str(value).split(":") if p]


def inspect_elf(path: Path) -> ElfFacts:
    """Read interpreter, needed libraries and build facts from an ELF file."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            elf = ELFFile(fh)
            interpreter: str | None = None
            for segment in elf.iter_segments():
                if isinstance(segment, InterpSegment):
                    interpreter = segment.get_interp_name()
            needed: list[str] = []
            runpath: list[str] = []
            flags_1 = 0
            version_needs: list[tuple[str, tuple[str, ...]]] = []
            buildinfo: GoBuildInfo | None = None
            for section in elf.iter_sections():
                if isinstance(section, DynamicSection):
                    for tag in section.iter_tags():
                        d_tag = tag.entry.d_tag
                        # pyelftools sets the decoded string attributes per tag kind
                        # at run time, hence the ignores.
                        if d_tag == "DT_NEEDED":
                            needed.append(str(tag.needed))  # type: ignore[attr-defined]
                        elif d_tag == "DT_RUNPATH":
                            runpath.extend(_split_path(tag.runpath))  # type: ignore[attr-defined]
                        elif d_tag == "DT_RPATH":
                            runpath.extend(_split_path(tag.rpath))  # type: ignore[attr-defined]
                        elif d_tag == "DT_FLAGS_1":
                            flags_1 = tag.entry.d_val
                elif isinstance(section, GNUVerNeedSection):
                    for verneed, auxes in section.iter_versions():
                        names = tuple(str(aux.name) for aux in auxes)
                        version_needs.append((str(verneed.name), names))
                elif section.name == ".go.buildinfo":
                    buildinfo = _parse_buildinfo(section.data())
            elf_type = str(elf.header["e_type"])
            machine = str(elf.header["e_machine"])
    except (ELFError, OSError) as exc:
        raise BuildError(
            f"{path} is not a readable ELF binary: rebuild it", detail=str(exc)
        ) from exc
    return ElfFacts(
        static=interpreter is None and not needed,
        interpreter=interpreter,
        needed=tuple(needed),
        machine=machine,
        elf_type=elf_type,
        # A position-independent *executable*: ET_DYN that the kernel starts through
        # a loader, or that says so in DT_FLAGS_1 (static-pie has no loader).
        is_pie=elf_type == "ET_DYN" and (interpreter is not None or bool(flags_1 & _DF_1_PIE)),
        size_bytes=path.stat().st_size,
        runpath=tuple(runpath),
        version_needs=tuple(version_needs),
        go_buildinfo=buildinfo,
    )
