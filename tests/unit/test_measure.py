"""measure/ without an engine: the decomposition adds up, engine stamps parse,
ready lines are found, cgroup memory leaves page cache out, the lock records events."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pytest_traefik_compat.measure import memory, quiet, startup
from pytest_traefik_compat.records.checks import START_PARTS

MS = 1_000_000


def test_parts_are_the_checks_vocabulary() -> None:
    assert startup.PARTS == START_PARTS
    assert set(startup.PART_MEANING) == set(START_PARTS)


@pytest.mark.parametrize("handoff_ms", [3, -4])  # StartedAt may land after the init
def test_decomposition_adds_up_to_the_total(handoff_ms: int) -> None:
    t0 = 1_700_000_000 * 1_000_000_000
    sample = startup.StartSample(
        requested_ns=t0,
        first_answer_ns=t0 + 400 * MS,
        total_ms=400.3,  # monotonic, read next to the wall clock
        created_ns=t0 + 40 * MS,
        started_ns=t0 + 300 * MS,
        init_ns=t0 + (300 + handoff_ms) * MS,
        ready_ns=t0 + 350 * MS,
    )
    parts = sample.parts()
    assert list(parts) == list(START_PARTS)
    assert parts["handoff"] == handoff_ms
    assert sum(v for v in parts.values() if v is not None) == pytest.approx(400)
    assert abs(sample.wall_total_ms - sample.total_ms) <= startup.POLL_S * 1000
    # The program's share: StartedAt to the ready line (handoff + init_ready).
    assert sample.started_to_ready_ms == pytest.approx(50)


def test_without_a_ready_line_only_engine_parts() -> None:
    t0 = 10 * 1_000_000_000
    sample = startup.StartSample(
        t0, t0 + 100 * MS, 100.0, created_ns=t0 + MS, started_ns=t0 + 50 * MS
    )
    parts = sample.parts()
    assert parts["handoff"] is None and parts["init_ready"] is None
    assert parts["first_answer"] == 50
    assert sum(v for v in parts.values() if v is not None) == pytest.approx(100)
    assert sample.started_to_ready_ms == pytest.approx(50)  # StartedAt to the first 200
    no_start = startup.StartSample(t0, t0 + 100 * MS, 100.0)
    assert no_start.started_to_ready_ms is None


def test_engine_times_parse_with_nanoseconds() -> None:
    ns = startup.parse_engine_time("2026-11-30T03:59:23.123456789Z")
    assert ns is not None and ns % 1_000_000_000 == 123456789
    assert startup.parse_engine_time("0001-01-01T00:00:00Z") is None
    plus = startup.parse_engine_time("2026-11-30T04:59:23.5+01:00")
    assert plus == startup.parse_engine_time("2026-11-30T03:59:23.5Z")


def test_ready_report_is_the_structured_line() -> None:
    logs = "\n".join(
        [
            json.dumps({"msg": "listening", "mode": "mixed"}),
            "not json",
            json.dumps({"msg": "ready", "init_unix_ns": 5, "ready_unix_ns": 9}),
        ]
    )
    assert startup.ready_report(logs) == {"msg": "ready", "init_unix_ns": 5, "ready_unix_ns": 9}
    assert startup.ready_report("plain text\n") is None


def test_start_samples_output_parses() -> None:
    out = json.dumps(
        {"mode": "gin", "samples": [{"exec_to_ready_ms": 20.5, "init_to_ready_ms": 8.25}]}
    )
    parsed = startup.parse_start_samples("noise\n" + out + "\n")
    assert parsed.mode == "gin" and parsed.init_to_ready_ms == [8.25]
    with pytest.raises(ValueError):
        startup.parse_start_samples("nothing")


def test_cgroup_memory_leaves_page_cache_out() -> None:
    v2 = {"memory_stats": {"usage": 100, "stats": {"inactive_file": 30, "file": 50}}}
    v1 = {"memory_stats": {"usage": 100, "stats": {"total_inactive_file": 20}}}
    assert memory.cgroup_memory_without_cache(v2) == 70
    assert memory.cgroup_memory_without_cache(v1) == 80
    assert memory.cgroup_memory_without_cache({}) is None


def test_proc_status_reads_rss_and_peak(tmp_path: Path) -> None:
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "status").write_text("Name:\tapp\nVmHWM:\t   2048 kB\nVmRSS:\t 1024 kB\n")
    assert memory.proc_status(7, proc=tmp_path) == {"VmHWM": 2 << 20, "VmRSS": 1 << 20}


def test_rss_readings_are_repeated_and_bounded(tmp_path: Path) -> None:
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "status").write_text("VmHWM:\t   2048 kB\nVmRSS:\t 1024 kB\n")
    started = time.monotonic()
    readings = memory.rss_readings(7, proc=tmp_path, interval_s=0.01)
    assert readings == [1 << 20] * memory.RSS_READINGS
    assert memory.RSS_READINGS >= 6  # enough for the median's 95% interval
    assert time.monotonic() - started < 1.0


def test_quiet_lock_records_conditions_and_events(tmp_path: Path) -> None:
    with quiet.quiet(tmp_path, owner="w1", others=lambda: 3) as conditions:
        assert conditions.other_containers == 3 and not conditions.waited_for_lock
    assert conditions.load_1m_after is not None
    events = (tmp_path / quiet.EVENTS_NAME).read_text().split()
    assert events[1::3] == ["acquired", "released"] and set(events[2::3]) == {"w1"}
    assert "noisy" in conditions.as_dict()


def test_a_series_inside_shared_work_gives_its_share_up_and_takes_it_back(
    tmp_path: Path,
) -> None:
    """The plugin holds the machine lock shared around a test; the test's own series
    must not wait for that hold (it would wait for itself until the timeout)."""
    with quiet.busy(tmp_path):
        with (  # busy is re-entrant
            quiet.busy(tmp_path),
            quiet.quiet(tmp_path, owner="w1", timeout=2) as conditions,
        ):
            assert not conditions.waited_for_lock
            time.sleep(0.05)  # a few clock ticks for cpu_busy
        share = quiet._shares[tmp_path.resolve()]
        assert share.held and share.depth == 1
    assert not share.held and share.depth == 0
    assert not conditions.lock_timed_out and conditions.cpu_busy is not None


def test_cpu_times_and_busy_fraction(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    # user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n")
    before = quiet.cpu_times(stat)
    stat.write_text("cpu  160 0 70 880 50 0 0 0 0 0\n")
    assert before == (150, 1000)
    assert quiet.busy_fraction(before, quiet.cpu_times(stat)) == 0.5
    assert quiet.busy_fraction(before, None) is None
    assert quiet.cpu_times(tmp_path / "missing") is None


def test_noisy_reads_cpu_busy_not_the_lagging_load_average() -> None:
    after_a_build = quiet.Conditions(cpus=2, load_1m=3.5, cpu_busy=0.45)
    busy = quiet.Conditions(cpus=2, load_1m=0.2, cpu_busy=0.97)
    assert not after_a_build.noisy and busy.noisy
    assert quiet.Conditions(cpus=2, load_1m=0.0, lock_timed_out=True).noisy


def test_rounds_split_samples_near_equally() -> None:
    assert startup.split_rounds(18, 3) == [6, 6, 6]
    assert startup.split_rounds(7, 3) == [3, 2, 2]
    assert startup.split_rounds(2, 3) == [1, 1]
    assert sum(startup.split_rounds(200, 3)) == 200


def test_in_process_rounds_add_up_per_mode() -> None:
    starts = startup.InProcessStarts("gin", [20.0], [8.0])
    starts.extend(startup.InProcessStarts("gin", [21.0], [9.0]))
    assert starts.exec_to_ready_ms == [20.0, 21.0] and starts.init_to_ready_ms == [8.0, 9.0]
    with pytest.raises(ValueError):
        starts.extend(startup.InProcessStarts("grpc", [], [1.0]))
