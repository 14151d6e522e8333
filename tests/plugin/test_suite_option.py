"""The documented command and --traefik-suite, collected only (no engine needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE_FILE = "test_image.py::test_image_facts"


def _collect(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_literal_command_in_the_checkout_root_collects_the_matrix() -> None:
    """`pytest --traefik-images=alpine,debian-slim,distroless` (README's words) in the
    checkout root is the compatibility matrix, not the project's own tests."""
    ids = _collect(["--traefik-images=alpine,debian-slim,distroless"], ROOT)
    assert f"pytest_traefik_compat/suite/{SUITE_FILE}[alpine]" in ids
    assert f"pytest_traefik_compat/suite/{SUITE_FILE}[distroless]" in ids
    assert "pytest_traefik_compat/suite/test_start.py::test_start_matrix[debian-slim-glibc]" in ids
    assert not [i for i in ids if i.startswith("tests/")], ids[:5]


def test_make_test_names_the_project_tests() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "$(PYTEST) tests -ra" in makefile
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("exec make test")


@pytest.mark.parametrize(
    ("how", "args", "env", "ini"),
    [
        ("option", ["--traefik-suite"], {}, ""),
        ("env", [], {"PYTEST_TRAEFIK_SUITE": "1"}, ""),
        ("ini", [], {}, "traefik_suite = true"),
    ],
)
def test_traefik_suite_adds_the_matrix_to_a_users_run(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    args: list[str],
    env: dict[str, str],
    ini: str,
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_mine="def test_mine():\n    pass\n")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    ids = _collect_here(pytester, *args, "--traefik-images=alpine,distroless")
    assert "test_mine.py::test_mine" in ids, how
    suite = [i for i in ids if SUITE_FILE in i]
    assert [i.rsplit("[", 1)[1] for i in suite] == ["alpine]", "distroless]"], how


def _collect_here(pytester: pytest.Pytester, *args: str) -> list[str]:
    """In-process collection of a pytester project (the plugin is already imported)."""
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:randomly", *args)
    assert result.ret == 0, "\n".join(result.outlines[-30:])
    return [line for line in result.outlines if "::" in line]


def test_without_the_option_only_the_users_tests_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine="def test_mine():\n    pass\n")
    assert _collect_here(pytester, "--traefik-images=alpine") == ["test_mine.py::test_mine"]


def test_suite_named_twice_is_collected_once(pytester: pytest.Pytester) -> None:
    ids = _collect_here(
        pytester,
        "--traefik-suite",
        "--pyargs",
        "pytest_traefik_compat.suite",
        "--traefik-images=alpine",
    )
    assert len([i for i in ids if SUITE_FILE in i]) == 1


def test_bad_suite_flag_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_mine="def test_mine():\n    pass\n")
    monkeypatch.setenv("PYTEST_TRAEFIK_SUITE", "maybe")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*PYTEST_TRAEFIK_SUITE: expected true or false, got 'maybe'*"])


def test_registry_options_outside_registry_mode_are_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_mine="def test_mine():\n    pass\n")
    result = pytester.runpytest("--traefik-lock=x.json", "--traefik-registry-mirror=127.0.0.1:5000")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--traefik-registry-mirror, --traefik-lock only apply to registry mode: add "
            "--traefik-source=registry*"
        ]
    )
    bad = pytester.runpytest("--traefik-registry-mirror=http://x/y")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*registry mirror must be HOST[[]:PORT[]]*"])
