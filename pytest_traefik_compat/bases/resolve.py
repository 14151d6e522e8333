"""Base images: build the local recipes once, resolve references, read their facts.

Nothing here pulls. Local recipes are assembled from Debian's packages on the host
and turned into an image by ``FROM scratch`` + ``ADD rootfs.tar``; a user's image
reference must already be present in local mode.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import docker.errors
import requests

from pytest_traefik_compat import engine
from pytest_traefik_compat.bases import locks
from pytest_traefik_compat.bases.catalogue import (
    CA_BUNDLE,
    VARIANTS,
    ImageSpec,
    Recipe,
    Source,
    Variant,
)
from pytest_traefik_compat.bases.facts import DEFAULT_PATH, BaseFacts, BaseImage, read_facts
from pytest_traefik_compat.bases.files import ImageFiles, read_image_files
from pytest_traefik_compat.bases.registry import LockFile, Resolved, resolve_pinned
from pytest_traefik_compat.errors import BuildError, CompatError

# 2: glibc's version also read from libc-2.NN.so (glibc < 2.34 layouts).
FACTS_SCHEMA = 2
BUILD_TIMEOUT_S = 900
_DROP_PREFIXES = ("usr/share/doc/", "usr/share/man/", "usr/share/lintian/", "usr/share/info/")

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _run(cmd: list[str], *, cwd: Path | None = None, timeout: float = BUILD_TIMEOUT_S) -> str:
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise BuildError(
            f"{cmd[0]} not found: local base recipes need Debian's apt tools "
            f"(`make setup` installs them) or use --traefik-source=registry"
        ) from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"{cmd[0]} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise BuildError(f"{' '.join(cmd[:3])} ... failed (exit {done.returncode})", detail=tail)
    return done.stdout


def _host_mirror() -> str:
    """The Debian mirror the host's apt uses, so mmdebstrap goes where apt goes."""
    candidates = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
    for path in candidates:
        if path.exists():
            text = path.read_text(errors="replace")
            match = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or re.search(
                r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)\s", text, re.M
            )
            if match:
                return match.group(1)
    return "http://deb.debian.org/debian"


def _download_debs(packages: Iterable[str], cache: Path) -> dict[str, Path]:
    """Fetch the exact packages (no dependencies) with the host's apt into a cache."""
    cache.mkdir(parents=True, exist_ok=True)
    wanted = list(packages)
    missing = [p for p in wanted if not list(cache.glob(f"{p}_*.deb"))]
    if missing:
        _run(["apt-get", "download", "-q", *missing], cwd=cache)
    found: dict[str, Path] = {}
    for package in wanted:
        debs = sorted(cache.glob(f"{package}_*.deb"))
        if not debs:
            raise BuildError(f"apt-get download {package} produced no file: run apt-get update")
        found[package] = debs[-1]
    return found


def _deb_version(path: Path) -> str:
    # File names are <name>_<version>_<arch>.deb, with ':' escaped as %3a.
    return path.name.split("_")[1].replace("%3a", ":")


