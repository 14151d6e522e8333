"""Bad inputs that need no Docker engine: each is answered with one clear line.

Options are refused at parse time (usage error, before any engine is contacted);
a dead or too old engine ends the run at its start; the merge command refuses a
shard it cannot read. The inputs that need a real engine (absent references,
registry mode, Go, stacks, the report directory) are in
tests/engine/test_bad_inputs_engine.py.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from pytest_traefik_compat import gobuild
from pytest_traefik_compat.errors import BuildError
from pytest_traefik_compat.records import Record
from pytest_traefik_compat.report import write_reports
from tests.helpers.bad_input_helpers import assert_one_clear_line, output_of
from tests.helpers.loopback import serve_http

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")

# Subprocess runs that must end at once; generous for a loaded 2-core CI machine.
RUN_TIMEOUT_S = 60
VALID = (
    "alpine, debian-slim, debian-11-slim, debian-13-slim, distroless, distroless-base, "
    "scratch or name=image:ref"
)
# Refused at argument parsing: pytest's usage error, on stderr.
OPTION_CASES = [
    pytest.param(
        ["--traefik-images=nope"],
        f"error: argument --traefik-images: unknown image 'nope'; valid: {VALID}",
        id="unknown-base",
    ),
    pytest.param(
        ["--traefik-images="],
        f"error: argument --traefik-images: empty list of images; valid: {VALID}",
        id="empty-list",
    ),
    pytest.param(
        ["--traefik-images=alpine,,distroless"],
        "empty entry in 'alpine,,distroless'",
        id="empty-entry",
    ),
    pytest.param(
        ["--traefik-images=alpine,distroless,alpine"],
        "duplicate image alpine in 'alpine,distroless,alpine'; list each once",
        id="duplicates",
    ),
    pytest.param(
        ["--traefik-images=mine=Not A Ref"],
        "malformed image pair 'mine=Not A Ref': expected name=image:ref",
        id="malformed-pair-spaces",
    ),
    pytest.param(
        ["--traefik-images==registry.example/base:1"],
        "malformed image pair '=registry.example/base:1': expected name=image:ref",
        id="malformed-pair-no-name",
    ),
    pytest.param(
        ["--traefik-images=mine="],
        "malformed image pair 'mine=': expected name=image:ref",
        id="malformed-pair-no-ref",
    ),
    pytest.param(
        ["--traefik-images=alpine=registry.example/base:1"],
        "'alpine' is a built-in variant; give your image another name",
        id="custom-name-shadows-variant",
    ),
    pytest.param(
        ["--traefik-images=alpine", "--traefik-source=cloud"],
        "unknown source 'cloud'; valid: local, registry",
        id="unknown-source",
    ),
    pytest.param(
        ["--traefik-images=alpine", "--traefik-samples=0"],
        "samples must be between 1 and 200, got 0",
        id="samples-zero",
    ),
    pytest.param(
        ["--traefik-images=alpine", "--traefik-samples=201"],
        "samples must be between 1 and 200, got 201",
        id="samples-too-many",
    ),
    pytest.param(
        ["--traefik-images=alpine", "--traefik-samples=many"],
        "samples must be an integer between 1 and 200, got 'many'",
        id="samples-not-a-number",
    ),
    pytest.param(
        ["--traefik-images=alpine", "--traefik-handshakes=0"],
        "handshakes must be between 1 and 10000, got 0",
        id="handshakes-zero",
    ),
    pytest.param(
        ["--traefik-images=alpine", "--traefik-handshakes=10001"],
        "handshakes must be between 1 and 10000, got 10001",
        id="handshakes-too-many",
    ),
    pytest.param(
        ["--traefik-images=alpine", "--traefik-overhead-requests=10"],
        "overhead requests must be between 80 and 10000, got 10",
        id="overhead-requests-too-few",
    ),
]


@pytest.mark.parametrize(("args", "phrase"), OPTION_CASES)
def test_bad_option_is_one_usage_line(
    pytester: pytest.Pytester, args: list[str], phrase: str
) -> None:
    # In-process: a usage error never reaches the engine, so there is nothing to
    # start and nothing to leave behind; this keeps each case under a second.
    pytester.makepyfile("def test_x(traefik_base): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    print(assert_one_clear_line(output_of(result), phrase))
    assert "collected" not in result.stdout.str(), "the run must stop before collection"


def test_bad_environment_value_names_the_variable(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_TRAEFIK_SAMPLES", "500")
    pytester.makepyfile("def test_x(traefik_base): pass")
    result = pytester.runpytest("--traefik-images=alpine")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    print(
        assert_one_clear_line(
            output_of(result), "PYTEST_TRAEFIK_SAMPLES: samples must be between 1 and 200, got 500"
        )
    )


# ----------------------------------------------------------------- the engine


@pytest.mark.parametrize(
    "docker_host",
    ["tcp://127.0.0.1:9", "unix:///nonexistent/docker.sock"],
    ids=["closed-port", "missing-socket"],
)
def test_no_engine_is_one_line_at_start(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, docker_host: str
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    pytester.makepyfile("def test_x(traefik_base): pass")
    result = pytester.runpytest_subprocess("--traefik-images=distroless", timeout=RUN_TIMEOUT_S)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    print(assert_one_clear_line(output_of(result), f"no Docker engine answers at {docker_host}"))
    assert "fix DOCKER_HOST" in output_of(result)
    assert "collected" not in result.stdout.str()


class _OldEngine(BaseHTTPRequestHandler):
    """Answers /version like Docker 17.06 (API 1.30); nothing else exists."""

    def do_GET(self) -> None:
        if self.path.split("?")[0].endswith("/version"):
            body = json.dumps(
                {"Version": "17.06.0-ce", "ApiVersion": "1.30", "MinAPIVersion": "1.12"}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        return None  # keep the test output to the subprocess's lines


@pytest.fixture
def old_engine() -> Iterator[str]:
    with serve_http(_OldEngine) as address:
        yield f"tcp://{address}"


def test_engine_too_old_is_one_line_at_start(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, old_engine: str
) -> None:
    monkeypatch.setenv("DOCKER_HOST", old_engine)
    pytester.makepyfile("def test_x(traefik_base): pass")
    result = pytester.runpytest_subprocess("--traefik-images=distroless", timeout=RUN_TIMEOUT_S)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    print(
        assert_one_clear_line(
            output_of(result),
            "Docker Engine 17.06.0-ce (API 1.30) is too old: need API >= 1.41 (Engine 20.10+)",
        )
    )


def test_cleanup_without_engine_is_one_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    result = pytester.run(sys.executable, "-m", "pytest_traefik_compat", "cleanup", timeout=60)
    assert result.ret == 2
    print(
        assert_one_clear_line(
            output_of(result), "error: no Docker engine answers at tcp://127.0.0.1:9"
        )
    )


def test_cli_bases_with_unknown_image_is_one_line(pytester: pytest.Pytester) -> None:
    result = pytester.run(
        sys.executable, "-m", "pytest_traefik_compat", "bases", "--traefik-images=nope", timeout=60
    )
    assert result.ret == 2  # argparse's usage error
    print(
        assert_one_clear_line(
            output_of(result), "argument --traefik-images: unknown image 'nope'; valid:"
        )
    )


# ----------------------------------------------------------------- merging shards


@pytest.fixture
def good_shard(tmp_path: Path) -> Path:
    record = Record(base="distroless", check="image-facts", outcome="passed")
    record.figure("size", 2_000_000, "bytes")
    meta = {"run_id": "0123456789ab", "bases": ["distroless"], "command_line": ["pytest"]}
    return write_reports([record], tmp_path / "good", meta=meta).json


def _merge(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(sys.executable, "-m", "pytest_traefik_compat", "merge", *args, timeout=60)


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        pytest.param(
            '{"schema_version": 1, "records": [', "is not a report: invalid JSON", id="cut"
        ),
        pytest.param(b"\xff\xfe\x00garbage", "is not a report: not UTF-8 text", id="binary"),
        pytest.param("[1, 2, 3]", "is not a report: no schema_version", id="not-a-report"),
        pytest.param(
            '{"schema_version": 99, "records": []}',
            "has report schema version 99, this pytest-traefik-compat reads version 1",
            id="other-schema",
        ),
    ],
)
def test_corrupt_shard_is_refused_in_one_line(
    pytester: pytest.Pytester,
    tmp_path: Path,
    good_shard: Path,
    content: str | bytes,
    phrase: str,
) -> None:
    shard = tmp_path / "shard.json"
    if isinstance(content, bytes):
        shard.write_bytes(content)
    else:
        shard.write_text(content)
    out = tmp_path / "merged"
    result = _merge(pytester, str(good_shard), str(shard), "-o", str(out))
    assert result.ret == 2
    line = assert_one_clear_line(output_of(result), phrase)
    assert line.startswith(f"error: shard {shard} ")
    print(line)
    assert not out.exists(), "a refused merge must write nothing"


def test_missing_shard_is_refused_in_one_line(
    pytester: pytest.Pytester, tmp_path: Path, good_shard: Path
) -> None:
    missing = tmp_path / "no-such-shard.json"
    result = _merge(pytester, str(good_shard), str(missing), "-o", str(tmp_path / "merged"))
    assert result.ret == 2
    print(
        assert_one_clear_line(
            output_of(result), f"error: shard {missing} is not a report: No such file or directory"
        )
    )


def test_merge_into_unwritable_directory_is_one_line(
    pytester: pytest.Pytester, tmp_path: Path, good_shard: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = blocker / "merged"
    result = _merge(pytester, str(good_shard), "-o", str(target))
    assert result.ret == 2
    print(
        assert_one_clear_line(
            output_of(result),
            f"error: cannot write the report to {target}: Not a directory; "
            "choose a writable directory with -o",
        )
    )


def test_shard_with_a_broken_record_is_refused_in_one_line(
    pytester: pytest.Pytester, tmp_path: Path, good_shard: Path
) -> None:
    document = json.loads(good_shard.read_text())
    document["records"][0].pop("check")  # a record that says not what it measured
    shard = tmp_path / "shard.json"
    shard.write_text(json.dumps(document))
    result = _merge(pytester, str(shard), "-o", str(tmp_path / "merged"))
    assert result.ret == 2
    print(
        assert_one_clear_line(
            output_of(result),
            f"error: shard {shard} is not a report: records/0: 'check' is a required property",
        )
    )
    assert not (tmp_path / "merged").exists()


# ----------------------------------------------------------------- doctor

FAKE_OLD_GO = """#!/bin/sh
case "$1" in
  env) printf 'go1.20.14\\nlinux\\namd64\\n' ;;
  *) exit 2 ;;
