"""Under xdist, a timing series never overlaps other work on the engine: the plugin holds
the machine lock shared around every test that uses an engine fixture, and a series
(``measure.quiet``) holds it exclusively. The pytester run stands in a trivial
``traefik_base`` (the plugin only looks at fixture names), so nothing is built; the
engine is only asked at session start, as in every run with --traefik-images."""

from __future__ import annotations

import itertools

import pytest

from pytest_traefik_compat.measure import quiet

pytest_plugins = ["pytester"]


def test_series_never_overlap_engine_work_on_another_worker(pytester: pytest.Pytester) -> None:
    events = pytester.path / "events.log"
    cache = pytester.path / "cache"
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def traefik_base():  # stands in for the plugin's (engine) fixture of that name
            return "base"
        """
    )
    pytester.makepyfile(
        f"""
        import os, time
        from pathlib import Path
        import pytest
        from pytest_traefik_compat.measure import quiet

        EVENTS = Path({str(events)!r})

        def log(what):
            with EVENTS.open("a") as out:
                out.write(f"{{time.monotonic_ns()}} {{what}}\\n")

        # --dist each: both workers run every step; gw0 does engine work while gw1
        # runs series, so without the shared hold they would overlap.
        @pytest.mark.parametrize("index", range(4))
        def test_step(traefik_base, index):
            if os.environ["PYTEST_XDIST_WORKER"] == "gw0":
                log(f"work-start {{index}}")
                time.sleep(0.3)
                log(f"work-end {{index}}")
                return
            with quiet.quiet(Path({str(cache)!r}) / "locks", owner=str(index)):
                log(f"series-start {{index}}")
                time.sleep(0.3)
                log(f"series-end {{index}}")
        """
    )
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "-p",
        "no:randomly",
        "-p",
        "xdist",
        "--dist",
        "each",
        "--traefik-images=alpine",
        f"--traefik-cache-dir={cache}",
    )
    result.assert_outcomes(passed=8)
    lines = sorted(line.split() for line in events.read_text().splitlines())
    intervals: dict[tuple[str, str], list[int]] = {}
    for stamp, what, index in lines:
        kind, _edge = what.split("-")
        intervals.setdefault((kind, index), []).append(int(stamp))
    series = sorted(span for (kind, _), span in intervals.items() if kind == "series")
    work = [span for (kind, _), span in intervals.items() if kind == "work"]
    assert len(series) == len(work) == 4
    for start, end in series:
        for other_start, other_end in work:
            assert end <= other_start or other_end <= start, "a series overlapped engine work"
    for (start, end), (other_start, other_end) in itertools.pairwise(series):
        assert end <= other_start or other_end <= start, "two series overlapped"
    assert (cache / "locks" / quiet.LOCK_NAME).exists()
