"""The options table is the one definition: flags, ini keys, environment variables,
``--help`` and the README all agree with it."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

import pytest_traefik_compat
from pytest_traefik_compat.plugin import options
from pytest_traefik_compat.plugin.options import ENVIRONMENT_ONLY, OPTIONS
from pytest_traefik_compat.plugin.settings import Settings
from tests.helpers import options_docs

PACKAGE = Path(pytest_traefik_compat.__file__).parent
VARIABLE = re.compile(r"\bPYTEST_TRAEFIK_[A-Z][A-Z0-9_]*")

# A valid value per option, unlike its default, as the environment or an ini file gives it.
RAW = {
    "traefik_images": "alpine,scratch",
    "traefik_source": "registry",
    "traefik_profile": "full",
    "traefik_samples": "3",
    "traefik_budgets": "rss_mb=64",
    "traefik_handshakes": "7",
    "traefik_overhead_requests": "120",
    "traefik_engine_host": "10.0.0.9",
    "traefik_report_dir": "elsewhere/report",
    "traefik_cache_dir": "elsewhere/cache",
    "traefik_keep": "yes",
    "traefik_suite": "1",
    "traefik_baseline": "base.json",
    "traefik_regression": "startup:15%,memory:4MiB",
    "traefik_registry_mirror": "127.0.0.1:5000",
    "traefik_lock": "bases.lock",
    "traefik_lock_strict": "on",
}


def _no_ini(key: str) -> str:
    return ""


def test_every_option_has_flag_ini_key_and_variable() -> None:
    for option in OPTIONS:
        assert option.flag.startswith("--traefik-"), option
        assert option.ini == option.dest, option
        assert option.env == f"PYTEST_{option.dest.upper()}", option
        assert option.help and "\n" not in option.help, option
    for attribute in ("flag", "dest", "ini", "env"):
        names = [getattr(option, attribute) for option in OPTIONS]
        assert len(set(names)) == len(names), f"duplicate {attribute}"
    fields = {field.name for field in dataclasses.fields(Settings)}
    assert {option.field for option in OPTIONS} == fields


def test_help_text_names_default_variable_and_key() -> None:
    for option in OPTIONS:
        text = option.help_text()
        assert option.env in text and option.ini in text, option
        if option.default is not None:
            assert f"default {option.default}" in text, option


def _help_blocks(output: str) -> dict[str, str]:
    """The option group's ``--help`` entries by flag, each on one line."""
    section = output.split(options.GROUP_DESCRIPTION + ":", 1)[1].split("\n\n", 1)[0]
    blocks: dict[str, str] = {}
    for entry in re.split(r"\n(?=  --)", section.strip("\n")):
        flag = entry.split()[0].split("=")[0]
        blocks[flag] = " ".join(entry.split())
    return blocks


def test_pytest_help_names_every_variable_and_ini_key(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    assert result.ret == 0
    blocks = _help_blocks(result.stdout.str())
    assert list(blocks) == [option.flag for option in OPTIONS]
    for option in OPTIONS:
        block = blocks[option.flag]
        assert block.startswith(option.usage), block
        assert option.env in block and option.ini in block, block
    assert "95% interval" in blocks["--traefik-budget"]  # % survives argparse


@pytest.mark.parametrize("where", ["env", "ini"])
def test_every_option_resolves_from_env_and_ini(where: str) -> None:
    assert set(RAW) == {option.dest for option in OPTIONS}, "give RAW a value per option"
    if where == "env":
        resolved = options.resolve({}, _no_ini, {o.env: RAW[o.dest] for o in OPTIONS})
    else:
        resolved = options.resolve({}, lambda key: RAW.get(key, ""), {})
    default = Settings()
    for option in OPTIONS:
        value = getattr(resolved, option.field)
        assert value == option.convert(RAW[option.dest]), option.flag
        assert value != getattr(default, option.field), option.flag


def test_cli_beats_env_for_a_switch() -> None:
    resolved = options.resolve({"traefik_keep": True}, _no_ini, {"PYTEST_TRAEFIK_KEEP": "0"})
    assert resolved.keep
    assert not options.resolve({}, _no_ini, {"PYTEST_TRAEFIK_KEEP": "off"}).keep


def test_bad_switch_in_env_names_the_variable() -> None:
    with pytest.raises(ValueError) as error:
        options.resolve({}, _no_ini, {"PYTEST_TRAEFIK_KEEP": "maybe"})
    assert str(error.value) == "PYTEST_TRAEFIK_KEEP: expected true or false, got 'maybe'"


def test_registry_options_need_registry_mode() -> None:
    with pytest.raises(ValueError) as error:
        options.resolve({}, lambda key: RAW[key] if key == "traefik_lock" else "", {})
    assert str(error.value) == (
        "--traefik-lock only apply to registry mode: add --traefik-source=registry "
        "(local bases are built, never pulled)"
    )


def test_every_variable_the_package_reads_is_in_the_table() -> None:
    table = Path(options.__file__)
    read = {
        name
        for path in PACKAGE.rglob("*.py")
        if path != table
        for name in VARIABLE.findall(path.read_text(encoding="utf-8"))
    }
    assert read, "the grep found nothing: is the pattern still right?"
    known = {option.env for option in OPTIONS}
    environment_only = {variable.name for variable in ENVIRONMENT_ONLY}
    assert sorted(read - known - environment_only) == [], "add these to plugin/options.py"
    assert sorted(environment_only - read) == [], "no longer read: drop from ENVIRONMENT_ONLY"


def test_rendered_table_has_a_row_per_option_and_variable() -> None:
    table = options.render_options_table()
    names = [option.env for option in OPTIONS] + [v.name for v in ENVIRONMENT_ONLY]
    for name in names:
        assert f"`{name}`" in table
    assert "`--traefik-source=local\\|registry`" in table  # a pipe must not split the cell


def test_readme_options_table_is_generated() -> None:
    text = options_docs.README.read_text(encoding="utf-8")
    block = options_docs.readme_block(text)
    if block is None:
        pytest.skip(f"README.md has no {options_docs.BEGIN} ... {options_docs.END} block yet")
    assert block == options.render_options_table(), (
        "README options table differs from plugin/options.py: run "
        "python -m tests.helpers.options_docs --write"
    )


def test_options_docs_replaces_only_the_block() -> None:
    text = f"before\n{options_docs.BEGIN}\nold\n{options_docs.END}\nafter\n"
    updated = options_docs.with_table(text, "| new |\n")
    assert updated == f"before\n{options_docs.BEGIN}\n| new |\n{options_docs.END}\nafter\n"
    assert options_docs.readme_block(updated) == "| new |\n"
    with pytest.raises(ValueError, match="no <!-- BEGIN options-table -->"):
        options_docs.with_table("no markers\n", "| new |\n")


def test_caller_variables_do_not_reach_unit_tests() -> None:
    # tests/unit/conftest.py drops them, whatever the caller exported.
    assert [name for name in os.environ if name.startswith("PYTEST_TRAEFIK_")] == []
