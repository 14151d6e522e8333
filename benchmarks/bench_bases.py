"""Benchmark: base image builds (cold with --cold) and warm lookups; prints medians.

    .venv/bin/python benchmarks/bench_bases.py [--cold] [--repeat 5]

--cold removes the cached base tags first (they are rebuilt from Debian packages).
Figures on a noisy 2-core machine: read the medians, not single runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImages
from pytest_traefik_compat.bases.catalogue import DEFAULT_VARIANTS, VARIANTS, ImageSpec
from pytest_traefik_compat.plugin.settings import default_cache_dir

OFFICIAL_SIZES_MB = {"alpine": 8.3, "debian-slim": 74.8, "distroless": 2.0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", action="store_true", help="remove cached bases first")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cache = default_cache_dir()
    identity = engine.RunIdentity.create()
    if args.cold:
        for name in DEFAULT_VARIANTS:
            tag = VARIANTS[name].local_tag
            if engine.image_exists(tag):
                engine.client().images.remove(tag, force=True)
        started = time.monotonic()
        bases = BaseImages(cache, identity, progress=print)
        for name in DEFAULT_VARIANTS:
            one = time.monotonic()
            bases.get(ImageSpec(name))
            print(f"cold build {name}: {time.monotonic() - one:.1f} s")
        print(f"cold build of {len(DEFAULT_VARIANTS)} bases: {time.monotonic() - started:.1f} s")
    warm: list[float] = []
    for _ in range(args.repeat):
        started = time.monotonic()
        bases = BaseImages(cache, identity)  # a fresh object: no in-process memo
        found = [bases.get(ImageSpec(name)) for name in DEFAULT_VARIANTS]
        warm.append(time.monotonic() - started)
    print(
        f"warm lookup of 3 bases: median {statistics.median(warm) * 1000:.0f} ms "
        f"(min {min(warm) * 1000:.0f}, max {max(warm) * 1000:.0f}, n={len(warm)})"
    )
    for base in found:
        size = base.facts.size_bytes / 1e6
        official = OFFICIAL_SIZES_MB[base.name]
        print(
            f"{base.name:12} {size:6.1f} MB local vs {official:5.1f} MB official "
            f"(ratio {size / official:.2f})"
        )


if __name__ == "__main__":
    main()
