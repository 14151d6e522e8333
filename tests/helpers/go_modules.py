"""Tiny stdlib-only Go modules for the gobuild tests, written where a test wants them.

No network is needed to build them; FAKE_GO keys them without any Go installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_traefik_compat.gobuild import GoToolchain

FAKE_GO = GoToolchain(path=Path("/nonexistent/go"), version="go1.26.0")

MAIN_GO = """\
package main

import "fmt"

var linkage = "unset"

func main() { fmt.Println("linkage", linkage, "cgo", cval()) }
"""
# A real cgo call, so the glibc and musl builds actually link a C library.
CGO_GO = """\
//go:build cgo

package main

/*
static int answer(void) { return 42; }
*/
import "C"

func cval() int { return int(C.answer()) }
"""
NOCGO_GO = """\
//go:build !cgo

package main

func cval() int { return 0 }
"""


def write_module(root: Path, module: str = "example.com/tiny", marker: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text(f"module {module}\n\ngo 1.22\n")
    (root / "main.go").write_text(MAIN_GO + (f"\n// {marker}\n" if marker else ""))
    (root / "cgo.go").write_text(CGO_GO)
    (root / "nocgo.go").write_text(NOCGO_GO)
    (root / "README.md").write_text("# tiny\n")
    return root


# Cache keys read a few ambient variables; the tests must not depend on the caller's.
_AMBIENT_GO_ENV = (
    "GOFLAGS",
    "GOAMD64",
    "GOEXPERIMENT",
    "GOWORK",
    "GOOS",
    "GOARCH",
    "CGO_CFLAGS",
    "CGO_LDFLAGS",
    "CGO_CPPFLAGS",
    "CGO_CXXFLAGS",
    "GOARM64",
)


def neutral_go_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _AMBIENT_GO_ENV:
        monkeypatch.delenv(name, raising=False)
