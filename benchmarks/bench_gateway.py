"""Benchmark: stack start to first 200 through Traefik, and handshakes per second.

.venv/bin/python benchmarks/bench_gateway.py [--base distroless] [--starts 5] [--handshakes 300]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pytest_traefik_compat import engine, gobuild
from pytest_traefik_compat.bases import BaseImages, images
from pytest_traefik_compat.bases.catalogue import ImageSpec
from pytest_traefik_compat.gateway import traefik
from pytest_traefik_compat.gateway.binary import traefik_binary_path, traefik_version
from pytest_traefik_compat.gateway.services import ServiceSpec
from pytest_traefik_compat.gateway.stack import Gateway
from pytest_traefik_compat.gateway.tlsprobe import probe_tls
from pytest_traefik_compat.pki import SessionPKI
from pytest_traefik_compat.plugin.session import sample_apps_dir
from pytest_traefik_compat.plugin.settings import default_cache_dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="distroless")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--handshakes", type=int, default=300)
    args = parser.parse_args()
    cache = default_cache_dir()
    identity = engine.RunIdentity.create()
    base = BaseImages(cache, identity).get(ImageSpec(args.base))
    built = gobuild.GoBuilder(cache / "go").build(
        gobuild.BuildRequest(sample_apps_dir() / "service", output_name="app")
    )
    service = images.ensure_image(
        images.service_request(
            base,
            built.path,
            built.key,
            name="service-static",
            ports=(8080, 8081, 9090),
            healthcheck=images.self_probe(),
        ),
        cache / "locks",
    )
    binary = traefik_binary_path()
    gateway = images.ensure_image(
        images.traefik_request(base, binary, traefik_version(binary)), cache / "locks"
    )
    starts: list[float] = []
    rates: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, SessionPKI(Path(tmp) / "pki") as pki:
            for index in range(args.starts):
                stack = Gateway(
                    identity=identity,
                    label=f"bench{index}",
                    workdir=Path(tmp) / f"s{index}",
                    pki=pki,
                    traefik_image=gateway.tag,
                    services=[ServiceSpec(service.tag)],
                )
                started = time.monotonic()
                with stack:
                    starts.append(time.monotonic() - started)
                    if index == 0:
                        context = pki.client_context()
                        began = time.monotonic()
                        ok = sum(
                            1
                            for _ in range(args.handshakes)
                            if probe_tls(stack.https_port, context, sni=traefik.APP_HOST).status
                            == 200
                        )
                        rates.append(ok / (time.monotonic() - began))
    finally:
        engine.remove_resources(run_id=identity.run_id)
    print(
        f"base {args.base}: stack start (network + service + Traefik) to first 200 through "
        f"Traefik: median {statistics.median(starts):.2f} s, min {min(starts):.2f}, "
        f"max {max(starts):.2f} (n={len(starts)})"
    )
    print(
        f"full mTLS handshakes + one request per connection, one client: "
        f"{rates[0]:.0f}/s ({args.handshakes} connections)"
    )


if __name__ == "__main__":
    main()
