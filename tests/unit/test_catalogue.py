"""The catalogue: lookups, registry references and recipe hashes."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_traefik_compat.bases.catalogue import (
    DEFAULT_VARIANTS,
    VARIANT_NAMES,
    VARIANTS,
    variant,
)


def test_catalogue_has_the_documented_variants() -> None:
    assert VARIANT_NAMES == (
        "alpine",
        "debian-slim",
        "debian-11-slim",
        "debian-13-slim",
        "distroless",
        "distroless-base",
        "scratch",
    )
    assert DEFAULT_VARIANTS == ("alpine", "debian-slim", "distroless")


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("alpine", "alpine:3.21"),
        ("debian-slim", "debian:12-slim"),
        ("debian-11-slim", "debian:11-slim"),
        ("debian-13-slim", "debian:13-slim"),
        ("distroless", "gcr.io/distroless/static-debian12:nonroot"),
        ("distroless-base", "gcr.io/distroless/base-debian12:nonroot"),
        ("scratch", "scratch"),
    ],
)
def test_registry_reference_mapping(name: str, reference: str) -> None:
    assert variant(name).registry_ref == reference


def test_unknown_variant_names_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="valid: alpine, debian-slim"):
        variant("nope")


def test_recipe_hash_is_stable_and_distinct() -> None:
    hashes = {name: v.recipe_hash for name, v in VARIANTS.items()}
    assert hashes == {name: v.recipe_hash for name, v in VARIANTS.items()}
    assert len(set(hashes.values())) == len(hashes)
    for name, value in hashes.items():
        assert len(value) == 64
        assert VARIANTS[name].local_tag == f"pytest-traefik-compat/base-{name}:{value[:16]}"


def test_recipe_hash_changes_with_the_recipe() -> None:
    alpine = VARIANTS["alpine"]
    more = dataclasses.replace(alpine.recipe, packages=(*alpine.recipe.packages, "tzdata"))
    other_file = dataclasses.replace(
        alpine.recipe, files=(*alpine.recipe.files, ("/etc/motd", "hi\n"))
    )
    assert more.digest("alpine") != alpine.recipe_hash
    assert other_file.digest("alpine") != alpine.recipe_hash
    # The summary and provenance text are not part of the recipe.
    assert dataclasses.replace(alpine, summary="x").recipe_hash == alpine.recipe_hash


def test_alpine_provenance_says_it_is_not_alpine() -> None:
    assert "NOT Alpine Linux" in VARIANTS["alpine"].provenance_note


def test_distroless_runs_as_nonroot() -> None:
    assert VARIANTS["distroless"].recipe.user == "65532:65532"
    assert "nonroot:x:65532" in dict(VARIANTS["distroless"].recipe.files)["/etc/passwd"]


def test_debian_generations_name_their_suite_and_keep_older_hashes() -> None:
    assert VARIANTS["debian-11-slim"].recipe.debian_suite == "bullseye"
    assert VARIANTS["debian-13-slim"].recipe.debian_suite == "trixie"
    assert VARIANTS["debian-slim"].recipe.debian_suite == "bookworm"
    # The suite is part of the hash...
    slim = VARIANTS["debian-slim"].recipe
    assert dataclasses.replace(slim, suite="trixie").digest("x") != slim.digest("x")
    # ...and spelling out the default changes nothing (cached images stay valid).
    assert dataclasses.replace(slim, suite="bookworm").digest("x") == slim.digest("x")
