"""Option validation and the one frozen settings object of a run.

Validators are argparse ``type=`` converters, so a bad value ends the run at parse
time as a usage error naming the fix. Which option uses which converter, and how
values resolve (CLI > environment > ini), is declared once in
:mod:`pytest_traefik_compat.plugin.options`.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pytest_traefik_compat.bases.catalogue import SOURCES, VARIANT_NAMES, ImageSpec, Source
from pytest_traefik_compat.measure import overhead
from pytest_traefik_compat.measure.budgets import Budgets
from pytest_traefik_compat.records import profiles
from pytest_traefik_compat.records.profiles import DEFAULT_PROFILE, Profile
from pytest_traefik_compat.report.diff import Thresholds

SAMPLES_RANGE = (1, 200)
HANDSHAKES_RANGE = (1, 10_000)
# At least one request per worker in each of the overhead's rounds (80).
OVERHEAD_REQUESTS_RANGE = (overhead.ROUNDS * max(overhead.CONCURRENCIES), 10_000)
DEFAULT_SOURCE: Source = "local"
DEFAULT_HANDSHAKES = 100
DEFAULT_REPORT_DIR = Path("compat-report")

# A name for a user-supplied base: lower-case, starts with a letter or digit.
_CUSTOM_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
# A Docker reference: [registry[:port]/]path[:tag][@digest]; checked loosely but
# strictly enough to reject spaces, empty parts and stray separators.
_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._/-][a-z0-9]+)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


def _valid_list() -> str:
    return ", ".join(VARIANT_NAMES) + " or name=image:ref"


def parse_images(value: str) -> tuple[ImageSpec, ...]:
    """Parse ``alpine,debian-slim,mine=registry.local/base:1``; raise on any flaw."""
    items = [item.strip() for item in value.split(",")]
    if not any(items):
        raise argparse.ArgumentTypeError(f"empty list of images; valid: {_valid_list()}")
    specs: list[ImageSpec] = []
    for item in items:
        if not item:
            raise argparse.ArgumentTypeError(f"empty entry in {value!r}; valid: {_valid_list()}")
        if "=" in item:
            name, _, reference = item.partition("=")
            if not _CUSTOM_NAME.match(name) or not _REFERENCE.match(reference):
                raise argparse.ArgumentTypeError(
                    f"malformed image pair {item!r}: expected name=image:ref "
                    f"(e.g. golden=registry.example/base:1); valid: {_valid_list()}"
                )
            if name in VARIANT_NAMES:
                raise argparse.ArgumentTypeError(
                    f"{name!r} is a built-in variant; give your image another name "
                    f"(e.g. my-{name}={reference})"
                )
            specs.append(ImageSpec(name, reference))
        elif item in VARIANT_NAMES:
            specs.append(ImageSpec(item))
        else:
            raise argparse.ArgumentTypeError(f"unknown image {item!r}; valid: {_valid_list()}")
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise argparse.ArgumentTypeError(
            f"duplicate image {', '.join(duplicates)!s} in {value!r}; list each once"
        )
    return tuple(specs)


def parse_profile(value: str) -> Profile:
    try:
        return profiles.parse_profile(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_source(value: str) -> Source:
    if value not in SOURCES:
        raise argparse.ArgumentTypeError(f"unknown source {value!r}; valid: {', '.join(SOURCES)}")
    return value


def parse_engine_host(value: str) -> str:
    """--traefik-engine-host: the address that reaches the engine's published ports."""
    from pytest_traefik_compat.engine.resolve import parse_engine_host as parse

    try:
        return parse(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def bounded_int(name: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse converter accepting integers in [low, high]."""

    def convert(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be an integer between {low} and {high}, got {value!r}"
            ) from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(
                f"{name} must be between {low} and {high}, got {number}"
            )
        return number

    convert.__name__ = name  # argparse names the converter in its messages
    return convert


parse_samples = bounded_int("samples", *SAMPLES_RANGE)
DEFAULT_SAMPLES = 6  # why: suite/test_startup.py's docstring
parse_handshakes = bounded_int("handshakes", *HANDSHAKES_RANGE)
parse_overhead_requests = bounded_int("overhead requests", *OVERHEAD_REQUESTS_RANGE)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def parse_bool(value: str) -> bool:
    """ini/env flags: 1/true/yes/on or 0/false/no/off."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


_MIRROR = re.compile(r"^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$")


def parse_mirror(value: str) -> str:
    """A registry mirror as HOST[:PORT] (no scheme, no path)."""
    cleaned = value.strip().removeprefix("http://").removeprefix("https://").rstrip("/")
    if not _MIRROR.match(cleaned):
        raise argparse.ArgumentTypeError(
            f"registry mirror must be HOST[:PORT] (e.g. 127.0.0.1:5000), got {value!r}"
        )
    return cleaned


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pytest-traefik-compat"


@dataclass(frozen=True)
class Settings:
    """Everything a run was asked for, resolved once."""

    images: tuple[ImageSpec, ...] = ()
    source: Source = DEFAULT_SOURCE
    # Where published ports are reached (default: the engine's own address).
    engine_host: str | None = None
    # Container starts per series (direct, floor); in-process starts are 3x as many,
    # route ready and Traefik starts at least 6 each (see the suite's "Sample counts").
    samples: int = DEFAULT_SAMPLES
    handshakes: int = DEFAULT_HANDSHAKES
    # Requests each way per gateway-overhead variant (p99 is reported from 100 on).
    overhead_requests: int = overhead.DEFAULT_REQUESTS
    report_dir: Path = DEFAULT_REPORT_DIR
    keep: bool = False
    cache_dir: Path = field(default_factory=default_cache_dir)
    # The built-in matrix added to a user's run, the baseline diff, registry pins.
    suite: bool = False
    baseline: Path | None = None
    registry_mirror: str | None = None
    lock: Path | None = None
    lock_strict: bool = False
    # --traefik-budget limits, judged on the figures' confidence intervals.
    budgets: Budgets = field(default_factory=Budgets)
    # The checks of the run: the CI gate (default) or the whole study (full).
    profile: Profile = DEFAULT_PROFILE
    # --traefik-regression: the baseline diff's slowdown thresholds per figure.
    regression: Thresholds = field(default_factory=Thresholds)

    @property
    def enabled(self) -> bool:
        """The plugin stays out of the way unless images were asked for."""
        return bool(self.images)
