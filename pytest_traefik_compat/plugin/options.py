"""The plugin's options, declared once.

:data:`OPTIONS` holds one :class:`Option` per command-line flag, each mirrored by an
ini key and an environment variable. Everything else comes from that table: the
option group and ini keys (:func:`add_options`), the ``--help`` lines (which name
each option's variable and key), resolution CLI > environment > ini
(:func:`resolve`) and the README's options table (:func:`render_options_table`).
:data:`ENVIRONMENT_ONLY` lists the variables that have no flag.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_traefik_compat.bases.catalogue import VARIANT_NAMES
from pytest_traefik_compat.gobuild.toolchain import GO_ENV
from pytest_traefik_compat.measure import overhead
from pytest_traefik_compat.measure.budgets import BUDGETS, Budgets, parse_budgets
from pytest_traefik_compat.plugin.settings import (
    DEFAULT_HANDSHAKES,
    DEFAULT_REPORT_DIR,
    DEFAULT_SAMPLES,
    DEFAULT_SOURCE,
    HANDSHAKES_RANGE,
    OVERHEAD_REQUESTS_RANGE,
    SAMPLES_RANGE,
    Settings,
    parse_bool,
    parse_engine_host,
    parse_handshakes,
    parse_images,
    parse_mirror,
    parse_overhead_requests,
    parse_profile,
    parse_samples,
    parse_source,
)
from pytest_traefik_compat.records.profiles import DEFAULT_PROFILE
from pytest_traefik_compat.report.diff import DEFAULT_THRESHOLDS, parse_regression

DEFAULT_REGRESSION = (
    ",".join(f"{name}:{t.relative:.0%}" for name, t in DEFAULT_THRESHOLDS.items())
    + ", each with an absolute amount too (docs/diff.md)"
)

GROUP = "traefik-compat"
# The heading names the plugin, so `pytest --help | grep -A80 traefik-compat` finds it.
GROUP_DESCRIPTION = "traefik-compat: Go services on container base images behind Traefik (mTLS)"


@dataclass(frozen=True)
class Option:
    """One option: its flag, ini key, environment variable, converter and help.

    Args:
        flag: the command-line flag, e.g. ``--traefik-images``.
        dest: the argparse destination; the :class:`Settings` field is ``dest``
            without its ``traefik_`` prefix.
        ini: the ini key that gives the option's value when neither the flag nor
            the environment does.
        env: the environment variable, which wins over the ini key.
        convert: the argparse ``type=`` converter, also applied to ini and
            environment values; a switch's is :func:`parse_bool`.
        metavar: the value's placeholder; ``None`` makes the option a switch, given
            without a value.
        default: the default as ``--help`` and the README show it; ``None`` when the
            option is simply unset without it.
        help: what the option does, one line, without default, key or variable.
    """

    flag: str
    dest: str
    ini: str
    env: str
    convert: Callable[[str], object]
    metavar: str | None
    default: str | None
    help: str

    @property
    def switch(self) -> bool:
        return self.metavar is None

    @property
    def field(self) -> str:
        """The :class:`Settings` field this option fills."""
        return self.dest.removeprefix("traefik_")

    @property
    def usage(self) -> str:
        """The flag as written on a command line: ``--traefik-images=LIST``."""
        return self.flag if self.metavar is None else f"{self.flag}={self.metavar}"

    def help_text(self) -> str:
        """The ``--help`` line: what it does, its default, its variable and ini key."""
        if self.switch:
            sources = f"env {self.env}=1, ini {self.ini} = true"
        else:
            sources = f"env {self.env}, ini {self.ini}"
        default = f"default {self.default}; " if self.default is not None else ""
        return f"{self.help} ({default}{sources})"


@dataclass(frozen=True)
class EnvironmentVariable:
    """A variable the plugin reads that has no flag."""

    name: str
    default: str
    help: str


OPTIONS: tuple[Option, ...] = (
    Option(
        flag="--traefik-images",
        dest="traefik_images",
        ini="traefik_images",
        env="PYTEST_TRAEFIK_IMAGES",
        convert=parse_images,
        metavar="LIST",
        default=None,
        help="comma-separated bases to test: "
        + ", ".join(VARIANT_NAMES)
        + ", or name=image:ref for an image of your own; without it the plugin stays "
        "out of the way",
    ),
    Option(
        flag="--traefik-source",
        dest="traefik_source",
        ini="traefik_source",
        env="PYTEST_TRAEFIK_SOURCE",
        convert=parse_source,
        metavar="local|registry",
        default=DEFAULT_SOURCE,
        help="where base images come from: built locally from Debian packages (no "
        "registry) or pulled from a registry",
    ),
    Option(
        flag="--traefik-profile",
        dest="traefik_profile",
        ini="traefik_profile",
        env="PYTEST_TRAEFIK_PROFILE",
        convert=parse_profile,
        metavar="default|full",
        default=DEFAULT_PROFILE,
        help="which checks run: default, the gate a CI pipeline can afford on every "
        "change, or full, which adds the study (in-process modes, Traefik's own figures, "
        "gateway overhead, TLS timing, plugins, name resolution, ...)",
    ),
    Option(
        flag="--traefik-samples",
        dest="traefik_samples",
        ini="traefik_samples",
        env="PYTEST_TRAEFIK_SAMPLES",
        convert=parse_samples,
        metavar="N",
        default=str(DEFAULT_SAMPLES),
        help=f"container starts per startup series and base, {SAMPLES_RANGE[0]}-"
        f"{SAMPLES_RANGE[1]}; in-process starts are 3x as many; route ready is timed after each "
        "service start (at least 6 times) and Traefik starts 6 times, the fewest that give a "
        "95% interval",
    ),
    Option(
        flag="--traefik-budget",
        dest="traefik_budgets",
        ini="traefik_budgets",
        env="PYTEST_TRAEFIK_BUDGETS",
        convert=parse_budgets,
        metavar="NAME=LIMIT,...",
        default=None,
        help="limits judged on each figure's 95% interval, one test per budget and base: "
        "startup_ms=800,rss_mb=64,handshake_ms=20,image_mb=100, per base as "
        "debian-slim:image_mb=120; names: " + ", ".join(BUDGETS),
    ),
    Option(
        flag="--traefik-handshakes",
        dest="traefik_handshakes",
        ini="traefik_handshakes",
        env="PYTEST_TRAEFIK_HANDSHAKES",
        convert=parse_handshakes,
        metavar="N",
        default=str(DEFAULT_HANDSHAKES),
        help=f"mTLS handshakes per base, {HANDSHAKES_RANGE[0]}-{HANDSHAKES_RANGE[1]}",
    ),
    Option(
        flag="--traefik-overhead-requests",
        dest="traefik_overhead_requests",
        ini="traefik_overhead_requests",
        env="PYTEST_TRAEFIK_OVERHEAD_REQUESTS",
        convert=parse_overhead_requests,
        metavar="N",
        default=str(overhead.DEFAULT_REQUESTS),
        help="requests each way (direct, through Traefik) per gateway-overhead variant, "
        f"{OVERHEAD_REQUESTS_RANGE[0]}-{OVERHEAD_REQUESTS_RANGE[1]} (full profile); p99 is "
        f"reported from {overhead.P99_MIN_REQUESTS} on",
    ),
    Option(
        flag="--traefik-engine-host",
        dest="traefik_engine_host",
        ini="traefik_engine_host",
        env="PYTEST_TRAEFIK_ENGINE_HOST",
        convert=parse_engine_host,
        metavar="HOST",
        default="the engine's address from DOCKER_HOST or the docker context, 127.0.0.1 "
        "for a local socket",
        help="address that reaches the ports the engine publishes",
    ),
    Option(
        flag="--traefik-report-dir",
        dest="traefik_report_dir",
        ini="traefik_report_dir",
        env="PYTEST_TRAEFIK_REPORT_DIR",
        convert=Path,
        metavar="DIR",
        default=f"{DEFAULT_REPORT_DIR}/",
        help="where report.json/.md/.html go",
    ),
    Option(
        flag="--traefik-cache-dir",
        dest="traefik_cache_dir",
        ini="traefik_cache_dir",
        env="PYTEST_TRAEFIK_CACHE_DIR",
        convert=Path,
        metavar="DIR",
        default="~/.cache/pytest-traefik-compat, or under $XDG_CACHE_HOME when set",
        help="cache for Go builds, packages and image facts",
    ),
    Option(
        flag="--traefik-keep",
        dest="traefik_keep",
        ini="traefik_keep",
        env="PYTEST_TRAEFIK_KEEP",
        convert=parse_bool,
        metavar=None,
        default="off",
        help="keep the containers of failed tests for debugging and print how to remove them",
    ),
    Option(
        flag="--traefik-suite",
        dest="traefik_suite",
        ini="traefik_suite",
        env="PYTEST_TRAEFIK_SUITE",
        convert=parse_bool,
        metavar=None,
        default="off",
        help="add the built-in compatibility matrix to this run, next to your own tests, "
        "one report for both",
    ),
    Option(
        flag="--traefik-baseline",
        dest="traefik_baseline",
        ini="traefik_baseline",
        env="PYTEST_TRAEFIK_BASELINE",
        convert=Path,
        metavar="BASE.json",
        default=None,
        help="compare this run with an earlier report.json: regressions fail the run, "
        "one line each; diff.md/diff.json go next to the report",
    ),
    Option(
        flag="--traefik-regression",
        dest="traefik_regression",
        ini="traefik_regression",
        env="PYTEST_TRAEFIK_REGRESSION",
        convert=parse_regression,
        metavar="FIGURE:N%,...",
        default=DEFAULT_REGRESSION,
        help="the baseline diff's thresholds per figure: a significant slowdown beyond N% "
        "of the baseline median and an absolute amount (FIGURE:Nms, memory:NMiB) is a "
        "regression",
    ),
    Option(
        flag="--traefik-registry-mirror",
        dest="traefik_registry_mirror",
        ini="traefik_registry_mirror",
        env="PYTEST_TRAEFIK_REGISTRY_MIRROR",
        convert=parse_mirror,
        metavar="HOST:PORT",
        default=None,
        help="registry mode through a pull-through cache: pull docker.io/library/X as "
        "HOST:PORT/library/X and gcr.io/distroless/X as HOST:PORT/distroless/X",
    ),
    Option(
        flag="--traefik-lock",
        dest="traefik_lock",
        ini="traefik_lock",
        env="PYTEST_TRAEFIK_LOCK",
        convert=Path,
        metavar="FILE",
        default=None,
        help="registry mode: write the pulled digests to FILE, or, when it exists, pull "
        "exactly those digests and report tags that moved",
    ),
    Option(
        flag="--traefik-lock-strict",
        dest="traefik_lock_strict",
        ini="traefik_lock_strict",
        env="PYTEST_TRAEFIK_LOCK_STRICT",
        convert=parse_bool,
        metavar=None,
        default="off",
        help="with --traefik-lock: a tag whose digest moved fails its base",
    ),
)

ENVIRONMENT_ONLY: tuple[EnvironmentVariable, ...] = (
    EnvironmentVariable(
        name=GO_ENV,
        default="go on PATH, then $GOROOT/bin/go, then /usr/local/go/bin/go",
        help="the go command to build with: a path, or a name looked up on PATH only "
        "(an explicit choice turns the fallbacks off)",
    ),
    EnvironmentVariable(
        name="PYTEST_TRAEFIK_SAMPLE_APPS",
        default="the copy inside the installed package, else sample_apps/ next to it in a checkout",
        help="the sample_apps/ directory the built-in suite builds its Go services from",
    ),
)

# Options that only mean something when bases are pulled.
_REGISTRY_ONLY = ("traefik_registry_mirror", "traefik_lock", "traefik_lock_strict")


def add_options(parser: pytest.Parser) -> None:
    """Register every option in one group, each mirrored by its ini key."""
    group = parser.getgroup(GROUP, GROUP_DESCRIPTION)
    for option in OPTIONS:
        # argparse expands %-placeholders in help.
        help_text = option.help_text().replace("%", "%%")
        # Every default is None, so an option not given leaves room for env and ini.
        if option.switch:
            group.addoption(
                option.flag,
                dest=option.dest,
                action="store_const",
                const=True,
                default=None,
                help=help_text,
            )
        else:
            group.addoption(
                option.flag,
                dest=option.dest,
                type=option.convert,
                default=None,
                metavar=option.metavar,
                help=help_text,
            )
        parser.addini(option.ini, help=f"default for {option.flag} ({option.env} wins)", default="")


def resolve(
    cli: Mapping[str, object],
    ini: Callable[[str], str],
    environ: Mapping[str, str] = os.environ,
) -> Settings:
    """Resolve each setting CLI > environment > ini; raise ValueError on a bad value.

    Args:
        cli: option dests to parsed values (None when not given).
        ini: returns the raw ini string of a key ('' when unset).
        environ: the environment to read.
    """
    values: dict[str, object] = {}
    for option in OPTIONS:
        value = cli.get(option.dest)
        if value is None:
            # An empty variable counts as unset, as the shell idiom VAR= suggests.
            raw = environ.get(option.env) or ini(option.ini)
            if raw:
                try:
                    value = option.convert(raw.strip())
                except argparse.ArgumentTypeError as error:
                    where = option.env if environ.get(option.env) else f"ini {option.ini}"
                    raise ValueError(f"{where}: {error}") from None
        if value is not None:
            values[option.field] = value
    budgets = values.get("budgets")
    images = values.get("images")
    if isinstance(budgets, Budgets) and isinstance(images, tuple):
        unknown = budgets.unknown_bases(spec.name for spec in images)
        if unknown:
            raise ValueError(
                f"--traefik-budget names base {', '.join(unknown)}, which is not in "
                f"--traefik-images ({', '.join(spec.name for spec in images)})"
            )
    registry_only = [
        option.flag
        for option in OPTIONS
        if option.dest in _REGISTRY_ONLY and values.get(option.field)
    ]
    if registry_only and values.get("source", DEFAULT_SOURCE) != "registry":
        raise ValueError(
            f"{', '.join(registry_only)} only apply to registry mode: add "
            "--traefik-source=registry (local bases are built, never pulled)"
        )
    return Settings(**values)  # type: ignore[arg-type]


def resolve_config(config: pytest.Config) -> Settings:
    """The run's settings from pytest's options and ini; a bad value is a usage error."""
    cli = {option.dest: getattr(config.option, option.dest, None) for option in OPTIONS}
    try:
        return resolve(cli, lambda key: str(config.getini(key) or ""))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{_cell(text)}`"


def render_options_table() -> str:
    """The README's options table (markdown), generated from :data:`OPTIONS`."""
    lines = [
        "| option | ini key | environment variable | default | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for option in OPTIONS:
        default = _cell(option.default) if option.default is not None else "-"
        lines.append(
            f"| {_code(option.usage)} | {_code(option.ini)} | {_code(option.env)} "
            f"| {default} | {_cell(option.help)} |"
        )
    lines += [
        "",
        "A flag wins over its environment variable, which wins over its ini key. "
        "Switches take true/false, 1/0, yes/no or on/off in the ini and the environment.",
        "",
        "Read from the environment only:",
        "",
        "| environment variable | default | meaning |",
        "| --- | --- | --- |",
    ]
    for variable in ENVIRONMENT_ONLY:
        lines.append(
            f"| {_code(variable.name)} | {_cell(variable.default)} | {_cell(variable.help)} |"
        )
    return "\n".join(lines) + "\n"