def _assemble_debs(recipe: Recipe, rootfs: Path, debs_cache: Path) -> dict[str, str]:
    debs = _download_debs(recipe.packages, debs_cache)
    for deb in debs.values():
        _run(["dpkg-deb", "-x", str(deb), str(rootfs)])
    for prefix in _DROP_PREFIXES:
        shutil.rmtree(rootfs / prefix, ignore_errors=True)
    if recipe.busybox_applets:
        listing = _run([str(rootfs / "bin/busybox"), "--list-full"], timeout=30)
        for applet in listing.split():
            link = rootfs / applet
            if not link.exists() and not link.is_symlink():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to("/bin/busybox")
    if recipe.ca_bundle:
        # What update-ca-certificates would write: every shipped cert, in order.
        certs = sorted((rootfs / "usr/share/ca-certificates").rglob("*.crt"))
        bundle = rootfs / CA_BUNDLE.lstrip("/")
        bundle.parent.mkdir(parents=True, exist_ok=True)
        bundle.write_text("".join(c.read_text() for c in certs))
    for path, content in recipe.files:
        target = rootfs / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    for path, link_target in recipe.symlinks:
        link = rootfs / path.lstrip("/")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(link_target)
    for path, _mode, _uid in recipe.directories:
        (rootfs / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
    return {name: _deb_version(path) for name, path in debs.items()}


def _tar_rootfs(rootfs: Path, out: Path, recipe: Recipe) -> None:
    owners = {path.lstrip("/"): (mode, uid) for path, mode, uid in recipe.directories}

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        name = info.name.removeprefix("./")
        mode_uid = owners.get(name)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        if mode_uid is not None:
            info.mode, info.uid = mode_uid
            info.gid = mode_uid[1]
        return info

    with tarfile.open(out, "w") as archive:
        for child in sorted(rootfs.iterdir()):
            archive.add(child, arcname=child.name, filter=normalise)


def _dockerfile(recipe: Recipe, has_rootfs: bool) -> str:
    lines = ["FROM scratch"]
    if has_rootfs:
        lines.append("ADD rootfs.tar /")
    env = dict(recipe.env)
    if recipe.kind != "empty":
        env.setdefault("PATH", DEFAULT_PATH)
    lines += [f"ENV {key}={value}" for key, value in env.items()]
    if recipe.user:
        lines.append(f"USER {recipe.user}")
    if recipe.cmd:
        lines.append("CMD " + json.dumps(list(recipe.cmd)))
    return "\n".join(lines) + "\n"


class BaseImages:
    """Resolves image specs to ready bases: builds local recipes once, reads facts."""

    def __init__(
        self,
        cache_dir: Path,
        identity: engine.RunIdentity,
        *,
        source: Source = "local",
        progress: Progress = _quiet,
        mirror: str | None = None,
        lock: Path | None = None,
        lock_strict: bool = False,
    ) -> None:
        self.cache_dir = cache_dir
        self.identity = identity
        self.source = source
        self.progress = progress
        # Registry mode: pull-through mirror, digest lock file (see bases.registry).
        self.mirror = mirror
        self.lock = LockFile.load(lock) if lock is not None and source == "registry" else None
        self.lock_strict = lock_strict
        # Lines worth the report: tags that moved since the lock.
        self.notes: list[str] = []
        (cache_dir / "locks").mkdir(parents=True, exist_ok=True)
        (cache_dir / "facts").mkdir(parents=True, exist_ok=True)

    # ---- public
    def get(self, spec: ImageSpec) -> BaseImage:
        started = time.monotonic()
        if spec.reference is not None:
            if self.source == "registry":
                # Registry mode pulls what is missing, the user's own golden bases too.
                pinned = self._pinned(spec.name, spec.reference)
                image = self._existing(spec.name, pinned.reference, "custom", "user image")
                image.pinned = pinned.provenance()
            else:
                image = self._existing(spec.name, spec.reference, "custom", "user image")
                image.pinned = _local_digest(spec.reference)
        elif self.source == "registry":
            image = self._registry(VARIANTS[spec.name])
        else:
            image = self.local(VARIANTS[spec.name])
        image.seconds = time.monotonic() - started
        return image

    # ---- sources
    def _existing(self, name: str, reference: str, source: str, provenance: str) -> BaseImage:
        try:
            attrs = engine.client().images.get(reference).attrs
        except docker.errors.ImageNotFound:
            raise CompatError(
                f"image {reference!r} for {name!r} is not present locally: build or load "
                "it first (docker build/load), nothing is pulled in local mode"
            ) from None
        files, facts = self._facts(name, source, reference, attrs, provenance)
        return BaseImage(name, source, reference, facts, files)

    def _registry(self, variant: Variant) -> BaseImage:
        reference = variant.registry_ref
        pinned = self._pinned(variant.name, reference)
        note = f"registry: {reference}" + (
            f" via mirror {self.mirror}" if self.mirror and pinned.reference != reference else ""
        )
        image = self._existing(variant.name, pinned.reference, "registry", note)
        image.pinned = pinned.provenance()
        return image

    def _pinned(self, name: str, reference: str) -> Resolved:
        if self.mirror is None and self.lock is None:
            # No mirror, no lock: the reference as given (pulled when missing).
            self._pull(name, reference)
            from pytest_traefik_compat.bases.registry import repo_digest

            attrs = engine.client().images.get(reference).attrs
            found = repo_digest(attrs, reference)
            return Resolved(reference, found.split("@", 1)[1] if found else None, found)
        resolved = resolve_pinned(
            name,
            reference,
            mirror=self.mirror,
            lock=self.lock,
            strict=self.lock_strict,
            progress=self.progress,
        )
        if resolved.moved:
            self.notes.append(resolved.moved)
        return resolved

    def _pull(self, name: str, reference: str) -> None:
        """Pull ``reference`` unless present; bounded by the client's request timeout."""
        if engine.image_exists(reference):
            return
        self.progress(f"pulling {reference} (registry mode)")
        try:
            engine.client().images.pull(reference)
        except docker.errors.APIError as error:
            # The engine's own reason (e.g. "dial tcp ...: connection refused"), on one line.
            reason = " ".join(str(error.explanation or error).split())
            raise CompatError(
                f"cannot pull {reference} for {name!r}: registry unreachable or image "
                f"unknown; use --traefik-source=local with a local image ({reason[:200]})"
            ) from None
        except (docker.errors.DockerException, requests.RequestException) as error:
            # A registry that accepts the connection but never answers ends in the
            # client's read timeout instead of a hang.
            reason = " ".join(str(error).split())
            raise CompatError(
                f"cannot pull {reference} for {name!r}: no answer from the engine or the "
                f"registry ({reason[:200]}); use --traefik-source=local with a local image"
            ) from None

    def local(self, variant: Variant) -> BaseImage:
        """Build (once, under a cross-process lock) or reuse a recipe's image."""
        tag = variant.local_tag
        built_now = locks.build_once(
            locks.lock_file(self.cache_dir / "locks", f"base-{variant.name}"),
            exists=lambda: engine.image_exists(tag),
            build=lambda: self._build(variant, tag),
            what=f"base {variant.name}",
        )
        attrs = engine.client().images.get(tag).attrs
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        packages = json.loads(labels.get(f"{engine.LABEL_PREFIX}.packages", "{}"))
        files, facts = self._facts(
            variant.name,
            "local",
            tag,
            attrs,
            variant.provenance_note,
            recipe_hash=variant.recipe_hash,
            packages=packages,
        )
        return BaseImage(variant.name, "local", tag, facts, files, built_now=built_now)

    # ---- building
    def _build(self, variant: Variant, tag: str) -> None:
        recipe = variant.recipe
        started = time.monotonic()
        self.progress(f"building base {variant.name} ({recipe.kind} recipe) -> {tag}")
        with tempfile.TemporaryDirectory(prefix=f"ptc-base-{variant.name}-") as tmp:
            context = Path(tmp)
            packages: dict[str, str] = {}
            has_rootfs = recipe.kind != "empty"
            if recipe.kind == "mmdebstrap":
                _run(
                    [
                        "mmdebstrap",
                        "--quiet",
                        *recipe.mmdebstrap_args,
                        recipe.debian_suite,
                        str(context / "rootfs.tar"),
                        _host_mirror(),
                    ]
                )
            elif recipe.kind == "debs":
                rootfs = context / "rootfs"
                rootfs.mkdir()
                debs_cache = self.cache_dir / "debs" / recipe.debian_suite
                packages = _assemble_debs(recipe, rootfs, debs_cache)
                _tar_rootfs(rootfs, context / "rootfs.tar", recipe)
                shutil.rmtree(rootfs)
            (context / "Dockerfile").write_text(_dockerfile(recipe, has_rootfs))
            labels = {
                engine.LABEL_MANAGED: "true",
                engine.LABEL_CACHED: "true",
                engine.LABEL_KIND: "base",
                f"{engine.LABEL_PREFIX}.variant": variant.name,
                f"{engine.LABEL_PREFIX}.source": "local",
                f"{engine.LABEL_PREFIX}.recipe-hash": variant.recipe_hash,
                f"{engine.LABEL_PREFIX}.packages": json.dumps(packages, sort_keys=True),
                f"{engine.LABEL_PREFIX}.provenance": variant.provenance_note,
            }
            engine.build_image(context, tag, labels)
        self.progress(f"built base {variant.name} in {time.monotonic() - started:.1f} s")

    # ---- facts, cached per image id so a warm lookup reads no layers
    def _facts(
        self,
        name: str,
        source: str,
        reference: str,
        attrs: dict[str, Any],
        provenance: str,
        *,
        recipe_hash: str | None = None,
        packages: dict[str, str] | None = None,
    ) -> tuple[ImageFiles, BaseFacts]:
        image_id = str(attrs.get("Id", "")).removeprefix("sha256:")
        cache_file = self.cache_dir / "facts" / f"{image_id}-v{FACTS_SCHEMA}.json"
        if cache_file.exists():
            try:
                cached = json.loads(cache_file.read_text())
                files = ImageFiles.from_json(cached["files"])
                facts = BaseFacts(**cached["facts"])
                facts.name, facts.source, facts.reference = name, source, reference
                facts.provenance = provenance  # one image id, reached as local or registry
                return files, facts
            except (ValueError, KeyError, TypeError):
                cache_file.unlink(missing_ok=True)  # corrupt: read again
        files = read_image_files(reference, self.identity)
        facts = read_facts(
            name=name,
            source=source,
            reference=reference,
            attrs=attrs,
            files=files,
            provenance=provenance,
            recipe_hash=recipe_hash,
            packages=packages,
        )
        tmp = cache_file.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"facts": facts.as_dict(), "files": files.to_json()}))
        os.replace(tmp, cache_file)
        return files, facts


def _local_digest(reference: str) -> dict[str, Any]:
    """A local image's identity for provenance: its registry digest if it was ever
    pushed or pulled, else its image id (the config digest)."""
    from pytest_traefik_compat.bases.registry import repo_digest

    attrs = engine.client().images.get(reference).attrs
    found = repo_digest(attrs, reference)
    return {
        "digest": found.split("@", 1)[1] if found else attrs.get("Id"),
        "repo_digest": found,
    }
