"""Containers and networks through testcontainers, with our posture and labels.

testcontainers' ``DockerContainer`` and ``Network`` create everything (Ryuk stays off:
cleanup is by our labels); its ``ContainerInspectInfo`` is the typed view of a
container's state. Nothing is pulled: an image must exist before a container is made.
Every container gets the posture of :mod:`engine.hardening` (non-root, no capabilities,
no new privileges, read-only root); a departure is a named :class:`PostureException`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors
from docker.models.containers import Container
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.inspect import ContainerInspectInfo, ContainerState
from testcontainers.core.network import Network

from pytest_traefik_compat.engine import podman, remote_files
from pytest_traefik_compat.engine.client import client, publish_host, target
from pytest_traefik_compat.engine.hardening import Posture, PostureException, hardened, read_posture
from pytest_traefik_compat.errors import CompatError

LOOPBACK = "127.0.0.1"
_STOPPED = ("exited", "dead")


@contextmanager
def _ryuk_off() -> Iterator[None]:
    """testcontainers would start (and pull) its reaper; we clean up by label instead."""
    before = testcontainers_config.ryuk_disabled
    testcontainers_config.ryuk_disabled = True
    try:
        yield
    finally:
        testcontainers_config.ryuk_disabled = before


def require_image(reference: str, what: str) -> None:
    """One line naming the missing tag instead of an implicit registry pull."""
    image_user(reference, what)


def image_user(reference: str, what: str) -> str:
    """The image's USER (empty: root); one line naming a missing tag, never a pull."""
    try:
        image = client().images.get(reference)
    except docker.errors.ImageNotFound:
        raise CompatError(
            f"{what}: image {reference} is not present locally; build it first "
            "(nothing is pulled implicitly)"
        ) from None
    return str(((image.attrs or {}).get("Config") or {}).get("User") or "")


def create_network(name: str, labels: Mapping[str, str]) -> Network:
    network = Network(docker_network_kw={"driver": "bridge", "labels": dict(labels)})
    network.name = name
    return network.create()


def remove_network(network: Network | None) -> None:
    if network is not None:
        with suppress(docker.errors.DockerException, AssertionError):
            network.remove()


def run_container(
    image: str,
    *,
    name: str,
    labels: Mapping[str, str],
    network: Network | None = None,
    ports: Sequence[int] = (),
    command: Sequence[str] | None = None,
    environment: Mapping[str, str] | None = None,
    volumes: Mapping[str, str] | None = None,
    posture_exception: PostureException | None = None,
    **options: Any,
) -> Container:
    """Create and start a container with the posture applied; never pulls.

    Ports are published on ephemeral host ports (no collisions between workers) on the
    engine host's narrowest reachable address (127.0.0.1 for a local engine, see
    :mod:`engine.resolve`); ``volumes`` maps host paths to read-only mount points (on a
    remote engine, read-only copies in labelled volumes: :mod:`engine.remote_files`).

    Args:
        posture_exception: the one way to run as root, give capabilities back, allow
            privilege gain or a writable root; recorded on the container's labels.
        options: more docker-py create options; one that undoes the posture (root
            ``user``, ``cap_add``, ``read_only=False``...) raises ValueError.
    """
    create_options = hardened(
        {**options, "labels": labels},
        image_user=image_user(image, f"container {name}"),
        exception=posture_exception,
    )
    container = DockerContainer(image, name=name, network=network, env=dict(environment or {}))
    # One address only, on an ephemeral host port (with_bind_ports cannot name an address).
    address = publish_host()
    container.ports = {f"{port}/tcp": (address, None) for port in ports}  # type: ignore[misc]
    if command is not None:
        container.with_command(list(command))
    for index, (host_path, mount_point) in enumerate((volumes or {}).items()):
        source = host_path
        # A remote engine cannot see this machine's files (a name, not a path, is a
        # volume already on the engine, e.g. one copied for an earlier container).
        if host_path.startswith("/") and remote_files.needs_copy():
            source = remote_files.volume_from_directory(
                host_path, image=image, name=f"{name}-v{index}", labels=labels
            )
        container.with_volume_mapping(source, mount_point, mode="ro")
    # Engine differences first (Podman: explicit ulimits), the posture last.
    container.with_kwargs(**{**podman.run_options(), **create_options})
    with _ryuk_off():
        try:
            container.start()
        except docker.errors.APIError:
            # Created but refused at start (some runtimes refuse the exec there):
            # remove it, the caller reports the engine's words.
            with suppress(docker.errors.DockerException):
                client().containers.get(name).remove(force=True)
            raise
    return container.get_wrapped_container()


def create_container(
    image: str,
    *,
    labels: Mapping[str, str],
    command: Sequence[str],
    posture_exception: PostureException | None = None,
    **options: Any,
) -> Container:
    """Create a container that is never started (to export or fill its file system),
    with the same posture as :func:`run_container`; never pulls."""
    create_options = hardened(
        {**options, "labels": labels},
        image_user=image_user(image, "container"),
        exception=posture_exception,
    )
    return client().containers.create(image, command=list(command), **create_options)


