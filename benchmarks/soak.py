"""Soak: run the built-in suite N times (optionally beside a CPU hog); pass rate per check.

    .venv/bin/python benchmarks/soak.py 20 [--hog] [--images alpine,debian-slim,distroless]

A flaky tool is worse than none: this prints how many runs passed, and for every
check that ever failed, on which base and how often, with the first line of its
failure. ``--hog`` keeps one core busy with a CPU-bound process for the whole soak
(on a 2-core machine that is half of it). Bounded: each run has a time limit.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN_TIMEOUT_S = 900


def _hog(stop: multiprocessing.synchronize.Event) -> None:
    value = 0
    while not stop.is_set():
        for _ in range(100_000):
            value = (value * 31 + 7) % 1_000_003


def _run_once(images: str, report_dir: Path) -> tuple[int, float, list[dict[str, str]]]:
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "pytest_traefik_compat.suite",
            f"--traefik-images={images}",
            f"--traefik-report-dir={report_dir}",
            "--traefik-profile=full",  # every check's pass rate
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={report_dir / 'junit.xml'}",
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    seconds = time.monotonic() - started
    failures: list[dict[str, str]] = []
    try:
        records = json.loads((report_dir / "report.json").read_text())["records"]
    except (OSError, ValueError, KeyError):
        records = []
    for record in records:
        if record.get("outcome") in ("failed", "error"):
            failures.append(
                {"check": record["check"], "base": record["base"], "test": record["test_id"]}
            )
    if done.returncode != 0 and not failures:
        tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["(no output)"]
        failures.append({"check": "(run)", "base": "-", "test": tail[0][:160]})
    return done.returncode, seconds, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=int, help="how many suite runs (bounded: 1-200)")
    parser.add_argument("--hog", action="store_true", help="one CPU-bound process beside it")
    parser.add_argument("--images", default="alpine,debian-slim,distroless")
    args = parser.parse_args()
    if not 1 <= args.runs <= 200:
        parser.error("runs must be between 1 and 200")
    stop = multiprocessing.Event()
    hog = multiprocessing.Process(target=_hog, args=(stop,), daemon=True) if args.hog else None
    if hog is not None:
        hog.start()
    passed = 0
    per_check: collections.Counter[tuple[str, str]] = collections.Counter()
    first_words: dict[tuple[str, str], str] = {}
    walls: list[float] = []
    try:
        for index in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="ptc-soak-") as tmp:
                code, seconds, failures = _run_once(args.images, Path(tmp))
            walls.append(seconds)
            passed += code == 0
            for failure in failures:
                key = (failure["check"], failure["base"])
                per_check[key] += 1
                first_words.setdefault(key, failure["test"])
            status = "passed" if code == 0 else f"FAILED ({len(failures)})"
            print(f"run {index + 1}/{args.runs}: {status} in {seconds:.0f} s", flush=True)
    finally:
        if hog is not None:
            stop.set()
            hog.join(timeout=5)
    walls.sort()
    print(
        f"\n{passed} of {args.runs} runs passed"
        f"{' with a CPU hog' if args.hog else ''}; suite wall time median "
        f"{walls[len(walls) // 2]:.0f} s (min {walls[0]:.0f}, max {walls[-1]:.0f})"
    )
    for (check, base), count in per_check.most_common():
        print(f"  {check} on {base}: failed {count}x, e.g. {first_words[(check, base)]}")
    return 0 if passed == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
