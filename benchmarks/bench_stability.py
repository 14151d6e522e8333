"""Benchmark (not a timed test): how stable the startup figures are.

    .venv/bin/python benchmarks/bench_stability.py [--runs 5] [--parallel 3]
        [--images alpine,debian-slim,distroless] [--samples N]

Runs the built-in suite's figure checks (-k "startup_latency or inprocess_start or
traefik_figures") ``--runs`` times serially, then once with ``-n --parallel``, and prints
per base and figure: the spread of the medians over the serial runs (max/min - 1,
target within 10% for direct, floor and in-process start), the -n run against the
serial median (target within 10%, thanks to the timing lock), whether the floor was
below the service in every series, the in-process start per mode with its CI, the
machine's load, and the wall time of each run. Nothing is asserted: on a busy 2-core
machine read the ratios and the "noisy" flags, not single numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIGURES = {
    "startup-latency": (
        "direct_median",
        "floor_median",
        "direct_program_median",
        "floor_program_median",
        "route_ready_median",
    ),
    "inprocess-start": (
        "gin_init_ready_median",
        "grpc_init_ready_median",
        "mixed_init_ready_median",
    ),
    "traefik-figures": ("start_median",),
}
SELECT = "startup_latency or inprocess_start or traefik_figures"
# Whole start (create call to first 200) and the program's share (StartedAt to ready).
BELOW = ("floor_below_direct", "floor_below_direct_program")


def run(images: str, report: Path, extra: list[str]) -> tuple[float, list[dict]]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "pytest_traefik_compat.suite",
        f"--traefik-images={images}",
        f"--traefik-report-dir={report}",
        "-p",
        "no:randomly",
        "-q",
        "-k",
        SELECT,
        *extra,
    ]
    started = time.monotonic()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, timeout=3600)
    wall = time.monotonic() - started
    data = json.loads((report / "report.json").read_text())
    return wall, data["records"]


def figures(records: list[dict]) -> dict[tuple[str, str, str], float]:
    out = {}
    for r in records:
        for name in FIGURES.get(r["check"], ()):
            value = (r["figures"].get(name) or {}).get("value")
            if isinstance(value, (int, float)):
                out[(r["base"], f"{r['check']}[{r['variant']}]", name)] = float(value)
        if r["check"] == "startup-latency":
            for name in BELOW:
                below = (r["figures"].get(name) or {}).get("value")
                out[(r["base"], "startup-latency", name)] = float(bool(below))
        busy = ((r.get("details") or {}).get("conditions") or {}).get("cpu_busy")
        if isinstance(busy, (int, float)):
            out[(r["base"], f"{r['check']}[{r['variant']}]", "cpu_busy")] = float(busy)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument("--images", default="alpine,debian-slim,distroless")
    parser.add_argument("--samples", type=int, default=None)
    args = parser.parse_args()
    extra = [f"--traefik-samples={args.samples}"] if args.samples else []
    with tempfile.TemporaryDirectory(prefix="bench-stability-") as tmp:
        serial: list[dict[tuple[str, str, str], float]] = []
        for index in range(args.runs):
            load = os.getloadavg()[0]
            wall, records = run(args.images, Path(tmp) / f"serial-{index}", extra)
            serial.append(figures(records))
            print(f"serial run {index + 1}: {wall:.1f} s wall, load {load:.2f} at start")
        wall, records = run(args.images, Path(tmp) / "parallel", [*extra, "-n", str(args.parallel)])
        parallel = figures(records)
        print(f"-n {args.parallel} run: {wall:.1f} s wall")
        for r in records:
            if r["check"] == "inprocess-start":
                for sentence in r["details"].get("comparisons", []):
                    print(f"  {r['base']} {r['variant']}: {sentence}")
    print(f"\n{'base':<12} {'figure':<48} {'serial medians':>16} {'spread':>7} {'-n/serial':>9}")
    for key in sorted(set().union(*serial)):
        values = [run_[key] for run_ in serial if key in run_]
        base, check, name = key
        if name in BELOW:
            print(
                f"{base:<12} {check + ' ' + name:<48} floor below service in "
                f"{int(sum(values))}/{len(values)} serial runs"
            )
            continue
        if name == "cpu_busy":
            print(
                f"{base:<12} {check + ' ' + name:<48} {min(values):.2f}-{max(values):.2f} "
                f"serial, {parallel.get(key, float('nan')):.2f} -n"
            )
            continue
        middle = statistics.median(values)
        spread = max(values) / min(values) - 1 if min(values) > 0 else float("nan")
        ratio = parallel.get(key, float("nan")) / middle if middle else float("nan")
        print(
            f"{base:<12} {check + ' ' + name:<48} {middle:>13.1f} ms {spread:>6.0%} {ratio:>9.2f}"
        )


if __name__ == "__main__":
    main()
