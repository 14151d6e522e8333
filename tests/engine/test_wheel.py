"""The way other repositories get the plugin: a wheel built from this checkout, installed
into a fresh virtualenv, `pytest --traefik-images=distroless --traefik-suite` in an
empty directory, no PYTEST_TRAEFIK_SAMPLE_APPS: the matrix runs from the wheel's own
copy of the Go samples."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from pytest_traefik_compat.report import load_report

ROOT = Path(__file__).resolve().parents[2]
IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "compat-report", ".ruff_cache"
)
PIP_TIMEOUT_S = 900
RUN_TIMEOUT_S = 900


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        lines = done.stdout.splitlines()
        telling = [ln for ln in lines if "Error" in ln or ln.startswith(("FAILED", "ERROR", "E "))]
        pytest.fail(
            f"{' '.join(cmd[:5])} exited {done.returncode}:\n"
            + "\n".join(telling[-60:])
            + "\n"
            + "\n".join(lines[-5:])
            + "\n"
            + done.stderr[-2000:],
            pytrace=False,
        )
    return done.stdout


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_runs_the_suite_from_an_empty_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_TRAEFIK_SAMPLE")}
    env.pop("PYTHONPATH", None)
    source = tmp_path / "checkout"
    shutil.copytree(ROOT, source, ignore=IGNORE, symlinks=True)
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
        tmp_path,
        env,
        PIP_TIMEOUT_S,
    )
    [wheel] = dist.glob("pytest_traefik_compat-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = "pytest_traefik_compat/sample_apps/"
    for needed in ("service/go.mod", "service/go.sum", "service/main.go", "floor/main.go"):
        assert shipped + needed in names, needed
    assert any(n.endswith("headerplugin/.traefik.yml") for n in names)
    assert not any(n.startswith(shipped) and n.endswith("_test.go") for n in names)

    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(fresh)
    python = str(fresh / "bin" / "python")
    _run([python, "-m", "pip", "install", "-q", str(wheel)], tmp_path, env, PIP_TIMEOUT_S)

    empty = tmp_path / "empty"
    empty.mkdir()
    report = empty / "compat-report"
    out = _run(
        [
            python,
            "-m",
            "pytest",
            "--traefik-images=distroless",
            "--traefik-suite",
            # Enough to prove the shipped sources build and run (the start matrix builds
            # the sample service in three linkages); the rest is test_suite_run's.
            "-k",
            "image_facts or start_matrix or test_tls[ or test_mtls[",
            "--traefik-samples=3",
            "--traefik-handshakes=20",
            "-p",
            "no:cacheprovider",
        ],
        empty,
        env,
        RUN_TIMEOUT_S,
    )
    summary = out.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, out[-3000:]
    _, records = load_report(report / "report.json")
    assert {r.check for r in records} >= {"image-facts", "start-matrix", "tls", "mtls"}
    assert {r.base for r in records} == {"distroless"}
