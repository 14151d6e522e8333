"""Real builds of the local recipes on a real engine; facts are what physics says."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import BaseImages
from pytest_traefik_compat.bases.catalogue import VARIANTS, ImageSpec, Variant
from pytest_traefik_compat.errors import BuildError, CompatError


def test_debian_slim_facts(base_images: BaseImages) -> None:
    facts = base_images.get(ImageSpec("debian-slim")).facts
    assert (facts.libc_kind, facts.libc_version) == ("glibc", "2.36")
    assert facts.bash and facts.shell is not None
    assert facts.curl is None and facts.wget is None
    assert facts.ca_bundle is None
    assert facts.zoneinfo
    assert facts.default_uid == 0
    assert facts.os_name == "Debian GNU/Linux 12 (bookworm)"
    # minbase without docs and without usrmerge's perl: close to debian:12-slim's size
    assert facts.size_bytes < 100 * 1024 * 1024


def test_alpine_like_facts(base_images: BaseImages) -> None:
    facts = base_images.get(ImageSpec("alpine")).facts
    assert facts.libc_kind == "musl" and facts.loaders == ["/lib/ld-musl-x86_64.so.1"]
    assert facts.libc_version is not None and facts.libc_version.startswith("1.2.")
    assert facts.shell_kind == "busybox" and facts.busybox
    assert facts.wget is not None and facts.curl is None
    assert facts.ca_bundle == "/etc/ssl/certs/ca-certificates.crt"
    assert not facts.zoneinfo
    assert "NOT Alpine Linux" in facts.provenance
    assert "not Alpine Linux" in (facts.os_name or "")


def test_distroless_facts(base_images: BaseImages) -> None:
    facts = base_images.get(ImageSpec("distroless")).facts
    assert facts.shell is None and not facts.bash
    assert facts.libc_kind == "none" and facts.loaders == []
    assert facts.ca_bundle == "/etc/ssl/certs/ca-certificates.crt"
    assert facts.zoneinfo
    assert (facts.default_user, facts.default_uid) == ("nonroot (65532)", 65532)
    assert facts.packages["tzdata"]


def test_images_carry_variant_source_and_recipe_labels(base_images: BaseImages) -> None:
    for name in ("alpine", "debian-slim", "distroless"):
        image = base_images.get(ImageSpec(name))
        labels = engine.client().images.get(image.reference).labels
        assert labels[f"{engine.LABEL_PREFIX}.variant"] == name
        assert labels[f"{engine.LABEL_PREFIX}.source"] == "local"
        assert labels[f"{engine.LABEL_PREFIX}.recipe-hash"] == VARIANTS[name].recipe_hash


def test_warm_lookup_is_a_cache_hit(base_images: BaseImages) -> None:
    base_images.get(ImageSpec("distroless"))
    started = time.monotonic()
    again = base_images.get(ImageSpec("distroless"))
    assert not again.built_now
    assert time.monotonic() - started < 10  # generous; the benchmark reports the real figure


@pytest.fixture
def throwaway_variant() -> Iterator[Variant]:
    """The alpine recipe with a unique extra file: a tag no run has built yet."""
    alpine = VARIANTS["alpine"]
    marker = ("/etc/compat-test", f"{time.time_ns()}\n")
    recipe = dataclasses.replace(alpine.recipe, files=(*alpine.recipe.files, marker))
    variant = dataclasses.replace(alpine, name="alpine-test", recipe=recipe)
    yield variant
    if engine.image_exists(variant.local_tag):
        engine.client().images.remove(variant.local_tag, force=True)


_CONCURRENT_BUILD = """
import json, sys
from pathlib import Path
from pytest_traefik_compat.bases import BaseImages
from pytest_traefik_compat.bases.catalogue import Variant, Recipe
from pytest_traefik_compat.engine import RunIdentity
data = json.loads(sys.argv[1])
recipe = Recipe(**{k: tuple(tuple(x) if isinstance(x, list) else x for x in v)
                   if isinstance(v, list) else v for k, v in data["recipe"].items()})
variant = Variant(name=data["name"], summary="", registry_ref="", recipe=recipe)
image = BaseImages(Path(sys.argv[2]), RunIdentity.create()).local(variant)
print(json.dumps({"built_now": image.built_now, "tag": image.reference}))
"""


def test_build_from_nothing_once_across_processes(
    throwaway_variant: Variant, cache_dir: Path
) -> None:
    assert not engine.image_exists(throwaway_variant.local_tag)
    payload = json.dumps(
        {"name": throwaway_variant.name, "recipe": dataclasses.asdict(throwaway_variant.recipe)}
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT_BUILD, payload, str(cache_dir)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [json.loads(proc.communicate(timeout=300)[0]) for proc in procs]
    assert sorted(r["built_now"] for r in results) == [False, True]
    assert {r["tag"] for r in results} == {throwaway_variant.local_tag}
    labels = engine.client().images.get(throwaway_variant.local_tag).labels
    assert labels[f"{engine.LABEL_PREFIX}.recipe-hash"] == throwaway_variant.recipe_hash


def test_missing_local_reference_names_the_fix(base_images: BaseImages) -> None:
    with pytest.raises(CompatError) as error:
        base_images.get(ImageSpec("golden", "compat-test/not-here:1"))
    assert "'compat-test/not-here:1' for 'golden' is not present locally" in str(error.value)


def test_custom_reference_present_locally_gets_facts(base_images: BaseImages) -> None:
    alpine = base_images.get(ImageSpec("alpine"))
    facts = base_images.get(ImageSpec("mine", alpine.reference)).facts
    assert facts.source == "custom" and facts.libc_kind == "musl"


def test_build_refuses_a_missing_from(tmp_path: Path) -> None:
    from pytest_traefik_compat.engine import build_image

    (tmp_path / "Dockerfile").write_text("FROM compat-test/absent:1\nRUN true\n")
    with pytest.raises(BuildError, match="is not present locally: build it first"):
        build_image(tmp_path, "compat-test/never:1", {})


def test_bases_cli_prints_table_and_json() -> None:
    table = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest_traefik_compat",
            "bases",
            "--traefik-images=alpine,distroless",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert "musl 1.2" in table and "nonroot (65532)" in table and "NOT Alpine Linux" in table
    listed = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest_traefik_compat",
                "bases",
                "--json",
                "--traefik-images=distroless",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout
    )
    assert listed[0]["name"] == "distroless" and listed[0]["default_uid"] == 65532
