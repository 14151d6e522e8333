"""Benchmark (not a timed test): how stable the startup figures are.

    .venv/bin/python benchmarks/bench_stability.py [--runs 5] [--parallel 3]
        [--images alpine,debian-slim,distroless] [--samples N]

Runs the built-in suite's figure checks (-k "startup_latency or inprocess_start or
traefik_figures") ``--runs`` times serially, then once with ``-n --parallel``, and prints
per base and figure: the spread of the medians over the serial runs (max/min - 1,
target within 10% for direct, floor and in-process start), the -n run against the
serial median (target within 10%, thanks to the timing lock), whether the floor was
below the service in every series (whole start, and the program's share: StartedAt to
its ready line), the in-process start per mode with its CI, how busy the CPUs were
during each series, every run's median, and the wall time of each run.

It also says whether the intervals are honest: how often another serial run's median
falls inside a run's 95% interval. Runs that differ only by sampling noise put it
there in about 83% of pairs (the difference of two medians has sqrt(2) times the
standard error of one); much less means the medians drift between runs by more than
the within-run noise, which no sample count in one run removes. Nothing is asserted:
on a busy 2-core machine read the ratios and the "noisy" flags, not single numbers.
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
        "control_median",
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
        "--traefik-profile=full",  # the in-process and Traefik figures are the study's
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
            for stat in ("median", "ci_low", "ci_high"):
                figure = name.removesuffix("median") + stat
                value = (r["figures"].get(figure) or {}).get("value")
                if isinstance(value, (int, float)):
                    out[(r["base"], f"{r['check']}[{r['variant']}]", figure)] = float(value)
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
    parser.add_argument("--out", type=Path, default=None, help="write every run's figures here")
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
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "serial": [{" ".join(k): v for k, v in run_.items()} for run_ in serial],
                    "parallel": {" ".join(k): v for k, v in parallel.items()},
                },
                indent=1,
            )
        )
    print(f"\n{'base':<12} {'figure':<48} {'serial medians':>16} {'spread':>7} {'-n/serial':>9}")
    covered = pairs = 0
    for key in sorted(set().union(*serial)):
        values = [run_[key] for run_ in serial if key in run_]
        base, check, name = key
        if name.endswith(("_ci_low", "_ci_high")):
            continue
        if name.endswith("_median"):
            inside, total = coverage(serial, key)
            covered, pairs = covered + inside, pairs + total
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
        each = " ".join(f"{v:.1f}" for v in values)
        print(
            f"{base:<12} {check + ' ' + name:<48} {middle:>13.1f} ms {spread:>6.0%} {ratio:>9.2f}"
            f"  runs: {each}"
        )
    if pairs:
        print(
            f"\nanother run's median inside a run's 95% CI: {covered}/{pairs} pairs "
            f"({covered / pairs:.0%}; about 83% if runs differ only by sampling noise)"
        )


def coverage(
    runs: list[dict[tuple[str, str, str], float]], key: tuple[str, str, str]
) -> tuple[int, int]:
    """(pairs where another run's median lies in this run's 95% CI, pairs)."""
    base, check, name = key
    low_key = (base, check, name.removesuffix("median") + "ci_low")
    high_key = (base, check, name.removesuffix("median") + "ci_high")
    inside = total = 0
    for i, run_ in enumerate(runs):
        if low_key not in run_ or high_key not in run_:
            continue
        for j, other in enumerate(runs):
            if i != j and key in other:
                total += 1
                inside += run_[low_key] <= other[key] <= run_[high_key]
    return inside, total


if __name__ == "__main__":
    main()
