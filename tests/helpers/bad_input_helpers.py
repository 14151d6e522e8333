"""Shared checks for the bad-input, security and fault tests.

A bad input must be answered with one clear line (no traceback) and must leave
nothing behind. "Nothing behind" is checked per run: a conftest written into the
pytester project records the run id the plugin chose, and every labelled resource
carrying that id must be gone once the run has ended.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_traefik_compat import engine

TRACEBACK_MARKERS = ("Traceback (most recent call last)", "During handling of the above")

# Written into pytester projects: the plugin's run id goes to a file next to the
# tests, so the test can count that run's resources after the subprocess ended.
RUN_ID_FILE = ".ptc-run-id"
RUN_ID_CONFTEST = f'''
from pathlib import Path

import pytest

from pytest_traefik_compat.plugin.session import SESSION_PLUGIN_NAME


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    session = config.pluginmanager.get_plugin(SESSION_PLUGIN_NAME)
    if session is not None and not hasattr(config, "workerinput"):
        (Path(str(config.rootpath)) / "{RUN_ID_FILE}").write_text(session.identity.run_id)
'''


def output_of(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def assert_one_clear_line(output: str, phrase: str) -> str:
    """The line carrying ``phrase``; fails on a traceback or when the phrase is missing.

    The phrase must sit on one line (not wrapped, not split over a chained
    exception), so a user reading the run's end sees cause and fix together.
    """
    for marker in TRACEBACK_MARKERS:
        assert marker not in output, f"traceback in output:\n{output[-4000:]}"
    lines = [line for line in output.splitlines() if phrase in line]
    assert lines, f"{phrase!r} not in output:\n{output[-4000:]}"
    return lines[0].strip()


@dataclass(frozen=True)
class Resource:
    kind: str
    id: str
    run: str
    pid: str


def labelled_resources() -> set[Resource]:
    """Every container, network and volume, and every non-cached image, of the plugin."""
    client = engine.client()
    filters = {"label": [f"{engine.LABEL_MANAGED}=true"]}
    found: set[Resource] = set()

    def add(kind: str, ident: str, labels: dict[str, str] | None) -> None:
        labels = labels or {}
        # Bases and service images are kept across runs on purpose. Only images:
        # a container inherits its image's labels, "cached" included.
        if kind == "image" and labels.get(engine.LABEL_CACHED) == "true":
            return
        found.add(
            Resource(
                kind, ident, labels.get(engine.LABEL_RUN, ""), labels.get(engine.LABEL_PID, "")
            )
        )

    # The listing calls only: the models' list() inspects every item, and one that
    # another run removes in between (another xdist worker) would be a 404.
    for item in client.api.containers(all=True, filters=filters):
        add("container", item["Id"], item.get("Labels"))
    for item in client.api.networks(filters=filters):
        add("network", item["Id"], item.get("Labels"))
    for item in client.api.volumes(filters=filters).get("Volumes") or []:
        add("volume", item["Name"], item.get("Labels"))
    for item in client.api.images(filters=filters):
        add("image", item["Id"], item.get("Labels"))
    return found


def _pid_gone(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return True
    except PermissionError:
        return False
    return False


def run_id_of(project: Path) -> str | None:
    path = project / RUN_ID_FILE
    return path.read_text().strip() if path.exists() else None


def left_behind(before: set[Resource], project: Path) -> list[Resource]:
    """Resources a finished pytester run left: those with its run id.

    Without a run id (the run ended before the plugin's session existed) it cannot
    have labelled anything; still, anything new whose owner process is gone counts,
    so a leak is never excused by a missing id. Resources of other live runs (other
    sessions sharing this engine) are not ours and are ignored.
    """
    run_id = run_id_of(project)
    now = labelled_resources()
    if run_id:
        found = [r for r in now if r.run == run_id]
    else:
        found = [r for r in now - before if _pid_gone(r.pid)]
    return sorted(found, key=lambda r: (r.kind, r.id))
