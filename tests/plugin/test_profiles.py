"""--traefik-profile applied at collection: the default deselects the study checks
with one line saying so, full runs everything, a user's traefik_profile marker
counts too. Collection only (no engine needed)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from pytest_traefik_compat.records import checks, profiles
from pytest_traefik_compat.suite import conftest as suite_conftest

SUITE_DIR = Path(suite_conftest.__file__).resolve().parent
LINE_START = "traefik-compat profile default: "


def _suite_tests() -> set[str]:
    """Every test function of the built-in suite, read from its files."""
    names: set[str] = set()
    for path in SUITE_DIR.glob("test_*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def _known_checks() -> set[str]:
    return {
        value.check
        for value in vars(checks).values()
        if dataclasses.is_dataclass(value) and not isinstance(value, type)
        if isinstance(getattr(value, "check", None), str)
    }


def _collected(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, set[str]]:
    """Collect the suite (with one user test) in-process; the test names collected."""
    pytester.makepyfile(test_mine="def test_mine():\n    pass\n")
    result = pytester.runpytest(
        "--collect-only", "-q", "-p", "no:randomly", "--traefik-suite", *args
    )
    assert result.ret == 0, "\n".join(result.outlines[-30:] + result.errlines[-10:])
    names = {line.split("::", 1)[1].split("[", 1)[0] for line in result.outlines if "::" in line}
    return result, names


def _default_tests() -> set[str]:
    return {
        name
        for name in _suite_tests()
        if profiles.in_profile("default", *suite_conftest.suite_check(name))
    }


def test_every_suite_test_names_a_known_check_of_one_profile_table() -> None:
    """The name -> check rule holds for every suite test, and every check is in one of
    the two tables (the default's with why it gates, the study's with why not)."""
    known = _known_checks()
    for name in _suite_tests():
        check, variant = suite_conftest.suite_check(name)
        assert check in known, (name, check)
        if variant is not None:
            assert variant in {
                checks.TLS_REFUSALS,
                checks.TLS_HANDSHAKES,
                checks.TLS_FORWARDED,
                checks.TLS_SNI_HOST,
                checks.TLS_CHAINS,
            }, name
    # Only a check whose variants split between the profiles is in both tables.
    split = {check for check, (variant, _why) in profiles.DEFAULT_CHECKS.items() if variant}
    assert set(profiles.DEFAULT_CHECKS) & set(profiles.STUDY_CHECKS) == split
    assert known <= set(profiles.DEFAULT_CHECKS) | set(profiles.STUDY_CHECKS)


def test_default_deselects_exactly_the_study_checks_and_says_so(
    pytester: pytest.Pytester,
) -> None:
    result, names = _collected(pytester, "--traefik-images=alpine,distroless")
    assert names == _default_tests() | {"test_mine"}
    study = _suite_tests() - _default_tests()
    assert study, "the full profile adds nothing"
    lines = [line for line in result.outlines if line.startswith("traefik-compat profile")]
    assert len(lines) == 1, result.outlines
    assert lines[0].startswith(f"{LINE_START}{len(study)} study checks not run (")
    assert lines[0].endswith("; --traefik-profile=full runs them)")
    # Both bases' items are deselected, through pytest's own accounting.
    assert any("deselected" in line for line in result.outlines[-3:]), result.outlines[-3:]


def test_gate_and_study_split_where_the_table_says() -> None:
    default = _default_tests()
    assert {"test_start_matrix", "test_startup_latency", "test_memory", "test_tls"} <= default
    assert {"test_mtls", "test_tls_evidence_refusals", "test_grpc", "test_budget"} <= default
    assert (
        not {
            "test_inprocess_start",
            "test_traefik_figures",
            "test_gateway_overhead",
            "test_tls_evidence_handshakes",
            "test_tls_evidence_sni_host",
            "test_tls_evidence_chains",
            "test_healthcheck",
            "test_alignment",
            "test_traefik_plugin",
            "test_go_plugin",
        }
        & default
    )


def test_full_runs_every_check(pytester: pytest.Pytester) -> None:
    result, names = _collected(pytester, "--traefik-images=alpine", "--traefik-profile=full")
    assert names == _suite_tests() | {"test_mine"}
    assert not [line for line in result.outlines if "traefik-compat profile" in line]


@pytest.mark.parametrize("how", ["env", "ini"])
def test_profile_from_env_and_ini(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "env":
        monkeypatch.setenv("PYTEST_TRAEFIK_PROFILE", "full")
    else:
        pytester.makeini("[pytest]\ntraefik_profile = full\n")
    _result, names = _collected(pytester, "--traefik-images=alpine")
    assert names == _suite_tests() | {"test_mine"}, how


def test_the_option_beats_the_env(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_TRAEFIK_PROFILE", "full")
    _result, names = _collected(pytester, "--traefik-images=alpine", "--traefik-profile=default")
    assert names == _default_tests() | {"test_mine"}


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--traefik-profile=nightly"], {}), ([], {"PYTEST_TRAEFIK_PROFILE": "nightly"})],
)
def test_bad_profile_is_a_one_line_usage_error(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--traefik-images=alpine", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if "nightly" in line]
    assert len(errors) == 1, result.errlines
    assert "unknown profile 'nightly'; valid: default, full" in errors[0]


def test_a_budget_keeps_the_check_it_judges(pytester: pytest.Pytester) -> None:
    """A budget asked for is measured: traefik_rss_mb brings Traefik's figures into the
    default run, and only them."""
    _result, names = _collected(
        pytester, "--traefik-images=alpine", "--traefik-budget=traefik_rss_mb=200"
    )
    assert names == _default_tests() | {"test_mine", "test_traefik_figures"}


def test_a_k_selection_counts_only_what_it_left(pytester: pytest.Pytester) -> None:
    result, names = _collected(
        pytester, "--traefik-images=alpine", "-k", "gateway_overhead or memory"
    )
    assert names == {"test_memory"}
    lines = [line for line in result.outlines if line.startswith(LINE_START)]
    assert lines and lines[0].startswith(f"{LINE_START}1 study check not run ("), lines


USER_TESTS = """
import pytest

@pytest.mark.traefik_profile("full")
def test_slow_study():
    pass

def test_gate():
    pass

@pytest.mark.traefik_profile("default", "full")
def test_both():
    pass
"""


def test_a_users_marker_selects_by_profile_without_images(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_users=USER_TESTS)
    result = pytester.runpytest("-p", "no:randomly", "-v")
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines(
        ["traefik-compat profile default: 1 study check not run (1 test; --traefik-profile=full*"]
    )
    full = pytester.runpytest("-p", "no:randomly", "--traefik-profile=full")
    full.assert_outcomes(passed=3)


@pytest.mark.parametrize(
    ("mark", "problem"),
    [
        ('traefik_profile("nightly")', "traefik_profile('nightly'): unknown profile"),
        ("traefik_profile()", "traefik_profile(): name a profile"),
        ('traefik_profile(only="full")', "traefik_profile(only=...): takes profile names"),
    ],
)
def test_a_bad_marker_is_a_usage_error(pytester: pytest.Pytester, mark: str, problem: str) -> None:
    pytester.makepyfile(f"import pytest\n\n@pytest.mark.{mark}\ndef test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert problem in "\n".join(result.errlines), result.errlines


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.traefik_profile(*profiles): *"])
