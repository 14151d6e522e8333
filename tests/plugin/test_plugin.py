"""The plugin as users meet it, driven through pytester."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")


def test_unknown_image_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--traefik-images=nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*error: argument --traefik-images: unknown image 'nope'; valid: alpine, "
            "debian-slim, debian-11-slim, debian-13-slim, distroless, distroless-base, "
            "scratch or name=image:ref"
        ]
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--traefik-images=alpine,alpine"], "*duplicate image alpine*"),
        (["--traefik-images=,"], "*empty list of images*"),
        (["--traefik-images=x=bad ref"], "*malformed image pair*"),
        (["--traefik-source=cloud"], "*unknown source 'cloud'; valid: local, registry*"),
        (["--traefik-samples=0"], "*samples must be between 1 and 200*"),
        (["--traefik-handshakes=99999999"], "*handshakes must be between 1 and 10000*"),
    ],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], line: str
) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([line])
    assert "Traceback" not in result.stderr.str()


def test_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntraefik_images = alpine,nope\n")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini traefik_images: unknown image 'nope'*"])


def test_without_images_unrelated_tests_run_untouched(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_plain():
            assert 1 + 1 == 2

        def test_base_fixture_skips(traefik_base):
            raise AssertionError("must not run without --traefik-images")
        """
    )
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*no --traefik-images given*"])
    assert "[traefik-compat" not in result.stdout.str()  # no progress lines, no builds


def test_options_are_listed_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*Go services on container base images behind Traefik*",
            "*--traefik-images=LIST*",
            "*--traefik-source=local|registry*",
        ]
    )


def test_no_engine_is_one_clear_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    pytester.makepyfile("def test_x(traefik_base): pass")
    result = pytester.runpytest_subprocess("--traefik-images=alpine")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*no Docker engine answers at tcp://127.0.0.1:9*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_unwritable_report_dir_is_a_usage_error_at_start(pytester: pytest.Pytester) -> None:
    blocker = pytester.path / "a-file"
    blocker.write_text("not a directory")
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest(
        f"--traefik-report-dir={blocker / 'report'}", "--traefik-images=alpine"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*cannot write the report to *a-file/report: Not a directory; choose a writable "
            "directory with --traefik-report-dir"
        ]
    )
