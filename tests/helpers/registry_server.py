"""A real registry for registry-mode tests: Debian's ``docker-registry`` (CNCF
distribution 2.8) on 127.0.0.1, a free port, storage in a temporary directory; plus a
stand-in that answers every request with 401 (auth required). Everything it pushes
or the engine pulls from it is tracked and removed by :meth:`RegistryServer.close`."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import requests

from pytest_traefik_compat import engine
from tests.helpers.loopback import QuietHandler, free_port, serve_http

START_TIMEOUT_S = 20.0


class RegistryServer:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise RuntimeError("docker-registry not installed (make setup installs it)")
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.workdir = workdir
        storage = workdir / "storage"
        storage.mkdir(parents=True)
        config = workdir / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log: {level: warn}\n"
            f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: {self.address}}}\n"
        )
        self.log = (workdir / "registry.log").open("w")
        self.process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=self.log, stderr=subprocess.STDOUT
        )
        self.pushed: list[str] = []
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited: {(workdir / 'registry.log').read_text()}"
                )
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://{self.address}/v2/", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        self.close()
        raise RuntimeError(
            f"docker-registry did not answer on {self.address} in {START_TIMEOUT_S} s"
        )

    def push(self, local: str, repository: str, tag: str) -> str:
        """Push a local image as ``ADDRESS/repository:tag``; returns the pushed digest."""
        client = engine.client()
        target = f"{self.address}/{repository}"
        client.images.get(local).tag(target, tag)
        self.pushed.append(f"{target}:{tag}")
        digest = ""
        for event in client.images.push(target, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise RuntimeError(f"push {target}:{tag}: {event['error']}")
            aux = event.get("aux") or {}
            digest = aux.get("Digest", digest)
        # The local alias goes at once: what the tests see must come from a pull.
        client.images.remove(f"{target}:{tag}")
        return str(digest)

    def engine_references(self) -> list[str]:
        """Every tag or digest reference the engine holds for this registry."""
        found: list[str] = []
        for image in engine.client().images.list(all=True):
            attrs = image.attrs
            for ref in (attrs.get("RepoTags") or []) + (attrs.get("RepoDigests") or []):
                if ref.startswith(self.address + "/"):
                    found.append(ref)
        return found

    def forget_pulls(self) -> None:
        """Untag what the engine pulled from here (the image data stays while other
        tags, such as the local bases, hold it)."""
        client = engine.client()
        for ref in self.engine_references():
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(ref)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.forget_pulls()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.workdir / "storage", ignore_errors=True)


class _Unauthorized(QuietHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="compat-test"')
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET


@contextlib.contextmanager
def auth_required_registry() -> Iterator[str]:
    """A registry stand-in on 127.0.0.1 that wants credentials for everything."""
    with serve_http(_Unauthorized) as address:
        yield address
