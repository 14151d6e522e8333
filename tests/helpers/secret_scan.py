"""Look for private keys in image layers and container file systems.

Two questions, asked of every file of every layer (streamed, never unpacked):

- is there a PEM private key block (armour, base64 body, end line) in a file that
  is not an ELF binary? A key *file* in an image is a leak, whoever made it. Keys
  embedded in ELF objects are listed separately: libraries carry public self-test
  vectors (Debian's libgnutls has a dozen), and that is not a leak of ours.
- does the session CA's key material appear anywhere? A private key of ours always
  carries its public point (PKCS#8 / SEC1 include it), so the point itself, raw or
  base64 at any alignment, is searched for; so is any PEM key that loads and has
  the CA's public key. Certificates carry the point too, so a CA *certificate* in an
  image is found as well: none belongs there either (it is mounted, not baked in).
"""

from __future__ import annotations

import base64
import gzip
import io
import re
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pytest_traefik_compat.bases.files import ChunkStream

CHUNK = 4 * 1024 * 1024
# Longer than any PEM key block (RSA-4096 is ~3.3 kB), so a block cut by a chunk
# boundary is whole in the next window.
OVERLAP = 16 * 1024
PEM_MARK = b"PRIVATE KEY-----"
PEM_KEY = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[A-Za-z0-9+/=\s:,.-]{16,8192}?"
    rb"-----END \1PRIVATE KEY-----"
)
WINDOW = 12  # bytes of the public point per base64 needle: 96 bits, no false hits


def point_of(public_key: Any) -> bytes:
    """The uncompressed EC point: what every encoding of the key pair contains."""
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise TypeError(f"only EC keys are searched for, not {type(public_key).__name__}")
    return public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def needles(point: bytes) -> list[bytes]:
    """The point raw, and as base64 at each of the three byte alignments."""
    found = [point]
    for align in range(3):
        for start in range(align, len(point) - WINDOW + 1, WINDOW):
            found.append(base64.b64encode(point[start : start + WINDOW]))
    return found


@dataclass
class KeyFinding:
    where: str  # image/layer/path or container/path
    pem_type: str
    in_elf: bool
    ours: bool  # loads, and its public key is one of the CA keys searched for


@dataclass
class ScanResult:
    files: int = 0
    bytes: int = 0
    pem_keys: list[KeyFinding] = field(default_factory=list)
    ca_material: list[str] = field(default_factory=list)

    @property
    def key_files(self) -> list[KeyFinding]:
        """PEM private keys outside ELF objects: the ones that are files of their own."""
        return [f for f in self.pem_keys if not f.in_elf]

    @property
    def self_test_vectors(self) -> list[KeyFinding]:
        return [f for f in self.pem_keys if f.in_elf]


class Scanner:
    def __init__(self, ca_points: Iterable[bytes] = ()) -> None:
        self.ca_points = list(ca_points)
        self._needles = [n for p in self.ca_points for n in needles(p)]
        self._layers_seen: set[str] = set()
        self.result = ScanResult()

    # ---- one file's bytes, in chunks
    def scan_stream(self, where: str, stream: io.BufferedIOBase | Any) -> None:
        self.result.files += 1
        head = b""
        tail = b""
        offset = 0  # stream offset of tail's first byte
        seen: set[int] = set()
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            if not head:
                head = chunk[:4]
            self.result.bytes += len(chunk)
            window = tail + chunk
            self._search(where, window, offset, head.startswith(b"\x7fELF"), seen)
            keep = min(OVERLAP, len(window))
            offset += len(window) - keep
            tail = window[-keep:]

    def _search(self, where: str, window: bytes, offset: int, in_elf: bool, seen: set[int]) -> None:
        for needle in self._needles:
            if needle in window:
                self.result.ca_material.append(f"{where}: CA public point {needle[:16]!r}...")
        if PEM_MARK not in window:
            return
        for match in PEM_KEY.finditer(window):
            if offset + match.start() in seen:
                continue  # found again in the overlap of the next window
            seen.add(offset + match.start())
            block = match.group(0)
            self.result.pem_keys.append(
                KeyFinding(
                    where, match.group(1).decode() + "PRIVATE KEY", in_elf, self._ours(block)
                )
            )

    def _ours(self, block: bytes) -> bool:
        # Ours are unencrypted EC keys written by `cryptography`: one that does not
        # load here (GOST test vectors, encrypted keys) cannot be ours.
        # Self-test vectors are often stored without line breaks; PEM loaders want them.
        text = re.sub(rb"(-----)(?=[A-Za-z0-9+/])", rb"\1\n", block)
        text = re.sub(rb"(?<=[A-Za-z0-9+/=])(-----END)", rb"\n\1", text)
        try:
            key = serialization.load_pem_private_key(text, password=None)
            return point_of(key.public_key()) in self.ca_points
        except (ValueError, TypeError):
            return False

    # ---- archives
    def scan_image(self, image: Any) -> None:
        """Every file of every layer of ``image`` (``docker save``), each layer once."""
        self.scan_tar(
            image.tags[0] if image.tags else image.short_id, stream_of(image.save()), True
        )

    def scan_tar(self, where: str, stream: Any, saved_image: bool = False) -> None:
        """Every regular file of a tar stream; nested layer tars (docker save) recursed."""
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                if saved_image:
                    # <layer id>/layer.tar or blobs/sha256/<digest>: content-addressed,
                    # so a layer shared with an image scanned before is skipped.
                    if member.name in self._layers_seen:
                        continue
                    self._layers_seen.add(member.name)
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                name = f"{where}/{member.name}"
                reader = io.BufferedReader(handle, buffer_size=1024 * 1024)  # type: ignore[type-var]
                peek = reader.peek(512)[:512]
                if len(peek) >= 262 and peek[257:262] == b"ustar":
                    self.scan_tar(name, reader)  # a layer of a saved image
                elif peek[:2] == b"\x1f\x8b":
                    self.scan_tar(name, gzip.GzipFile(fileobj=reader))  # compressed layer
                else:
                    self.scan_stream(name, reader)


def stream_of(chunks: Iterator[bytes]) -> io.BufferedReader:
    return io.BufferedReader(ChunkStream(chunks), buffer_size=CHUNK)


def covering_images(images: Iterable[Any]) -> list[Any]:
    """Few images whose layers together are all the layers of ``images`` (greedy).

    `docker save` streams every layer of an image; shared base layers would be read
    once per image otherwise.
    """
    remaining = {image.id: image for image in images}
    covered: set[str] = set()
    chosen: list[Any] = []
    while remaining:
        best = max(
            remaining.values(),
            key=lambda i: len(set(i.attrs["RootFS"].get("Layers") or []) - covered),
        )
        new = set(best.attrs["RootFS"].get("Layers") or []) - covered
        del remaining[best.id]
        if not new and chosen:
            continue
        chosen.append(best)
        covered |= new
    return chosen