def posture(container: Container) -> Posture:
    """The container's posture from the engine, with its process's real uid when this
    machine sees the process (a local engine)."""
    container.reload()
    status: dict[str, str] = {}
    number = int((container.attrs.get("State") or {}).get("Pid") or 0)
    if number and (not target().remote or _runs_here(number, str(container.id))):
        status = process_status(number)
    uid = int(status["Uid"].split()[0]) if "Uid" in status else None
    cap_bound = int(status["CapBnd"], 16) if "CapBnd" in status else None
    return read_posture(container.attrs, uid=uid, cap_bound=cap_bound)


def process_status(number: int) -> dict[str, str]:
    """The fields of ``/proc/<number>/status`` (``Uid``, ``CapBnd``, ...); empty once the
    process is gone."""
    try:
        text = Path(f"/proc/{number}/status").read_text()
    except OSError:
        return {}
    fields = (line.partition(":") for line in text.splitlines())
    return {key: value.strip() for key, _, value in fields}


def inspect(container: Container) -> ContainerInspectInfo:
    """The typed ``docker inspect`` of a container, fresh from the engine."""
    container.reload()
    return ContainerInspectInfo.from_dict(podman.normalize_inspect(container.attrs))


def state(container: Container) -> ContainerState:
    info = inspect(container)
    return info.State or ContainerState()


def pid(container: Container) -> int:
    """The container's first process as this machine's kernel numbers it.

    On a remote engine the pid is the engine host's: it is used (for /proc figures)
    only when this machine sees that very process (its cgroup names the container),
    as with an engine in another network namespace of this host; otherwise one line
    says the figure needs the engine's host.
    """
    number = int(state(container).Pid or 0)
    if number and target().remote and not _runs_here(number, str(container.id)):
        raise CompatError(
            f"container {container.name} runs on the engine at {target().address}, "
            "not on this machine: figures read from /proc/PID need the engine's host"
        )
    return number


def _runs_here(number: int, container_id: str) -> bool:
    try:
        return container_id in Path(f"/proc/{number}/cgroup").read_text()
    except OSError:
        return False


def host_ports(container: Container) -> dict[int, int]:
    """Container port -> host port on the publish address; empty once it has exited."""
    container.reload()
    mapping: dict[int, int] = {}
    accepted = {publish_host(), "", "0.0.0.0"}
    for key, bindings in (container.attrs["NetworkSettings"]["Ports"] or {}).items():
        for binding in bindings or []:
            if binding.get("HostIp") in accepted:
                mapping[int(key.split("/")[0])] = int(binding["HostPort"])
    return mapping


def exit_summary(container: Container) -> str | None:
    """'exited with code 1: <runtime error>' when the container is not running, else None."""
    try:
        current = state(container)
    except docker.errors.NotFound:
        return "was removed"
    if current.Status in _STOPPED:
        error = current.Error or ""
        return f"exited with code {current.ExitCode}" + (f": {error}" if error else "")
    return None


def iter_log_tail(container: Any, lines: int = 30) -> Iterator[str]:
    """The last lines a container printed, decoded; empty when it is gone."""
    try:
        raw = container.logs(tail=lines)
    except docker.errors.DockerException:
        return iter(())
    return iter(raw.decode("utf-8", "replace").splitlines())


def log_tail(container: Any, lines: int = 30) -> str:
    return "\n".join(iter_log_tail(container, lines))


def remove(container: Any) -> None:
    if container is not None:
        with suppress(docker.errors.DockerException):
            container.remove(force=True, v=True)


@dataclass
class ExecResult:
    """One command run in a container: exit code (None if it never finished) and output."""

    command: list[str]
    exit_code: int | None
    output: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def exec_in(
    container: Any, command: Sequence[str], *, timeout_s: float = 10, keep: int | None = 500
) -> ExecResult:
    """Run a command in a running container; a missing program is a result, not a crash.

    Bounded: the Engine API has no exec timeout, so the call runs in a daemon thread
    and a command still running after ``timeout_s`` is reported as timed out (it dies
    with its container).

    Args:
        keep: characters of output kept, from the end; None keeps all of it (a program
            printing one long JSON line).
    """
    outcome: list[ExecResult] = []

    def run() -> None:
        try:
            result = container.exec_run(list(command), demux=False, user="")
        except docker.errors.APIError as error:
            outcome.append(
                ExecResult(list(command), None, "", str(error.explanation or error)[:300])
            )
            return
        output = (result.output or b"").decode("utf-8", "replace")
        outcome.append(
            ExecResult(list(command), result.exit_code, output if keep is None else output[-keep:])
        )

    worker = threading.Thread(target=run, name="traefik-compat-exec", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not outcome:
        return ExecResult(list(command), None, "", f"timed out after {timeout_s:g} s")
    return outcome[0]
