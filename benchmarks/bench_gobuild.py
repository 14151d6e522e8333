"""Benchmark: Go builds of the sample service in three linkages, cold and warm.

    .venv/bin/python benchmarks/bench_gobuild.py [--cold-modules]

Cold builds use an empty Go build cache (GOCACHE) and an empty plugin cache; with
--cold-modules the module cache (GOMODCACHE) is empty too, so downloads are included.
Warm: every linkage again plus the nine service images (three bases), all cache hits.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from pytest_traefik_compat import engine, gobuild
from pytest_traefik_compat.bases import BaseImages, images
from pytest_traefik_compat.bases.catalogue import DEFAULT_VARIANTS, ImageSpec
from pytest_traefik_compat.plugin.session import sample_apps_dir
from pytest_traefik_compat.plugin.settings import default_cache_dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold-modules", action="store_true")
    args = parser.parse_args()
    module = sample_apps_dir() / "service"
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GOCACHE"] = str(Path(tmp) / "gocache")
        if args.cold_modules:
            os.environ["GOMODCACHE"] = str(Path(tmp) / "gomod")
            os.environ["GOFLAGS"] = "-modcacherw"  # so the temp dir can be removed
        builder = gobuild.GoBuilder(Path(tmp) / "builds")
        started = time.monotonic()
        for linkage in gobuild.LINKAGES:
            one = time.monotonic()
            built = builder.build(gobuild.BuildRequest(module, linkage=linkage, output_name="app"))
            print(
                f"cold {linkage:6}: {time.monotonic() - one:6.1f} s, "
                f"binary {built.elf.size_bytes / 1e6:.1f} MB"
            )
        what = "including module downloads" if args.cold_modules else "modules already downloaded"
        print(f"cold build of 3 linkages ({what}): {time.monotonic() - started:.1f} s")
    # The warm part uses the real caches: GOFLAGS is part of the build key.
    os.environ.clear()
    os.environ.update(saved)

    cache = default_cache_dir()
    identity = engine.RunIdentity.create()
    bases = BaseImages(cache, identity)
    warm_builder = gobuild.GoBuilder(cache / "go")
    for linkage in gobuild.LINKAGES:  # make sure the real cache has them
        warm_builder.build(gobuild.BuildRequest(module, linkage=linkage, output_name="app"))
    started = time.monotonic()
    rows = []
    for name in DEFAULT_VARIANTS:
        base = bases.get(ImageSpec(name))
        for linkage in gobuild.LINKAGES:
            built = gobuild.GoBuilder(cache / "go").build(
                gobuild.BuildRequest(module, linkage=linkage, output_name="app")
            )
            image = images.ensure_image(
                images.service_request(
                    base,
                    built.path,
                    built.key,
                    name=f"service-{linkage}",
                    ports=(8080, 8081, 9090),
                    healthcheck=images.self_probe(),
                    labels={"linkage": linkage},
                ),
                cache / "locks",
            )
            rows.append((name, linkage, built.elf.size_bytes, image.size_bytes, image.built_now))
    warm = time.monotonic() - started
    built_now = sum(1 for row in rows if row[4])
    print(f"warm: 3 linkages x 3 bases = 9 images in {warm:.2f} s ({built_now} built now)")
    for name, linkage, binary, image, _ in rows:
        print(f"  {name:12} {linkage:6} binary {binary / 1e6:5.1f} MB  image {image / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
