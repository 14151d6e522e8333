"""Read an image's file system without running it: an index of paths and links.

Images with no shell (distroless, scratch) cannot be asked questions, so facts are
read from the exported layer contents instead: ``docker create`` + ``export``.
"""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import docker.errors

from pytest_traefik_compat import engine

# Small files whose content the facts need.
_CAPTURE_PATHS = {
    "/etc/passwd",
    "/etc/group",
    "/etc/os-release",
    "/usr/lib/os-release",
}
# Libraries whose content tells the libc version; only these basenames are read.
_CAPTURE_BASENAMES = {"libc.so.6", "libc.so", "ld-musl-x86_64.so.1"}
# glibc < 2.34 ships libc.so.6 as a symlink to libc-2.NN.so (bullseye: libc-2.31.so).
_CAPTURE_PATTERN = re.compile(r"^libc-\d+\.\d+\.so$")
_CAPTURE_LIMIT = 8 * 1024 * 1024
_MAX_LINK_DEPTH = 40


@dataclass
class Entry:
    kind: str  # "file", "dir", "link", "other"
    target: str = ""  # symlink target, or hardlink source
    size: int = 0
    mode: int = 0


@dataclass
class ImageFiles:
    """The paths of one image; implements ``exists`` for start predictions."""

    entries: dict[str, Entry] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)

    def resolve(self, path: str) -> str | None:
        """Follow symlinks component by component, as the kernel would."""
        parts = [p for p in posixpath.normpath("/" + path).split("/") if p]
        resolved = "/"
        depth = 0
        while parts:
            part = parts.pop(0)
            candidate = posixpath.normpath(posixpath.join(resolved, part))
            entry = self.entries.get(candidate)
            if entry is None:
                return None
            if entry.kind == "link":
                depth += 1
                if depth > _MAX_LINK_DEPTH:
                    return None
                base = "/" if entry.target.startswith("/") else resolved
                target = posixpath.normpath(posixpath.join(base, entry.target))
                parts = [p for p in target.split("/") if p] + parts
                resolved = "/"
                continue
            resolved = candidate
        return resolved

    def exists(self, path: str) -> bool:
        return self.resolve(path) is not None

    def is_file(self, path: str) -> bool:
        real = self.resolve(path)
        return real is not None and self.entries[real].kind == "file"

    def is_dir(self, path: str) -> bool:
        real = self.resolve(path)
        return real is not None and self.entries[real].kind == "dir"

    def read(self, path: str) -> bytes | None:
        real = self.resolve(path)
        return None if real is None else self.contents.get(real)

    def link_target(self, path: str) -> str | None:
        entry = self.entries.get(posixpath.normpath(path))
        return entry.target if entry is not None and entry.kind == "link" else None

    def find(self, basename: str) -> list[str]:
        return sorted(p for p in self.entries if posixpath.basename(p) == basename)

    def first_existing(self, candidates: Iterable[str]) -> str | None:
        return next((c for c in candidates if self.is_file(c)), None)

    def __len__(self) -> int:
        return len(self.entries)

    # JSON round trip so facts can be cached per image id.
    def to_json(self) -> dict[str, Any]:
        return {"entries": {p: [e.kind, e.target, e.size, e.mode] for p, e in self.entries.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageFiles:
        entries = {p: Entry(k, t, s, m) for p, (k, t, s, m) in data["entries"].items()}
        return cls(entries=entries)


class ChunkStream(io.RawIOBase):
    """A file-like view over docker-py's generator of bytes chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def scan_tar(stream: io.RawIOBase | io.BufferedIOBase) -> ImageFiles:
    files = ImageFiles()
    files.entries["/"] = Entry("dir")
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            path = posixpath.normpath("/" + member.name)
            if member.issym():
                files.entries[path] = Entry("link", member.linkname, 0, member.mode)
            elif member.islnk():
                files.entries[path] = Entry("file", "/" + member.linkname, 0, member.mode)
            elif member.isdir():
                files.entries[path] = Entry("dir", "", 0, member.mode)
            elif member.isfile():
                files.entries[path] = Entry("file", "", member.size, member.mode)
                basename = posixpath.basename(path)
                wanted = (
                    path in _CAPTURE_PATHS
                    or basename in _CAPTURE_BASENAMES
                    or _CAPTURE_PATTERN.match(basename) is not None
                )
                if wanted and member.size <= _CAPTURE_LIMIT:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        files.contents[path] = handle.read()
            else:
                files.entries[path] = Entry("other", "", 0, member.mode)
    # Hard links share content: copy captured content to the link path.
    for path, entry in list(files.entries.items()):
        if entry.kind == "file" and entry.target and entry.target in files.contents:
            files.contents[path] = files.contents[entry.target]
    return files


def read_image_files(reference: str, identity: engine.RunIdentity) -> ImageFiles:
    """Export the image's merged file system through a created (never started) container."""
    container = engine.create_container(
        reference,
        command=["/nonexistent-never-started"],
        labels=identity.labels("facts"),
        network_disabled=True,
    )
    try:
        stream = ChunkStream(container.export(chunk_size=1024 * 1024))
        return scan_tar(io.BufferedReader(stream, buffer_size=1024 * 1024))
    finally:
        with suppress(docker.errors.DockerException):
            container.remove(force=True)
