"""The default profile beside the full one: wall time and time per check, warm, serial.

Runs the built-in suite on the given bases (default: alpine,debian-slim,distroless)
with --traefik-profile=default and =full, alternating, ``--rounds`` times each, and
prints the median wall time of each profile, the time per check (setup + call +
teardown summed over bases and parameters, from --junitxml) and the ratio
default/full. Warm means the images and builds are cached: pass ``--warm-up`` on a
fresh machine to run the full profile once first, unreported.

    .venv/bin/python benchmarks/bench_profiles.py [--images a,b] [--rounds N] [--warm-up]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

PROFILES = ("default", "full")
RUN_TIMEOUT_S = 1800


def run_suite(images: str, profile: str, workdir: Path) -> tuple[float, dict[str, float], str]:
    """One serial run: (wall seconds, seconds per test function, pytest's last line)."""
    junit = workdir / f"{profile}-{time.monotonic_ns()}.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "pytest_traefik_compat.suite",
        f"--traefik-images={images}",
        f"--traefik-profile={profile}",
        f"--traefik-report-dir={workdir / 'report'}",
        f"--junitxml={junit}",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    started = time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )
    wall = time.monotonic() - started
    lines = done.stdout.strip().splitlines()
    per_test: dict[str, float] = defaultdict(float)
    if junit.exists():
        for case in ET.parse(junit).iter("testcase"):
            name = re.sub(r"\[.*", "", case.get("name", ""))
            per_test[name] += float(case.get("time", 0.0))
    return wall, dict(per_test), lines[-1] if lines else f"exit {done.returncode}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default="alpine,debian-slim,distroless")
    parser.add_argument("--rounds", type=int, default=1, help="runs per profile (1-10)")
    parser.add_argument("--warm-up", action="store_true", help="one unreported full run first")
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 10))
    walls: dict[str, list[float]] = {p: [] for p in PROFILES}
    per_test: dict[str, dict[str, list[float]]] = {p: defaultdict(list) for p in PROFILES}
    with tempfile.TemporaryDirectory(prefix="bench-profiles-") as tmp:
        workdir = Path(tmp)
        if args.warm_up:
            print("warm-up: full profile", file=sys.stderr)
            run_suite(args.images, "full", workdir)
        for round_number in range(rounds):
            # Alternate which profile goes first, so drift over the sitting hits both.
            order = PROFILES if round_number % 2 == 0 else PROFILES[::-1]
            for profile in order:
                wall, tests, last = run_suite(args.images, profile, workdir)
                walls[profile].append(wall)
                for name, seconds in tests.items():
                    per_test[profile][name].append(seconds)
                print(f"round {round_number + 1} {profile}: {wall:.1f} s ({last})", file=sys.stderr)
    wall = {p: statistics.median(walls[p]) for p in PROFILES}
    print(f"bases {args.images}, {rounds} run(s) per profile, serial; medians")
    print(f"{'':32} {'default':>9} {'full':>9}")
    print(f"{'wall time (s)':32} {wall['default']:>9.1f} {wall['full']:>9.1f}")
    names = sorted(
        set(per_test["full"]) | set(per_test["default"]),
        key=lambda n: -statistics.median(per_test["full"].get(n) or per_test["default"][n]),
    )
    for name in names:
        cells = [
            f"{statistics.median(per_test[p][name]):>9.1f}" if name in per_test[p] else f"{'-':>9}"
            for p in PROFILES
        ]
        print(f"{name:32} {cells[0]} {cells[1]}")
    summed = {p: sum(statistics.median(v) for v in per_test[p].values()) for p in PROFILES}
    print(f"{'sum of tests (s)':32} {summed['default']:>9.1f} {summed['full']:>9.1f}")
    print(f"ratio default/full: wall {wall['default'] / wall['full']:.2f}, ", end="")
    print(f"tests {summed['default'] / summed['full']:.2f} (target: at most 0.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
