"""The machine-wide timing lock serializes two xdist workers' timing checks: the lock's
event log never shows two holders at once."""

from __future__ import annotations

import pytest

from pytest_traefik_compat.measure import quiet

pytest_plugins = ["pytester"]


def test_two_workers_never_hold_the_timing_lock_together(pytester: pytest.Pytester) -> None:
    lock_dir = pytester.path / "locks"
    pytester.makepyfile(
        f"""
        import os, time
        import pytest
        from pathlib import Path
        from pytest_traefik_compat.measure import quiet

        @pytest.mark.parametrize("index", range(4))
        def test_timing(index):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            with quiet.quiet(Path({str(lock_dir)!r}), owner=f"{{worker}}-{{index}}"):
                time.sleep(0.2)
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:randomly", "-p", "xdist")
    result.assert_outcomes(passed=4)
    events = [line.split() for line in (lock_dir / quiet.EVENTS_NAME).read_text().splitlines()]
    assert len(events) == 8
    assert {owner.split("-")[0] for _, _, owner in events} == {"gw0", "gw1"}
    holder = None
    for _, what, owner in events:  # in time order: acquired and released alternate
        if what == "acquired":
            assert holder is None, f"{owner} acquired while {holder} held the lock"
            holder = owner
        else:
            assert what == "released" and holder == owner
            holder = None
