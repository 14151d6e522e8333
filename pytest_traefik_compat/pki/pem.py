"""PEM blobs that write themselves: a private blob always lands 0600, created with that
mode (never chmod'ed afterwards)."""

from __future__ import annotations

import builtins
import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import serialization

PathLike: TypeAlias = "str | os.PathLike[str]"


class PemBlob:
    """PEM bytes that can write themselves; a private blob always lands 0600."""

    __slots__ = ("_data", "private")

    def __init__(self, data: builtins.bytes, *, private: bool = False) -> None:
        self._data = data
        self.private = private

    def bytes(self) -> builtins.bytes:
        return self._data

    def text(self) -> str:
        return self._data.decode("ascii")

    def write_to(self, path: PathLike, *, private: bool = False) -> Path:
        """Write to ``path`` and return it; ``private`` can only tighten, never loosen."""
        target = Path(path)
        _write_file(target, self._data, private=private or self.private)
        return target

    @contextlib.contextmanager
    def tempfile(self, dir: PathLike | None = None) -> Iterator[Path]:
        """Yield a temporary file holding the blob (0600, as mkstemp makes it)."""
        fd, name = tempfile.mkstemp(suffix=".pem", dir=dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(self._data)
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PemBlob) and other._data == self._data

    def __hash__(self) -> int:
        return hash(self._data)

    def __repr__(self) -> str:
        # Never print key material into test logs.
        return f"PemBlob({len(self._data)} bytes, private={self.private})"


def _write_file(path: Path, data: bytes, *, private: bool) -> None:
    if private:
        # O_CREAT's mode only applies to a new file, so replace any old one and
        # create with O_EXCL: the key is never readable by others, not even briefly.
        path.unlink(missing_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
    else:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _cert_pem(*certs: x509.Certificate) -> PemBlob:
    return PemBlob(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
