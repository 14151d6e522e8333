"""Reading an image's facts from its file index (no Docker needed)."""

from __future__ import annotations

import io
import tarfile

from pytest_traefik_compat.bases import read_facts
from pytest_traefik_compat.bases.files import Entry, ImageFiles, scan_tar


def _tar(members: list[tuple[str, str, bytes | str]]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif kind == "link":
                info.type = tarfile.SYMTYPE
                info.linkname = str(payload)
                archive.addfile(info)
            else:
                data = payload if isinstance(payload, bytes) else payload.encode()
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def test_scan_and_resolve_links() -> None:
    files = scan_tar(
        _tar(
            [
                ("lib", "dir", ""),
                ("lib/x86_64-linux-musl", "dir", ""),
                ("lib/x86_64-linux-musl/libc.so", "file", b"\x00musl\x001.2.3\x00"),
                ("lib/ld-musl-x86_64.so.1", "link", "x86_64-linux-musl/libc.so"),
                ("bin", "dir", ""),
                ("bin/busybox", "file", b"ELF"),
                ("bin/sh", "link", "/bin/busybox"),
                ("usr", "link", "."),  # a loop-free odd link
                ("loop", "link", "loop"),
            ]
        )
    )
    assert files.resolve("/lib/ld-musl-x86_64.so.1") == "/lib/x86_64-linux-musl/libc.so"
    assert files.is_file("/bin/sh")
    assert files.is_file("/usr/bin/sh")
    assert not files.exists("/loop")
    assert not files.exists("/lib64/ld-linux-x86-64.so.2")
    assert files.read("/lib/ld-musl-x86_64.so.1") == b"\x00musl\x001.2.3\x00"
    assert ImageFiles.from_json(files.to_json()).resolve("/bin/sh") == "/bin/busybox"


def _image(entries: dict[str, Entry], contents: dict[str, bytes]) -> ImageFiles:
    return ImageFiles(entries={"/": Entry("dir"), **entries}, contents=contents)


def test_facts_glibc_with_bash_and_no_tools() -> None:
    files = _image(
        {
            "/lib64": Entry("dir"),
            "/lib64/ld-linux-x86-64.so.2": Entry("link", "/lib/x86_64-linux-gnu/ld.so"),
            "/lib": Entry("dir"),
            "/lib/x86_64-linux-gnu": Entry("dir"),
            "/lib/x86_64-linux-gnu/ld.so": Entry("file"),
            "/lib/x86_64-linux-gnu/libc.so.6": Entry("file"),
            "/bin": Entry("dir"),
            "/bin/bash": Entry("file"),
            "/bin/sh": Entry("link", "dash"),
            "/bin/dash": Entry("file"),
            "/etc": Entry("dir"),
            "/etc/passwd": Entry("file"),
        },
        {
            "/lib/x86_64-linux-gnu/libc.so.6": b"GNU C Library (Debian GLIBC 2.36-9) "
            b"stable release version 2.36.",
            "/etc/passwd": b"root:x:0:0:root:/root:/bin/bash\n",
        },
    )
    facts = read_facts(
        name="t",
        source="local",
        reference="t:1",
        attrs={"Config": {}},
        files=files,
        provenance="test",
    )
    assert (facts.libc_kind, facts.libc_version) == ("glibc", "2.36")
    assert facts.shell_kind == "dash" and facts.bash
    assert facts.curl is None and facts.wget is None and facts.ca_bundle is None
    assert facts.default_user == "root (0)"


def test_facts_no_libc_nonroot_user() -> None:
    files = _image(
        {
            "/etc": Entry("dir"),
            "/etc/passwd": Entry("file"),
            "/etc/ssl": Entry("dir"),
            "/etc/ssl/certs": Entry("dir"),
            "/etc/ssl/certs/ca-certificates.crt": Entry("file"),
        },
        {"/etc/passwd": b"root:x:0:0::/root:/sbin/nologin\nnonroot:x:65532:65532::/:/x\n"},
    )
    facts = read_facts(
        name="t",
        source="local",
        reference="t:1",
        attrs={"Config": {"User": "65532:65532"}},
        files=files,
        provenance="test",
    )
    assert facts.libc_kind == "none" and facts.libc_version is None
    assert facts.shell is None
    assert facts.ca_bundle == "/etc/ssl/certs/ca-certificates.crt"
    assert (facts.default_user, facts.default_uid) == ("nonroot (65532)", 65532)
