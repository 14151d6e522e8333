"""How ``make test`` shares the machine: files in parallel (``-n 2``), ``serial`` apart.

Under pytest-xdist each test file is one unit of work, so a module's fixtures (a
remote engine, a suite run) are made once, on one worker. The files that read the
reference run of the built-in suite (``tests/engine/conftest.py``) form one unit
together, so that run is started once; so do the files that remove images they built.
The slowest units are queued first, so the two workers end together instead of one
waiting on the last long file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Imported before any in-process pytester run: pytester restores sys.modules after
# each run, and numpy's C extensions refuse a second import in one process ("cannot
# load module more than once per process"), which is what a worker whose first numpy
# import happened inside such a run would attempt next.
import numpy  # noqa: F401
import pytest
import scipy.stats  # noqa: F401

HERE = Path(__file__).parent
# Every file whose tests read the session's reference run: one unit of work.
REFERENCE_FILES = ("engine/test_suite_run.py", "engine/test_security.py")
REFERENCE_SCOPE = "reference-run"
# Files that remove the managed images that appeared while they ran (built on their
# own bases): one unit, so neither removes what the other is using.
OWN_IMAGE_FILES = ("engine/test_registry.py", "engine/test_custom_base.py")
GROUPS = {REFERENCE_SCOPE: REFERENCE_FILES, "own-images": OWN_IMAGE_FILES}
# Longest first (from `make test`'s durations); the rest keep their collection order.
SLOW_FIRST = (
    *REFERENCE_FILES,
    "engine/test_remote_engines.py",
    *OWN_IMAGE_FILES,
    "engine/test_wheel.py",
    "engine/test_fixture_api.py",
    "engine/test_examples.py",
    "engine/test_start_failures.py",
    "engine/test_bad_inputs_engine.py",
)


def _file_of(item: pytest.Item) -> str:
    try:
        return item.path.relative_to(HERE).as_posix()
    except ValueError:
        return ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow files first (a stable sort: within a file, pytest's order)."""
    rank = {name: index for index, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(_file_of(item), len(rank)))


def scope_of(nodeid: str) -> str:
    """The unit of work of a test id: its file, or its group of files."""
    path = nodeid.split("::", 1)[0]
    for scope, files in GROUPS.items():
        if any(path.endswith(name) for name in files):
            return scope
    return path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """One unit per file (the reference run's files together), in collection order."""
    from xdist.scheduler import LoadScopeScheduling

    class FileScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    # Keep the collection order (slow files first) instead of "most tests first".
    config.option.loadscopereorder = False
    return FileScheduling(config, log)