esac
"""


def test_doctor_judges_the_go_the_builds_would_use(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")  # no engine needed here
    monkeypatch.setenv("PYTEST_TRAEFIK_GO", "/nonexistent/go")
    result = pytester.run(sys.executable, "-m", "pytest_traefik_compat", "doctor", timeout=60)
    assert result.ret == 1
    print(
        assert_one_clear_line(
            output_of(result),
            "Go toolchain not found: PYTEST_TRAEFIK_GO=/nonexistent/go is not an executable",
        )
    )

    fake = tmp_path / "bin" / "go"
    fake.parent.mkdir()
    fake.write_text(FAKE_OLD_GO)
    fake.chmod(0o755)
    monkeypatch.delenv("PYTEST_TRAEFIK_GO")
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    result = pytester.run(sys.executable, "-m", "pytest_traefik_compat", "doctor", timeout=60)
    assert result.ret == 1
    line = assert_one_clear_line(output_of(result), f"Go go1.20.14 at {fake} is too old")
    assert line.startswith("MISSING")
    print(line)


def test_go_override_turns_the_fallbacks_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PYTEST_TRAEFIK_GO=go means "the go on PATH, or none": /usr/local/go is not tried."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYTEST_TRAEFIK_GO", "go")
    with pytest.raises(BuildError, match=r"^Go toolchain not found: PYTEST_TRAEFIK_GO=go "):
        gobuild.find_go()
    fake = tmp_path / "go"
    fake.write_text(FAKE_OLD_GO)
    fake.chmod(0o755)
    monkeypatch.setenv("PYTEST_TRAEFIK_GO", str(fake))
    assert gobuild.find_go().version == "go1.20.14"
