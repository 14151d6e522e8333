"""Option parsing: every value a user can get wrong ends as one clear line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_traefik_compat.bases.catalogue import ImageSpec
from pytest_traefik_compat.plugin import options
from pytest_traefik_compat.plugin import settings as opts


def test_variant_names_parse_in_order() -> None:
    assert opts.parse_images("alpine, debian-slim,distroless") == (
        ImageSpec("alpine"),
        ImageSpec("debian-slim"),
        ImageSpec("distroless"),
    )


def test_custom_pair_keeps_reference() -> None:
    (spec,) = opts.parse_images("golden=registry.example:5000/team/base:1.2")
    assert spec == ImageSpec("golden", "registry.example:5000/team/base:1.2")
    assert spec.is_custom and str(spec) == "golden=registry.example:5000/team/base:1.2"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nope", "unknown image 'nope'"),
        ("", "empty list"),
        (" , ", "empty list"),
        ("alpine,,distroless", "empty entry"),
        ("alpine,alpine", "duplicate image alpine"),
        ("x=", "malformed image pair 'x='"),
        ("=alpine:3", "malformed image pair"),
        ("Bad Name=img:1", "malformed image pair"),
        ("x=img with space", "malformed image pair"),
        ("x=img:", "malformed image pair"),
        ("alpine=alpine:3.21", "is a built-in variant"),
        ("golden=a:1,golden=b:2", "duplicate image golden"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.strip() else "blank",
)
def test_bad_image_lists_name_the_fix(value: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as error:
        opts.parse_images(value)
    text = str(error.value)
    assert message in text
    assert "\n" not in text
    if "built-in" not in message and "duplicate" not in message:
        assert (
            "alpine, debian-slim, debian-11-slim, debian-13-slim, distroless, "
            "distroless-base, scratch"
        ) in text


def test_source_values() -> None:
    assert opts.parse_source("local") == "local"
    assert opts.parse_source("registry") == "registry"
    with pytest.raises(argparse.ArgumentTypeError, match="valid: local, registry"):
        opts.parse_source("cloud")


@pytest.mark.parametrize("value", ["0", "-3", "201", "1e3", "many"])
def test_samples_out_of_range(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="samples must be"):
        opts.parse_samples(value)


def test_handshakes_bounds() -> None:
    assert opts.parse_handshakes("1") == 1
    assert opts.parse_handshakes("10000") == 10000
    with pytest.raises(argparse.ArgumentTypeError, match="between 1 and 10000"):
        opts.parse_handshakes("10001")


def _ini(values: dict[str, str]) -> Callable[[str], str]:
    return lambda key: values.get(key, "")


def test_resolve_precedence_cli_env_ini() -> None:
    ini = _ini({"traefik_images": "scratch", "traefik_samples": "7", "traefik_source": "registry"})
    env = {"PYTEST_TRAEFIK_SAMPLES": "9"}
    cli = {"traefik_images": (ImageSpec("alpine"),)}
    resolved = options.resolve(cli, ini, env)
    assert resolved.images == (ImageSpec("alpine"),)  # CLI wins
    assert resolved.samples == 9  # env beats ini
    assert resolved.source == "registry"  # ini when nothing else
    assert resolved.handshakes == 100  # default
    assert resolved.enabled


def test_resolve_without_images_is_disabled() -> None:
    resolved = options.resolve({}, _ini({}), {})
    assert not resolved.enabled
    assert resolved.report_dir == Path("compat-report")


@pytest.mark.parametrize(
    ("env", "ini", "where"),
    [
        ({"PYTEST_TRAEFIK_IMAGES": "nope"}, {}, "PYTEST_TRAEFIK_IMAGES"),
        ({}, {"traefik_handshakes": "0"}, "ini traefik_handshakes"),
    ],
)
def test_resolve_bad_env_or_ini(env: dict[str, str], ini: dict[str, str], where: str) -> None:
    with pytest.raises(ValueError, match=where):
        options.resolve({}, _ini(ini), env)
