"""The dns cases for real: the check's own name servers on a network of its own, the
probe on the local alpine (musl 1.2.3) and debian-slim (glibc 2.36) bases, Go's resolver
on both, each C library where its linkage starts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_traefik_compat import engine, gobuild
from pytest_traefik_compat.bases import BaseImage, BaseImages
from pytest_traefik_compat.bases import images as base_images_mod
from pytest_traefik_compat.bases.catalogue import ImageSpec
from pytest_traefik_compat.measure import dns
from pytest_traefik_compat.plugin.session import sample_apps_dir

# (base, resolver): Go's resolver from the static build on both, each C library on
# the base where its linkage starts.
RUNS: tuple[tuple[str, dns.Resolver], ...] = (
    ("alpine", "go"),
    ("alpine", "musl"),
    ("debian-slim", "go"),
    ("debian-slim", "glibc"),
)


def _image(
    cache_dir: Path, base: BaseImage, module: str, linkage: gobuild.Linkage, name: str
) -> str:
    request = gobuild.BuildRequest(sample_apps_dir() / module, linkage=linkage, output_name="app")
    binary = gobuild.GoBuilder(cache_dir / "go").build(request)
    image = base_images_mod.ensure_image(
        base_images_mod.service_request(
            base, binary.path, binary.key, name=name, ports=(), healthcheck=None
        ),
        cache_dir / "locks",
    )
    return image.tag


@pytest.fixture(scope="module")
def runs(
    base_images: BaseImages, cache_dir: Path, run_identity: engine.RunIdentity
) -> Iterator[dict[tuple[str, dns.Resolver], dns.ResolverRun]]:
    bases = {name: base_images.get(ImageSpec(name)) for name in ("alpine", "debian-slim")}
    server = _image(
        cache_dir, base_images.get(ImageSpec("distroless")), "dnsserver", "static", "dnsserver"
    )
    out: dict[tuple[str, dns.Resolver], dns.ResolverRun] = {}
    started = time.monotonic()
    with dns.DnsLab(server, run_identity.labels("dns")) as lab:
        for base_name, base in bases.items():
            # The base's resolvers side by side, as the suite runs them.
            probes = [
                dns.Probe(
                    resolver,
                    _image(
                        cache_dir,
                        base,
                        "resolveprobe",
                        dns.RESOLVER_LINKAGE[resolver],
                        f"resolveprobe-{dns.RESOLVER_LINKAGE[resolver]}",
                    ),
                    base.facts.libc_version,
                )
                for name, resolver in RUNS
                if name == base_name
            ]
            for run in lab.run_resolvers(probes, base=base_name):
                out[(base_name, run.resolver)] = run
    print(f"\ndns cases: {time.monotonic() - started:.1f} s in all")
    for (base_name, resolver), run in out.items():
        print(f"{base_name} {resolver} ({run.libc_version}) {run.wall_s:.1f} s")
        for result, comparison in zip(run.results, run.comparisons, strict=True):
            print(
                f"  {result.case.name:24} {result.outcome:60} {result.elapsed_ms:8.1f} ms "
                f"{'as predicted' if comparison.matches else comparison.mismatches}"
            )
            print("    " + "; ".join(str(q) for q in result.queries))
    yield out


def test_go_resolver_answers_every_answerable_case(
    runs: dict[tuple[str, dns.Resolver], dns.ResolverRun],
) -> None:
    for base in ("alpine", "debian-slim"):
        run = runs[(base, "go")]
        assert run.unanswered == [], (base, run.details())
        assert run.matches, (base, run.details())


def test_every_run_is_compared_with_its_prediction(
    runs: dict[tuple[str, dns.Resolver], dns.ResolverRun],
) -> None:
    for run in runs.values():
        assert [c.case for c in run.comparisons] == list(dns.CASE_NAMES)
        names = {name for name, _, _ in run.figures()}
        for case in dns.CASE_NAMES:
            assert {case, f"{case}_ms", f"{case}_predicted", f"{case}_as_predicted"} <= names
        assert run.matches, (run.base, run.resolver, run.details())


def test_musl_123_has_no_tcp_fallback(
    runs: dict[tuple[str, dns.Resolver], dns.ResolverRun],
) -> None:
    run = runs[("alpine", "musl")]
    assert run.libc_version == "1.2.3"
    large = run.result("large-answer")
    assert not large.answered
    assert large.count == dns.LARGE_UDP_512
    assert not large.tcp_seen
    assert any(q.truncated for q in large.queries)


def test_glibc_falls_back_to_tcp(runs: dict[tuple[str, dns.Resolver], dns.ResolverRun]) -> None:
    large = runs[("debian-slim", "glibc")].result("large-answer")
    assert large.answered
    assert any(q.transport == "tcp" and q.name == "large.compat.test." for q in large.queries)


def test_musl_asks_nameservers_in_parallel_glibc_in_order(
    runs: dict[tuple[str, dns.Resolver], dns.ResolverRun],
) -> None:
    musl = runs[("alpine", "musl")].result("silent-first-nameserver")
    glibc = runs[("debian-slim", "glibc")].result("silent-first-nameserver")
    assert musl.answered and glibc.answered
    assert musl.elapsed_ms < dns.FAST_MS
    assert glibc.elapsed_ms >= dns.DEFAULT_TIMEOUT_S * 1000 * dns.WAIT_LOW
    assert {q.server for q in musl.queries} == {"real", "silent"}


def test_search_list_after_ndots(runs: dict[tuple[str, dns.Resolver], dns.ResolverRun]) -> None:
    musl = runs[("alpine", "musl")].result("search-ndots")
    glibc = runs[("debian-slim", "glibc")].result("search-ndots")
    assert not musl.answered and musl.error_code == "EAI_NONAME"
    assert not any(q.name == "svc.ns.compat.test." for q in musl.queries)
    assert glibc.answered
    assert any(q.name == "svc.ns.compat.test." for q in glibc.queries)


def test_addrconfig_default_of_glibc(runs: dict[tuple[str, dns.Resolver], dns.ResolverRun]) -> None:
    glibc = runs[("debian-slim", "glibc")].result("aaaa-only")
    musl = runs[("alpine", "musl")].result("aaaa-only")
    assert not glibc.answered and not glibc.asked("AAAA")
    assert glibc.error_code == "EAI_NODATA"
    assert musl.answered and musl.addresses == ("2001:db8::53",)
