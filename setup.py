"""Ship the Go samples inside the wheel (metadata lives in pyproject.toml).

The top-level ``sample_apps/`` stays where it is in the checkout; at build time its
Go sources are copied to ``pytest_traefik_compat/sample_apps/`` in the build tree, so
an installed wheel runs the built-in suite (``pytest --traefik-suite``) with no
``PYTEST_TRAEFIK_SAMPLE_APPS``. ``MANIFEST.in`` puts them into the sdist too.
"""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "sample_apps"
# What a Go build and the Traefik local plugin need; tests and scripts stay behind.
PATTERNS = ("*.go", "go.mod", "go.sum", ".traefik.yml", "*.proto")
EXCLUDE = ("*_test.go",)


def sample_files() -> list[Path]:
    return sorted(
        path
        for path in SAMPLES.rglob("*")
        if path.is_file()
        and any(fnmatch.fnmatch(path.name, p) for p in PATTERNS)
        and not any(fnmatch.fnmatch(path.name, p) for p in EXCLUDE)
    )


class BuildWithSamples(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        if not SAMPLES.is_dir():  # building from an sdist without them: nothing to add
            return
        target = Path(self.build_lib) / "pytest_traefik_compat" / "sample_apps"
        for path in sample_files():
            out = target / path.relative_to(SAMPLES)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, out)


setup(cmdclass={"build_py": BuildWithSamples})
